"""Logins (issue 16 part 5) with the real database: failed logins are throttled per client
address as well as per account, so one attacker cycling usernames cannot lock every account;
failures and logins are audited with the address and the username tried; the address state
is shared by the worker processes of a real ``lanpos-server run``."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests
from sqlalchemy import func, select, text

from common.schemas.base import Role
from server.db.base import utcnow
from server.db.models import AuditLog, LoginThrottle, Staff
from tests.conftest import TEST_PASSWORD

API = "/api/v1"
ATTACKER = "10.0.0.66"
COUNTER = "10.0.0.7"
WINDOW_S = 15 * 60  # [security] login_window_minutes (default)


def login(client, username, password, ip=ATTACKER):
    return client.post(f"{API}/auth/login", json={"username": username, "password": password,
                                                  "counter": "01"},
                       environ_base={"REMOTE_ADDR": ip})


def code(r):
    return r.get_json()["error"]["code"]


@pytest.fixture
def staff(make_staff):
    """Six accounts (every role), logged in once from the test client (127.0.0.1)."""
    made = [make_staff(Role.OWNER, "boss"), make_staff(Role.MANAGER, "mgr")]
    made += [make_staff(Role.CASHIER, f"cash{i}") for i in range(1, 5)]
    return made


def locked(db_session) -> list[str]:
    db_session.rollback()  # a fresh snapshot
    return sorted(db_session.scalars(select(Staff.username).where(
        Staff.locked_until > utcnow())))


def test_cycling_usernames_trips_the_address_limit_before_any_account_locks(
        client, staff, db_session):
    names = [s.username for s in staff] + ["nobody"]
    for i in range(10):  # 10 = max_failed_logins_per_address
        r = login(client, names[i % len(names)], "wrong-password")
        assert r.status_code == 401 and code(r) == "login_failed", r.get_json()
    # the 11th attempt from that address is refused whatever it tries — the right password too
    r = login(client, "cash1", TEST_PASSWORD)
    assert r.status_code == 429 and code(r) == "too_many_attempts"
    assert "这台电脑登录失败次数过多" in r.get_json()["error"]["message"]
    retry = int(r.headers["Retry-After"])
    assert WINDOW_S - 60 < retry <= WINDOW_S
    assert locked(db_session) == []  # no account was locked on the way
    # the same account from another computer logs in at once
    ok = login(client, "cash1", TEST_PASSWORD, ip=COUNTER)
    assert ok.status_code == 200, ok.get_json()

    db_session.rollback()  # a fresh snapshot
    failed = db_session.scalars(select(AuditLog).where(AuditLog.action == "auth.login_failed")
                                .order_by(AuditLog.id)).all()
    assert len(failed) == 10  # the refused 11th attempt is not one of them
    assert {f.ip for f in failed} == {ATTACKER}
    assert [f.after["username"] for f in failed] == [names[i % len(names)] for i in range(10)]
    assert {f.after["reason"] for f in failed} == {"login_failed"}
    unknown = next(f for f in failed if f.after["username"] == "nobody")
    assert unknown.entity_id is None and unknown.staff_id is None
    boss = next(f for f in failed if f.after["username"] == "boss")
    assert boss.entity_id == str(staff[0].id)
    blocked = db_session.scalars(select(AuditLog).where(
        AuditLog.action == "auth.address_blocked")).all()
    assert [(b.entity_id, b.ip) for b in blocked] == [(ATTACKER, ATTACKER)]
    ok_entry = db_session.scalars(select(AuditLog).where(AuditLog.action == "auth.login")
                                  .order_by(AuditLog.id.desc()).limit(1)).one()
    assert (ok_entry.username, ok_entry.ip, ok_entry.staff_id) == ("cash1", COUNTER,
                                                                    staff[2].id)


def test_a_focused_attacker_locks_at_most_two_accounts(client, staff, db_session):
    results = []
    for name in ("boss", "mgr", "cash1", "cash2"):
        for _ in range(5):
            r = login(client, name, "wrong-password")
            results.append((name, r.status_code, code(r)))
    # 5 wrong passwords lock an account; after 10 failures the address is refused
    assert results[4] == ("boss", 403, "account_locked")
    assert results[9] == ("mgr", 403, "account_locked")
    assert {c for _, _, c in results[10:]} == {"too_many_attempts"}
    assert locked(db_session) == ["boss", "mgr"]  # 10 // 5: never more from one address
    assert login(client, "cash1", TEST_PASSWORD, ip=COUNTER).status_code == 200


def test_failures_older_than_the_window_no_longer_count(client, staff, db_session):
    for _ in range(10):
        assert login(client, "nobody", "x").status_code == 401
    assert login(client, "cash1", TEST_PASSWORD).status_code == 429
    # 16 minutes later (the failures moved back): the address may log in again
    db_session.rollback()
    row = db_session.get(LoginThrottle, ATTACKER)
    old = utcnow() - dt.timedelta(minutes=16)
    row.failures = [(old + dt.timedelta(seconds=i)).isoformat() for i in range(10)]
    db_session.commit()
    assert login(client, "cash1", TEST_PASSWORD).status_code == 200

    # an account: 4 wrong passwords, then a pause longer than the window, then 4 more — its
    # count starts afresh, so nobody can prime every account and lock them all later
    for i in range(4):
        r = login(client, "cash2", "wrong", ip=COUNTER)
        assert r.status_code == 401 and f"还可尝试 {4 - i} 次" in r.get_json()["error"]["message"]
    db_session.execute(text("UPDATE staff SET failed_since = :t WHERE username = 'cash2'"),
                       {"t": old})
    db_session.commit()
    for i in range(4):
        r = login(client, "cash2", "wrong", ip="10.0.0.8")
        assert r.status_code == 401 and f"还可尝试 {4 - i} 次" in r.get_json()["error"]["message"]
    assert locked(db_session) == []
    # within the window the fifth locks it, as before
    r = login(client, "cash2", "wrong", ip="10.0.0.9")
    assert r.status_code == 403 and code(r) == "account_locked"
    assert locked(db_session) == ["cash2"]


def test_a_managers_password_typed_at_the_counter_counts_for_the_address(
        client, staff, db_session):
    cashier = staff[2]
    for i in range(10):
        r = client.post(f"{API}/approvals", json={"username": "mgr", "password": f"bad{i}"},
                        headers=cashier.headers, environ_base={"REMOTE_ADDR": ATTACKER})
        assert r.status_code in (401, 403), r.get_json()
    r = client.post(f"{API}/approvals", json={"username": "mgr", "password": TEST_PASSWORD},
                    headers=cashier.headers, environ_base={"REMOTE_ADDR": ATTACKER})
    assert r.status_code == 429 and code(r) == "too_many_attempts"
    db_session.rollback()
    purposes = db_session.scalars(select(AuditLog.after).where(
        AuditLog.action == "auth.login_failed")).all()
    assert len(purposes) == 10 and {p["purpose"] for p in purposes} == {"approval"}
    assert db_session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "auth.address_blocked", AuditLog.ip == ATTACKER)) == 1


# -- real processes --------------------------------------------------------------------------
@pytest.mark.slow
def test_the_address_limit_is_shared_by_every_worker_process(tmp_path):
    from bench.env import ServerProcess
    from tests.test_process_model import OWNER_PW, _init

    data = tmp_path / "shop"
    _init(data)
    srv = ServerProcess(data, threads=4, workers=3).start()
    try:
        url = srv.url + "/auth/login"

        def attempt(password: str) -> requests.Response:
            # a fresh connection each time: the kernel hands it to any of the workers
            return requests.post(url, json={"username": "owner", "password": password},
                                 headers={"Connection": "close"}, timeout=10)

        answered_by: set[str] = set()
        deadline = time.monotonic() + 60
        n = 0
        while n < 10 and time.monotonic() < deadline:
            r = attempt(f"wrong{n}")
            assert r.status_code in (401, 403), r.text
            answered_by.add(r.headers["X-Lanpos-Process"])
            n += 1
        assert len(answered_by) >= 2, answered_by  # the failures were counted by several
        refused: set[str] = set()
        while len(refused) < 3 and time.monotonic() < deadline:
            r = attempt(OWNER_PW)
            assert r.status_code == 429, r.text  # by every worker, the right password too
            assert int(r.headers["Retry-After"]) > 0
            refused.add(r.headers["X-Lanpos-Process"])
        assert len(refused) == 3, refused
    finally:
        srv.stop()
