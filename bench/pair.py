"""A primary + standby pair of real lanpos servers on this machine (own data dirs and ports),
and counters that ring sales through it the way the counter client does: every sale carries
its own UUID as idempotency key and is sent again, to the next server if need be, until a
server acknowledges it. Used by ``tests/test_standby.py`` and ``python -m bench failover``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pymysql
import requests

from bench.env import ServerProcess, open_shift
from common.schemas.replication import CLUSTER_HEADER, EPOCH_HEADER
from server.config import Config
from server.ops.mariadb import pick_free_port
from server.ops.tls import TlsFiles

ROOT = Path(__file__).resolve().parent.parent
OWNER_PW = "ownerpw1"


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def init_primary(data: Path, *, semi_sync_timeout_ms: int = 1500) -> None:
    r = cli("init", "--data-dir", str(data), "--db-port", str(pick_free_port(34500)),
            "--owner-password", OWNER_PW)
    assert r.returncode == 0, r.stderr
    cfg = Config.load(data)
    cfg.security.argon2_time_cost = 1  # cheap logins: tests and benchmarks only
    cfg.security.argon2_memory_kib = 1024
    cfg.backup.enabled = False
    cfg.replication.semi_sync_timeout_ms = semi_sync_timeout_ms
    cfg.save()


def login(url: str, password: str = OWNER_PW) -> str:
    r = requests.post(url + "/auth/login", json={"username": "owner", "password": password,
                                                 "counter": "01"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def db_conn(data: Path) -> pymysql.Connection:
    cfg = Config.load(data)
    return pymysql.connect(unix_socket=str(cfg.mariadb_dir / "mariadb.sock"), user="root",
                           password=cfg.database.root_password, database=cfg.database.name,
                           autocommit=True)


def sale_counts(data: Path) -> dict[str, int]:
    conn = db_conn(data)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT uuid, COUNT(*) FROM sales GROUP BY uuid")
            return dict(cur.fetchall())
    finally:
        conn.close()


def kill_hard(server: ServerProcess) -> None:
    """Pull the plug: SIGKILL the supervisor, its workers and its mariadbd at once."""
    pids = []
    pid_file = server.data_dir / "mariadb" / "mariadbd.pid"
    if pid_file.exists():
        pids.append(int(pid_file.read_text().strip()))
    if server.proc is not None:
        pids.append(server.proc.pid)
        try:
            out = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True,
                                 text=True).stdout
            pids += [int(p) for p in out.split()]
        except OSError:
            pass
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if server.proc is not None:
        server.proc.wait(30)
        server.proc = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


@dataclass
class Pair:
    root: Path
    primary: ServerProcess = field(init=False)
    standby: ServerProcess = field(init=False)
    token: str = ""
    seed_seconds: float = 0.0
    pairing_code: str = ""
    init_output: str = ""

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    @property
    def p_dir(self) -> Path:
        return self.root / "primary"

    @property
    def s_dir(self) -> Path:
        return self.root / "standby"

    def start(self, *, workers: int = 2, threads: int = 8, semi_sync_timeout_ms: int = 1500,
              pairing_code: bool = False, seed: str = "auto", tls: bool = False) -> Pair:
        """``tls``: the servers talk https through their TLS fronts, as two machines do (the
        standby pins the primary by the fingerprint it shows); else plain http on 127.0.0.1."""
        init_primary(self.p_dir, semi_sync_timeout_ms=semi_sync_timeout_ms)
        self.primary = ServerProcess(self.p_dir, threads=threads, workers=workers).start()
        try:
            return self._pair(workers, threads, pairing_code, seed, tls)
        except BaseException:
            self.stop()
            raise

    def _pair(self, workers: int, threads: int, pairing_code: bool, seed: str,
              tls: bool = False) -> Pair:
        self.token = login(self.primary.url)
        open_shift(self.primary.url, self.token)  # counter 01 sells (ring, the tests)
        s_port = pick_free_port(self.primary.port + 1)
        if pairing_code:  # the back office's one-time code instead of the owner's login
            got = requests.post(self.primary.url + "/replication/pairing-code",
                                headers=self.headers(), timeout=10)
            assert got.status_code == 200, got.text
            self.pairing_code = got.json()["code"]
            how = ["--pairing-code", self.pairing_code]
        else:
            how = ["--username", "owner", "--password", OWNER_PW]
        standby = ServerProcess(self.s_dir, port=s_port, threads=threads, workers=workers)
        primary_url, advertise = self.primary.url, f"http://127.0.0.1:{s_port}"
        if tls:
            primary_url = self.primary.https_url()
            advertise = standby.https_url().removesuffix("/api/v1")
            how += ["--fingerprint", TlsFiles(self.p_dir / "tls").fingerprint()]
        t0 = time.monotonic()
        r = cli("standby", "init", "--primary", primary_url, "--data-dir",
                str(self.s_dir), "--port", str(s_port), "--tls-port", str(standby.tls_port),
                "--db-port", str(pick_free_port(34700)), *how, "--advertise", advertise,
                "--seed", seed)
        self.init_output = r.stdout
        assert r.returncode == 0, r.stdout + r.stderr
        self.seed_seconds = time.monotonic() - t0
        self.standby = standby.start()
        return self

    def stop(self) -> None:
        for s in (getattr(self, "standby", None), getattr(self, "primary", None)):
            if s is not None:
                s.stop()

    def headers(self, key: str | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}"}
        if key:
            h["Idempotency-Key"] = key
        return h

    def product(self) -> int:
        r = requests.post(self.primary.url + "/products", json={"name": "矿泉水", "price": 300},
                          headers=self.headers(str(uuid.uuid4())), timeout=10)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def promote(self, **extra) -> requests.Response:
        body = {"username": "owner", "password": OWNER_PW, "confirm_primary_off": True,
                "primary_reachable_from_counter": False, **extra}
        return requests.post(self.standby.url + "/replication/promote", json=body, timeout=60)

    def health(self, server: ServerProcess) -> dict:
        return requests.get(server.url + "/health", timeout=10).json()

    def wait(self, server: ServerProcess, pred, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        h: dict = {}
        while time.monotonic() < deadline:
            try:
                h = self.health(server)
                if pred(h):
                    return h
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{server.url} never got there: {h}")


class Counter(threading.Thread):
    """A counter ringing sales through a list of servers, as client/api.py does: the same
    key until acknowledged; a server that is unreachable, a standby (503) or stale (409
    stale_primary) sends the sale to the next server; the newest epoch seen goes along."""

    def __init__(self, servers: list[str], token: str, product: int, stop: threading.Event,
                 pause: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.servers = servers
        self.token = token
        self.product = product
        self.stop_event = stop
        self.pause = pause
        self.acknowledged: list[str] = []
        self.acked_at: list[float] = []
        self.errors: list[str] = []
        self.epoch = 0
        self.cluster = ""
        self.active = 0

    def run(self) -> None:
        http = requests.Session()
        while not self.stop_event.is_set():
            sale_id = str(uuid.uuid4())
            body = {"id": sale_id, "lines": [{"product_id": self.product, "qty": 1}],
                    "payments": [{"method": "cash", "amount": 300}]}
            while True:
                url = self.servers[self.active % len(self.servers)]
                headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": sale_id,
                           EPOCH_HEADER: str(self.epoch), CLUSTER_HEADER: self.cluster}
                try:
                    r = http.post(url + "/sales", json=body, headers=headers, timeout=(1, 15))
                except requests.ConnectionError:
                    self.active += 1
                    time.sleep(0.05)
                    continue
                except requests.RequestException:
                    time.sleep(0.05)  # the answer was lost: the same server, the same key
                    continue
                e = r.headers.get(EPOCH_HEADER)
                if e and e.isdigit():
                    self.epoch = max(self.epoch, int(e))
                self.cluster = r.headers.get(CLUSTER_HEADER, self.cluster)
                if r.status_code in (200, 201):
                    self.acknowledged.append(sale_id)
                    self.acked_at.append(time.monotonic())
                    break
                code = (r.json().get("error") or {}).get("code") if r.content else None
                if code in ("standby_read_only", "stale_primary"):
                    self.active += 1
                    time.sleep(0.05)
                    continue
                if r.status_code in (503, 409) and code in ("maintenance",
                                                            "database_unavailable",
                                                            "busy_retry"):
                    time.sleep(0.1)
                    continue
                self.errors.append(f"{url}: {r.status_code} {r.text[:200]}")
                return
            if self.pause:
                time.sleep(self.pause)


def ring(servers: list[str], token: str, product: int, n: int, pause: float = 0.0
         ) -> tuple[threading.Event, list[Counter]]:
    stop = threading.Event()
    counters = [Counter(servers, token, product, stop, pause) for _ in range(n)]
    for c in counters:
        c.start()
    return stop, counters


def finish(stop: threading.Event, counters: list[Counter]) -> tuple[list[str], list[str]]:
    stop.set()
    for c in counters:
        c.join(90)
    acked = [s for c in counters for s in c.acknowledged]
    errors = [e for c in counters for e in c.errors]
    return acked, errors
