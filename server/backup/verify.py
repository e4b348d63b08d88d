"""Verification: a backup counts only once a test restore of it passed. Restore into a
throwaway MariaDB (``ManagedMariaDB`` in a temp dir on a free port), compare the SHA-256, the
row count of every table with the manifest, migrate to the current schema and run
``server.domain.verify.run_all``. The result is written beside the backup
(``<id>.verify.json``)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import text

from server.config import BackupSection
from server.db import migrate
from server.db.session import make_engine, make_session_factory
from server.domain.verify import run_all
from server.ops.mariadb import ManagedMariaDB, MariaDBError, pick_free_port

from .catalogue import BackupInfo
from .dumpfile import (
    BackupError,
    DbTarget,
    Progress,
    _iso,
    _write_json_atomic,
    file_sha256,
    iter_sql,
    load_file,
    utcnow,
)

log = logging.getLogger(__name__)


@dataclass
class VerifyResult:
    ok: bool
    backup_id: str
    at: str
    sha256_ok: bool
    rows_ok: bool
    invariants_ok: bool
    schema_revision: str | None
    migrated_to: str | None
    problems: list[str]
    seconds: float
    load_seconds: float


def scratch_base(settings: BackupSection, data_dir: Path) -> Path:
    """Where throwaway instances live: ``[backup] scratch_dir``, else ``<data_dir>/tmp``."""
    return (Path(settings.scratch_dir).expanduser() if settings.scratch_dir
            else data_dir / "tmp")


@contextlib.contextmanager
def scratch_instance(base: Path) -> Iterator[ManagedMariaDB]:
    """A throwaway MariaDB in a temp dir under ``base`` on a free port, removed afterwards."""
    base.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix="v-", dir=base))
    if len(str(d / "mariadb.sock")) > 100:  # unix socket path limit
        shutil.rmtree(d, ignore_errors=True)
        d = Path(tempfile.mkdtemp(prefix="lanpos-v-"))
    mdb = ManagedMariaDB(d, 0, server_id=99,
                         extra_settings={"innodb_flush_log_at_trx_commit": "0",
                                         "sync_binlog": "0", "innodb_doublewrite": "0",
                                         "expire_logs_days": "1"})
    try:
        for attempt in range(3):  # a free port can be taken before mariadbd binds it
            mdb.port = pick_free_port(35000 + (os.getpid() * 7 + attempt * 211) % 3000)
            try:
                mdb.start()
                break
            except MariaDBError:
                if attempt == 2:
                    raise
                mdb.stop()
        yield mdb
    finally:
        with contextlib.suppress(Exception):
            mdb.stop()
        shutil.rmtree(d, ignore_errors=True)


def verify_backup(info: BackupInfo,
                  scratch: Callable[[], AbstractContextManager[ManagedMariaDB]],
                  progress: Progress) -> VerifyResult:
    """Test-restore ``info`` into ``scratch()`` and record the result beside the backup."""
    t0 = time.monotonic()
    m = info.manifest
    problems: list[str] = []
    progress(0.02, "sha256")
    sha_ok = file_sha256(info.path) == m["sha256"] and info.path.stat().st_size == m["size"]
    rows_ok = inv_ok = False
    migrated_to = None
    load_s = 0.0
    if not sha_ok:
        problems.append("SHA-256 or size does not match the manifest (file damaged)")
    else:
        progress(0.05, "scratch instance")
        with scratch() as mdb:
            db = m.get("database") or "lanpos"
            conn = mdb.admin_connect()
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 "
                            "COLLATE utf8mb4_unicode_ci")
            conn.close()
            target = DbTarget.managed(mdb, db)
            try:
                load_s = load_file(target, iter_sql(info.path),
                                   progress=lambda f, s: progress(0.1 + 0.7 * f, s),
                                   total_bytes=int(m.get("sql_bytes") or 0))
            except BackupError as e:
                problems.append(f"restore failed: {e.message('en')}")
            if not problems:
                progress(0.85, "row counts")
                conn = target.connect(database=db)
                with conn.cursor() as cur:
                    cur.execute("SELECT table_name FROM information_schema.tables WHERE "
                                "table_schema = %s AND table_type = 'BASE TABLE'", (db,))
                    names = sorted(r[0] for r in cur.fetchall())
                    counts = {}
                    for n in names:
                        cur.execute(f"SELECT COUNT(*) FROM `{n.replace('`', '``')}`")
                        counts[n] = int(cur.fetchone()[0])
                conn.close()
                expected = m["tables"]
                for n in sorted(set(expected) | set(counts)):
                    if expected.get(n) != counts.get(n):
                        problems.append(f"table {n}: manifest {expected.get(n)} rows, "
                                        f"restored {counts.get(n)}")
                rows_ok = not problems
                progress(0.9, "invariants")
                engine = make_engine(target.sqlalchemy_url(), pool_size=2)
                try:
                    if migrate.needs_upgrade(engine):
                        migrate.upgrade(engine)
                        migrated_to = migrate.head_revision()
                    with make_session_factory(engine)() as session:
                        session.execute(text("SELECT 1"))
                        bad = [r for r in run_all(session) if not r.ok]
                    for r in bad:
                        problems += [f"{r.name}: {p}" for p in r.problems[:20]]
                    inv_ok = not bad
                except Exception as e:  # a migration or check that cannot run is a failure
                    problems.append(f"invariants could not run: {e}")
                finally:
                    engine.dispose()
    ok = sha_ok and rows_ok and inv_ok and not problems
    res = VerifyResult(ok=ok, backup_id=info.id, at=_iso(utcnow()), sha256_ok=sha_ok,
                       rows_ok=rows_ok, invariants_ok=inv_ok,
                       schema_revision=m.get("schema_revision"), migrated_to=migrated_to,
                       problems=problems, seconds=round(time.monotonic() - t0, 3),
                       load_seconds=round(load_s, 3))
    try:
        _write_json_atomic(info.verify_path, asdict(res))
    except OSError as e:
        log.warning("cannot record the verification of %s: %s", info.id, e)
    return res
