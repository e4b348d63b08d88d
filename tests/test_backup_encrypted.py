"""Encrypted backup copies (issue 16), against real MariaDB and real files: what lands on a USB
disk holds no member data; a fresh machine restores it with the passphrase or with the recovery
sheet's key; a wrong key or a damaged copy is a clear error and touches nothing; a passphrase
change keeps older copies readable; the key API is the owner's and audited."""

from __future__ import annotations

import contextlib
import json
import stat
import zlib
from pathlib import Path

import pyrage
import pytest
from sqlalchemy import text

from server.backup.crypt import KEY_FILE, KEY_INFO_FILE, Unlock
from server.backup.dumpfile import BackupError, file_sha256, iter_sql
from server.backup.service import BackupService
from server.config import Config
from server.runtime import Runtime
from tests.conftest import attach_backups
from tests.test_backup import _cli, _insert_setting, _port, _runtime_copy

PASS = "马上 开门 2026 好运"
PASS2 = "new passphrase 不一样"
PHONE = "13912345678"
NAME = "王小明"


@pytest.fixture
def svc(runtime, app, owner, tmp_path) -> BackupService:
    rt = _runtime_copy(runtime, tmp_path / "data")
    (tmp_path / "data").mkdir()
    return BackupService(rt)


@pytest.fixture
def usb(tmp_path) -> Path:
    d = tmp_path / "usb"
    d.mkdir()
    return d


def _member(client, owner, name=NAME, phone=PHONE) -> dict:
    r = client.post("/api/v1/members", json={"name": name, "phone": phone},
                    headers=owner.write_headers())
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _plaintexts(data: bytes) -> list[bytes]:
    """The bytes as they are, and gunzipped when they are gzip."""
    out = [data]
    with contextlib.suppress(zlib.error):
        out.append(zlib.decompressobj(47).decompress(data))
    return out


def _local_sql(info) -> bytes:
    return b"".join(iter_sql(info.path))


def test_no_key_means_no_copy_then_copies_are_encrypted_and_tell_nothing(svc, usb, client,
                                                                         owner):
    _member(client, owner)
    svc.settings.destinations = [str(usb)]
    first = svc.backup()
    # without a key nothing is written in the clear: refused, shown as a warning
    assert list(usb.iterdir()) == []
    st = svc.destination_status()[str(usb)]
    assert st["ok"] is False and "未设置备份密钥" in st["error"]
    warnings = svc.health_warnings()
    assert any("还没有备份密钥" in w for w in warnings)
    assert any("备份复制到" in w and str(usb) in w for w in warnings)

    with pytest.raises(BackupError) as e:
        svc.setup_key("short")
    assert e.value.code == "backup_passphrase_short" and "10" in e.value.message("zh")
    out = svc.setup_key(PASS)
    secret = out["recovery_key"]
    assert secret.startswith("AGE-SECRET-KEY-1") and out["recipient"].startswith("age1")
    data_dir = svc.config.data_dir
    wrapped = data_dir / KEY_FILE
    assert stat.S_IMODE(wrapped.stat().st_mode) == 0o600
    assert secret.encode() not in wrapped.read_bytes()
    assert wrapped.read_bytes().startswith(b"age-encryption.org/v1\n-> scrypt")
    assert json.loads((data_dir / KEY_INFO_FILE).read_text())["recipient"] == out["recipient"]
    assert not any(secret in p.read_text(errors="replace")
                   for p in data_dir.rglob("*") if p.is_file())
    with pytest.raises(BackupError) as e:  # one key for the shop's lifetime
        svc.setup_key(PASS)
    assert e.value.code == "backup_key_exists"
    # the setup copied the newest backup to the destination that waited for a key
    assert (usb / (first.id + ".sql.gz.age")).is_file()
    assert svc.destination_status()[str(usb)]["ok"] is True
    assert not any("备份密钥" in w for w in svc.health_warnings())

    _member(client, owner, "李四", "13700001111")
    info = svc.backup()
    assert svc.verify(info.id).ok
    names = sorted(p.name for p in usb.iterdir())
    assert names == sorted([
        KEY_FILE, "README-lanpos-backup.txt",
        *(f"{b}{suffix}" for b in (first.id, info.id)
          for suffix in (".sql.gz.age", ".json.age", ".index.json")),
        info.id + ".verify.json.age"])
    # the member's phone and name are in the local dump ...
    assert PHONE.encode() in _local_sql(info) and NAME.encode() in _local_sql(info)
    # ... and nowhere on the stick, neither as bytes nor gunzipped
    for p in usb.iterdir():
        for blob in _plaintexts(p.read_bytes()):
            for needle in (PHONE, NAME, "李四", "13700001111", "members"):
                assert needle.encode() not in blob, (p.name, needle)
    ct = (usb / (info.id + ".sql.gz.age")).read_bytes()
    assert ct.startswith(b"age-encryption.org/v1\n-> X25519 ")
    # the plain index: enough for retention and the copy check, nothing about the shop's data
    index = json.loads((usb / (info.id + ".index.json")).read_text())
    assert index["recipient"] == out["recipient"] and index["id"] == info.id
    assert index["files"][info.id + ".sql.gz.age"] == {"sha256": file_sha256(
        usb / (info.id + ".sql.gz.age")), "size": len(ct)}
    assert set(index) == {"format", "id", "encryption", "recipient", "started_at", "ended_at",
                          "written_at", "files"}
    # the recovery key opens it by hand too (the age format; `age -d -i sheet.txt` works)
    ident = pyrage.x25519.Identity.from_str(secret)
    assert pyrage.decrypt(ct, [ident]) == info.path.read_bytes()

    # retention removes the encrypted copies (and their index) like the local ones
    svc.settings.keep_last = 1
    svc.settings.keep_daily = svc.settings.keep_weekly = svc.settings.keep_monthly = 0
    assert svc.apply_retention() == [first.id]
    assert not any(p.name.startswith(first.id) for p in usb.iterdir())
    assert (usb / (info.id + ".sql.gz.age")).is_file()


def _rows(conn) -> dict[str, object]:
    return {
        "members": sorted(tuple(r) for r in conn.execute(text(
            "SELECT name, phone, number, sv_principal, points FROM members ORDER BY id"))),
        "settings": sorted(conn.execute(text("SELECT `key` FROM settings")).scalars()),
        "staff": sorted(conn.execute(text("SELECT username FROM staff")).scalars()),
    }


def _restored(new_dir: Path) -> dict[str, object]:
    rt = Runtime(Config.load(new_dir))
    try:
        rt.up()
        with rt.connect().connect() as conn:
            return _rows(conn)
    finally:
        rt.stop_database()


def test_fresh_machine_restores_with_the_passphrase_and_with_the_recovery_sheet(
        svc, usb, client, owner, engine, tmp_path):
    _member(client, owner)
    _member(client, owner, "李四", "13700001111")
    svc.settings.destinations = [str(usb)]
    secret = svc.setup_key(PASS)["recovery_key"]
    info = svc.backup()
    assert svc.verify(info.id).ok  # the verification travels with the copy, encrypted
    with engine.connect() as conn:
        expected = _rows(conn)
    assert sorted(m[:2] for m in expected["members"]) == sorted([(NAME, PHONE),
                                                             ("李四", "13700001111")])
    copy = str(usb / (info.id + ".sql.gz.age"))

    # 1. the USB stick + the passphrase (the wrapped key file is on the stick)
    pw = tmp_path / "pass.txt"
    pw.write_text(PASS + "\n", encoding="utf-8")
    new = tmp_path / "new-machine"
    r = _cli("restore", "--data-dir", str(new), "--db-port", str(_port()), "--yes",
             "--passphrase-file", str(pw), copy)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "invariants OK" in r.stdout
    assert _restored(new) == expected
    assert (new / "backups" / (info.id + ".sql.gz")).is_file()  # now a local backup
    r = _cli("verify", "--data-dir", str(new))
    assert r.returncode == 0 and "0 failed" in r.stdout, r.stdout + r.stderr
    cfg = Config.load(new)  # the new machine has no key of its own yet: `backup list` says so
    cfg.backup.destinations = [str(usb)]
    cfg.save()
    r = _cli("backup", "list", "--data-dir", str(new))
    assert r.returncode == 0 and info.id in r.stdout
    assert "NONE — no backup key set up" in r.stdout and "还没有备份密钥" in r.stdout

    # 2. the recovery sheet alone (no key file anywhere: the stick's was lost too)
    (usb / KEY_FILE).unlink()
    sheet = tmp_path / "recovery-sheet.txt"
    sheet.write_text(f"lanpos 备份恢复单\n店名：测试店\n日期：2026-12-01\n密钥：\n{secret}\n",
                     encoding="utf-8")
    new2 = tmp_path / "another-machine"
    r = _cli("restore", "--data-dir", str(new2), "--db-port", str(_port()), "--yes",
             "--key-file", str(sheet), str(usb / (info.id + ".index.json")))
    assert r.returncode == 0, r.stdout + r.stderr
    assert _restored(new2) == expected
    # `backup verify` takes an encrypted copy too
    r = _cli("backup", "verify", copy, "--data-dir", str(new2), "--key-file", str(sheet))
    assert r.returncode == 0 and ": OK" in r.stdout, r.stdout + r.stderr


def test_wrong_key_or_damaged_copy_is_a_clear_error_and_nothing_is_touched(
        svc, usb, engine, tmp_path):
    svc.settings.destinations = [str(usb)]
    svc.setup_key(PASS)
    info = svc.backup()
    assert svc.verify(info.id).ok
    with engine.connect() as conn:
        _insert_setting(conn, "after.the.backup", 1)
    before = [b.id for b in svc.list()]
    copy = usb / (info.id + ".sql.gz.age")

    def untouched() -> None:
        with engine.connect() as conn:
            keys = set(conn.execute(text("SELECT `key` FROM settings")).scalars())
        assert "after.the.backup" in keys  # not restored over
        assert [b.id for b in svc.list()] == before  # no safety backup, nothing imported
        assert not list(svc.folder.glob(".*partial"))  # no decrypted leftovers

    with pytest.raises(BackupError) as e:
        svc.restore(copy, unlock=Unlock(passphrase="not the passphrase"))
    assert e.value.code == "backup_key_wrong"
    assert "数据库未作任何改动" in e.value.message("zh")
    assert "was not changed" in e.value.message("en")
    untouched()
    other = pyrage.x25519.Identity.generate()
    with pytest.raises(BackupError) as e:
        svc.restore(copy, unlock=Unlock(secret_key=str(other)))
    assert e.value.code == "backup_key_wrong"
    untouched()
    with pytest.raises(BackupError) as e:
        svc.restore(copy)  # an encrypted copy without a key
    assert e.value.code == "backup_key_needed"
    untouched()

    # one flipped byte: the copy check (ciphertext SHA-256 in the index) ...
    raw = bytearray(copy.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    copy.write_bytes(bytes(raw))
    with pytest.raises(BackupError) as e:
        svc.restore(copy, unlock=Unlock(passphrase=PASS))
    assert e.value.code == "backup_copy_corrupt"
    untouched()
    # ... and without the index, age's authentication (after decrypting up to the damage)
    (usb / (info.id + ".index.json")).unlink()
    with pytest.raises(BackupError) as e:
        svc.verify(copy, unlock=Unlock(passphrase=PASS))
    assert e.value.code == "backup_copy_corrupt" and "数据库未作任何改动" in str(e.value)
    untouched()

    # a fresh machine: a wrong passphrase is a non-zero exit, both languages, no database
    svc.copy_to_destinations(info)  # a good copy again
    pw = tmp_path / "wrong.txt"
    pw.write_text("wrong wrong wrong\n", encoding="utf-8")
    new = tmp_path / "new-machine"
    r = _cli("restore", "--data-dir", str(new), "--db-port", str(_port()), "--yes",
             "--passphrase-file", str(pw), str(usb / (info.id + ".sql.gz.age")))
    assert r.returncode != 0
    assert "口令或恢复密钥不对" in r.stderr and "Wrong passphrase" in r.stderr, r.stderr
    assert not (new / "mariadb").exists() and not (new / "backups").exists()
    assert not (new / "lanpos.toml").exists()


def test_passphrase_change_keeps_old_copies_readable(svc, usb, runtime, tmp_path):
    svc.settings.destinations = [str(usb)]
    secret = svc.setup_key(PASS)["recovery_key"]
    old = svc.backup()
    wrapped_before = (usb / KEY_FILE).read_bytes()
    with pytest.raises(BackupError) as e:  # the current passphrase is needed
        svc.change_key(PASS2, Unlock(passphrase="guess guess guess"))
    assert e.value.code == "backup_key_wrong"
    assert (svc.config.data_dir / KEY_FILE).read_bytes() == wrapped_before
    svc.change_key(PASS2, Unlock(passphrase=PASS))
    assert (usb / KEY_FILE).read_bytes() != wrapped_before  # the stick got the new wrapping

    # another machine (no key of its own, no backups): only what is on the stick
    elsewhere = BackupService(_runtime_copy(runtime, tmp_path / "elsewhere"))
    with pytest.raises(BackupError) as e:
        elsewhere.open_copy(usb / (old.id + ".sql.gz.age"), Unlock(passphrase=PASS))
    assert e.value.code == "backup_key_wrong"
    got = elsewhere.open_copy(usb / (old.id + ".sql.gz.age"), Unlock(passphrase=PASS2))
    assert got.id == old.id and file_sha256(got.path) == old.manifest["sha256"]
    assert got.manifest == old.manifest
    # the recovery key still opens everything, and may set a passphrase it has forgotten
    svc.change_key(PASS, Unlock(secret_key=secret))
    other = BackupService(_runtime_copy(runtime, tmp_path / "third"))
    assert other.open_copy(usb / (old.id + ".json.age"),
                           Unlock(passphrase=PASS)).manifest["sha256"] == old.manifest["sha256"]


def test_key_api_is_the_owners_audited_and_never_stores_the_secret(app, client, owner,
                                                                   make_staff, runtime,
                                                                   tmp_path, engine):
    rt = _runtime_copy(runtime, tmp_path)
    attach_backups(app, rt)
    manager = make_staff("manager", "mgr1")
    assert client.get("/api/v1/backups/key", headers=manager.headers).status_code == 403
    r = client.get("/api/v1/backups/key", headers=owner.headers)
    assert r.status_code == 200 and r.get_json()["configured"] is False
    assert client.get("/api/v1/backups", headers=owner.headers).get_json()[
        "key_configured"] is False
    r = client.post("/api/v1/backups/key", json={"passphrase": "short"},
                    headers=owner.write_headers())
    assert r.status_code == 400 and "passphrase" in r.get_json()["error"]["fields"]
    r = client.post("/api/v1/backups/key", json={"passphrase": PASS},
                    headers=owner.write_headers())
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    secret = body["recovery_key"]
    assert secret.startswith("AGE-SECRET-KEY-1") and body["configured"] is True
    assert body["shop_name"]
    r = client.get("/api/v1/backups/key", headers=owner.headers)
    assert r.get_json()["recovery_key"] is None and r.get_json()["recipient"] == body[
        "recipient"]
    r = client.post("/api/v1/backups/key", json={"passphrase": PASS},
                    headers=owner.write_headers())
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "backup_key_exists"
    r = client.put("/api/v1/backups/key", json={"passphrase": PASS2,
                                                "old_passphrase": "not it at all"},
                   headers=owner.write_headers(), environ_base={"HTTP_ACCEPT_LANGUAGE": "en"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "backup_key_wrong"
    r = client.put("/api/v1/backups/key", json={"passphrase": PASS2, "old_passphrase": PASS},
                   headers=owner.write_headers())
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["changed_at"] >= body["created_at"]
    audit = client.get("/api/v1/audit?entity=backup", headers=owner.headers).get_json()["items"]
    actions = [a["action"] for a in audit]
    assert actions.count("backup.key_setup") == 1 and actions.count("backup.key_change") == 1
    # neither the secret nor a passphrase is anywhere in the database
    with engine.connect() as conn:
        tables = conn.execute(text("SHOW TABLES")).scalars().all()
        for t in tables:
            for row in conn.execute(text(f"SELECT * FROM `{t}`")):
                blob = json.dumps([str(v) for v in row], ensure_ascii=False)
                for needle in (secret, PASS, PASS2):
                    assert needle not in blob, (t, needle)
