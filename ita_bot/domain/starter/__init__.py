"""Data shipped for an office's first plan: the starter measures and the common parts of a plan (read as resources)."""
