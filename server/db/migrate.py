"""Schema migrations (Alembic), applied on start and by ``lanpos-server migrate``.

Developers add a revision with::

    python -m server.db.migrate revision "what changed" --url mysql+pymysql://...

which autogenerates against a database at head; review the file before committing.
Revision ids are sequential (0001, 0002, ...) so the chain is easy to read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _alembic_config(connection=None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def needs_upgrade(engine: Engine) -> bool:
    return current_revision(engine) != head_revision()


def upgrade(engine: Engine, target: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), target)


def _next_rev_id() -> str:
    script = ScriptDirectory.from_config(_alembic_config())
    ids = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
    return f"{(max(ids) if ids else 0) + 1:04d}"


def main() -> None:  # pragma: no cover - developer tool
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("revision")
    r.add_argument("message")
    r.add_argument("--url", required=True)
    args = p.parse_args()
    engine = create_engine(args.url)
    with engine.begin() as conn:
        command.revision(_alembic_config(conn), message=args.message, autogenerate=True,
                         rev_id=_next_rev_id())


if __name__ == "__main__":
    main()
