"""Prefect tasks: retryable units of work, each a batch (a page batch, a push batch, ...)."""
