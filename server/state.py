"""Shared server state: what every lanpos process serving one data directory must agree on.

``lanpos-server run`` is a supervisor with several API worker processes (DESIGN.md §4). A
value that more than one request needs to agree on cannot live in one process's memory, and
some of it must not live in the shop database either (a restore replaces that database while
the API has to keep answering ``503 maintenance``). So it lives here, in a small SQLite file
next to the configuration, ``<data_dir>/state.sqlite3`` (WAL, ``synchronous=FULL``):

* **cluster** — the server's role (``primary`` / ``standby`` / ``stale``) and the cluster
  **epoch**, the fencing counter that a promotion increments (``server.replication``);
* **maintenance** — reason, who, since, and the job that holds it (a restore);
* **jobs** — long work (backup, verify, restore) with its progress, result or error: queued by
  any worker, run by the supervisor's job runner, readable by every worker;
* **events** — the database watchdog's record (database down / restarted), newest last;
* **slots** — claimed scheduler slots, so that a slot runs exactly once however many
  processes look at the clock;
* **values** — a few named facts (the last backup error).

Every reader gets typed objects (frozen dataclasses), never rows. SQLite gives the processes
real transactions (``BEGIN IMMEDIATE``) without a server, and survives any one process's death.
A request reads the role and maintenance in one indexed query on a per-thread connection
(about 10 µs).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from server.clock import utcnow

STATE_FILE = "state.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cluster (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    role TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS maintenance (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    reason TEXT NOT NULL,
    by TEXT NOT NULL,
    since TEXT NOT NULL,
    job_id TEXT,
    pid INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    backup_id TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    actor TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    runner_pid INTEGER,
    result TEXT,
    error_code TEXT,
    error TEXT,
    error_en TEXT
);
CREATE INDEX IF NOT EXISTS ix_jobs_state ON jobs (state, created_at);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    pid INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_events_kind ON events (kind, id);
CREATE TABLE IF NOT EXISTS slots (
    name TEXT NOT NULL,
    slot TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    pid INTEGER NOT NULL,
    PRIMARY KEY (name, slot)
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS local_tokens (
    digest TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL,
    counter TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip TEXT,
    created_at TEXT NOT NULL
);
"""

KEEP_JOBS = 200
ABANDONED_KEY = "maintenance.abandoned"
KEEP_EVENTS = 1000


class ServerRole(StrEnum):
    PRIMARY = "primary"
    STANDBY = "standby"
    # a primary that has learnt of a newer epoch: the standby was promoted while it was away.
    # It never takes writes again by itself (``lanpos-server rejoin`` makes it a standby)
    STALE = "stale"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


ACTIVE_JOB_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _aware(t: dt.datetime) -> dt.datetime:
    """The database's naive datetimes are UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def _time(s: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(s) if s else None


@dataclass(frozen=True)
class Cluster:
    role: ServerRole
    epoch: int
    changed_at: dt.datetime
    changed_by: str


@dataclass(frozen=True)
class Maintenance:
    reason: str
    by: str
    since: dt.datetime
    job_id: str | None = None
    pid: int = 0  # the process that holds it


@dataclass(frozen=True)
class Snapshot:
    """What a request needs to know before it does anything: one query."""

    cluster: Cluster
    maintenance: Maintenance | None


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: str
    state: JobState
    progress: float
    message: str
    backup_id: str | None
    params: dict[str, Any]
    actor: dict[str, Any] | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    runner_pid: int | None
    result: Any
    error_code: str | None
    error: str | None
    error_en: str | None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_JOB_STATES


@dataclass(frozen=True)
class Event:
    id: int
    at: dt.datetime
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
    pid: int = 0


class JobBusy(Exception):
    """An exclusive job was asked for while another job is queued or running."""

    def __init__(self, busy: JobRecord) -> None:
        super().__init__(f"{busy.kind} job {busy.id} is {busy.state}")
        self.busy = busy


def _job(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"], kind=row["kind"], state=JobState(row["state"]),
        progress=row["progress"], message=row["message"], backup_id=row["backup_id"],
        params=json.loads(row["params"] or "{}"),
        actor=json.loads(row["actor"]) if row["actor"] else None,
        created_at=_time(row["created_at"]),  # type: ignore[arg-type]
        started_at=_time(row["started_at"]), finished_at=_time(row["finished_at"]),
        runner_pid=row["runner_pid"],
        result=json.loads(row["result"]) if row["result"] else None,
        error_code=row["error_code"], error=row["error"], error_en=row["error_en"])


def _event(row: sqlite3.Row) -> Event:
    return Event(id=row["id"], at=_time(row["at"]),  # type: ignore[arg-type]
                 kind=row["kind"], detail=json.loads(row["detail"] or "{}"), pid=row["pid"])


class SharedState:
    """The state file of one data directory. Safe to use from many threads and processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        # two connections per process, each used under its own lock: reads (every request's
        # snapshot) never queue behind a write that waits for another process's write lock,
        # and a process holds four file descriptors however many threads it runs
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._conns: dict[str, sqlite3.Connection] = {}
        self._pid = os.getpid()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._ensure_schema()

    @classmethod
    def for_data_dir(cls, data_dir: Path | str) -> SharedState:
        return cls(Path(data_dir) / STATE_FILE)

    # -- connections -------------------------------------------------------------------------
    def _open(self, which: str) -> sqlite3.Connection:
        if self._pid != os.getpid():  # a forked child must not share the parent's handles
            self._conns = {}
            self._pid = os.getpid()
        conn = self._conns.get(which)
        if conn is None:
            fresh = not self.path.exists()
            conn = sqlite3.connect(self.path, timeout=15, isolation_level=None,
                                   check_same_thread=False)
            if fresh and os.name == "posix":
                with contextlib.suppress(OSError):
                    os.chmod(self.path, 0o600)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=15000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self._conns[which] = conn
        return conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._read_lock:
            yield self._open("read")

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._read() as conn:
            return conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        with self._read() as conn:
            return conn.execute(sql, params).fetchone()

    def close(self) -> None:
        with self._read_lock, self._write_lock:
            for conn in self._conns.values():
                conn.close()
            self._conns = {}

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; ``BEGIN IMMEDIATE`` takes the write lock up front so that a
        read-then-write (an exclusive job, a slot claim) is atomic across processes."""
        with self._write_lock:
            conn = self._open("write")
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _ensure_schema(self) -> None:
        with self._write_lock:
            self._open("write").executescript(_SCHEMA)
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                       (str(SCHEMA_VERSION),))
            db.execute("INSERT OR IGNORE INTO cluster (id, role, epoch, changed_at, changed_by)"
                       " VALUES (1, ?, 1, ?, 'init')", (ServerRole.PRIMARY.value, _iso(utcnow())))

    # -- cluster: role and epoch --------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        row = self._one(
            "SELECT c.role, c.epoch, c.changed_at, c.changed_by, m.reason, m.by, m.since, "
            "m.job_id, m.pid FROM cluster c LEFT JOIN maintenance m ON m.id = 1 WHERE c.id = 1")
        assert row is not None
        cluster = Cluster(ServerRole(row[0]), int(row[1]), _time(row[2]),  # type: ignore[arg-type]
                          row[3])
        maint = (Maintenance(row[4], row[5], _time(row[6]), row[7],  # type: ignore[arg-type]
                             int(row[8] or 0)) if row[4] is not None else None)
        return Snapshot(cluster, maint)

    def cluster(self) -> Cluster:
        return self.snapshot().cluster

    def set_role(self, role: ServerRole | str, by: str) -> Cluster:
        role = ServerRole(role)
        with self._write() as db:
            db.execute("UPDATE cluster SET role = ?, changed_at = ?, changed_by = ? WHERE id = 1",
                       (role.value, _iso(utcnow()), by))
        self.record_event("role_changed", {"role": role.value, "by": by})
        return self.cluster()

    def bump_epoch(self, by: str, role: ServerRole | str | None = None) -> Cluster:
        """Start a new epoch (a promotion); optionally change the role in the same step."""
        with self._write() as db:
            cur = db.execute("SELECT role, epoch FROM cluster WHERE id = 1").fetchone()
            new_role = ServerRole(role).value if role is not None else cur["role"]
            db.execute("UPDATE cluster SET role = ?, epoch = ?, changed_at = ?, changed_by = ? "
                       "WHERE id = 1", (new_role, cur["epoch"] + 1, _iso(utcnow()), by))
        c = self.cluster()
        self.record_event("epoch", {"epoch": c.epoch, "role": c.role.value, "by": by})
        return c

    def learn_epoch(self, epoch: int, by: str) -> Cluster:
        """A newer epoch seen elsewhere (a counter's request, the peer's health): remember it;
        a primary that learns it has been replaced becomes ``stale`` in the same step."""
        with self._write() as db:
            cur = db.execute("SELECT role, epoch FROM cluster WHERE id = 1").fetchone()
            if epoch <= cur["epoch"]:
                stale = False
            else:
                stale = cur["role"] == ServerRole.PRIMARY.value
                db.execute("UPDATE cluster SET role = ?, epoch = ?, changed_at = ?, "
                           "changed_by = ? WHERE id = 1",
                           (ServerRole.STALE.value if stale else cur["role"], epoch,
                            _iso(utcnow()), by))
        if stale:
            self.record_event("fenced", {"epoch": epoch, "by": by})
        return self.cluster()

    def adopt_epoch(self, epoch: int, by: str) -> Cluster:
        """Remember a newer epoch seen elsewhere (never goes back)."""
        with self._write() as db:
            db.execute("UPDATE cluster SET epoch = ?, changed_at = ?, changed_by = ? "
                       "WHERE id = 1 AND epoch < ?", (epoch, _iso(utcnow()), by, epoch))
        return self.cluster()

    # -- maintenance --------------------------------------------------------------------------
    def maintenance(self) -> Maintenance | None:
        return self.snapshot().maintenance

    def begin_maintenance(self, reason: str, by: str, job_id: str | None = None) -> Maintenance:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO maintenance (id, reason, by, since, job_id, pid) "
                       "VALUES (1, ?, ?, ?, ?, ?)", (reason, by, _iso(utcnow()), job_id,
                                                     os.getpid()))
        self.record_event("maintenance_on", {"reason": reason, "by": by, "job_id": job_id})
        m = self.maintenance()
        assert m is not None
        return m

    def end_maintenance(self, job_id: str | None = None) -> bool:
        """End maintenance (only the one this job holds, when ``job_id`` is given)."""
        with self._write() as db:
            if job_id is None:
                n = db.execute("DELETE FROM maintenance WHERE id = 1").rowcount
            else:
                n = db.execute("DELETE FROM maintenance WHERE id = 1 AND job_id = ?",
                               (job_id,)).rowcount
        if n:
            self.record_event("maintenance_off", {"job_id": job_id})
            self.put_value(ABANDONED_KEY, None)  # finished properly: the old warning is moot
        return bool(n)

    def release_abandoned_maintenance(self) -> Maintenance | None:
        """Maintenance held by a process that is gone (a restore killed half-way, a power cut):
        without this the API would answer 503 for ever. It is ended and remembered
        (``abandoned_maintenance()``: a loud health warning) until a maintenance ends properly:
        the database may be half-restored, so the owner is told to restore again."""
        m = self.maintenance()
        if m is None or _pid_alive(m.pid):
            return None
        with self._write() as db:
            db.execute("DELETE FROM maintenance WHERE id = 1")
        self.put_value(ABANDONED_KEY, {"reason": m.reason, "by": m.by,
                                       "since": _iso(m.since), "job_id": m.job_id})
        self.record_event("maintenance_abandoned", {"reason": m.reason, "pid": m.pid})
        return m

    def abandoned_maintenance(self) -> dict[str, Any] | None:
        return self.value(ABANDONED_KEY)

    # -- jobs ---------------------------------------------------------------------------------
    def submit_job(self, kind: str, params: dict[str, Any] | None = None, *,
                   actor: dict[str, Any] | None = None, backup_id: str | None = None,
                   exclusive: bool = False) -> JobRecord:
        """Queue a job. ``exclusive``: refuse (``JobBusy``) while any job is queued or running,
        and make every later submission wait for it (a restore is never queued behind other
        work, nor twice)."""
        job_id = uuid.uuid4().hex
        with self._write() as db:
            busy = db.execute(
                "SELECT * FROM jobs WHERE state IN (?, ?) ORDER BY created_at LIMIT 1",
                ACTIVE_JOB_STATES).fetchone()
            if busy is not None and (exclusive or json.loads(busy["params"]).get("_exclusive")):
                raise JobBusy(_job(busy))
            p = dict(params or {})
            if exclusive:
                p["_exclusive"] = True
            db.execute("INSERT INTO jobs (id, kind, state, params, actor, backup_id, created_at)"
                       " VALUES (?, ?, 'queued', ?, ?, ?, ?)",
                       (job_id, kind, json.dumps(p, ensure_ascii=False),
                        json.dumps(actor, ensure_ascii=False) if actor else None, backup_id,
                        _iso(utcnow())))
            db.execute("DELETE FROM jobs WHERE state IN ('done', 'failed') AND id NOT IN "
                       "(SELECT id FROM jobs ORDER BY created_at DESC LIMIT ?)", (KEEP_JOBS,))
        return self.job(job_id)  # type: ignore[return-value]

    def job(self, job_id: str) -> JobRecord | None:
        row = self._one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _job(row) if row else None

    def jobs(self, active_only: bool = False, limit: int = 50) -> list[JobRecord]:
        sql = "SELECT * FROM jobs"
        if active_only:
            sql += " WHERE state IN ('queued', 'running')"
        rows = self._all(sql + " ORDER BY created_at DESC LIMIT ?", (limit,))
        return [_job(r) for r in rows]

    def claim_next_job(self, pid: int | None = None) -> JobRecord | None:
        """The oldest queued job, marked running by this process; None when nothing waits.
        Jobs run one at a time: nothing is claimed while another job runs."""
        pid = pid or os.getpid()
        if self._one("SELECT 1 FROM jobs WHERE state = 'queued' LIMIT 1") is None:
            return None  # the common case, without taking the write lock
        with self._write() as db:
            if db.execute("SELECT 1 FROM jobs WHERE state = 'running' LIMIT 1").fetchone():
                return None
            row = db.execute("SELECT id FROM jobs WHERE state = 'queued' "
                             "ORDER BY created_at LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET state = 'running', started_at = ?, runner_pid = ? "
                       "WHERE id = ?", (_iso(utcnow()), pid, row["id"]))
        return self.job(row["id"])

    def job_progress(self, job_id: str, progress: float, message: str) -> None:
        with self._write() as db:
            db.execute("UPDATE jobs SET progress = MAX(progress, ?), message = ? WHERE id = ?",
                       (round(min(max(progress, 0.0), 1.0), 3), message, job_id))

    def finish_job(self, job_id: str, result: Any, backup_id: str | None = None) -> None:
        with self._write() as db:
            db.execute("UPDATE jobs SET state = 'done', progress = 1.0, finished_at = ?, "
                       "result = ?, backup_id = COALESCE(?, backup_id) WHERE id = ?",
                       (_iso(utcnow()), json.dumps(result, ensure_ascii=False, default=str),
                        backup_id, job_id))

    def fail_job(self, job_id: str, code: str, error: str, error_en: str | None = None) -> None:
        with self._write() as db:
            db.execute("UPDATE jobs SET state = 'failed', finished_at = ?, error_code = ?, "
                       "error = ?, error_en = ? WHERE id = ?",
                       (_iso(utcnow()), code, error, error_en or error, job_id))

    def fail_interrupted_jobs(self, alive_pids: set[int] | None = None) -> list[JobRecord]:
        """Jobs marked running by a process that is gone: failed ('interrupted'). Returns those
        jobs. (Maintenance they held is released by ``release_abandoned_maintenance``.)"""
        alive = alive_pids if alive_pids is not None else set()
        out = []
        for j in self.jobs(active_only=True, limit=KEEP_JOBS):
            if j.state != JobState.RUNNING or j.runner_pid in alive or _pid_alive(j.runner_pid):
                continue
            self.fail_job(j.id, "job_interrupted", "任务被中断（服务器进程退出）",
                          "the job was interrupted (the server process exited)")
            self.record_event("job_interrupted", {"job_id": j.id, "kind": j.kind})
            out.append(j)
        return out

    # -- events -------------------------------------------------------------------------------
    def record_event(self, kind: str, detail: dict[str, Any] | None = None) -> Event:
        with self._write() as db:
            cur = db.execute("INSERT INTO events (at, kind, detail, pid) VALUES (?, ?, ?, ?)",
                             (_iso(utcnow()), kind,
                              json.dumps(detail or {}, ensure_ascii=False, default=str),
                              os.getpid()))
            event_id = cur.lastrowid
            db.execute("DELETE FROM events WHERE id <= ?", ((event_id or 0) - KEEP_EVENTS,))
        row = self._one("SELECT * FROM events WHERE id = ?", (event_id,))
        assert row is not None
        return _event(row)

    def events(self, kind: str | tuple[str, ...] | None = None, limit: int = 50
               ) -> list[Event]:
        """Newest first; ``kind``: one kind or any of several."""
        if kind is None:
            rows = self._all("SELECT * FROM events ORDER BY id DESC LIMIT ?", (limit,))
        else:
            kinds = (kind,) if isinstance(kind, str) else kind
            marks = ", ".join("?" * len(kinds))
            rows = self._all(f"SELECT * FROM events WHERE kind IN ({marks}) ORDER BY id DESC "
                             "LIMIT ?", (*kinds, limit))
        return [_event(r) for r in rows]

    def last_event(self, kind: str) -> Event | None:
        found = self.events(kind, 1)
        return found[0] if found else None

    def count_events(self, kind: str) -> int:
        row = self._one("SELECT COUNT(*) FROM events WHERE kind = ?", (kind,))
        return int(row[0]) if row else 0

    # -- scheduler slots ----------------------------------------------------------------------
    def claim_slot(self, name: str, slot: str) -> bool:
        """True exactly once per (name, slot), whichever process asks first."""
        with self._write() as db:
            cur = db.execute("INSERT OR IGNORE INTO slots (name, slot, claimed_at, pid) "
                             "VALUES (?, ?, ?, ?)", (name, slot, _iso(utcnow()), os.getpid()))
            claimed = cur.rowcount == 1
            if claimed:  # keep a few months of history
                db.execute("DELETE FROM slots WHERE name = ? AND slot NOT IN (SELECT slot FROM "
                           "slots WHERE name = ? ORDER BY claimed_at DESC LIMIT 400)",
                           (name, name))
        return claimed

    def slots(self, name: str) -> list[tuple[str, int]]:
        """(slot, pid of the process that claimed it), oldest first."""
        rows = self._all("SELECT slot, pid FROM slots WHERE name = ? ORDER BY claimed_at",
                         (name,))
        return [(r[0], int(r[1])) for r in rows]

    # -- named values -------------------------------------------------------------------------
    # -- the cluster's identity ------------------------------------------------------------
    def cluster_id(self) -> str:
        """The pair's id: made once by a primary, adopted by its standby at pairing."""
        cid = self.value("cluster.id")
        if not cid:
            with self._write() as db:
                db.execute("INSERT OR IGNORE INTO kv (key, value, at) VALUES ('cluster.id', ?, ?)",
                           (json.dumps(uuid.uuid4().hex[:16]), _iso(utcnow())))
            cid = self.value("cluster.id")
        return str(cid)

    def adopt_cluster_id(self, cid: str) -> None:
        self.put_value("cluster.id", cid)

    # -- logins made while the database was a read-only replica (a standby) ------------------
    def keep_local_token(self, digest: str, staff_id: int, counter: str,
                         expires_at: dt.datetime, ip: str | None) -> None:
        now = utcnow()
        with self._write() as db:
            db.execute("DELETE FROM local_tokens WHERE expires_at < ?", (_iso(now),))
            db.execute("INSERT OR REPLACE INTO local_tokens (digest, staff_id, counter, "
                       "expires_at, ip, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (digest, staff_id, counter, _iso(_aware(expires_at)), ip, _iso(now)))

    def local_token(self, digest: str) -> dict[str, Any] | None:
        row = self._one("SELECT staff_id, counter, expires_at FROM local_tokens WHERE "
                        "digest = ?", (digest,))
        if row is None:
            return None
        return {"staff_id": int(row[0]), "counter": row[1],
                "expires_at": _time(row[2]).replace(tzinfo=None)}  # type: ignore[union-attr]

    def drop_local_token(self, digest: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM local_tokens WHERE digest = ?", (digest,))

    def put_value(self, key: str, value: Any) -> None:
        with self._write() as db:
            if value is None:
                db.execute("DELETE FROM kv WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO kv (key, value, at) VALUES (?, ?, ?)",
                           (key, json.dumps(value, ensure_ascii=False, default=str),
                            _iso(utcnow())))

    def value(self, key: str, default: Any = None) -> Any:
        row = self._one("SELECT value FROM kv WHERE key = ?", (key,))
        return json.loads(row[0]) if row else default


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - Windows: no signal 0
        return False
    return True
