"""Worklist delivery: schedules, channels (email, webhook), content, and the exactly-once log."""
