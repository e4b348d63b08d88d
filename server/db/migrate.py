"""Schema migrations (Alembic), applied on start and by ``lanpos-server migrate``.

Developers add a revision with::

    python -m server.db.migrate revision "what changed" --url mysql+pymysql://...

which autogenerates against a database at head; review the file before committing.
Revision ids are sequential (0001, 0002, ...) so the chain is easy to read.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import ProgrammingError

from .session import mysql_errno

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
ER_NO_SUCH_TABLE = 1146

# Alembic (and Mako under it) is imported only where a migration is looked at or run: the
# API workers and most commands never need it, and it costs ~0.3 s at every start.


def _alembic_config(connection=None) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema's revision (Alembic's one-row table; None before the first migration)."""
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except ProgrammingError as e:
            if mysql_errno(e) == ER_NO_SUCH_TABLE:
                return None
            raise


def needs_upgrade(engine: Engine) -> bool:
    return current_revision(engine) != head_revision()


def upgrade(engine: Engine, target: str = "head") -> None:
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), target)


def _next_rev_id() -> str:
    from alembic.script import ScriptDirectory

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
    from alembic import command

    engine = create_engine(args.url)
    with engine.begin() as conn:
        command.revision(_alembic_config(conn), message=args.message, autogenerate=True,
                         rev_id=_next_rev_id())


if __name__ == "__main__":
    main()
