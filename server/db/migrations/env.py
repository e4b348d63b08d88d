"""Alembic environment: always run through server.db.migrate with a live connection."""

from alembic import context

from server.db.all_models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - misuse guard
    raise RuntimeError("run migrations through `lanpos-server migrate`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    compare_type=True,
    render_as_batch=False,
)
with context.begin_transaction():
    context.run_migrations()
