"""Scheduled pushes: the jobs, exactly-once delivery and the clock process."""
