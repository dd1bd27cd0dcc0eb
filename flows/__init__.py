"""Prefect flows: what runs. The public Python API of NXT Integrations.

Import flows from their modules (`from flows.woocommerce_sync import woocommerce_sync`). They are not
re-exported here on purpose: a package attribute named like its module (`woocommerce_sync`) would shadow
the module, so `import flows.woocommerce_sync` and `mock.patch("flows.woocommerce_sync.…")` would reach
the flow object instead of the module.
"""
