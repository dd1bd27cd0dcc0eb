"""Prefect blocks: credentials and settings per service; each builds its client."""
