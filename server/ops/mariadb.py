"""The managed (embedded) MariaDB instance.

With no database URL configured, lanpos owns a private MariaDB under its data directory:

    <data_dir>/mariadb/data      datadir (created by mariadb-install-db)
    <data_dir>/mariadb/binlog    binary logs (ROW format, GTID) for backups, PITR and standby
    <data_dir>/mariadb/my.cnf    the settings below, written on every start
    <data_dir>/mariadb/mariadb.sock, mariadbd.pid, error.log

Durable settings (DESIGN.md §1): innodb_flush_log_at_trx_commit=1, sync_binlog=1,
binlog_format=ROW, GTID strict mode, a server id. Only 127.0.0.1 is bound unless told
otherwise. The ``root`` account gets a random password kept in the lanpos config file;
the application connects as ``lanpos`` which has every privilege on its own database and
none of SUPER / global admin.

The child ``mariadbd`` is started with a parent-death signal on Linux, so that even if the
lanpos server is killed, the database shuts down cleanly (InnoDB recovers a crash anyway, and
an instance left running is adopted on the next start).
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

import pymysql

from server.ops.process import die_with_parent, exit_description
from server.ops.tls import TlsFiles

log = logging.getLogger(__name__)

SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")


class MariaDBError(RuntimeError):
    """The managed database could not be created, started or stopped."""


def find_tool(name: str, *alternatives: str) -> str:
    """Locate a MariaDB program (PATH first, then sbin dirs); fail loudly when absent."""
    for candidate in (name, *alternatives):
        found = shutil.which(candidate)
        if found:
            return found
        for d in SBIN_DIRS:
            p = Path(d) / candidate
            if p.is_file() and os.access(p, os.X_OK):
                return str(p)
    raise MariaDBError(
        f"MariaDB program '{name}' not found. Install it with the lanpos installer "
        "(installer/setup.sh) or `apt-get install mariadb-server mariadb-client`."
    )


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def pick_free_port(start: int, host: str = "127.0.0.1", span: int = 200) -> int:
    for port in range(start, start + span):
        if port_is_free(port, host):
            return port
    raise MariaDBError(f"no free TCP port in {start}..{start + span - 1}")


DURABLE_SETTINGS: dict[str, str] = {
    "innodb_flush_log_at_trx_commit": "1",
    "sync_binlog": "1",
    "binlog_format": "ROW",
    "gtid_strict_mode": "ON",
    "log_slave_updates": "ON",
    "character_set_server": "utf8mb4",
    "collation_server": "utf8mb4_unicode_ci",
    "transaction_isolation": "REPEATABLE-READ",
    "default_storage_engine": "InnoDB",
    "innodb_file_per_table": "ON",
    "log_bin_trust_function_creators": "ON",
    "expire_logs_days": "14",
    "max_connections": "300",
    "skip_name_resolve": "ON",
}


def default_buffer_pool_mb() -> int:
    """InnoDB keeps table and index pages in its buffer pool, and reads its files with
    O_DIRECT, so the OS cache does not help. MariaDB's default pool (128 MB) is far too small
    for a shop with a million members and years of sales (bench/README.md: the bulk load and
    every query went to the disk): use a quarter of the RAM, 256 MB to 8 GB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 512
    return max(256, min(8192, total // 4 // 1_048_576))


@dataclass
class ManagedMariaDB:
    """A private MariaDB instance living in ``base_dir``."""

    base_dir: Path
    port: int
    root_password: str = ""
    server_id: int = 1
    bind_address: str = "127.0.0.1"
    extra_settings: Mapping[str, str] = field(default_factory=dict)
    # fencing (DESIGN.md §4): lanpos's own instance always boots read-only; the server lifts
    # it only while it is the primary of the newest epoch it knows (Runtime.apply_fencing)
    read_only: bool = False
    tls: TlsFiles | None = None
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _adopted_pid: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_dir = Path(self.base_dir)

    # -- paths -------------------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        return self.base_dir / "data"

    @property
    def binlog_dir(self) -> Path:
        return self.base_dir / "binlog"

    @property
    def tmp_dir(self) -> Path:
        return self.base_dir / "tmp"

    @property
    def socket_path(self) -> Path:
        return self.base_dir / "mariadb.sock"

    @property
    def pid_file(self) -> Path:
        return self.base_dir / "mariadbd.pid"

    @property
    def cnf_path(self) -> Path:
        return self.base_dir / "my.cnf"

    @property
    def error_log(self) -> Path:
        return self.base_dir / "error.log"

    @property
    def binlog_basename(self) -> Path:
        return self.binlog_dir / "mariadb-bin"

    # -- state -------------------------------------------------------------------------------
    def is_initialized(self) -> bool:
        return (self.datadir / "mysql").is_dir()

    def running_pid(self) -> int | None:
        """The pid of a live mariadbd for this datadir, if any."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists():
            cmd = cmdline.read_bytes()
            if b"mariadbd" not in cmd and b"mysqld" not in cmd:
                return None
            if str(self.cnf_path).encode() not in cmd:
                return None
        return pid

    # -- lifecycle ---------------------------------------------------------------------------
    def write_cnf(self) -> None:
        settings = {
            "datadir": str(self.datadir),
            "socket": str(self.socket_path),
            "pid_file": str(self.pid_file),
            "port": str(self.port),
            "bind_address": self.bind_address,
            "log_error": str(self.error_log),
            "tmpdir": str(self.tmp_dir),  # private: nothing else cleans or fills it
            "server_id": str(self.server_id),
            "log_bin": str(self.binlog_basename),
            "log_bin_index": str(self.binlog_basename) + ".index",
            **DURABLE_SETTINGS,
            "innodb_buffer_pool_size": f"{default_buffer_pool_mb()}M",
            "relay_log": str(self.binlog_dir / "relay-bin"),
            "relay_log_index": str(self.binlog_dir / "relay-bin.index"),
        }
        if self.read_only:
            settings["read_only"] = "ON"
        if self.tls is not None:
            settings |= {"ssl_ca": str(self.tls.ca_cert), "ssl_cert": str(self.tls.cert),
                         "ssl_key": str(self.tls.key)}
        settings |= dict(self.extra_settings)
        lines = ["# written by lanpos on every start; edit lanpos.toml, not this file",
                 "[mariadbd]"]
        lines += [f"{k} = {v}" for k, v in settings.items()]
        self.cnf_path.write_text("\n".join(lines) + "\n")

    def _user_args(self) -> list[str]:
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            return ["--user=root"]
        return [f"--user={getpass.getuser()}"]

    def initialize(self) -> None:
        """Create the datadir with mariadb-install-db (idempotent)."""
        if self.is_initialized():
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.binlog_dir.mkdir(parents=True, exist_ok=True)
        install_db = find_tool("mariadb-install-db", "mysql_install_db")
        cmd = [
            install_db,
            "--no-defaults",
            f"--datadir={self.datadir}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *self._user_args(),
        ]
        log.info("creating MariaDB datadir: %s", " ".join(cmd))
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0 or not self.is_initialized():
            shutil.rmtree(self.datadir, ignore_errors=True)
            raise MariaDBError(
                "mariadb-install-db failed:\n" + (res.stderr or res.stdout)[-2000:]
            )

    def start(self, timeout: float = 60.0) -> None:
        """Start (or adopt an already running) mariadbd and wait until it answers."""
        self.initialize()
        self.binlog_dir.mkdir(parents=True, exist_ok=True)
        pid = self.running_pid()
        if pid is not None:
            log.info("adopting running MariaDB (pid %s)", pid)
            self._adopted_pid = pid
            self.wait_ready(timeout)
            return
        if not port_is_free(self.port, self.bind_address):
            raise MariaDBError(
                f"port {self.port} for the managed MariaDB is taken by another program; "
                "choose another with `database.managed_port` in lanpos.toml"
            )
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.write_cnf()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        mariadbd = find_tool("mariadbd", "mysqld")
        cmd = [mariadbd, f"--defaults-file={self.cnf_path}", *self._user_args()]
        log.info("starting MariaDB on port %s", self.port)
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent if os.name == "posix" else None,
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_err: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise MariaDBError(
                    f"mariadbd exited with code {self._proc.returncode}:\n{self.tail_error_log()}"
                )
            if not self._socket_accepts():
                time.sleep(0.05)
                continue
            try:
                conn = self.admin_connect(connect_timeout=2)
            except pymysql.err.OperationalError as e:
                if e.args and e.args[0] == 1045 and not self.root_password:
                    raise MariaDBError("managed MariaDB refused the root login") from e
                last_err = e
                time.sleep(0.1)
                continue
            conn.close()
            return
        raise MariaDBError(
            f"MariaDB did not answer within {timeout:.0f}s ({last_err}):\n{self.tail_error_log()}"
        )

    def _socket_accepts(self) -> bool:
        # probe with a socket we close ourselves: pymysql leaks the socket of a failed connect
        if not self.socket_path.exists():
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            try:
                s.connect(str(self.socket_path))
            except OSError:
                return False
        return True

    def tail_error_log(self, n: int = 20) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no error log)"

    def exited(self) -> str | None:
        """Why the instance is gone ('killed by SIGKILL', 'exit code 1'), or None while it
        runs. An instance this object never started or adopted is 'not started'."""
        if self._proc is not None:
            code = self._proc.poll()
            return None if code is None else exit_description(code)
        if self._adopted_pid is not None:
            try:
                os.kill(self._adopted_pid, 0)
            except ProcessLookupError:
                return "exited"
            except PermissionError:
                return None
            return None
        return "not started"

    @property
    def started_here(self) -> bool:
        """This object started the mariadbd (as opposed to adopting a running one)."""
        return self._proc is not None

    def stop(self, timeout: float = 60.0) -> None:
        """Shut the instance down cleanly (SIGTERM → InnoDB clean shutdown)."""
        pid = self.running_pid() or self._adopted_pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                if self._proc.poll() is not None:
                    break
            else:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
            time.sleep(0.05)
        else:
            log.error("MariaDB did not stop within %ss; killing it", timeout)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._proc = None
        self._adopted_pid = None

    # -- connections -------------------------------------------------------------------------
    def admin_connect(self, connect_timeout: int = 10, database: str | None = None):
        """A root connection over the unix socket (admin work: users, backups)."""
        return pymysql.connect(
            unix_socket=str(self.socket_path),
            user="root",
            password=self.root_password,
            database=database,
            connect_timeout=connect_timeout,
            charset="utf8mb4",
            autocommit=True,
        )

    def secure_root(self, new_password: str) -> None:
        """Give root a password (fresh instances have none) and drop anonymous users."""
        conn = self.admin_connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")  # accounts are per machine
                cur.execute("DELETE FROM mysql.global_priv WHERE User=''")
                cur.execute(
                    "ALTER USER 'root'@'localhost' IDENTIFIED BY %s", (new_password,)
                )
                cur.execute("FLUSH PRIVILEGES")
        finally:
            conn.close()
        self.root_password = new_password

    def ensure_app_database(self, database: str, user: str, password: str) -> None:
        """Create the shop database and the application's own user (no SUPER)."""
        conn = self.admin_connect()
        try:
            with conn.cursor() as cur:
                # accounts are per machine and never replicated: a standby has its own app
                # password, and a CREATE USER in its binary log would be an errant transaction
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute(
                    f"CREATE DATABASE IF NOT EXISTS `{database}` "
                    "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
                for host in ("localhost", "127.0.0.1"):
                    cur.execute(
                        "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (user, host, password)
                    )
                    cur.execute("ALTER USER %s@%s IDENTIFIED BY %s", (user, host, password))
                    cur.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO %s@%s", (user, host))
                cur.execute("FLUSH PRIVILEGES")
        finally:
            conn.close()

    def set_read_only(self, on: bool) -> None:
        """Fence (``on``) or unfence the instance: root bypasses it, the app user and
        replication from a wrong primary do not."""
        conn = self.admin_connect(connect_timeout=5)
        try:
            with conn.cursor() as cur:
                # setting it waits for running commits; never for ever
                cur.execute("SET SESSION lock_wait_timeout = 15")
                cur.execute(f"SET GLOBAL read_only = {1 if on else 0}")
        finally:
            conn.close()

    def is_read_only(self) -> bool:
        conn = self.admin_connect(connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT @@global.read_only")
                return bool(cur.fetchone()[0])
        finally:
            conn.close()

    def url(self, database: str, user: str, password: str) -> str:
        return (
            f"mysql+pymysql://{quote_plus(user)}:{quote_plus(password)}@127.0.0.1:{self.port}/"
            f"{database}?charset=utf8mb4"
        )
