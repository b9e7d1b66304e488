"""Units of measure: a closed table of exact decimal factors, and conversion between them."""
