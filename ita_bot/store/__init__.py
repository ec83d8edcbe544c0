"""Persistence: TinyDB files made atomic and safe across processes, and the backup archive."""
