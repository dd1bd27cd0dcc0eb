"""The hub: our own database. Models, migrations, set-based upserts, cursors, inbox and outbox. No Prefect."""
