"""Database layer: models, engine/session, Alembic migrations."""
