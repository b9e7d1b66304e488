"""The catalog: items (with product variants), categories, suppliers and locations."""
