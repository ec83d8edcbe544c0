"""Benchmarks (`python benchmarks/run.py`): a script, not timed tests."""
