"""Restore into the live database: SHA-256 check, refuse unverified/failed unless forced,
safety backup, API maintenance (503), drop + recreate the database, load, (binary log replay),
migrate, invariants, resume. If loading fails, the safety backup is put back. Every restore is
journalled (``restores.jsonl``): a point-in-time replay must never cross one."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pymysql

from server.db import migrate
from server.domain.verify import run_all
from server.runtime import Runtime

from .catalogue import BackupInfo, read_backup
from .dumpfile import (
    BackupError,
    DbTarget,
    Progress,
    _iso,
    _noop,
    _parse_iso,
    file_sha256,
    iter_sql,
    load_file,
    utcnow,
)

log = logging.getLogger(__name__)

Replay = Callable[[DbTarget], dict[str, Any]]


def check_restorable(info: BackupInfo, force: bool) -> None:
    if not force and file_sha256(info.path) != info.manifest["sha256"]:
        raise BackupError("backup_corrupt", backup=info.id)
    if info.verified is None and not force:
        raise BackupError("backup_unverified", backup=info.id)
    if info.verified is False and not force:
        raise BackupError("backup_verify_failed", backup=info.id)


def db_has_tables(target: DbTarget) -> bool:
    conn = target.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.tables "
                        "WHERE table_schema = %s", (target.database,))
            return int(cur.fetchone()[0]) > 0
    finally:
        conn.close()


def kick_connections(runtime: Runtime, target: DbTarget) -> None:
    """Close the app's pooled connections and kill any left on the database."""
    engine = getattr(runtime, "engine", None)
    if engine is not None:
        engine.dispose()
    if not target.admin:
        return
    conn = target.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM information_schema.processlist WHERE db = %s "
                        "AND id <> CONNECTION_ID()", (target.database,))
            for (pid,) in cur.fetchall():
                with contextlib.suppress(pymysql.err.MySQLError):
                    cur.execute(f"KILL CONNECTION {int(pid)}")
    finally:
        conn.close()


def load_into_live(target: DbTarget, path: Path, progress: Progress) -> None:
    conn = target.connect()
    try:
        with conn.cursor() as cur:
            if target.admin:
                cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(f"DROP DATABASE IF EXISTS `{target.database}`")
            cur.execute(f"CREATE DATABASE `{target.database}` CHARACTER SET utf8mb4 "
                        "COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()
    info = read_backup(path)
    load_file(target, iter_sql(path), progress=lambda f, s: progress(0.25 + 0.55 * f, s),
              total_bytes=int(info.manifest.get("sql_bytes") or 0))


class RestoreJournal:
    """Restores are remembered: a point-in-time replay must never cross one (the binary log
    before a restore describes a database that no longer exists)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def path(self) -> Path:
        return self.folder / "restores.jsonl"

    def record(self, info: BackupInfo, result: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = {"at": _iso(utcnow()), "backup": info.id, **{k: result.get(k) for k in (
            "safety_backup", "to")}}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def events(self) -> list[dt.datetime]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            with contextlib.suppress(ValueError, KeyError):
                out.append(_parse_iso(json.loads(line)["at"]))
        return out


def restore_live(info: BackupInfo, target: DbTarget, runtime: Runtime, journal: RestoreJournal,
                 progress: Progress, *,
                 safety_backup: Callable[[Progress], BackupInfo] | None,
                 maintenance: Callable[[str | None], None], drain_seconds: float,
                 replay: Replay | None) -> dict[str, Any]:
    """Replace the live database with ``info`` (then ``replay`` the binary log, if given).
    ``safety_backup(progress)`` backs up the current data first (when there is any)."""
    t0 = time.monotonic()
    result: dict[str, Any] = {"backup_id": info.id}
    safety = None
    if safety_backup is not None and db_has_tables(target):
        progress(0.02, "safety backup")
        safety = safety_backup(lambda f, s: progress(0.02 + 0.2 * f, s))
        result["safety_backup"] = safety.id
    maintenance("正在还原备份 restoring a backup")
    try:
        time.sleep(drain_seconds)
        kick_connections(runtime, target)
        progress(0.25, "restore")
        try:
            load_into_live(target, info.path, progress)
            if replay is not None:
                progress(0.8, "binlog replay")
                result.update(replay(target))
        except BackupError as e:
            if safety is None:
                raise
            log.error("restore of %s failed (%s); putting back the safety backup %s",
                      info.id, e, safety.id)
            kick_connections(runtime, target)
            load_into_live(target, safety.path, _noop)
            raise BackupError("restore_failed", status=500,
                              reason=f"{e.message('en')} — the database was put back "
                                     f"from the safety backup {safety.id}") from e
        engine = runtime.connect()
        before = migrate.current_revision(engine)
        if migrate.needs_upgrade(engine):
            progress(0.9, "migrate")
            migrate.upgrade(engine)
        result["schema_before"] = before
        result["schema_after"] = migrate.current_revision(engine)
        progress(0.95, "invariants")
        with runtime.session_factory() as session:
            checks = run_all(session)
        result["invariants_ok"] = all(r.ok for r in checks)
        result["problems"] = [f"{r.name}: {p}" for r in checks for p in r.problems[:20]]
        journal.record(info, result)
    finally:
        maintenance(None)
    result["seconds"] = round(time.monotonic() - t0, 3)
    progress(1.0, "done")
    log.info("restored %s in %.1fs", info.id, result["seconds"])
    return result
