"""Prefect flows: what runs. The public Python API of NXT Integrations."""
