"""Stock: lots, FIFO/FEFO consumption, the movement ledger and everything that moves stock."""
