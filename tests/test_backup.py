"""Backups proven by restore, against real MariaDB: consistency under concurrent writes,
corruption, restore (also onto a fresh machine), point-in-time recovery, failures, the API."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from server.backup import dumpfile
from server.backup import service as backup_service
from server.backup.dumpfile import BackupError, load_file
from server.backup.service import BackupService
from server.config import BackupSection, Config
from server.ops.mariadb import ManagedMariaDB, pick_free_port
from server.runtime import Runtime
from tests.conftest import attach_backups

ROOT = Path(__file__).resolve().parent.parent
SH = ZoneInfo("Asia/Shanghai")


def _runtime_copy(runtime: Runtime, data_dir: Path, **backup) -> Runtime:
    """The session's database, but a config of its own (backup folder, settings file)."""
    settings = BackupSection(verify_after_backup=False, **backup)
    cfg = dataclasses.replace(runtime.config, data_dir=data_dir, backup=settings,
                              database=dataclasses.replace(runtime.config.database),
                              shop=dataclasses.replace(runtime.config.shop,
                                                       timezone="Asia/Shanghai"))
    rt = Runtime(cfg, mariadb=runtime.mariadb, engine=runtime.engine)
    rt._factory = runtime.session_factory
    return rt


@pytest.fixture
def svc(runtime, app, owner, tmp_path) -> BackupService:
    """A BackupService on the session database, backups in this test's folder; the app and an
    owner exist (the invariants need an active owner)."""
    rt = _runtime_copy(runtime, tmp_path / "data")
    (tmp_path / "data").mkdir()
    return BackupService(rt)


def _port() -> int:
    """A free port away from the ranges other test sessions start at (they run in parallel)."""
    import random

    return pick_free_port(36000 + random.randrange(0, 1500))


def _insert_setting(conn, key: str, value=1) -> str:
    conn.execute(text("INSERT INTO settings (`key`, value, updated_at) VALUES (:k, :v, NOW())"),
                 {"k": key, "v": json.dumps(value)})
    conn.commit()
    return conn.execute(text("SELECT @@last_gtid")).scalar()


def _seq(gtid: str) -> int:
    (one,) = [g for g in gtid.split(",") if g.startswith("0-")]
    return int(one.split("-")[2])


@contextlib.contextmanager
def _restored_copy(svc: BackupService, info) -> object:
    """Restore a backup into a brand-new MariaDB instance; yield a root connection to it."""
    with svc.scratch_instance() as mdb:
        conn = mdb.admin_connect()
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE lanpos CHARACTER SET utf8mb4")
        conn.close()
        load_file(dumpfile.DbTarget.managed(mdb, "lanpos"), dumpfile.iter_sql(info.path))
        conn = mdb.admin_connect(database="lanpos")
        try:
            yield conn
        finally:
            conn.close()


# -- consistency -----------------------------------------------------------------------------
def test_backup_while_five_writers_commit_is_exactly_the_gtid_snapshot(svc, engine):
    committed: list[tuple[str, str, int]] = []  # (settings key, audit action, gtid seq)
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with engine.connect() as conn:
                i = 0
                while not stop.is_set():
                    key, action = f"w{n}-{i}", f"test.w{n}.{i}"
                    # one transaction, two tables: both rows or neither must be restored
                    conn.execute(text("INSERT INTO settings (`key`, value, updated_at) "
                                      "VALUES (:k, '1', NOW())"), {"k": key})
                    conn.execute(text("INSERT INTO audit_log (at, action, entity) "
                                      "VALUES (NOW(), :a, 'test')"), {"a": action})
                    conn.commit()
                    gtid = conn.execute(text("SELECT @@last_gtid")).scalar()
                    with lock:
                        committed.append((key, action, _seq(gtid)))
                    i += 1
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    try:
        while len(committed) < 200:
            time.sleep(0.01)
        info = svc.backup(reason="test")
        during = len(committed)
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors
    assert during > 200 and len(committed) > during  # writers were busy during and after
    snap = _seq(info.manifest["binlog"]["gtid"])
    before = {k for k, _a, s in committed if s <= snap}
    after = {k for k, _a, s in committed if s > snap}
    assert before and after

    with _restored_copy(svc, info) as conn, conn.cursor() as cur:
        cur.execute("SELECT `key` FROM settings WHERE `key` LIKE 'w%%'")
        keys = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT action FROM audit_log WHERE entity = 'test'")
        actions = {r[0] for r in cur.fetchall()}
    # every write acknowledged before the dump's GTID position is there, none after it
    assert keys == before
    assert actions == {a for _k, a, s in committed if s <= snap}
    assert info.manifest["tables"]["settings"] == len(before)

    # the manifest's row counts (read from the dump stream) match a real restore
    res = svc.verify(info.id)
    assert res.ok, res.problems
    assert res.rows_ok and res.invariants_ok and res.sha256_ok
    assert svc.get(info.id).verified is True
    m = info.manifest
    for key in ("sha256", "size", "tables", "binlog", "app_version", "schema_revision",
                "started_at", "ended_at"):
        assert m[key] is not None, key
    assert m["schema_revision"].isdigit()
    assert info.path.stat().st_size == m["size"]


# -- corruption ------------------------------------------------------------------------------
def test_flipped_byte_fails_verification_and_restore_refuses_it(svc):
    info = svc.backup()
    assert svc.verify(info.id).ok
    raw = bytearray(info.path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    info.path.write_bytes(bytes(raw))
    # the old "verified" record does not help a file that changed since
    with pytest.raises(BackupError) as e:
        svc.restore(info.id)
    assert e.value.code == "backup_corrupt"
    res = svc.verify(info.id)
    assert not res.ok and not res.sha256_ok
    assert svc.get(info.id).verified is False
    assert any("未通过还原验证" in w for w in svc.health_warnings())
    with pytest.raises(BackupError) as e:
        svc.restore(info.id)
    assert e.value.code == "backup_corrupt"


def test_unverified_backup_is_refused_unless_forced(svc, engine):
    with engine.connect() as conn:
        _insert_setting(conn, "keep.me", 1)
    info = svc.backup()
    with pytest.raises(BackupError) as e:
        svc.restore(info.id)
    assert e.value.code == "backup_unverified"
    with engine.connect() as conn:
        _insert_setting(conn, "gone.after.restore", 2)
    res = svc.restore(info.id, force=True)
    assert res["invariants_ok"]
    assert res["safety_backup"]  # taken first
    with engine.connect() as conn:
        keys = set(conn.execute(text("SELECT `key` FROM settings")).scalars())
    assert "keep.me" in keys and "gone.after.restore" not in keys
    # the safety backup holds the state before the restore
    safety = svc.get(res["safety_backup"])
    assert safety.manifest["reason"] == "pre-restore"
    assert safety.manifest["tables"]["settings"] == 2


def test_external_database_url_backs_up_and_restores_with_the_app_user(svc, engine):
    """With `--db-url` lanpos has only the URL's user (no root, no SUPER)."""
    rt = svc.runtime
    d = rt.config.database  # the app user `lanpos`, over TCP as to a database elsewhere
    rt.config.database.url = (f"mysql+pymysql://{d.app_user}:{d.app_password}@127.0.0.1:"
                              f"{d.managed_port}/{d.name}?charset=utf8mb4")
    rt.mariadb = None
    ext = BackupService(rt)
    assert ext.target().user == "lanpos" and not ext.target().admin
    with engine.connect() as conn:
        _insert_setting(conn, "ext.kept", 1)
    info = ext.backup()
    assert info.manifest["binlog"]["gtid"]
    assert ext.verify(info.id).ok
    with engine.connect() as conn:
        _insert_setting(conn, "ext.lost", 2)
    res = ext.restore(info.id)
    assert res["invariants_ok"] and res["safety_backup"]
    with engine.connect() as conn:
        keys = set(conn.execute(text("SELECT `key` FROM settings")).scalars())
    assert "ext.kept" in keys and "ext.lost" not in keys
    with pytest.raises(BackupError) as e:  # no binary logs here: no point in time
        ext.binlog_files_from(info.manifest["binlog"]["file"])
    assert e.value.code == "pitr_failed"


# -- restore onto a fresh machine ------------------------------------------------------------
def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_restore_onto_a_fresh_data_dir_from_the_file_alone(svc, engine, tmp_path):
    with engine.connect() as conn:
        for k in range(25):
            _insert_setting(conn, f"member.{k}", {"name": f"会员{k}"})
    info = svc.backup()
    assert svc.verify(info.id).ok
    usb = tmp_path / "usb"
    usb.mkdir()
    shutil.copy(info.path, usb / "shop-backup.sql.gz")  # the dump file only, renamed
    new_dir = tmp_path / "new-machine"
    port = str(_port())
    dump = str(usb / "shop-backup.sql.gz")
    r = _cli("restore", "--data-dir", str(new_dir), "--db-port", port, "--yes", dump)
    assert r.returncode == 2 and "尚未通过还原验证" in r.stderr  # unverified: refused
    r = _cli("restore", "--data-dir", str(new_dir), "--db-port", port, "--yes", "--verify",
             dump)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verify shop-backup: OK" in r.stdout
    assert "invariants OK" in r.stdout
    rebuilt = json.loads((usb / "shop-backup.json").read_text())
    assert rebuilt["tables"] == info.manifest["tables"]
    assert rebuilt["binlog"] == info.manifest["binlog"]
    cfg = Config.load(new_dir)
    rt = Runtime(cfg)
    try:
        rt.up()
        with rt.connect().connect() as conn:
            n = conn.execute(text("SELECT COUNT(*) FROM settings WHERE `key` LIKE 'member.%'"))
            assert n.scalar() == 25
            v = conn.execute(text("SELECT value FROM settings WHERE `key`='member.7'")).scalar()
            assert json.loads(v) == {"name": "会员7"}
            assert conn.execute(text("SELECT COUNT(*) FROM staff WHERE username='boss'")
                                ).scalar() == 1
        r = _cli("backup", "list", "--data-dir", str(new_dir))
        assert r.returncode == 0 and "backups in" in r.stdout
    finally:
        rt.stop_database()


def test_cli_migration_takes_a_safety_backup_and_backup_now_verifies(tmp_path, runtime):
    from sqlalchemy.exc import OperationalError

    from server.cli import _create_owner, _runtime
    from server.db import migrate

    from .conftest import make_test_config

    cfg = make_test_config(tmp_path / "shop", _port())
    cfg.backup.verify_after_backup = True
    rt = _runtime(cfg)  # what every CLI command uses
    try:
        rt.start_database()
        assert rt.migrate()  # an empty database: nothing to protect, no backup
        assert BackupService(rt).list() == []
        with rt.connect().begin() as conn:  # pretend the schema is one revision behind
            conn.execute(text("UPDATE alembic_version SET version_num = :r"),
                         {"r": _previous_revision()})
        with pytest.raises(OperationalError):  # head's tables exist: migrating fails …
            rt.migrate()
        (b,) = BackupService(rt).list()  # … but the safety backup was taken first
        assert b.manifest["reason"] == f"pre-migration-{_previous_revision()}"
        assert b.manifest["schema_revision"] == _previous_revision()
        with rt.connect().begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"),
                         {"r": migrate.head_revision()})
        _create_owner(rt, "owner", "secret123")  # the invariants want an owner
        # `backup now` while the database is in use (a running server): it must not stop it
        r = _cli("backup", "now", "--no-verify", "--data-dir", str(cfg.data_dir))
        assert r.returncode == 0, r.stdout + r.stderr
        assert rt.mariadb is not None and rt.mariadb.running_pid() is not None
        with rt.connect().connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM staff")).scalar() == 1
    finally:
        rt.stop_database()
    r = _cli("backup", "now", "--data-dir", str(cfg.data_dir))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verify lanpos-" in r.stdout and ": OK" in r.stdout
    r = _cli("backup", "list", "--data-dir", str(cfg.data_dir))
    assert r.returncode == 0
    assert r.stdout.count("lanpos-") == 3 and "verified" in r.stdout
    r = _cli("backup", "verify", "lanpos-20000101-000000Z", "--data-dir", str(cfg.data_dir))
    assert r.returncode == 2 and "找不到备份" in r.stderr


def test_an_older_backup_is_migrated_on_verify_and_on_restore(svc, engine, tmp_path):
    from alembic import command

    from server.cli import _create_owner
    from server.db import migrate

    from .conftest import make_test_config

    old_rev = _previous_revision()
    old = Runtime(make_test_config(tmp_path / "old-shop", _port()))
    try:
        old.start_database()
        # a shop still on the previous version, with its owner: made with today's code (which
        # needs today's schema), then taken back one migration
        migrate.upgrade(old.connect())
        _create_owner(old, "oldowner", "secret123")
        with old.connect().begin() as conn:
            command.downgrade(migrate._alembic_config(conn), old_rev)
        assert migrate.current_revision(old.connect()) == old_rev
        old_svc = BackupService(old)
        info = old_svc.backup()
    finally:
        old.stop_database()
    assert info.manifest["schema_revision"] == old_rev
    res = svc.verify(info.path)  # a file from elsewhere (e.g. a USB disk)
    assert res.ok, res.problems
    assert res.migrated_to == migrate.head_revision()
    out = svc.restore(info.path)
    assert out["schema_before"] == old_rev
    assert out["schema_after"] == migrate.head_revision()
    assert out["invariants_ok"], out["problems"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM staff")).scalars().all() == ["oldowner"]


def _previous_revision() -> str:
    from alembic.script import ScriptDirectory

    from server.db import migrate

    script = ScriptDirectory.from_config(migrate._alembic_config())
    head = script.get_revision(migrate.head_revision())
    assert head.down_revision, "needs at least two migrations"
    return str(head.down_revision)


# -- point in time ---------------------------------------------------------------------------
def test_point_in_time_restore_lands_just_before_the_moment(svc, engine):
    with engine.connect() as conn:
        _insert_setting(conn, "pitr.base", 0)
    base = svc.backup()
    assert svc.verify(base.id).ok
    with engine.connect() as conn:
        _insert_setting(conn, "pitr.before", 1)
        # the moment: the next whole second after "before" was committed, plus one
        moment = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=2)
        while dt.datetime.now(dt.UTC) < moment + dt.timedelta(seconds=1):
            time.sleep(0.05)
        _insert_setting(conn, "pitr.after", 2)  # e.g. the accidental mass change
        conn.execute(text("DELETE FROM settings WHERE `key` = 'pitr.base'"))
        conn.commit()
    # the operator types shop local time (Asia/Shanghai, UTC+8)
    local = moment.astimezone(SH).strftime("%Y-%m-%d %H:%M:%S")
    assert local != moment.strftime("%Y-%m-%d %H:%M:%S")
    res = svc.restore_to(local)
    assert res["backup_id"] == base.id
    assert res["stop_datetime_utc"] == moment.strftime("%Y-%m-%d %H:%M:%S")
    assert res["invariants_ok"], res["problems"]
    with engine.connect() as conn:
        keys = set(conn.execute(text("SELECT `key` FROM settings WHERE `key` LIKE 'pitr.%'"))
                   .scalars())
    assert keys == {"pitr.base", "pitr.before"}
    # a later point-in-time restore cannot cross the restore that just happened
    with pytest.raises(BackupError) as e:
        svc.pick_pitr_base(dt.datetime.now(dt.UTC))
    assert e.value.code == "pitr_failed"
    with pytest.raises(BackupError):
        svc.parse_local_time("23/11/2026 14:05")


# -- failures ---------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path) -> Path:
    d = tmp_path / "small"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(d)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"cannot mount a tmpfs for the disk-full test: {r.stderr}"
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False)


def test_disk_full_leaves_older_backups_intact_and_no_partial_file(runtime, app, owner,
                                                                   engine, tmp_path,
                                                                   small_disk):
    rt = _runtime_copy(runtime, tmp_path, dir=str(small_disk))
    svc = BackupService(rt)
    svc.min_free_bytes = 0
    old = svc.backup()
    old_sha = dumpfile.file_sha256(old.path)
    with engine.connect() as conn:
        for k in range(600):  # ~1.2 MB of incompressible text
            conn.execute(text("INSERT INTO settings (`key`, value, updated_at) "
                              "VALUES (:k, :v, NOW())"),
                         {"k": f"big.{k}", "v": json.dumps(os.urandom(1000).hex())})
        conn.commit()
    # a disk that fills up in the middle of the dump: a clear error, the temp file removed
    with pytest.raises(BackupError) as e:
        svc.backup()
    assert e.value.code == "backup_disk_full"
    assert e.value.status == 507
    # with the default reserve, the backup is refused before it starts
    svc.min_free_bytes = backup_service.MIN_FREE_BYTES
    with pytest.raises(BackupError) as e:
        svc.backup()
    assert e.value.code == "backup_disk_full"
    assert "满" in e.value.message("zh")
    assert [b.id for b in svc.list()] == [old.id]
    assert dumpfile.file_sha256(old.path) == old_sha == old.manifest["sha256"]
    assert sorted(p.name for p in small_disk.iterdir()) == sorted(
        [old.id + ".sql.gz", old.id + ".json"])


def test_tool_missing_and_database_down_give_clear_errors(svc, tmp_path, monkeypatch):
    from server.ops import mariadb

    monkeypatch.setattr(mariadb, "SBIN_DIRS", ())
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError) as e:
        dumpfile.dump_to_file(svc.target(), tmp_path / "x.partial")
    assert e.value.code == "backup_tool_missing" and "mariadb-dump" in str(e.value)
    monkeypatch.undo()

    down = ManagedMariaDB(tmp_path / "nothing-here", _port())
    rt = dataclasses.replace(svc.runtime)
    rt.mariadb = down
    with pytest.raises(BackupError) as e:
        BackupService(rt).backup()
    assert e.value.code == "backup_database_down"
    assert not list(svc.folder.glob("*")) if svc.folder.exists() else True


def test_destinations_get_copies_and_a_missing_one_is_a_warning(svc, tmp_path):
    import pyrage

    usb = tmp_path / "usb"
    usb.mkdir()
    gone = tmp_path / "unplugged"
    svc.settings.destinations = [str(usb), str(gone)]
    secret = svc.setup_key("correct horse battery")["recovery_key"]  # copies are encrypted
    info = svc.backup()
    identity = pyrage.x25519.Identity.from_str(secret)
    assert pyrage.decrypt((usb / (info.id + ".sql.gz.age")).read_bytes(),
                          [identity]) == info.path.read_bytes()
    assert json.loads(pyrage.decrypt((usb / (info.id + ".json.age")).read_bytes(),
                                     [identity])) == info.manifest
    assert not (usb / (info.id + ".sql.gz")).exists()
    assert not gone.exists()  # never created: it would land on the system disk
    status = svc.destination_status()
    assert status[str(usb)]["ok"] is True
    assert status[str(gone)]["ok"] is False
    warnings = svc.health_warnings()
    assert any(str(gone) in w for w in warnings)
    assert any("no verified backup" in w for w in warnings)
    svc.verify(info.id)
    assert (usb / (info.id + ".verify.json.age")).exists()
    assert not any("no verified backup" in w for w in svc.health_warnings())
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert any("older than a day" in w for w in svc.health_warnings(later))


def test_scheduler_tick_backs_up_verifies_and_prunes(svc):
    from server.scheduler import Scheduler

    svc.settings.verify_after_backup = True
    svc.settings.keep_last = 1
    svc.settings.keep_daily = svc.settings.keep_weekly = svc.settings.keep_monthly = 0
    sched = Scheduler(svc)
    assert sched.tick() is not None  # never backed up: due at once
    assert sched.tick() is None  # nothing due right after
    (first,) = svc.list()
    assert first.verified is True and first.manifest["reason"].startswith("scheduled-")
    second = svc.backup()
    svc.apply_retention()
    ids = [b.id for b in svc.list()]
    # the newest verified one stays although keep_last is 1
    assert ids == [first.id, second.id]


def test_scheduler_backs_off_after_a_failure(svc, tmp_path):
    from server.scheduler import Scheduler

    rt = dataclasses.replace(svc.runtime)
    rt.mariadb = ManagedMariaDB(tmp_path / "stopped", _port())  # the database is down
    broken = BackupService(rt)
    sched = Scheduler(broken)
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(BackupError):
        sched.tick(now)
    assert any("上次备份任务失败" in w for w in broken.health_warnings())
    assert sched.tick(now + dt.timedelta(minutes=1)) is None  # no hammering every 30 s
    with pytest.raises(BackupError):
        sched.tick(now + dt.timedelta(minutes=11))
    assert broken.list() == []


def test_scheduler_with_backups_off_still_runs_the_daily_jobs(svc):
    """``[backup] enabled = false``: no scheduled backups, but the daily housekeeping (points
    expiry, the report cache) still runs once a day."""
    from server.scheduler import Scheduler

    svc.settings.enabled = False
    ran: list[str] = []
    sched = Scheduler(svc, daily_jobs=[("job", lambda: ran.append("job"))])
    assert sched.tick() is None and sched.tick() is None
    assert ran == ["job"]
    assert svc.list() == []
    svc.settings.enabled = True
    assert sched.tick() is not None  # the same scheduler backs up once switched on
    assert len(svc.list()) == 1 and ran == ["job"]


# -- API --------------------------------------------------------------------------------------
def _wait_job(client, owner, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/api/v1/backups/jobs/{job_id}")  # no login: followed during restore
        assert r.status_code == 200, r.get_json()
        job = r.get_json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_backup_api_create_list_verify_restore_settings(app, client, owner, make_staff,
                                                        runtime, tmp_path):
    rt = _runtime_copy(runtime, tmp_path)
    svc = attach_backups(app, rt)
    svc.settings.verify_after_backup = True
    svc.drain_seconds = 0.5

    cashier = make_staff("cashier", "cash1")
    assert client.get("/api/v1/backups", headers=cashier.headers).status_code == 403

    r = client.post("/api/v1/backups", json={"note": "before-inventory"},
                    headers=owner.write_headers())
    assert r.status_code == 202, r.get_json()
    job = _wait_job(client, owner, r.get_json()["id"])
    assert job["state"] == "done", job
    assert job["progress"] == 1.0
    bid = job["backup_id"]

    r = client.get("/api/v1/backups", headers=owner.headers)
    body = r.get_json()
    assert [b["id"] for b in body["items"]] == [bid]
    assert body["items"][0]["verified"] is True
    assert body["items"][0]["reason"] == "manual-before-inventory"
    assert body["newest_verified"] == bid
    health = client.get("/api/v1/health").get_json()
    assert not any("backup" in w for w in health["warnings"]), health
    assert 0 <= health["newest_verified_backup_age_seconds"] < 600

    r = client.post(f"/api/v1/backups/{bid}/verify", headers=owner.write_headers())
    assert r.status_code == 202
    assert _wait_job(client, owner, r.get_json()["id"])["result"]["ok"] is True

    assert client.post("/api/v1/backups/lanpos-20200101-000000Z/verify",
                       headers=owner.write_headers()).status_code == 404
    assert client.post("/api/v1/backups/..%2f..%2fetc/verify",
                       headers=owner.write_headers()).status_code == 404

    r = client.post(f"/api/v1/backups/{bid}/restore", json={"confirm": "yes"},
                    headers=owner.write_headers())
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "restore_confirm_mismatch"

    r = client.post(f"/api/v1/backups/{bid}/restore", json={"confirm": bid},
                    headers=owner.write_headers())
    assert r.status_code == 202
    job_id = r.get_json()["id"]
    r = client.post(f"/api/v1/backups/{bid}/restore", json={"confirm": bid},
                    headers=owner.write_headers())
    assert r.status_code in (409, 503)  # never a second restore queued behind the first
    assert r.get_json()["error"]["code"] in ("backup_busy", "maintenance")
    saw_maintenance = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = client.get("/api/v1/staff", headers=owner.headers)
        if r.status_code == 503:
            saw_maintenance = r.get_json()["error"]
            break
        if app.extensions["lanpos"].services.jobs.job(job_id).state in ("done", "failed"):
            break
        time.sleep(0.01)
    assert saw_maintenance is not None
    assert saw_maintenance["code"] == "maintenance"
    assert "还原" in saw_maintenance["message"]
    job = _wait_job(client, owner, job_id)
    assert job["state"] == "done", job
    assert job["result"]["invariants_ok"] is True
    assert client.get("/api/v1/staff", headers=owner.headers).status_code == 200

    r = client.get("/api/v1/backups/settings", headers=owner.headers)
    assert r.get_json()["keep_last"] == 7
    r = client.put("/api/v1/backups/settings", json={"keep_last": 3, "daily_at": "02:30",
                                                      "destinations": [str(tmp_path)]},
                   headers=owner.write_headers())
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["keep_last"] == 3
    saved = Config.load(tmp_path)
    assert saved.backup.daily_at == "02:30" and saved.backup.destinations == [str(tmp_path)]
    audit = client.get("/api/v1/audit?entity=backup", headers=owner.headers).get_json()["items"]
    actions = [a["action"] for a in audit]
    assert actions.count("backup.settings") == 1 and "backup.restore" in actions
    settings_entry = next(a for a in audit if a["action"] == "backup.settings")
    assert settings_entry["before"]["keep_last"] == 7
    assert settings_entry["after"]["keep_last"] == 3
    r = client.put("/api/v1/backups/settings", json={"daily_at": "25:00"},
                   headers=owner.write_headers())
    assert r.status_code == 400
    assert "daily_at" in r.get_json()["error"]["fields"]
    r = client.put("/api/v1/backups/settings", json={"timezone": "Mars/Base"},
                   headers=owner.write_headers())
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "backup_settings_invalid"
    assert client.get(f"/api/v1/backups/jobs/{uuid.uuid4().hex}",
                      headers=owner.headers).status_code == 404

    # point in time: typed confirmation, no future, a base backup is needed
    r = client.post("/api/v1/backups/restore-to", json={"to": "2026-01-01 10:00",
                                                        "confirm": "2026-01-01 10:01"},
                    headers=owner.write_headers())
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "restore_confirm_mismatch"
    r = client.post("/api/v1/backups/restore-to", json={"to": "2099-01-01 10:00",
                                                        "confirm": "2099-01-01 10:00"},
                    headers=owner.write_headers())
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "pitr_failed"
    r = client.post("/api/v1/backups/restore-to", json={"to": "2020-01-01 10:00",
                                                        "confirm": "2020-01-01 10:00"},
                    headers=owner.write_headers())
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "pitr_failed"
    r = client.post("/api/v1/backups/restore-to", json={"to": "yesterday", "confirm": "x"},
                    headers=owner.write_headers())
    assert r.status_code == 400 and "to" in r.get_json()["error"]["fields"]

    # a damaged file is refused before anything happens
    info = svc.get(bid)
    raw = bytearray(info.path.read_bytes())
    raw[100] ^= 0xFF
    info.path.write_bytes(bytes(raw))
    r = client.post(f"/api/v1/backups/{bid}/restore", json={"confirm": bid},
                    headers=owner.write_headers(), environ_base={"HTTP_ACCEPT_LANGUAGE": "en"})
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "backup_corrupt" and "corrupt" in err["message"]
