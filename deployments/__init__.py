"""Schedules, deployments and the `nxt` command."""
