"""Benchmarks of issue 7 (`python benchmarks/run.py`): a script, not timed tests."""
