"""Alembic environment: the store runs migrations itself (`monitor.store.migrate`), on the
connection it hands over; there is no alembic.ini to keep in step."""

from __future__ import annotations

from alembic import context

from monitor.store import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
