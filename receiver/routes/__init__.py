"""The receiver's routers: webhooks (signatures) and the management API (bearer token)."""
