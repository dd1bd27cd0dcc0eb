"""The HTTP edge: vendor webhooks in (verify, store, ack), flow runs out."""
