"""Shop settings kept in the database (``settings`` table: key → JSON value).

Per-machine things (ports, paths, passwords) live in ``lanpos.toml``; shop rules that every
counter must agree on live here (e.g. ``stock.allow_negative``, points rate, PIN threshold).
Read with a default; writes are audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.db.models import Setting

from . import audit
from .actor import Actor


def get(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Setting, key)
    return default if row is None else row.value


def put(session: Session, actor: Actor, key: str, value: Any) -> None:
    row = session.get(Setting, key, with_for_update=True, populate_existing=True)
    before = None if row is None else row.value
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.flush()
    audit.write(session, actor, "settings.update", "setting", key, before={"value": before},
                after={"value": value})
