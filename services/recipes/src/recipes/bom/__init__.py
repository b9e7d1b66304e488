"""Bills of materials (seed 001): what to buy for several recipes at once."""
