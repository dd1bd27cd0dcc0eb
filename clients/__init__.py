"""Thin API clients for each external service, with retry, rate limit and circuit breaker. No Prefect."""
