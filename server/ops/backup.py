"""Backups that are proven by restore (issue 7, DESIGN.md §4).

A backup is two files in the backup folder (``[backup] dir``, default ``<data_dir>/backups``):

    lanpos-20261123-084903Z.sql.gz        mariadb-dump output, gzip (``zcat | mariadb`` reads it)
    lanpos-20261123-084903Z.json          manifest: sha256, size, rows per table, binlog/GTID
                                          position, app version, schema revision, start/end time
    lanpos-20261123-084903Z.verify.json   the result of the last test restore (sidecar)

The folder itself is the catalogue (never the database: a restore replaces the database).

* **Consistency.** ``mariadb-dump --single-transaction --master-data=2 --gtid`` reads one InnoDB
  snapshot whose binlog position is exact (MariaDB's consistent-snapshot binlog position). The
  row counts in the manifest are counted *from the dump stream itself* while it is compressed,
  so they describe exactly that snapshot, and so does the schema revision (the
  ``alembic_version`` row in the dump).
* **Atomicity.** Data and manifest are written to ``.<id>….partial`` names, fsynced, then
  renamed (manifest last). A failed backup (disk full, dump tool missing, database down) removes
  its temp files and never touches other backups; the listing only shows complete pairs.
* **Verify.** Restore into a throwaway MariaDB (``ManagedMariaDB`` in a temp dir on a free
  port), compare the SHA-256, the row count of every table with the manifest, migrate to the
  current schema and run ``server.domain.verify.run_all``. Only a verified backup is "good".
* **Restore.** SHA-256 check, refuse unverified/failed unless forced, safety backup, API
  maintenance (503), drop + recreate the database, load, migrate, invariants, resume.
* **Point in time.** Restore the newest backup whose dump ended before the moment, then replay
  the binary log from the manifest's position with ``mariadb-binlog --stop-datetime``. The
  operator types local (shop) time; it is converted to UTC explicitly, and mariadb-binlog runs
  with ``TZ=UTC`` (it interprets --stop-datetime in its own process time zone).

Functions usable by the benchmark harness (issue 8): ``DbTarget.managed(mdb, "lanpos")`` /
``DbTarget.from_url(url)``, :func:`dump_to_file` (our backup: dump + scan + parallel gzip +
SHA-256), :func:`restore_file` (our restore: gunzip + ``mariadb``), ``DUMP_FLAGS`` (the same
flags for a plain ``mariadb-dump | gzip`` next to it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pymysql

from common import __version__
from common.errors import ApiError
from server.config import BackupSection, Config
from server.ops.mariadb import ManagedMariaDB, MariaDBError, find_tool, pick_free_port

log = logging.getLogger(__name__)

DUMP_FLAGS = ("--single-transaction", "--routines", "--triggers", "--events", "--gtid",
              "--master-data=2", "--quick", "--default-character-set=utf8mb4")
DATA_SUFFIX = ".sql.gz"
MANIFEST_SUFFIX = ".json"
VERIFY_SUFFIX = ".verify.json"
PARTIAL_SUFFIX = ".partial"
ID_RE = re.compile(r"^lanpos-\d{8}-\d{6}Z(?:-\d{1,3})?$")
CHUNK = 1 << 20
BLOCK = 4 << 20  # bytes of SQL per gzip member
MIN_FREE_BYTES = 16 * 1024 * 1024
FORMAT_VERSION = 1

Progress = Callable[[float, str], None]


def _noop(_f: float, _m: str) -> None:
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="seconds")


def _parse_iso(s: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(s)
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def shop_tz(settings: BackupSection) -> dt.tzinfo:
    if settings.timezone:
        return ZoneInfo(settings.timezone)
    local = dt.datetime.now().astimezone().tzinfo
    assert local is not None
    return local


# -- errors -----------------------------------------------------------------------------------
class BackupError(ApiError):
    """A backup/verify/restore failure with a message for the owner (zh/en catalogue)."""

    def __init__(self, code: str, status: int = 409, **params: Any) -> None:
        super().__init__(code, status=status, **params)


def _tool(name: str, *alternatives: str) -> str:
    try:
        return find_tool(name, *alternatives)
    except MariaDBError as e:
        raise BackupError("backup_tool_missing", status=500, tool=name) from e


# -- where the database is ------------------------------------------------------------------
@dataclass
class DbTarget:
    """How the MariaDB client tools and pymysql reach the shop database."""

    database: str
    user: str
    password: str
    socket: str | None = None
    host: str | None = None
    port: int | None = None
    admin: bool = True  # may use SET sql_log_bin / KILL (root of the managed instance)

    @classmethod
    def managed(cls, mdb: ManagedMariaDB, database: str) -> DbTarget:
        return cls(database=database, user="root", password=mdb.root_password,
                   socket=str(mdb.socket_path), port=mdb.port)

    @classmethod
    def from_url(cls, url: str) -> DbTarget:
        from sqlalchemy.engine import make_url

        u = make_url(url)
        sock = u.query.get("unix_socket")
        return cls(database=u.database or "lanpos", user=u.username or "",
                   password=u.password or "", socket=sock if isinstance(sock, str) else None,
                   host=u.host or "127.0.0.1", port=u.port or 3306, admin=False)

    @contextlib.contextmanager
    def defaults_file(self) -> Iterator[Path]:
        """A private ``[client]`` option file, so that no password shows in ``ps``."""
        d = Path(tempfile.mkdtemp(prefix="lanpos-cnf-"))
        try:
            p = d / "client.cnf"
            lines = ["[client]", f"user={self.user}", f'password="{self._esc(self.password)}"',
                     "default-character-set=utf8mb4"]
            if self.socket:
                lines.append(f"socket={self.socket}")
                lines.append("protocol=socket")
            else:
                lines += [f"host={self.host}", f"port={self.port}", "protocol=tcp"]
            p.write_text("\n".join(lines) + "\n", encoding="utf-8")
            if os.name == "posix":
                os.chmod(p, 0o600)
            yield p
        finally:
            shutil.rmtree(d, ignore_errors=True)

    @staticmethod
    def _esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace('"', '\\"')

    def connect(self, database: str | None = None, timeout: int = 10):
        kw: dict[str, Any] = dict(user=self.user, password=self.password, database=database,
                                  connect_timeout=timeout, charset="utf8mb4", autocommit=True)
        if self.socket:
            kw["unix_socket"] = self.socket
            _probe_socket(self.socket)
        else:
            kw["host"], kw["port"] = self.host, self.port
        try:
            conn = pymysql.connect(**kw)
        except pymysql.err.OperationalError as e:
            raise BackupError("backup_database_down", status=503, reason=str(e)) from e
        with conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")
        return conn

    def sqlalchemy_url(self) -> str:
        from urllib.parse import quote_plus

        base = f"mysql+pymysql://{quote_plus(self.user)}:{quote_plus(self.password)}@"
        if self.socket:
            return (f"{base}localhost/{self.database}?charset=utf8mb4"
                    f"&unix_socket={quote_plus(self.socket)}")
        return f"{base}{self.host}:{self.port}/{self.database}?charset=utf8mb4"


def _probe_socket(path: str) -> None:
    """Fail cleanly when nothing listens (pymysql leaks the socket of a failed connect)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect(path)
        except OSError as e:
            raise BackupError("backup_database_down", status=503,
                              reason=f"{path}: {e.strerror or e}") from e


# -- reading the dump while it streams ------------------------------------------------------
_INSERT_HEAD = re.compile(rb"^INSERT INTO `((?:[^`]|``)+)` VALUES(.*)$")
_CREATE = re.compile(rb"^CREATE TABLE `((?:[^`]|``)+)` \($")
_VIEW_TMP = re.compile(rb"^-- Temporary table structure for view `((?:[^`]|``)+)`")
_BINLOG = re.compile(rb"^-- CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+);")
_GTID = re.compile(rb"^-- SET GLOBAL gtid_slave_pos='([^']*)';")
_DONE = re.compile(rb"^-- Dump completed")
_STRING = re.compile(rb"'(?:[^'\\]|\\.)*'", re.S)


class DumpScanner:
    """Counts rows per table (and picks up the binlog position, GTID and schema revision)
    from mariadb-dump output fed in arbitrary chunks.

    mariadb-dump 10.x writes ``INSERT INTO `t` VALUES`` on a line of its own and then one row
    per line (``(…),`` … ``(…);``); newlines inside values are escaped, so a row is a line.
    The old single-line form (``VALUES (…),(…);``) is counted by skipping string literals.
    """

    def __init__(self) -> None:
        self.tables: dict[str, int] = {}
        self.views: set[str] = set()
        self.binlog_file: str | None = None
        self.binlog_pos: int | None = None
        self.gtid: str | None = None
        self.completed = False
        self.schema_revision: str | None = None
        self.raw_bytes = 0
        self._carry = b""
        self._in_rows: str | None = None  # table whose row lines we are inside

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())

    def feed(self, chunk: bytes) -> None:
        self.raw_bytes += len(chunk)
        buf = self._carry + chunk
        cut = buf.rfind(b"\n")
        if cut < 0:
            self._carry = buf
            return
        self._carry = buf[cut + 1:]
        self._scan(buf, cut + 1)

    def finish(self) -> None:
        if self._carry:
            self._scan(self._carry + b"\n", len(self._carry) + 1)
            self._carry = b""

    def _scan(self, buf: bytes, end: int) -> None:
        pos = 0
        while pos < end:
            table = self._in_rows
            if table is not None:
                stop = buf.find(b");\n", pos, end)
                if stop < 0:
                    self.tables[table] += buf.count(b"\n", pos, end)
                    if table == "alembic_version":
                        self._revision(buf[pos:end])
                    return
                self.tables[table] += buf.count(b"\n", pos, stop + 3)
                if table == "alembic_version":
                    self._revision(buf[pos:stop + 3])
                self._in_rows = None
                pos = stop + 3
                continue
            nl = buf.find(b"\n", pos, end)
            line = buf[pos:nl]
            pos = nl + 1
            if not line or line[0] not in b"I-C":
                continue
            m = _INSERT_HEAD.match(line)
            if m:
                name = m.group(1).replace(b"``", b"`").decode()
                self.tables.setdefault(name, 0)
                rest = m.group(2).strip()
                if not rest:
                    self._in_rows = name
                else:  # all rows on this line
                    stripped = _STRING.sub(b"''", rest)
                    self.tables[name] += stripped.count(b"),(") + 1
                    if name == "alembic_version":
                        self._revision(rest)
                continue
            m = _CREATE.match(line)
            if m:
                name = m.group(1).replace(b"``", b"`").decode()
                if name not in self.views:
                    self.tables.setdefault(name, 0)
                continue
            if line.startswith(b"--"):
                for rx, fn in ((_VIEW_TMP, self._view), (_BINLOG, self._binlog),
                               (_GTID, self._gtid), (_DONE, self._done)):
                    m = rx.match(line)
                    if m:
                        fn(m)
                        break

    def _revision(self, rows: bytes) -> None:
        m = re.search(rb"\('([^']*)'\)", rows)
        if m and self.schema_revision is None:
            self.schema_revision = m.group(1).decode()

    def _view(self, m: re.Match[bytes]) -> None:
        self.views.add(m.group(1).replace(b"``", b"`").decode())

    def _binlog(self, m: re.Match[bytes]) -> None:
        self.binlog_file, self.binlog_pos = m.group(1).decode(), int(m.group(2))

    def _gtid(self, m: re.Match[bytes]) -> None:
        self.gtid = m.group(1).decode()

    def _done(self, _m: re.Match[bytes]) -> None:
        self.completed = True


# -- writing a backup -----------------------------------------------------------------------
def _fsync_dir(d: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}{PARTIAL_SUFFIX}")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _disk_error(e: OSError, path: Path) -> BackupError:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return BackupError("backup_disk_full", status=507, path=str(path))
    return BackupError("backup_failed", status=500, reason=f"{path}: {e.strerror or e}")


@dataclass
class DumpResult:
    sha256: str
    size: int
    raw_bytes: int
    scanner: DumpScanner
    seconds: float


def dump_to_file(target: DbTarget, out: Path, level: int = 1,
                 progress: Progress = _noop, expected_bytes: int = 0) -> DumpResult:
    """Run mariadb-dump into ``out`` (gzip). On any failure ``out`` is removed."""
    dump = _tool("mariadb-dump", "mysqldump")
    t0 = time.monotonic()
    scanner = DumpScanner()
    sha = hashlib.sha256()
    size = 0
    workers = compress_workers()
    with target.defaults_file() as cnf, tempfile.TemporaryFile() as err, \
            ThreadPoolExecutor(workers, thread_name_prefix="lanpos-gzip") as pool:
        cmd = [dump, f"--defaults-file={cnf}", *DUMP_FLAGS, target.database]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err,
                                stdin=subprocess.DEVNULL)
        assert proc.stdout is not None
        pending: deque[Future[bytes]] = deque()
        try:
            with out.open("wb") as f:

                def drain(keep: int) -> None:
                    nonlocal size
                    while len(pending) > keep:
                        data = pending.popleft().result()
                        sha.update(data)
                        f.write(data)
                        size += len(data)

                block = bytearray()
                while True:
                    chunk = proc.stdout.read(CHUNK)
                    if not chunk:
                        break
                    scanner.feed(chunk)
                    block += chunk
                    if len(block) >= BLOCK:
                        # independent gzip members, compressed in parallel (zlib releases the
                        # GIL); concatenated members are one valid gzip file
                        pending.append(pool.submit(gzip_block, bytes(block), level))
                        block.clear()
                        drain(2 * workers)
                    if expected_bytes:
                        progress(min(0.95, scanner.raw_bytes / expected_bytes),
                                 f"{scanner.raw_bytes // 1_048_576} MB")
                if block or not pending:
                    pending.append(pool.submit(gzip_block, bytes(block), level))
                drain(0)
                f.flush()
                os.fsync(f.fileno())
            scanner.finish()
            rc = proc.wait()
            _close_pipes(proc)
        except OSError as e:
            _kill(proc)
            with contextlib.suppress(OSError):
                out.unlink()
            raise _disk_error(e, out) from e
        except BaseException:
            _kill(proc)
            with contextlib.suppress(OSError):
                out.unlink()
            raise
        if rc != 0 or not scanner.completed:
            with contextlib.suppress(OSError):
                out.unlink()
            err.seek(0)
            msg = err.read().decode("utf-8", "replace").strip()[-800:]
            if "Can't connect" in msg or "Lost connection" in msg or "(2002" in msg:
                raise BackupError("backup_database_down", status=503, reason=msg)
            raise BackupError("backup_failed", status=500,
                              reason=msg or f"mariadb-dump exit code {rc}")
    return DumpResult(sha.hexdigest(), size, scanner.raw_bytes, scanner,
                      time.monotonic() - t0)


def compress_workers() -> int:
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def gzip_block(data: bytes, level: int) -> bytes:
    """One complete gzip member."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: gzip container
    return c.compress(data) + c.flush()


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    with contextlib.suppress(Exception):
        proc.wait(timeout=10)
    _close_pipes(proc)


def _close_pipes(proc: subprocess.Popen) -> None:
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def iter_sql(path: Path) -> Iterator[bytes]:
    """Decompressed SQL of a backup file (raises BackupError on a damaged gzip stream)."""
    d = zlib.decompressobj(47)
    with path.open("rb") as f:
        try:
            while chunk := f.read(CHUNK):
                out = d.decompress(chunk)
                if out:
                    yield out
                while d.unused_data:  # concatenated gzip members
                    rest = d.unused_data
                    d = zlib.decompressobj(47)
                    out = d.decompress(rest)
                    if out:
                        yield out
            if not d.eof:
                raise BackupError("backup_corrupt", backup=path.name)
            tail = d.flush()
            if tail:
                yield tail
        except zlib.error as e:
            raise BackupError("backup_corrupt", backup=path.name) from e


def load_file(target: DbTarget, sql: Iterable[bytes], database: str | None = None,
              log_bin: bool = False, progress: Progress = _noop,
              total_bytes: int = 0) -> float:
    """Pipe SQL into ``mariadb`` for ``database``. Returns seconds taken."""
    client = _tool("mariadb", "mysql")
    t0 = time.monotonic()
    with target.defaults_file() as cnf, tempfile.TemporaryFile() as err:
        cmd = [client, f"--defaults-file={cnf}", "--binary-mode", "--max-allowed-packet=1G",
               database or target.database]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=err)
        assert proc.stdin is not None
        fed = 0
        try:
            if not log_bin and target.admin:
                proc.stdin.write(b"SET SESSION sql_log_bin = 0;\n")
            for chunk in sql:
                proc.stdin.write(chunk)
                fed += len(chunk)
                if total_bytes:
                    progress(min(0.99, fed / total_bytes), f"{fed // 1_048_576} MB")
            proc.stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:
            _kill(proc)
            raise
        rc = proc.wait()
        _close_pipes(proc)
        if rc != 0:
            err.seek(0)
            msg = err.read().decode("utf-8", "replace").strip()[-800:]
            raise BackupError("restore_failed", status=500,
                              reason=msg or f"mariadb exit code {rc}")
    return time.monotonic() - t0


def restore_file(target: DbTarget, path: Path, database: str | None = None) -> float:
    """Load a backup file into an existing (empty) database. Seconds taken (benchmarks)."""
    return load_file(target, iter_sql(Path(path)), database=database)


# -- the catalogue on disk ------------------------------------------------------------------
@dataclass
class BackupInfo:
    id: str
    path: Path
    manifest: dict[str, Any]
    verification: dict[str, Any] | None = None

    @property
    def started_at(self) -> dt.datetime:
        return _parse_iso(self.manifest["started_at"])

    @property
    def ended_at(self) -> dt.datetime:
        return _parse_iso(self.manifest["ended_at"])

    @property
    def verified(self) -> bool | None:
        """True: a test restore passed; False: it failed; None: not verified yet."""
        return None if self.verification is None else bool(self.verification.get("ok"))

    @property
    def manifest_path(self) -> Path:
        return self.path.with_name(self.id + MANIFEST_SUFFIX)

    @property
    def verify_path(self) -> Path:
        return self.path.with_name(self.id + VERIFY_SUFFIX)

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "id": self.id, "file": str(self.path), "reason": m.get("reason"),
            "started_at": m["started_at"], "ended_at": m["ended_at"],
            "size": m["size"], "sha256": m["sha256"], "tables": m["tables"],
            "total_rows": sum(m["tables"].values()), "binlog": m.get("binlog"),
            "app_version": m.get("app_version"), "schema_revision": m.get("schema_revision"),
            "verified": self.verified, "verification": self.verification,
        }


def read_backup(path: Path) -> BackupInfo:
    """A backup from its data file (``.sql.gz``) or manifest path."""
    path = Path(path)
    name = path.name
    for suffix in (VERIFY_SUFFIX, MANIFEST_SUFFIX, DATA_SUFFIX):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    data = path.with_name(name + DATA_SUFFIX)
    man = path.with_name(name + MANIFEST_SUFFIX)
    if data.is_file() and not man.is_file() and path == data:
        # just the dump file (e.g. copied by hand): rebuild the manifest from its content;
        # the gzip CRCs still catch damage, and it counts as unverified until verified
        manifest = manifest_from_file(data)
        with contextlib.suppress(OSError):
            _write_json_atomic(man, manifest)
        return BackupInfo(name, data, manifest, None)
    if not data.is_file() or not man.is_file():
        raise BackupError("backup_not_found", status=404, backup=str(path))
    try:
        manifest = json.loads(man.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BackupError("backup_corrupt", backup=name) from e
    ver = None
    vp = path.with_name(name + VERIFY_SUFFIX)
    if vp.is_file():
        with contextlib.suppress(OSError, ValueError):
            ver = json.loads(vp.read_text(encoding="utf-8"))
    return BackupInfo(manifest.get("id", name), data, manifest, ver)


def manifest_from_file(data: Path) -> dict[str, Any]:
    """A manifest for a dump file that came without one (read from the dump itself)."""
    sc = DumpScanner()
    for chunk in iter_sql(data):
        sc.feed(chunk)
    sc.finish()
    if not sc.completed:
        raise BackupError("backup_corrupt", backup=data.name)
    st = data.stat()
    at = _iso(dt.datetime.fromtimestamp(st.st_mtime, dt.UTC))
    name = data.name[: -len(DATA_SUFFIX)] if data.name.endswith(DATA_SUFFIX) else data.stem
    return {
        "format": FORMAT_VERSION, "id": name, "file": data.name, "reason": "imported",
        "started_at": at, "ended_at": at, "seconds": None, "size": st.st_size,
        "sql_bytes": sc.raw_bytes, "sha256": file_sha256(data), "compression": "gzip",
        "database": None, "tables": dict(sorted(sc.tables.items())),
        "views": sorted(sc.views),
        "binlog": ({"file": sc.binlog_file, "position": sc.binlog_pos, "gtid": sc.gtid}
                   if sc.binlog_file else None),
        "app_version": None, "schema_revision": sc.schema_revision,
        "host": None, "rebuilt_from_dump": True,
    }


def list_backups(folder: Path) -> list[BackupInfo]:
    """Complete backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    out = []
    for man in folder.glob("lanpos-*" + MANIFEST_SUFFIX):
        if man.name.endswith(VERIFY_SUFFIX):
            continue
        with contextlib.suppress(BackupError):
            out.append(read_backup(man))
    out.sort(key=lambda b: (b.manifest.get("started_at", ""), b.id))
    return out


# -- retention (pure) -----------------------------------------------------------------------
@dataclass(frozen=True)
class RetentionItem:
    id: str
    at: dt.datetime  # local (shop) time
    verified: bool | None = None


@dataclass(frozen=True)
class RetentionPolicy:
    keep_last: int = 7
    daily: int = 14
    weekly: int = 8
    monthly: int = 12

    @classmethod
    def from_settings(cls, s: BackupSection) -> RetentionPolicy:
        return cls(s.keep_last, s.keep_daily, s.keep_weekly, s.keep_monthly)


def plan_retention(items: Sequence[RetentionItem], policy: RetentionPolicy) -> set[str]:
    """Which backups to keep: the newest ``keep_last``; the newest (not failed) backup of each
    of the newest ``daily`` days, ``weekly`` ISO weeks and ``monthly`` months that have one; and
    always the newest verified backup. Everything else may be deleted."""
    newest_first = sorted(items, key=lambda i: (i.at, i.id), reverse=True)
    keep = {i.id for i in newest_first[: max(policy.keep_last, 0)]}
    tiers: list[tuple[int, Callable[[dt.datetime], Any]]] = [
        (policy.daily, lambda t: t.date()),
        (policy.weekly, lambda t: t.isocalendar()[:2]),
        (policy.monthly, lambda t: (t.year, t.month)),
    ]
    for count, bucket_of in tiers:
        seen: set[Any] = set()
        for item in newest_first:
            if len(seen) >= count:
                break
            if item.verified is False:
                continue
            b = bucket_of(item.at)
            if b not in seen:
                seen.add(b)
                keep.add(item.id)
    for item in newest_first:
        if item.verified:
            keep.add(item.id)
            break
    return keep


# -- jobs (long-running work for the API) ---------------------------------------------------
@dataclass
class Job:
    id: str
    kind: str
    state: str = "queued"  # queued | running | done | failed
    progress: float = 0.0
    message: str = ""
    backup_id: str | None = None
    created_at: dt.datetime = field(default_factory=utcnow)
    finished_at: dt.datetime | None = None
    result: dict[str, Any] | None = None
    error_code: str | None = None
    error: str | None = None
    error_en: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- the service ----------------------------------------------------------------------------
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


class BackupService:
    """Backup, verify, restore and point-in-time recovery for one lanpos data directory.

    ``runtime`` is a :class:`server.runtime.Runtime` (its managed MariaDB, engine, config);
    ``state`` the Flask app's LanposState when running inside the server (maintenance flag).
    """

    def __init__(self, runtime: Any, state: Any = None) -> None:
        self.runtime = runtime
        self.state = state
        self._work_lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()
        self.last_error: str | None = None
        self.drain_seconds = 1.0
        self.min_free_bytes = MIN_FREE_BYTES  # refuse to start a backup with less free space

    # -- configuration ---------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self.runtime.config

    @property
    def settings(self) -> BackupSection:
        return self.config.backup

    @property
    def folder(self) -> Path:
        return self.config.backup_dir

    @property
    def tz(self) -> dt.tzinfo:
        return shop_tz(self.settings)

    def target(self) -> DbTarget:
        cfg = self.config
        if cfg.managed:
            mdb = self.runtime.mariadb or self.runtime.managed_instance()
            return DbTarget.managed(mdb, cfg.database.name)
        return DbTarget.from_url(cfg.database.url)

    # -- listing ---------------------------------------------------------------------------
    def list(self) -> list[BackupInfo]:
        return list_backups(self.folder)

    def get(self, ref: str | Path) -> BackupInfo:
        """A backup by id (in the backup folder) or by a file path (anywhere)."""
        s = str(ref)
        if ID_RE.match(s):
            return read_backup(self.folder / (s + MANIFEST_SUFFIX))
        p = Path(s).expanduser()
        if p.exists():
            return read_backup(p)
        raise BackupError("backup_not_found", status=404, backup=s)

    def newest_verified(self) -> BackupInfo | None:
        good = [b for b in self.list() if b.verified]
        return good[-1] if good else None

    # -- backup ----------------------------------------------------------------------------
    def _new_id(self, started: dt.datetime) -> str:
        base = "lanpos-" + started.astimezone(dt.UTC).strftime("%Y%m%d-%H%M%SZ")
        cand, n = base, 1
        while (self.folder / (cand + MANIFEST_SUFFIX)).exists() or \
                (self.folder / (cand + DATA_SUFFIX)).exists() or \
                (self.folder / f".{cand}{DATA_SUFFIX}{PARTIAL_SUFFIX}").exists():
            n += 1
            cand = f"{base}-{n}"
        return cand

    def _estimate_bytes(self, target: DbTarget) -> int:
        try:
            conn = target.connect(timeout=5)
        except BackupError:
            raise
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COALESCE(SUM(data_length), 0) FROM information_schema.tables"
                            " WHERE table_schema = %s", (target.database,))
                row = cur.fetchone()
                return int(row[0]) if row else 0
        finally:
            conn.close()

    def backup(self, reason: str = "manual", progress: Progress = _noop,
               copy: bool = True) -> BackupInfo:
        with self._work_lock:
            return self._backup(reason, progress, copy)

    def _backup(self, reason: str, progress: Progress, copy: bool) -> BackupInfo:
        folder = self.folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(folder).free
        except OSError as e:
            raise _disk_error(e, folder) from e
        if free < self.min_free_bytes:
            raise BackupError("backup_disk_full", status=507, path=str(folder))
        target = self.target()
        expected = self._estimate_bytes(target)  # also: is the database up?
        started = utcnow()
        bid = self._new_id(started)
        tmp = folder / f".{bid}{DATA_SUFFIX}{PARTIAL_SUFFIX}"
        progress(0.01, "dump")
        res = dump_to_file(target, tmp, self.settings.compress_level, progress,
                           int(expected * 1.1))
        ended = utcnow()
        sc = res.scanner
        manifest = {
            "format": FORMAT_VERSION,
            "id": bid,
            "file": bid + DATA_SUFFIX,
            "reason": reason,
            "started_at": _iso(started),
            "ended_at": _iso(ended),
            "seconds": round(res.seconds, 3),
            "size": res.size,
            "sql_bytes": res.raw_bytes,
            "sha256": res.sha256,
            "compression": f"gzip-{self.settings.compress_level}",
            "database": target.database,
            "tables": dict(sorted(sc.tables.items())),
            "views": sorted(sc.views),
            "binlog": ({"file": sc.binlog_file, "position": sc.binlog_pos, "gtid": sc.gtid}
                       if sc.binlog_file else None),
            "app_version": __version__,
            "schema_revision": sc.schema_revision,
            "host": socket.gethostname(),
            "dump_flags": list(DUMP_FLAGS),
        }
        data = folder / (bid + DATA_SUFFIX)
        man = folder / (bid + MANIFEST_SUFFIX)
        man_tmp = folder / f".{bid}{MANIFEST_SUFFIX}{PARTIAL_SUFFIX}"
        try:
            with man_tmp.open("w", encoding="utf-8") as f:
                json.dump(manifest, f, ensure_ascii=False, indent=2)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, data)
            os.replace(man_tmp, man)
            _fsync_dir(folder)
        except OSError as e:
            for p in (tmp, man_tmp):
                with contextlib.suppress(OSError):
                    p.unlink()
            if not man.exists():
                with contextlib.suppress(OSError):
                    data.unlink()
            raise _disk_error(e, folder) from e
        info = BackupInfo(bid, data, manifest)
        log.info("backup %s (%s): %d bytes, %d rows, %.1fs", bid, reason, res.size,
                 sc.total_rows, res.seconds)
        progress(0.97, "copy")
        if copy:
            self.copy_to_destinations(info)
        progress(1.0, "done")
        return info

    def cleanup_partials(self) -> list[Path]:
        """Remove temp files left by an interrupted backup (server killed mid-dump)."""
        removed = []
        if self.folder.is_dir():
            for p in self.folder.glob(f".lanpos-*{PARTIAL_SUFFIX}"):
                with contextlib.suppress(OSError):
                    p.unlink()
                    removed.append(p)
        return removed

    # -- destinations ----------------------------------------------------------------------
    @property
    def _dest_status_path(self) -> Path:
        return self.folder / "destinations.json"

    def destination_status(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads(self._dest_status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def copy_to_destinations(self, info: BackupInfo) -> dict[str, dict[str, Any]]:
        """Copy the backup (+ manifest, + verification) to every extra folder. A missing or
        unwritable destination is recorded (health warning), never fatal. A missing folder is
        not created: an unplugged USB disk must not fill the system disk instead."""
        status = self.destination_status()
        status = {k: v for k, v in status.items() if k in self.settings.destinations}
        for dest in self.settings.destinations:
            entry: dict[str, Any] = {"at": _iso(utcnow()), "backup": info.id}
            try:
                d = Path(dest).expanduser()
                if not d.is_dir():
                    raise FileNotFoundError(errno.ENOENT, "folder not found (disk unplugged?)",
                                            str(d))
                for src in (info.path, info.manifest_path, info.verify_path):
                    if src.exists():
                        _copy_atomic(src, d / src.name)
                entry["ok"] = True
            except OSError as e:
                entry["ok"] = False
                entry["error"] = f"{e.strerror or e}"
                log.warning("backup copy to %s failed: %s", dest, e)
            status[dest] = entry
        if self.settings.destinations or self._dest_status_path.exists():
            with contextlib.suppress(OSError):
                _write_json_atomic(self._dest_status_path, status)
        return status

    # -- retention -------------------------------------------------------------------------
    def apply_retention(self) -> list[str]:
        """Delete backups the policy does not keep (here and in the destinations)."""
        with self._work_lock:
            backups = self.list()
            tz = self.tz
            items = [RetentionItem(b.id, b.started_at.astimezone(tz), b.verified)
                     for b in backups]
            keep = plan_retention(items, RetentionPolicy.from_settings(self.settings))
            doomed = [b.id for b in backups if b.id not in keep]
            folders = [self.folder] + [Path(d).expanduser() for d in self.settings.destinations]
            for bid in doomed:
                for folder in folders:
                    for suffix in (MANIFEST_SUFFIX, VERIFY_SUFFIX, DATA_SUFFIX):
                        with contextlib.suppress(OSError):
                            (folder / (bid + suffix)).unlink()
            if doomed:
                log.info("retention removed %d backups: %s", len(doomed), ", ".join(doomed))
            return doomed

    # -- throwaway instance ----------------------------------------------------------------
    @contextlib.contextmanager
    def scratch_instance(self) -> Iterator[ManagedMariaDB]:
        base = (Path(self.settings.scratch_dir).expanduser() if self.settings.scratch_dir
                else self.config.data_dir / "tmp")
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

    # -- verify ----------------------------------------------------------------------------
    def verify(self, ref: str | Path, progress: Progress = _noop) -> VerifyResult:
        with self._work_lock:
            return self._verify(self.get(ref), progress)

    def verify_newest(self) -> VerifyResult | None:
        backups = self.list()
        if not backups or backups[-1].verified is not None:
            return None
        return self.verify(backups[-1].id)

    def _verify(self, info: BackupInfo, progress: Progress) -> VerifyResult:
        from sqlalchemy import text

        from server.db import migrate
        from server.db.session import make_engine, make_session_factory
        from server.domain.verify import run_all

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
            with self.scratch_instance() as mdb:
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
        if info.path.parent.resolve() == self.folder.resolve():
            info.verification = asdict(res)
            self.copy_to_destinations(info)
        progress(1.0, "done")
        log.info("verified %s: %s %s", info.id, "OK" if ok else "FAILED", problems[:3])
        return res

    # -- restore ---------------------------------------------------------------------------
    def check_restorable(self, info: BackupInfo, force: bool) -> None:
        if not force and file_sha256(info.path) != info.manifest["sha256"]:
            raise BackupError("backup_corrupt", backup=info.id)
        if info.verified is None and not force:
            raise BackupError("backup_unverified", backup=info.id)
        if info.verified is False and not force:
            raise BackupError("backup_verify_failed", backup=info.id)

    def _db_has_tables(self, target: DbTarget) -> bool:
        conn = target.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM information_schema.tables "
                            "WHERE table_schema = %s", (target.database,))
                return int(cur.fetchone()[0]) > 0
        finally:
            conn.close()

    def _set_maintenance(self, reason: str | None) -> None:
        if self.state is not None:
            self.state.maintenance = reason

    def _kick_connections(self, target: DbTarget) -> None:
        """Close the app's pooled connections and kill any left on the database."""
        engine = getattr(self.runtime, "engine", None)
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

    def restore(self, ref: str | Path, force: bool = False, progress: Progress = _noop,
                safety_backup: bool = True) -> dict[str, Any]:
        with self._work_lock:
            info = self.get(ref)
            self.check_restorable(info, force)
            return self._restore(info, progress, safety_backup, replay=None)

    def _restore(self, info: BackupInfo, progress: Progress, safety_backup: bool,
                 replay: Callable[[DbTarget], dict[str, Any]] | None) -> dict[str, Any]:
        from server.db import migrate
        from server.domain.verify import run_all

        t0 = time.monotonic()
        target = self.target()
        result: dict[str, Any] = {"backup_id": info.id}
        safety = None
        if safety_backup and self._db_has_tables(target):
            progress(0.02, "safety backup")
            safety = self._backup("pre-restore", lambda f, s: progress(0.02 + 0.2 * f, s),
                                  copy=True)
            result["safety_backup"] = safety.id
        self._set_maintenance("正在还原备份 restoring a backup")
        try:
            time.sleep(self.drain_seconds if self.state is not None else 0)
            self._kick_connections(target)
            progress(0.25, "restore")
            try:
                self._load_into_live(target, info.path, progress)
                if replay is not None:
                    progress(0.8, "binlog replay")
                    result.update(replay(target))
            except BackupError as e:
                if safety is None:
                    raise
                log.error("restore of %s failed (%s); putting back the safety backup %s",
                          info.id, e, safety.id)
                self._kick_connections(target)
                self._load_into_live(target, safety.path, _noop)
                raise BackupError("restore_failed", status=500,
                                  reason=f"{e.message('en')} — the database was put back "
                                         f"from the safety backup {safety.id}") from e
            engine = self.runtime.connect()
            before = migrate.current_revision(engine)
            if migrate.needs_upgrade(engine):
                progress(0.9, "migrate")
                migrate.upgrade(engine)
            result["schema_before"] = before
            result["schema_after"] = migrate.current_revision(engine)
            progress(0.95, "invariants")
            with self.runtime.session_factory() as session:
                checks = run_all(session)
            result["invariants_ok"] = all(r.ok for r in checks)
            result["problems"] = [f"{r.name}: {p}" for r in checks for p in r.problems[:20]]
            self._journal_restore(info, result)
        finally:
            self._set_maintenance(None)
        result["seconds"] = round(time.monotonic() - t0, 3)
        progress(1.0, "done")
        log.info("restored %s in %.1fs", info.id, result["seconds"])
        return result

    def _load_into_live(self, target: DbTarget, path: Path, progress: Progress) -> None:
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

    @property
    def _journal_path(self) -> Path:
        return self.folder / "restores.jsonl"

    def _journal_restore(self, info: BackupInfo, result: dict[str, Any]) -> None:
        """Restores are remembered: a point-in-time replay must never cross one (the binary
        log before a restore describes a database that no longer exists)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = {"at": _iso(utcnow()), "backup": info.id, **{k: result.get(k) for k in (
            "safety_backup", "to")}}
        with self._journal_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def restore_events(self) -> list[dt.datetime]:
        try:
            lines = self._journal_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            with contextlib.suppress(ValueError, KeyError):
                out.append(_parse_iso(json.loads(line)["at"]))
        return out

    # -- point in time ---------------------------------------------------------------------
    def parse_local_time(self, text_: str) -> dt.datetime:
        """'2026-11-23 14:05' (shop local time) → aware UTC datetime."""
        s = text_.strip().replace("T", " ")
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                naive = dt.datetime.strptime(s, fmt)
                break
            except ValueError:
                continue
        else:
            raise BackupError("pitr_failed", status=400,
                              reason=f"'{text_}' is not YYYY-MM-DD HH:MM[:SS]")
        return naive.replace(tzinfo=self.tz).astimezone(dt.UTC)

    def pitr_moment(self, text_: str) -> dt.datetime:
        """The moment of a point-in-time restore (UTC); not in the future."""
        when = self.parse_local_time(text_)
        if when > utcnow():
            raise BackupError("pitr_failed", status=400, reason="that moment is in the future")
        return when

    def binlog_files_from(self, first: str) -> list[Path]:
        if not self.config.managed:
            raise BackupError("pitr_failed", reason="point-in-time recovery needs the managed "
                                                    "database's binary logs")
        mdb = self.runtime.mariadb or self.runtime.managed_instance()
        index = Path(str(mdb.binlog_basename) + ".index")
        try:
            names = [Path(line.strip()).name for line in
                     index.read_text().splitlines() if line.strip()]
        except OSError as e:
            raise BackupError("pitr_failed", reason=f"binary log index: {e}") from e
        if first not in names:
            raise BackupError("pitr_failed", reason=f"binary log {first} of the backup has "
                                                    "been purged; choose a later moment")
        files = [mdb.binlog_dir / n for n in names[names.index(first):]]
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise BackupError("pitr_failed", reason=f"binary logs missing: {missing}")
        return files

    def pick_pitr_base(self, when_utc: dt.datetime, force: bool = False) -> BackupInfo:
        candidates = [b for b in self.list() if b.manifest.get("binlog")
                      and b.ended_at <= when_utc and (b.verified or force)
                      and b.verified is not False]
        restores = self.restore_events()
        candidates = [b for b in candidates
                      if not any(b.started_at <= r <= when_utc for r in restores)]
        if not candidates:
            raise BackupError("pitr_failed", reason="no verified backup taken before that "
                                                    "moment (and after the last restore)")
        return candidates[-1]

    def restore_to(self, when_text: str, force: bool = False,
                   progress: Progress = _noop) -> dict[str, Any]:
        when = self.pitr_moment(when_text)
        with self._work_lock:
            base = self.pick_pitr_base(when, force)
            self.check_restorable(base, force)
            bl = base.manifest["binlog"]
            files = self.binlog_files_from(bl["file"])
            binlog_tool = _tool("mariadb-binlog", "mysqlbinlog")
            stop = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

            def replay(target: DbTarget) -> dict[str, Any]:
                cmd = [binlog_tool, "--no-defaults", "--disable-log-bin",
                       f"--database={target.database}", f"--start-position={bl['position']}",
                       f"--stop-datetime={stop}", *map(str, files)]
                env = {**os.environ, "TZ": "UTC"}
                with tempfile.TemporaryFile() as err:
                    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
                    assert proc.stdout is not None
                    try:
                        load_file(target, _without_gtid_seq_no(
                            iter(lambda: proc.stdout.read(CHUNK), b"")))
                    finally:
                        if proc.poll() is None and proc.stdout is not None:
                            proc.stdout.read()  # drain, so that it can exit
                        rc = proc.wait()
                        _close_pipes(proc)
                    if rc != 0:
                        err.seek(0)
                        raise BackupError("pitr_failed", status=500,
                                          reason=err.read().decode("utf-8", "replace")[-800:])
                return {"to": _iso(when), "to_local": when_text, "stop_datetime_utc": stop,
                        "binlog_files": [f.name for f in files],
                        "start_position": bl["position"]}

            return self._restore(base, progress, True, replay)

    # -- jobs ------------------------------------------------------------------------------
    def submit(self, kind: str, work: Callable[[Progress], Any], backup_id: str | None = None,
               exclusive: bool = False) -> Job:
        """Run ``work(progress)`` in a thread. ``exclusive``: refuse (409) while another job
        is queued or running (restores)."""
        job = Job(id=uuid.uuid4().hex, kind=kind, backup_id=backup_id)
        with self._jobs_lock:
            if exclusive:
                self.refuse_if_busy()
            self._jobs[job.id] = job
            if len(self._jobs) > 200:
                for old in sorted(self._jobs.values(), key=lambda j: j.created_at)[:50]:
                    if old.state in ("done", "failed"):
                        self._jobs.pop(old.id, None)

        def progress(f: float, msg: str) -> None:
            job.progress = round(max(job.progress, min(f, 1.0)), 3)
            job.message = msg

        def run() -> None:
            job.state = "running"
            try:
                res = work(progress)
                if isinstance(res, BackupInfo):
                    job.backup_id = res.id
                    res = res.to_dict()
                elif isinstance(res, VerifyResult):
                    res = asdict(res)
                job.result = res
                job.progress = 1.0
                job.state = "done"
            except ApiError as e:
                job.state, job.error_code = "failed", e.code
                job.error, job.error_en = e.message("zh"), e.message("en")
                self.last_error = job.error
            except Exception as e:  # recorded for the owner, logged with the traceback
                log.exception("backup job %s (%s) failed", job.id, kind)
                job.state, job.error_code = "failed", "backup_failed"
                job.error = job.error_en = str(e)
                self.last_error = job.error
            finally:
                job.finished_at = utcnow()

        threading.Thread(target=run, name=f"lanpos-{kind}-{job.id[:6]}", daemon=True).start()
        return job

    def refuse_if_busy(self) -> None:
        """A restore is not queued behind other work (nor twice): 409 while any job runs."""
        busy = [j for j in list(self._jobs.values()) if j.state in ("queued", "running")]
        if busy:
            raise BackupError("backup_busy", kind=busy[0].kind)

    def job(self, job_id: str) -> Job:
        j = self._jobs.get(job_id)
        if j is None:
            raise BackupError("backup_job_not_found", status=404, job=job_id)
        return j

    # -- settings and audit ----------------------------------------------------------------
    def update_settings(self, changes: dict[str, Any], session: Any = None,
                        actor: Any = None) -> BackupSection:
        """Change [backup] settings in lanpos.toml (validated; nothing saved on a problem).
        With ``session`` and ``actor`` the change is audited in that session."""
        from dataclasses import replace

        from server.domain import audit
        from server.ops.scheduler import validate_settings

        changes = dict(changes)
        for key in ("dir", "scratch_dir"):
            if changes.get(key):
                changes[key] = str(Path(changes[key]).expanduser())
        if "destinations" in changes:
            changes["destinations"] = [d.strip() for d in changes["destinations"] if d.strip()]
        before = asdict(self.settings)
        new = replace(self.settings, **changes)
        problems = validate_settings(new)
        if problems:
            raise BackupError("backup_settings_invalid", status=400, reason="; ".join(problems))
        self.config.backup = new
        self.config.save()
        if session is not None and actor is not None:
            after = asdict(new)
            audit.write(session, actor, "backup.settings", "backup", None,
                        before={k: before[k] for k in changes},
                        after={k: after[k] for k in changes})
        return new

    def audit(self, actor: Any, action: str, entity_id: str | None,
              after: dict[str, Any] | None = None) -> None:
        """An audit entry in a session of its own (after a restore the request's session
        belongs to a database that no longer exists)."""
        from server.domain import audit

        if actor is None:
            return
        try:
            with self.runtime.session_factory() as session:
                audit.write(session, actor, action, "backup", entity_id, after=after)
                session.commit()
        except Exception as e:
            log.warning("could not write the audit entry %s: %s", action, e)

    # -- health ----------------------------------------------------------------------------
    def health_warnings(self, now: dt.datetime | None = None) -> list[str]:
        now = now or utcnow()
        out = []
        good = self.newest_verified()
        if good is None:
            out.append("还没有通过还原验证的备份 (no verified backup yet)")
        else:
            age = now - good.ended_at
            if age > dt.timedelta(days=1):
                out.append(f"最新的已验证备份已有 {age.days} 天 {age.seconds // 3600} 小时 "
                           f"(newest verified backup {good.id} is older than a day)")
        backups = self.list()
        if backups and backups[-1].verified is False:
            out.append(f"最新备份 {backups[-1].id} 未通过还原验证 "
                       f"(the newest backup failed its test restore)")
        for dest, st in self.destination_status().items():
            if dest in self.settings.destinations and not st.get("ok"):
                out.append(f"备份复制到 {dest} 失败：{st.get('error')} "
                           f"(backup copy to {dest} failed)")
        if self.last_error:
            out.append(f"上次备份任务失败：{self.last_error} (last backup job failed)")
        return out

    def newest_verified_age_seconds(self) -> int | None:
        good = self.newest_verified()
        return None if good is None else int((utcnow() - good.ended_at).total_seconds())


_GTID_SEQ = re.compile(rb"SET @@session\.gtid_seq_no=(\d+)")


def _without_gtid_seq_no(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Replayed events must not claim their old GTID: with gtid_strict_mode the server refuses
    a sequence number below its current one, even with sql_log_bin=0. The statement becomes
    a harmless user-variable assignment (the events are applied, unlogged)."""
    carry = b""
    for chunk in chunks:
        buf = carry + chunk
        cut = buf.rfind(b"\n") + 1
        carry = buf[cut:]
        yield _GTID_SEQ.sub(rb"SET @lanpos_replayed_seq_no=\1", buf[:cut])
    if carry:
        yield _GTID_SEQ.sub(rb"SET @lanpos_replayed_seq_no=\1", carry)


def _copy_atomic(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}{PARTIAL_SUFFIX}")
    try:
        with src.open("rb") as fi, tmp.open("wb") as fo:
            shutil.copyfileobj(fi, fo, CHUNK)
            fo.flush()
            os.fsync(fo.fileno())
        if tmp.stat().st_size != src.stat().st_size:
            raise OSError(errno.EIO, "short copy", str(dst))
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# -- wiring into the server -----------------------------------------------------------------
def service_for(state: Any) -> BackupService:
    """The app's BackupService (created on first use when the app was built without one)."""
    svc = state.extras.get("backups")
    if svc is None:
        from server.runtime import Runtime

        rt = Runtime(state.config)
        rt.engine = state.engine
        rt._factory = state.session_factory
        if state.config.managed:
            rt.mariadb = rt.managed_instance()
        svc = state.extras.setdefault("backups", BackupService(rt, state))
    return svc


def attach(app: Any, runtime: Any) -> BackupService:
    """Give the app a BackupService bound to ``runtime`` and the backup health check."""
    state = app.extensions["lanpos"]
    svc = BackupService(runtime, state)
    state.extras["backups"] = svc
    state.extras.setdefault("health_checks", []).append(lambda _ctx: svc.health_warnings())
    return svc


def pre_migration_backup(runtime: Any, current_revision: str | None) -> None:
    """Runtime.pre_migration_hooks entry: a safety backup before any schema change."""
    if current_revision is None:
        return  # an empty database: nothing to protect
    svc = BackupService(runtime)
    info = svc.backup(reason=f"pre-migration-{current_revision}")
    log.info("safety backup before migration: %s", info.id)
