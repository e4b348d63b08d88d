"""The server process model (issue 12), with real processes: ``lanpos-server run`` as a
supervisor with several waitress workers on one socket, the shared state, the scheduler and the
job runner in the supervisor, and the database watchdog that restarts a killed ``mariadbd``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymysql
import pytest
import requests

from bench.env import ServerProcess, open_shift
from server.config import Config
from server.ops.mariadb import ManagedMariaDB, pick_free_port
from server.state import ServerRole, SharedState

ROOT = Path(__file__).resolve().parent.parent
OWNER_PW = "ownerpw1"


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _init(data: Path, *, backups: bool = False) -> None:
    r = _cli("init", "--data-dir", str(data), "--db-port", str(pick_free_port(34500)),
             "--owner-password", OWNER_PW)
    assert r.returncode == 0, r.stderr
    cfg = Config.load(data)
    cfg.security.argon2_time_cost = 1  # cheap logins in tests only
    cfg.security.argon2_memory_kib = 1024
    cfg.backup.enabled = backups
    cfg.save()


@dataclass
class Shop:
    server: ServerProcess
    shared: SharedState
    token: str

    @property
    def url(self) -> str:
        return self.server.url

    def headers(self, key: bool = False) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}"}
        if key:
            h["Idempotency-Key"] = str(uuid.uuid4())
        return h

    def processes(self) -> dict:
        return self.shared.value("server.processes") or {}


def _login(url: str, username: str = "owner", password: str = OWNER_PW) -> str:
    r = requests.post(url + "/auth/login", json={"username": username, "password": password,
                                                 "counter": "01"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def _wait_workers(shop: Shop, n: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = shop.processes().get("workers") or []
        if len(pids) == n:
            return pids
        time.sleep(0.2)
    raise AssertionError(f"expected {n} workers, have {shop.processes()}")


@pytest.fixture
def shop(tmp_path, request) -> Iterator[Shop]:
    marker = request.node.get_closest_marker("shop")
    opts = marker.kwargs if marker else {}
    data = tmp_path / "shop"
    _init(data, backups=opts.get("backups", False))
    srv = ServerProcess(data, threads=8, workers=opts.get("workers", 3)).start()
    try:
        token = _login(srv.url)
        open_shift(srv.url, token)  # counter 01 sells
        yield Shop(srv, SharedState.for_data_dir(data), token)
    finally:
        srv.stop()


def _answers_by_process(url: str, path: str, headers: dict, want: int, until_pids: int,
                        timeout: float = 30) -> dict[str, dict]:
    """Ask on fresh connections (the kernel picks the worker) until ``until_pids`` distinct
    processes have answered with status ``want``: {pid: error body}."""
    seen: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(seen) < until_pids:
        r = requests.get(url + path, headers={**headers, "Connection": "close"}, timeout=10)
        if r.status_code == want:
            seen.setdefault(r.headers["X-Lanpos-Process"], r.json() if r.content else {})
    return seen


# -- shared state across workers -------------------------------------------------------------
@pytest.mark.shop(workers=3)
def test_three_workers_share_maintenance_role_and_jobs(shop: Shop):
    workers = _wait_workers(shop, 3)
    assert os.getpid() not in workers and len(set(workers)) == 3
    ok = _answers_by_process(shop.url, "/staff", shop.headers(), 200, 3)
    assert set(ok) == {str(p) for p in workers}  # every worker serves

    # a backup job queued through one worker is run by the supervisor, seen by all
    r = requests.post(shop.url + "/backups", json={"note": "t"}, headers=shop.headers(True),
                      timeout=10)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    job = _wait_job(shop.url, job_id)
    assert job["state"] == "done", job
    assert shop.shared.job(job_id).runner_pid == shop.processes()["supervisor"]
    backup_id = job["backup_id"]
    assert backup_id and job["result"]["verified"] is True

    # a restore started through one worker: every worker answers 503 maintenance meanwhile
    r = requests.post(shop.url + f"/backups/{backup_id}/restore", json={"confirm": backup_id},
                      headers=shop.headers(), timeout=10)
    assert r.status_code == 202, r.text
    restore_job = r.json()["id"]
    during = _answers_by_process(shop.url, "/staff", shop.headers(), 503, 3, timeout=60)
    assert set(during) == {str(p) for p in workers}, during
    assert all(b["error"]["code"] == "maintenance" for b in during.values())
    job = _wait_job(shop.url, restore_job)
    assert job["state"] == "done" and job["result"]["invariants_ok"] is True, job
    assert shop.shared.maintenance() is None
    token = _login(shop.url)  # the tokens are those of the backup: log in again
    after = _answers_by_process(shop.url, "/staff", {"Authorization": f"Bearer {token}"}, 200, 3)
    assert set(after) == {str(p) for p in workers}

    # a role change is seen by every worker at its next request
    shop.shared.set_role(ServerRole.STANDBY, by="test")
    try:
        refused: dict[str, dict] = {}
        deadline = time.monotonic() + 30
        while len(refused) < 3 and time.monotonic() < deadline:
            r = requests.post(shop.url + "/categories", json={"name": f"c{uuid.uuid4().hex[:6]}"},
                              headers={"Authorization": f"Bearer {token}", "Connection": "close",
                                       "Idempotency-Key": str(uuid.uuid4())}, timeout=10)
            assert r.status_code == 503, r.text
            refused.setdefault(r.headers["X-Lanpos-Process"], r.json())
        assert set(refused) == {str(p) for p in workers}
        assert {b["error"]["code"] for b in refused.values()} == {"standby_read_only"}
        health = requests.get(shop.url + "/health", timeout=10).json()
        assert health["role"] == "standby"
    finally:
        shop.shared.set_role(ServerRole.PRIMARY, by="test")


def _wait_job(url: str, job_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = requests.get(url + f"/backups/jobs/{job_id}", timeout=10)
        assert r.status_code == 200, r.text
        if r.json()["state"] in ("done", "failed"):
            return r.json()
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


# -- workers replaced; the scheduler runs once -------------------------------------------------
@pytest.mark.shop(workers=3, backups=True)
def test_killed_worker_is_replaced_and_the_scheduler_ran_once_per_slot(shop: Shop):
    workers = _wait_workers(shop, 3)
    supervisor = shop.processes()["supervisor"]
    victim = workers[1]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = shop.processes().get("workers") or []
        if len(now) == 3 and victim not in now:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"worker {victim} was not replaced: {shop.processes()}")
    exits = [e for e in shop.shared.events("worker_exited") if e.detail["pid"] == victim]
    assert exits and exits[0].detail["reason"] == "killed by SIGKILL"
    ok = _answers_by_process(shop.url, "/staff", shop.headers(), 200, 3)
    assert set(ok) == {str(p) for p in shop.processes()["workers"]}

    # a fresh shop has no backup: the daily slot is due at start, taken once, by the supervisor
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not shop.shared.events("scheduled_backup"):
        time.sleep(0.3)
    time.sleep(2)  # give any second runner the chance to (wrongly) take the slot too
    runs = shop.shared.events("scheduled_backup")
    assert len(runs) == 1, runs
    assert runs[0].pid == supervisor
    backups = requests.get(shop.url + "/backups", headers=shop.headers(), timeout=10).json()
    assert [b["reason"] for b in backups["items"]] == [runs[0].detail["reason"]]
    for job in ("points expiry", "report days"):
        claims = shop.shared.slots(f"daily:{job}")
        assert len(claims) == 1 and claims[0][1] == supervisor, (job, claims)


# -- the database heals itself ----------------------------------------------------------------
@pytest.mark.shop(workers=2)
def test_killed_mariadbd_is_restarted_and_no_acknowledged_sale_is_lost(shop: Shop):
    url = shop.url
    r = requests.post(url + "/products", json={"name": "矿泉水", "price": 300},
                      headers=shop.headers(True), timeout=10)
    assert r.status_code == 201, r.text
    product = r.json()["id"]
    acknowledged: list[str] = []
    errors: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def counter() -> None:
        http = requests.Session()
        while not stop.is_set():
            sale_id = str(uuid.uuid4())
            body = {"id": sale_id, "lines": [{"product_id": product, "qty": 1}],
                    "payments": [{"method": "cash", "amount": 300}]}
            # a counter retries the same sale (same key) until the server acknowledges it
            while True:
                try:
                    r = http.post(url + "/sales", json=body, timeout=15,
                                  headers={**shop.headers(), "Idempotency-Key": sale_id})
                except requests.RequestException:
                    time.sleep(0.2)
                    continue
                if r.status_code in (200, 201):
                    with lock:
                        acknowledged.append(sale_id)
                    break
                if r.status_code == 503:
                    time.sleep(0.2)
                    continue
                errors.append(f"{r.status_code} {r.text[:200]}")
                return

    threads = [threading.Thread(target=counter) for _ in range(10)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        mdb_pid = int((shop.server.data_dir / "mariadb" / "mariadbd.pid").read_text())
        before_kill = len(acknowledged)
        os.kill(mdb_pid, signal.SIGKILL)
        killed_at = time.monotonic()
        saw_503 = False
        healed_at = None
        while time.monotonic() - killed_at < 90:
            try:
                h = requests.get(url + "/health", timeout=5)
            except requests.RequestException:
                time.sleep(0.1)
                continue
            if h.status_code == 503:
                saw_503 = True
                assert h.json()["status"] == "down" and h.json()["database"] == "unavailable"
            elif h.status_code == 200 and saw_503:
                healed_at = time.monotonic()
                break
            time.sleep(0.05)
        assert saw_503, "health never answered 503 while the database was down"
        assert healed_at is not None, "the database did not come back"
        print(f"database healed {healed_at - killed_at:.1f}s after kill -9")
        new_pid = int((shop.server.data_dir / "mariadb" / "mariadbd.pid").read_text())
        assert new_pid != mdb_pid
        time.sleep(2)  # counters resume selling on their own
        resumed = len(acknowledged)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, errors[:5]
    assert before_kill > 0 and len(acknowledged) > resumed > before_kill

    # every acknowledged sale is there exactly once
    cfg = Config.load(shop.server.data_dir)
    conn = pymysql.connect(host="127.0.0.1", port=cfg.database.managed_port,
                           user=cfg.database.app_user, password=cfg.database.app_password,
                           database=cfg.database.name)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT uuid, COUNT(*) FROM sales GROUP BY uuid")
            counts = dict(cur.fetchall())
            cur.execute("SELECT action, after FROM audit_log WHERE action = 'database.restart'")
            restarts = cur.fetchall()
    finally:
        conn.close()
    assert all(counts.get(s) == 1 for s in acknowledged), [
        s for s in acknowledged if counts.get(s) != 1][:5]
    assert len(set(acknowledged)) == len(acknowledged)
    assert len(restarts) == 1 and "killed by SIGKILL" in restarts[0][1]

    health = requests.get(url + "/health", timeout=10).json()
    assert health["database_restarts"] == 1
    assert health["last_database_event"]["kind"] == "database_restarted"
    assert "SIGKILL" in health["last_database_event"]["reason"]

    r = _cli("verify", "--data-dir", str(shop.server.data_dir))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 failed" in r.stdout

    r = _cli("status", "--data-dir", str(shop.server.data_dir))  # what the owner can read
    assert r.returncode == 0, r.stderr
    assert "role: primary   epoch: 1" in r.stdout and "maintenance: no" in r.stdout
    assert "server: running" in r.stdout and "2/2 workers" in r.stdout
    assert "database_restarted" in r.stdout and "database_down" in r.stdout


# -- an external database goes away and comes back ---------------------------------------------
def test_external_database_is_reconnected_when_it_comes_back(tmp_path):
    """With ``--db-url`` lanpos does not run the database: it cannot restart it, but it notices
    it going (503, health 503) and serves again by itself once it is back."""
    ext = ManagedMariaDB(tmp_path / "elsewhere", pick_free_port(35600))  # not lanpos's own
    ext.start()
    try:
        ext.secure_root("rootpw-1")
        ext.ensure_app_database("shopdb", "shopuser", "shoppw-1")
        url = f"mysql+pymysql://shopuser:shoppw-1@127.0.0.1:{ext.port}/shopdb?charset=utf8mb4"
        data = tmp_path / "shop"
        r = _cli("init", "--data-dir", str(data), "--db-url", url, "--owner-password", OWNER_PW)
        assert r.returncode == 0, r.stderr
        cfg = Config.load(data)
        assert cfg.database.url == url and not cfg.managed
        cfg.security.argon2_time_cost, cfg.security.argon2_memory_kib = 1, 1024
        cfg.backup.enabled = False
        cfg.save()
        srv = ServerProcess(data, threads=4, workers=2).start()
        try:
            shared = SharedState.for_data_dir(data)
            token = _login(srv.url)
            auth = {"Authorization": f"Bearer {token}"}
            ext.stop()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                h = requests.get(srv.url + "/health", timeout=10)
                if h.status_code == 503:
                    break
                time.sleep(0.1)
            assert h.status_code == 503 and h.json()["database"] == "unavailable"
            r = requests.get(srv.url + "/staff", headers=auth, timeout=10)
            assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
            ext.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                h = requests.get(srv.url + "/health", timeout=10)
                if h.status_code == 200:
                    break
                time.sleep(0.2)
            assert h.status_code == 200, h.text
            # every worker serves again, writes included, with nobody touching the server
            for _ in range(6):
                r = requests.post(srv.url + "/categories", json={"name": uuid.uuid4().hex[:8]},
                                  headers={**auth, "Idempotency-Key": str(uuid.uuid4()),
                                           "Connection": "close"}, timeout=10)
                assert r.status_code == 201, r.text
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not shared.events("database_back"):
                time.sleep(0.2)
            kinds = [e.kind for e in shared.events()]
            assert "database_down" in kinds and "database_back" in kinds
        finally:
            srv.stop()
    finally:
        ext.stop()
