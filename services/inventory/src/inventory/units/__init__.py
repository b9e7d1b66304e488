"""Units of measure: the HTTP face of servicekit.units (the conversion domain the fleet shares)."""
