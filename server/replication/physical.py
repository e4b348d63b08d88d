"""Seeding a standby with ``mariadb-backup`` (a physical copy), for large shops.

Measured at 1M members / 10M sale lines (bench/README.md): the dump path spends most of its
time re-inserting rows and rebuilding indexes on the standby; a physical copy moves the
InnoDB files as they are. So ``standby init`` seeds a large database this way:

* the primary (the API worker that answers the pairing) opens a one-shot **TLS** listener with
  its own certificate, waits for the standby (one connection, a one-time secret from the
  pairing answer, 5 minutes) and streams ``mariadb-backup --backup --stream=mbstream`` into it;
* the standby checks the primary's certificate against the CA it got at pairing, unpacks the
  stream (``mbstream -x``), prepares it (``mariadb-backup --prepare``), and makes it its
  datadir; the copy's accounts are the primary's, so they are replaced with this machine's own
  (root, the app user; the replication account is dropped) before the server uses it; the
  GTID position comes from ``mariadb_backup_binlog_info``.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from server.config import Config
from server.ops.mariadb import ManagedMariaDB, MariaDBError, find_tool
from server.ops.tls import TlsFiles

log = logging.getLogger(__name__)

CHUNK = 1 << 20
ACCEPT_SECONDS = 300.0
LARGE_BYTES = 256 * 1_048_576  # above this, `standby init` seeds physically by default


class PhysicalSeedError(RuntimeError):
    pass


def available() -> bool:
    try:
        find_tool("mariadb-backup", "mariabackup")
        find_tool("mbstream")
    except MariaDBError:  # not installed
        return False
    return True


def database_bytes(cfg: Config) -> int:
    d = cfg.mariadb_dir / "data" / cfg.database.name
    return sum(p.stat().st_size for p in d.glob("*") if p.is_file()) if d.is_dir() else 0


# -- the primary's side ---------------------------------------------------------------------
def offer_stream(cfg: Config, mdb: ManagedMariaDB) -> dict[str, Any]:
    """Open the one-shot TLS listener; returns {stream_port, stream_secret}."""
    tls = TlsFiles(cfg.tls_dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(tls.cert, tls.key)
    listener = socket.create_server(("0.0.0.0", 0))
    listener.settimeout(ACCEPT_SECONDS)
    secret = secrets.token_urlsafe(24)
    port = listener.getsockname()[1]
    threading.Thread(target=_serve_one, args=(listener, ctx, secret, mdb), daemon=True,
                     name="lanpos-seed-stream").start()
    return {"stream_port": port, "stream_secret": secret}


def _serve_one(listener: socket.socket, ctx: ssl.SSLContext, secret: str,
               mdb: ManagedMariaDB) -> None:
    try:
        with listener:
            raw, addr = listener.accept()
        raw.settimeout(60)
        with ctx.wrap_socket(raw, server_side=True) as conn:
            line = conn.recv(256).split(b"\n", 1)[0].decode(errors="replace")
            if not hmac.compare_digest(line, secret):
                log.warning("seed stream: wrong secret from %s", addr[0])
                return
            log.info("seed stream: sending a physical copy to %s", addr[0])
            t0 = time.monotonic()
            sent = _stream_backup(mdb, conn)
            log.info("seed stream: %.0f MB to %s in %.1fs", sent / 1e6, addr[0],
                     time.monotonic() - t0)
    except (OSError, ssl.SSLError, PhysicalSeedError) as e:
        log.error("seed stream failed: %s", e)


def _stream_backup(mdb: ManagedMariaDB, conn: Any) -> int:
    tool = find_tool("mariadb-backup", "mariabackup")
    work = Path(tempfile.mkdtemp(prefix="seed-", dir=mdb.tmp_dir))
    cnf = work / "backup.cnf"
    cnf.write_text(f"[mariadb-backup]\nuser=root\npassword=\"{mdb.root_password}\"\n"
                   f"socket={mdb.socket_path}\n")
    cnf.chmod(0o600)
    try:
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen([tool, f"--defaults-file={cnf}", "--backup",
                                     "--stream=mbstream", f"--target-dir={work}"],
                                    stdout=subprocess.PIPE, stderr=err,
                                    stdin=subprocess.DEVNULL)
            assert proc.stdout is not None
            sent = 0
            try:
                while chunk := proc.stdout.read(CHUNK):
                    conn.sendall(chunk)
                    sent += len(chunk)
            finally:
                proc.stdout.close()
                rc = proc.wait()
            if rc != 0:
                err.seek(0)
                raise PhysicalSeedError(err.read().decode(errors="replace")[-800:])
            return sent
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the standby's side ---------------------------------------------------------------------
def fetch(host: str, port: int, secret: str, ca_file: Path, into: Path) -> str:
    """Receive, unpack and prepare the primary's copy into ``into``; returns its GTID."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.check_hostname = False  # the CA is pinned (pairing); the address may be any of the LAN's
    into.mkdir(parents=True)
    with socket.create_connection((host, port), timeout=60) as raw, \
            ctx.wrap_socket(raw) as conn, tempfile.TemporaryFile() as err:
        conn.sendall(secret.encode() + b"\n")
        proc = subprocess.Popen([find_tool("mbstream"), "-x", "-C", str(into)],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        assert proc.stdin is not None
        try:
            while chunk := conn.recv(CHUNK):
                proc.stdin.write(chunk)
        finally:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
            rc = proc.wait()
        if rc != 0:
            err.seek(0)
            raise PhysicalSeedError("mbstream: " + err.read().decode(errors="replace")[-800:])
    res = subprocess.run([find_tool("mariadb-backup", "mariabackup"), "--prepare",
                          f"--target-dir={into}"], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise PhysicalSeedError("prepare: " + (res.stderr or res.stdout)[-800:])
    for name in ("mariadb_backup_binlog_info", "xtrabackup_binlog_info"):
        info = into / name
        if info.exists():
            parts = info.read_text().split()
            if len(parts) >= 3:
                return parts[2]
    raise PhysicalSeedError("the copy carries no GTID position (is the primary's binlog on?)")


def install(mdb: ManagedMariaDB, prepared: Path, cfg: Config) -> None:
    """Make ``prepared`` this (stopped) instance's datadir, with this machine's accounts."""
    mdb.stop()
    shutil.rmtree(mdb.datadir, ignore_errors=True)
    prepared.rename(mdb.datadir)
    for p in mdb.binlog_dir.glob("*"):  # our binary and relay logs belong to the old data
        p.unlink()
    normal = dict(mdb.extra_settings)
    mdb.extra_settings = {**normal, "skip_grant_tables": "ON", "skip_networking": "ON"}
    try:
        mdb.start(timeout=600)  # InnoDB opens the copied files (any password is taken)
        conn = mdb.admin_connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute("FLUSH PRIVILEGES")  # accounts on again: now change them
                cur.execute("SELECT User, Host FROM mysql.user WHERE User IN ('root', %s)",
                            ("lanpos_repl",))
                for user, host in cur.fetchall():
                    if (user, host) != ("root", "localhost"):  # lanpos's admin uses the socket
                        cur.execute("DROP USER %s@%s", (user, host))
                cur.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY %s",
                            (mdb.root_password,))
        finally:
            conn.close()
    finally:
        mdb.stop()
        mdb.extra_settings = normal
    mdb.start(timeout=600)
    mdb.ensure_app_database(cfg.database.name, cfg.database.app_user,
                            cfg.database.app_password)
