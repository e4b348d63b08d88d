"""The managed MariaDB and the lanpos-server CLI, run as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pymysql
import requests
from sqlalchemy import text

from server.config import Config
from server.ops.mariadb import pick_free_port

ROOT = Path(__file__).resolve().parent.parent


def test_managed_instance_has_durable_settings(runtime, engine):
    with engine.connect() as conn:
        v = dict(conn.execute(text(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('innodb_flush_log_at_trx_commit',"
            "'sync_binlog','binlog_format','log_bin','gtid_strict_mode','server_id',"
            "'character_set_server','bind_address')")).all())
    assert v["innodb_flush_log_at_trx_commit"] == "1"
    assert v["sync_binlog"] == "1"
    assert v["binlog_format"] == "ROW"
    assert v["log_bin"] == "ON"
    assert v["gtid_strict_mode"] == "ON"
    assert int(v["server_id"]) >= 1
    assert v["character_set_server"] == "utf8mb4"
    assert v["bind_address"] == "127.0.0.1"


def test_app_user_has_no_super_privilege(engine):
    with engine.connect() as conn:
        grants = " ".join(r[0] for r in conn.execute(text("SHOW GRANTS")))
        assert "SUPER" not in grants
        assert "ALL PRIVILEGES ON *.*" not in grants
        assert "`lanpos`.*" in grants
        # it cannot touch the server's own tables
        denied = False
        try:
            conn.execute(text("SELECT COUNT(*) FROM mysql.global_priv"))
        except Exception as e:
            denied = "denied" in str(e).lower()
        assert denied


def test_tables_are_utf8mb4_innodb_and_money_is_bigint(engine):
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT table_name, engine, table_collation FROM information_schema.tables "
            "WHERE table_schema = DATABASE()")).all()
        assert rows
        for name, eng, coll in rows:
            assert eng == "InnoDB", name
            assert coll.startswith("utf8mb4"), name
        conn.execute(text("INSERT INTO settings (`key`, value, updated_at) "
                          "VALUES ('t.zh', '\"会员🎉\"', NOW())"))
        assert conn.execute(text("SELECT value FROM settings WHERE `key`='t.zh'")
                            ).scalar() == '"会员🎉"'
        conn.rollback()


def _cli(*args: str, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=env)


def _wait_health(url: str, proc: subprocess.Popen, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            r = requests.get(url, timeout=2)
            if r.status_code == 200:
                return r.json()
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not come up")


def _fast_argon(data_dir: Path) -> None:
    cfg = Config.load(data_dir)
    cfg.security.argon2_time_cost = 1
    cfg.security.argon2_memory_kib = 1024
    cfg.save()


def test_cli_init_run_stop_and_crash_restart(tmp_path):
    data = tmp_path / "shop"
    db_port = pick_free_port(34100)
    api_port = pick_free_port(18600)
    r = _cli("init", "--data-dir", str(data), "--db-port", str(db_port),
             "--owner-password", "ownerpw1")
    assert r.returncode == 0, r.stderr
    assert "data directory ready" in r.stdout
    cfg = Config.load(data)
    assert cfg.database.managed_port == db_port
    assert cfg.database.app_password and cfg.database.root_password
    assert oct(cfg.path.stat().st_mode & 0o777) == "0o600"
    # init stopped the database again
    pid_file = data / "mariadb" / "mariadbd.pid"
    assert not pid_file.exists()

    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "run", "--data-dir", str(data),
                             "--port", str(api_port), "--host", "127.0.0.1"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = _wait_health(f"http://127.0.0.1:{api_port}/api/v1/health", proc)
        assert health["database"] == "ok"
        r = requests.post(f"http://127.0.0.1:{api_port}/api/v1/auth/login",
                          json={"username": "owner", "password": "ownerpw1"}, timeout=10)
        assert r.status_code == 200
        db_pid = int(pid_file.read_text())
        # a one-shot command next to the live server must not stop the server's database
        r = _cli("verify", "--data-dir", str(data))
        assert r.returncode == 0, r.stdout + r.stderr
        assert Path(f"/proc/{db_pid}").exists()
        health = requests.get(f"http://127.0.0.1:{api_port}/api/v1/health", timeout=10).json()
        assert health["database"] == "ok"
        # a second server on the same data directory is refused
        r = _cli("run", "--data-dir", str(data), "--port", str(pick_free_port(18700)))
        assert r.returncode == 2 and "already running" in r.stderr
        assert Path(f"/proc/{db_pid}").exists()
        # the database crashes: the running server restarts it and InnoDB recovers
        os.kill(db_pid, signal.SIGKILL)
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not seen or seen[-1] != "ok"):
            r = requests.get(f"http://127.0.0.1:{api_port}/api/v1/health", timeout=10)
            state = r.json()["database"]
            assert (r.status_code == 200) == (state == "ok")  # 503 while it is down
            if not seen or seen[-1] != state:
                seen.append(state)
            time.sleep(0.05)
        assert seen == ["unavailable", "ok"], seen
        assert int(pid_file.read_text()) != db_pid
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "stopped" in out

    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "run", "--data-dir", str(data),
                             "--port", str(api_port), "--host", "127.0.0.1"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = _wait_health(f"http://127.0.0.1:{api_port}/api/v1/health", proc)
        assert health["database"] == "ok"
        r = requests.post(f"http://127.0.0.1:{api_port}/api/v1/auth/login",
                          json={"username": "owner", "password": "ownerpw1"}, timeout=10)
        assert r.status_code == 200
        db_pid = int(pid_file.read_text())
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    # clean stop: the database process is gone and InnoDB logged a normal shutdown
    time.sleep(0.2)
    assert not Path(f"/proc/{db_pid}").exists()
    assert "Shutdown complete" in (data / "mariadb" / "error.log").read_text()


def test_cli_demo_then_verify(tmp_path):
    data = tmp_path / "demo"
    db_port = pick_free_port(34300)
    r = _cli("demo", "--no-run", "--data-dir", str(data), "--db-port", str(db_port))
    assert r.returncode == 0, r.stderr
    assert "demo1234" in r.stdout
    for name in ("owner", "manager", "cashier"):
        assert name in r.stdout
    # loading twice does not duplicate
    r = _cli("demo", "--no-run", "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    assert "already loaded" in r.stdout
    r = _cli("verify", "--data-dir", str(data))
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 failed" in r.stdout
    # break an invariant by hand: verify must fail with a non-zero exit
    cfg = Config.load(data)
    r2 = _cli("migrate", "--data-dir", str(data))
    assert r2.returncode == 0 and "already current" in r2.stdout
    from server.runtime import Runtime

    rt = Runtime(cfg)
    rt.start_database()
    try:
        conn = pymysql.connect(host="127.0.0.1", port=cfg.database.managed_port,
                               user=cfg.database.app_user, password=cfg.database.app_password,
                               database=cfg.database.name, autocommit=True)
        with conn.cursor() as cur:
            cur.execute("UPDATE staff SET role='janitor' WHERE username='cashier'")
        conn.close()
    finally:
        rt.stop_database()
    r = _cli("verify", "--data-dir", str(data))
    assert r.returncode == 1
    assert "FAIL" in r.stdout and "unknown role" in r.stdout


def test_help_everywhere():
    for cmd in ([], ["init"], ["run"], ["migrate"], ["demo"], ["verify"]):
        r = _cli(*cmd, "--help")
        assert r.returncode == 0, cmd
        assert "--data-dir" in r.stdout or not cmd
