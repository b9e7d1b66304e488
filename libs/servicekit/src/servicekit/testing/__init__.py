"""Test helpers shared by every Smallbatch package (see servicekit.testing.plugin)."""
