"""The migrations build exactly the schema the models describe (a model change without its
migration, or a hand-written migration that differs, fails here)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.db.all_models import metadata


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == [], diff
