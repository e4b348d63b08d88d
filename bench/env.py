"""Bench environment: a lanpos data directory with its managed MariaDB (the very code a shop
runs: ``server.runtime.Runtime``), pymysql connections for bulk loading and the floor, and a
real ``lanpos-server run`` subprocess."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import requests

from server.config import Config
from server.domain.auth import Passwords
from server.ops.mariadb import pick_free_port
from server.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent


def open_runtime(data_dir: Path, *, threads: int = 16) -> Runtime:
    """Create (first time) or reopen a bench data dir; database started and migrated."""
    cfg = Config.load(data_dir)
    if not cfg.exists():
        cfg.database.managed_port = pick_free_port(34100)
        cfg.backup.enabled = False  # no scheduled backups in the middle of a measurement
        cfg.backup.verify_after_backup = False
    cfg.server.threads = threads
    rt = Runtime(cfg)
    rt.up()
    cfg.save()
    return rt


def passwords_for(rt: Runtime) -> Passwords:
    sec = rt.config.security
    return Passwords(sec.argon2_time_cost, sec.argon2_memory_kib)


@dataclass(frozen=True)
class ConnSpec:
    """A picklable pymysql connection factory (loader and floor run in other processes)."""

    kwargs: tuple[tuple[str, Any], ...]
    autocommit: bool = True

    def __call__(self) -> Any:
        return pymysql.connect(charset="utf8mb4", local_infile=True,
                               autocommit=self.autocommit, **dict(self.kwargs))

    def with_autocommit(self, value: bool) -> ConnSpec:
        return ConnSpec(self.kwargs, value)


def conn_factory(rt: Runtime, *, admin: bool = True, autocommit: bool = True) -> ConnSpec:
    """pymysql connections to the shop database: root over the unix socket for the managed
    instance (``admin``), else the application user of the configured URL (TCP)."""
    from sqlalchemy.engine import make_url

    cfg = rt.config
    u = make_url(cfg.database_url())
    if cfg.managed and admin and rt.mariadb is not None:
        mdb = rt.mariadb
        kw: dict[str, Any] = dict(unix_socket=str(mdb.socket_path), user="root",
                                  password=mdb.root_password)
    else:
        kw = dict(host=u.host or "127.0.0.1", port=u.port or 3306, user=u.username,
                  password=u.password or "")
        if u.query.get("unix_socket"):
            kw["unix_socket"] = u.query["unix_socket"]
    kw["database"] = u.database
    return ConnSpec(tuple(sorted(kw.items())), autocommit)


def machine_info(rt: Runtime | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        mem = Path("/proc/meminfo").read_text()
        kb = int(re.search(r"MemTotal:\s+(\d+)", mem).group(1))  # type: ignore[union-attr]
        info["ram_gb"] = round(kb / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        m = re.search(r"model name\s*:\s*(.+)", cpu)
        if m:
            info["cpu"] = m.group(1).strip()
    except OSError:
        pass
    if rt is not None:
        c = conn_factory(rt)()
        try:
            with c.cursor() as cur:
                cur.execute("SELECT VERSION(), @@innodb_buffer_pool_size")
                v, bp = cur.fetchone()
                info["mariadb"] = v
                info["innodb_buffer_pool_mb"] = int(bp) // 1_048_576
        finally:
            c.close()
    return info


def open_shift(url: str, token: str, float_fen: int = 0) -> None:
    """Open the shift of the token's counter: a sale, recharge or count-card sale needs one
    (409 ``shift_not_open``). A shift open already is fine (a re-login, a promoted standby
    that replicated it)."""
    r = requests.post(url + "/shifts", json={"float_amount": float_fen}, timeout=15,
                      headers={"Authorization": f"Bearer {token}",
                               "Idempotency-Key": os.urandom(16).hex()})
    if r.status_code == 409 and r.json()["error"]["code"] == "shift_already_open":
        return
    if r.status_code != 201:
        raise RuntimeError(f"open shift: {r.status_code} {r.text}")


class ServerProcess:
    """``lanpos-server run`` on a data dir, as a subprocess (the real waitress server)."""

    def __init__(self, data_dir: Path, port: int | None = None, threads: int = 16,
                 workers: int | None = None, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir
        self.port = port or pick_free_port(18600)
        self.host = host  # where the TLS front listens (plain HTTP is 127.0.0.1 only)
        self.tls_port = pick_free_port(self.port + 43)
        self.threads = threads
        self.workers = workers  # None: the server's default (one per core)
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / "bench-server.out"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def https_url(self, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.tls_port}/api/v1"

    def start(self, timeout: float = 120) -> ServerProcess:
        cfg = Config.load(self.data_dir)
        cfg.server.threads = self.threads
        cfg.save()
        exe = Path(sys.executable).with_name("lanpos-server")
        cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else
                                                                ["-m", "server.cli"]),
               "run", "--data-dir", str(self.data_dir), "--host", self.host,
               "--port", str(self.port), "--tls-port", str(self.tls_port)]
        if self.workers is not None:
            cmd += ["--workers", str(self.workers)]
        with self.log.open("wb") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lanpos-server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("lanpos-server did not answer /health in time")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
