"""The dump file: reaching the database, ``mariadb-dump`` streamed through the scanner and a
parallel gzip into a file, reading it back, loading SQL into ``mariadb``, and the atomic file
helpers every other backup module uses (see ``server/backup/__init__.py``).

Usable on its own by the benchmark harness (issue 8): ``DbTarget.managed(mdb, "lanpos")`` /
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
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pymysql
from sqlalchemy.engine import make_url

from common.errors import ApiError
from server.ops.mariadb import ManagedMariaDB, MariaDBError, find_tool

DUMP_FLAGS = ("--single-transaction", "--routines", "--triggers", "--events", "--gtid",
              "--master-data=2", "--quick", "--default-character-set=utf8mb4")
PARTIAL_SUFFIX = ".partial"  # temp files: ``.<name>.partial``, renamed when complete
CHUNK = 1 << 20
BLOCK = 4 << 20  # bytes of SQL per gzip member

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
    ssl_ca: str | None = None  # TLS, trusting this CA (a standby seeding from its primary)

    @classmethod
    def managed(cls, mdb: ManagedMariaDB, database: str) -> DbTarget:
        return cls(database=database, user="root", password=mdb.root_password,
                   socket=str(mdb.socket_path), port=mdb.port)

    @classmethod
    def from_url(cls, url: str) -> DbTarget:
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
            if self.ssl_ca:
                lines += ["ssl", f"ssl-ca={self.ssl_ca}"]
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
        if self.ssl_ca:
            kw["ssl"] = {"ca": self.ssl_ca, "check_hostname": False}
        try:
            conn = pymysql.connect(**kw)
        except pymysql.err.OperationalError as e:
            raise BackupError("backup_database_down", status=503, reason=str(e)) from e
        with conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")
        return conn

    def sqlalchemy_url(self) -> str:
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

