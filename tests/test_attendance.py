"""Attendance (考勤, #18 §2) through the API on the real database: clocking with one's own
password or PIN (another person's refused), breaks, wrong states, idempotent retries, the
lockout, planned shifts, the month's summary on a generated month equal to a hand count,
managers' corrections (audited, reflected), roles."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from common.schemas.base import Role
from server.clock import shop_clock
from server.db.attendance import AttendanceCorrection, AttendancePunch
from server.db.models import AuditLog, IdempotencyRecord, Staff
from server.domain import attendance
from server.domain.actor import Actor
from tests.conftest import TEST_PASSWORD

API = "/api/v1/attendance"
SH = "Asia/Shanghai"


def set_pin(client, owner, staff_id: int, pin: str) -> None:
    r = client.patch(f"/api/v1/staff/{staff_id}", json={"pin": pin},
                     headers=owner.write_headers())
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["has_pin"] is True


def clock(client, at_counter, username: str, secret: str, action: str,
          key: str | None = None):
    return client.post(f"{API}/clock", json={"username": username, "secret": secret,
                                              "action": action},
                       headers=at_counter.write_headers(key))


def punches(db_session, staff_id: int) -> list[AttendancePunch]:
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    return list(db_session.scalars(select(AttendancePunch)
                                   .where(AttendancePunch.staff_id == staff_id)
                                   .order_by(AttendancePunch.id)))


def test_clock_in_break_and_out_with_own_pin_or_password(client, owner, cashier, make_staff,
                                                          db_session):
    anna = make_staff(Role.CASHIER, "anna")
    set_pin(client, owner, anna.id, "2468")
    # anna clocks in at the counter where "cash" is logged in, with her PIN
    r = clock(client, cashier, "anna", "2468", "in")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["staff_id"] == anna.id and body["state"] == "working"
    assert body["display_name"] and body["action"] == "in"
    # breaks and the clock-out with her password instead of the PIN
    for action, state in (("break_start", "break"), ("break_end", "working"), ("out", "off")):
        r = clock(client, cashier, "anna", TEST_PASSWORD, action)
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["state"] == state
    assert r.get_json()["session_minutes"] == 0  # seconds apart
    rows = punches(db_session, anna.id)
    assert [p.kind for p in rows] == ["in", "break_start", "break_end", "out"]
    assert {p.recorded_by for p in rows} == {cashier.id}  # who was logged in there
    assert {p.counter for p in rows} == {"01"} and {p.source for p in rows} == {"counter"}
    assert len({p.business_date for p in rows}) == 1
    # the PIN is stored as an Argon2 hash, never as it is
    pin_hash = db_session.scalar(select(Staff.pin_hash).where(Staff.id == anna.id))
    assert pin_hash.startswith("$argon2") and "2468" not in pin_hash


def test_another_persons_pin_or_password_is_refused(client, owner, cashier, make_staff,
                                                    db_session):
    """The cashier at the counter cannot clock anna in: only anna's own secret does."""
    anna = make_staff(Role.CASHIER, "anna")
    set_pin(client, owner, anna.id, "2468")
    set_pin(client, owner, cashier.id, "1357")
    for secret in ("1357", TEST_PASSWORD + "x", "0000"):  # the cashier's PIN, wrong ones
        r = clock(client, cashier, "anna", secret, "in")
        assert r.status_code == 401, r.get_json()
        err = r.get_json()["error"]
        assert err["code"] == "clock_secret_wrong" and "PIN" in err["message"]
    assert punches(db_session, anna.id) == []
    # counted like failed logins of anna's account, audited with the purpose
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    assert db_session.get(Staff, anna.id).failed_logins == 3
    failed = list(db_session.scalars(select(AuditLog).where(
        AuditLog.action == "auth.login_failed", AuditLog.entity_id == str(anna.id))))
    assert len(failed) == 3 and {a.after["purpose"] for a in failed} == {"attendance"}
    # the cashier's own password works for the cashier, not for anna
    r = clock(client, cashier, "cash", TEST_PASSWORD, "in")
    assert r.status_code == 201 and r.get_json()["staff_id"] == cashier.id
    assert punches(db_session, anna.id) == []
    # a PIN is no password: it does not log in
    r = client.post("/api/v1/auth/login", json={"username": "anna", "password": "2468"})
    assert r.status_code == 401


def test_wrong_secrets_lock_the_account_like_logins(client, owner, cashier, make_staff):
    anna = make_staff(Role.CASHIER, "anna")
    set_pin(client, owner, anna.id, "2468")
    codes = [clock(client, cashier, "anna", f"99{i:02d}", "in").get_json()["error"]["code"]
             for i in range(5)]
    assert codes == ["clock_secret_wrong"] * 4 + ["account_locked"]
    r = clock(client, cashier, "anna", "2468", "in")  # even the right PIN, while locked
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "account_locked"
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "429" in doc["paths"]["/api/v1/attendance/clock"]["post"]["responses"]
    assert "429" in doc["paths"]["/api/v1/auth/login"]["post"]["responses"]


def test_wrong_states_are_refused_with_clear_messages(client, cashier, db_session):
    def code(action: str) -> tuple[int, str]:
        r = clock(client, cashier, "cash", TEST_PASSWORD, action)
        body = r.get_json()
        return r.status_code, body["error"]["code"] if r.status_code >= 400 else body["state"]

    assert code("out") == (409, "not_clocked_in")
    assert code("break_start") == (409, "not_clocked_in")
    assert code("in") == (201, "working")
    r = clock(client, cashier, "cash", TEST_PASSWORD, "in")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_clocked_in"
    assert "已经上班" in r.get_json()["error"]["message"]
    assert code("break_end") == (409, "not_on_break")
    assert code("break_start") == (201, "break")
    assert code("break_start") == (409, "already_on_break")
    assert code("in") == (409, "on_break")
    r = clock(client, cashier, "cash", TEST_PASSWORD, "out")
    assert r.status_code == 409 and "请先结束休息" in r.get_json()["error"]["message"]
    assert code("break_end") == (201, "working")
    assert code("out") == (201, "off")
    assert code("out") == (409, "not_clocked_in")
    assert [p.kind for p in punches(db_session, cashier.id)] == [
        "in", "break_start", "break_end", "out"]


def test_a_retry_with_the_same_key_is_done_once(client, cashier, db_session):
    key = str(uuid.uuid4())
    r1 = clock(client, cashier, "cash", TEST_PASSWORD, "in", key=key)
    r2 = clock(client, cashier, "cash", TEST_PASSWORD, "in", key=key)
    assert r1.status_code == r2.status_code == 201
    assert r2.headers["Idempotent-Replayed"] == "true" and r2.get_json() == r1.get_json()
    assert len(punches(db_session, cashier.id)) == 1
    # the same key for another action: refused, nothing written
    r3 = clock(client, cashier, "cash", TEST_PASSWORD, "out", key=key)
    assert r3.status_code == 409 and r3.get_json()["error"]["code"] == "idempotency_mismatch"
    assert len(punches(db_session, cashier.id)) == 1
    # the record's hash is not one of the secret: a PIN in a hash is as good as in clear
    rec = db_session.get(IdempotencyRecord, key)
    from server.domain.idempotency import request_hash
    body = {"username": "cash", "secret": TEST_PASSWORD, "action": "in"}
    assert rec.request_hash != request_hash(f"POST {API}/clock", body)
    assert rec.request_hash == request_hash(f"POST {API}/clock",
                                            {"username": "cash", "action": "in"})
    # a refused attempt keeps no record: the retry with the right secret runs
    key2 = str(uuid.uuid4())
    bad = clock(client, cashier, "cash", "wrong-secret", "out", key=key2)
    assert bad.status_code == 401
    assert db_session.get(IdempotencyRecord, key2) is None
    ok = clock(client, cashier, "cash", TEST_PASSWORD, "out", key=key2)
    assert ok.status_code == 201 and ok.get_json()["state"] == "off"


def test_set_own_pin_with_password(client, cashier, db_session):
    r = client.put(f"{API}/my-pin", json={"password": "nope", "pin": "4321"},
                   headers=cashier.write_headers())
    assert r.status_code == 401
    r = client.put(f"{API}/my-pin", json={"password": TEST_PASSWORD, "pin": "12a4"},
                   headers=cashier.write_headers())
    assert r.status_code == 400 and "pin" in r.get_json()["error"]["fields"]
    r = client.put(f"{API}/my-pin", json={"password": TEST_PASSWORD, "pin": "4321"},
                   headers=cashier.write_headers())
    assert r.status_code == 200 and r.get_json()["has_pin"] is True
    assert clock(client, cashier, "cash", "4321", "in").status_code == 201


# --- planned shifts ----------------------------------------------------------------------------
def test_planned_shifts_crud_and_roles(client, owner, manager, cashier, db_session):
    body = {"staff_id": cashier.id, "dates": ["2025-06-02", "2025-06-03"],
            "start": "09:00", "end": "18:00", "break_minutes": 60}
    r = client.post(f"{API}/plans", json=body, headers=cashier.write_headers())
    assert r.status_code == 403
    r = client.post(f"{API}/plans", json={**body, "end": "08:00"},
                    headers=manager.write_headers())
    assert r.status_code == 400 and "晚于" in str(r.get_json()["error"])
    r = client.post(f"{API}/plans", json=body, headers=manager.write_headers())
    assert r.status_code == 201, r.get_json()
    plans = r.get_json()
    assert [p["business_date"] for p in plans] == ["2025-06-02", "2025-06-03"]
    # planning a day again replaces its plan
    r = client.post(f"{API}/plans", json={**body, "dates": ["2025-06-03"], "start": "10:00"},
                    headers=manager.write_headers())
    assert r.status_code == 201 and r.get_json()[0]["id"] == plans[1]["id"]
    r = client.patch(f"{API}/plans/{plans[0]['id']}", json={"end": "17:00"},
                     headers=manager.write_headers())
    assert r.status_code == 200 and r.get_json()["end"] == "17:00:00"
    r = client.patch(f"{API}/plans/{plans[0]['id']}", json={"end": "08:30"},
                     headers=manager.write_headers())
    assert r.status_code == 400
    listed = client.get(f"{API}/plans?month=2025-06&staff_id={cashier.id}",
                        headers=manager.headers).get_json()
    assert [(p["start"], p["end"]) for p in listed] == [("09:00:00", "17:00:00"),
                                                        ("10:00:00", "18:00:00")]
    r = client.delete(f"{API}/plans/{plans[1]['id']}", headers=manager.write_headers())
    assert r.status_code == 204
    assert len(client.get(f"{API}/plans?month=2025-06", headers=manager.headers)
               .get_json()) == 1
    actions = list(db_session.scalars(select(AuditLog.action).where(
        AuditLog.action.like("attendance.plan%")).order_by(AuditLog.id)))
    assert actions == ["attendance.plan", "attendance.plan", "attendance.plan_update",
                       "attendance.plan_delete"]
    assert client.get(f"{API}/summary?month=2025-06", headers=cashier.headers).status_code == 403
    assert client.get(f"{API}/summary?month=2025-13", headers=owner.headers).status_code == 400


# --- the month -------------------------------------------------------------------------------
@pytest.fixture
def shanghai(app, monkeypatch):
    config = app.extensions["lanpos"].config
    monkeypatch.setattr(config, "shop", type(config.shop)(name=config.shop.name, timezone=SH))
    return shop_clock(config)


JUNE = "2025-06"  # June 2025: the 1st is a Sunday; 21 weekdays
NORMAL = [11, 12, 13, 19, 20, 23, 24, 25, 26, 27, 30]  # 09:00, break 12:00–13:00, 18:00
SPECIAL: dict[int, list[tuple[str, str]]] = {  # (action, "HH:MM" on the day, or "+1 HH:MM")
    2: [("in", "08:58"), ("break_start", "12:00"), ("break_end", "12:45"), ("out", "18:03")],
    3: [("in", "09:04"), ("out", "17:56")],     # within the 5 minutes of grace both ends
    4: [("in", "09:20"), ("out", "18:00")],     # late 20
    5: [("in", "09:00"), ("out", "17:30")],     # early 30
    6: [("in", "09:00")],                       # no clock-out
    # 9: planned, nobody came — absent
    10: [("in", "09:06"), ("out", "18:00")],    # late 6 (just past the grace)
    14: [("in", "10:00"), ("out", "14:00")],    # a Saturday, not planned
    16: [("in", "09:00"), ("out", "12:00"), ("in", "13:00"), ("out", "17:50")],  # early 10
    17: [("in", "09:00"), ("out", "+1 00:30")],  # out after midnight: the 17th's
    18: [("in", "09:10"), ("out", "18:00")],    # late 10
}


def _load_june(app, shanghai, staff_id: int, username: str, recorder) -> None:
    """The month through the domain's own clock action (its real state machine), at the
    times of the table above."""
    state = app.extensions["lanpos"]
    actor = Actor(staff_id=recorder.id, username=recorder.username, role=recorder.role,
                  counter="01", ip="127.0.0.1")
    days = {d: [("in", "09:00"), ("break_start", "12:00"), ("break_end", "13:00"),
                ("out", "18:00")] for d in NORMAL} | SPECIAL
    with state.session_factory() as s:
        for day in sorted(days):
            for action, hhmm in days[day]:
                extra = 1 if hhmm.startswith("+1 ") else 0
                t = dt.datetime.combine(dt.date(2025, 6, day + extra),
                                        dt.time.fromisoformat(hhmm.removeprefix("+1 ")))
                attendance.clock_action(s, actor, state.passwords, state.auth_policy,
                                        shanghai, username, TEST_PASSWORD, action,
                                        now=shanghai.to_stored(t))
        s.commit()


WEEKDAYS = [d for d in range(1, 31) if dt.date(2025, 6, d).weekday() < 5]


@pytest.fixture
def june(app, client, shanghai, owner, manager, cashier):
    r = client.post(f"{API}/plans", json={
        "staff_id": cashier.id, "dates": [f"2025-06-{d:02d}" for d in WEEKDAYS],
        "start": "09:00", "end": "18:00", "break_minutes": 60},
        headers=manager.write_headers())
    assert r.status_code == 201 and len(r.get_json()) == 21
    _load_june(app, shanghai, cashier.id, "cash", cashier)
    return cashier


#: counted by hand from the table above
HAND = {
    "planned_days": 21, "planned_minutes": 21 * 480,
    # 11 normal days + the 2nd … 18th with a clock-in (not the 9th)
    "days_worked": 21,
    # normal 11 × 480; 2nd 545−45=500; 3rd 532; 4th 520; 5th 510; 6th 0 (no clock-out);
    # 10th 534; 14th 240; 16th 180+290=470; 17th 930; 18th 530
    "worked_minutes": 11 * 480 + 500 + 532 + 520 + 510 + 534 + 240 + 470 + 930 + 530,
    "break_minutes": 11 * 60 + 45,
    "late": 3, "late_minutes": 20 + 6 + 10,
    "early": 2, "early_minutes": 30 + 10,
    "missing_out": 1, "absent": 1, "corrections": 0,
}


def _row(summary: dict, staff_id: int) -> dict:
    return next(r for r in summary["staff"] if r["staff_id"] == staff_id)


def test_the_month_equals_a_hand_count(client, owner, june):
    r = client.get(f"{API}/summary?month={JUNE}", headers=owner.headers)
    assert r.status_code == 200, r.get_json()
    s = r.get_json()
    assert s["grace_minutes"] == 5 and s["first_day"] == "2025-06-01"
    assert s["last_day"] == "2025-06-30"
    row = _row(s, june.id)
    assert {k: row[k] for k in HAND} == HAND
    assert HAND["worked_minutes"] == 10046  # the sum, once more by hand
    # every active staff member has a row; the totals are the rows summed
    assert {r["username"] for r in s["staff"]} == {"boss", "mgr", "cash"}
    assert _row(s, owner.id)["days_worked"] == 0
    assert s["totals"] == {k: sum(r[k] for r in s["staff"]) for k in s["totals"]}
    # the day list agrees with the month
    d = client.get(f"{API}/days?month={JUNE}&staff_id={june.id}",
                   headers=owner.headers).get_json()
    assert d["figures"] == {k: row[k] for k in d["figures"]}
    by_day = {x["date"]: x for x in d["days"]}
    assert len(by_day) == 22  # 21 planned days and the Saturday
    assert by_day["2025-06-04"]["late"] and by_day["2025-06-04"]["late_minutes"] == 20
    assert by_day["2025-06-06"]["missing_out"] and by_day["2025-06-06"]["worked_minutes"] == 0
    assert by_day["2025-06-09"]["absent"] and by_day["2025-06-09"]["punches"] == []
    assert by_day["2025-06-14"]["plan"] is None and by_day["2025-06-14"]["worked_minutes"] == 240
    seventeenth = by_day["2025-06-17"]
    assert [p["local_time"] for p in seventeenth["punches"]] == [
        "2025-06-17T09:00:00", "2025-06-18T00:30:00"]  # shop time
    assert seventeenth["punches"][0]["at"].startswith("2025-06-17T01:00:00")  # UTC
    assert not seventeenth["early"] and seventeenth["worked_minutes"] == 930


def test_the_grace_setting_changes_the_count(client, owner, manager, june):
    r = client.put(f"{API}/settings", json={"grace_minutes": 10}, headers=manager.write_headers())
    assert r.status_code == 403  # the owner's
    r = client.put(f"{API}/settings", json={"grace_minutes": 10}, headers=owner.write_headers())
    assert r.status_code == 200
    row = _row(client.get(f"{API}/summary?month={JUNE}", headers=owner.headers).get_json(),
               june.id)
    assert (row["late"], row["late_minutes"]) == (1, 20)  # 6 and 10 minutes are on time now
    assert (row["early"], row["early_minutes"]) == (1, 30)


def _punch(client, owner, staff_id: int, date: str, kind: str) -> dict:
    d = client.get(f"{API}/days?month={JUNE}&staff_id={staff_id}",
                   headers=owner.headers).get_json()
    day = next(x for x in d["days"] if x["date"] == date)
    return next(p for p in day["punches"] if p["kind"] == kind)


def test_corrections_are_audited_and_reflected(client, owner, manager, june, db_session):
    add = {"staff_id": june.id, "action": "add", "kind": "out", "at": "2025-06-06T18:00",
           "reason": "忘记打下班卡，店长确认 18:00 离店"}
    r = client.post(f"{API}/corrections", json=add, headers=manager.write_headers())
    assert r.status_code == 201, r.get_json()
    added = r.get_json()
    assert added["business_date"] == "2025-06-06" and added["by"] == "mgr"
    assert added["after_local"] == "2025-06-06T18:00:00" and added["before_local"] is None
    old_in = _punch(client, owner, june.id, "2025-06-04", "in")
    change = {"staff_id": june.id, "action": "change", "punch_id": old_in["id"],
              "at": "2025-06-04T09:00", "reason": "系统故障，实际 9 点到店"}
    r = client.post(f"{API}/corrections", json=change, headers=manager.write_headers())
    assert r.status_code == 201, r.get_json()
    # the changed punch stays (append-only), replaced by the correction's
    old = db_session.get(AttendancePunch, old_in["id"])
    assert old is not None and old.kind == "in"
    new_in = _punch(client, owner, june.id, "2025-06-04", "in")
    assert new_in["local_time"] == "2025-06-04T09:00:00" and new_in["source"] == "correction"
    row = _row(client.get(f"{API}/summary?month={JUNE}", headers=owner.headers).get_json(),
               june.id)
    assert row["missing_out"] == 0 and row["corrections"] == 2
    assert (row["late"], row["late_minutes"]) == (2, 16)
    assert row["worked_minutes"] == HAND["worked_minutes"] + 540 + 20
    # audited with before / after and the reason
    entries = list(db_session.scalars(select(AuditLog).where(
        AuditLog.action == "attendance.correct").order_by(AuditLog.id)))
    assert [e.reason for e in entries] == [add["reason"], change["reason"]]
    assert entries[0].before is None and entries[0].after["at"] == "2025-06-06 18:00:00"
    assert entries[1].before["at"] == "2025-06-04 09:20:00"
    assert entries[1].after["at"] == "2025-06-04 09:00:00"
    assert entries[1].entity_id == str(june.id) and entries[1].username == "mgr"
    listed = client.get(f"{API}/corrections?month={JUNE}", headers=owner.headers).get_json()
    assert [c["action"] for c in listed] == ["add", "change"]
    # the same punch cannot be changed twice; the replacing one can
    r = client.post(f"{API}/corrections", json=change, headers=manager.write_headers())
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "punch_already_corrected"
    # removing a punch
    r = client.post(f"{API}/corrections", json={
        "staff_id": june.id, "action": "remove", "punch_id": added["punch_id"],
        "reason": "补录错了"}, headers=owner.write_headers())
    assert r.status_code == 201
    row = _row(client.get(f"{API}/summary?month={JUNE}", headers=owner.headers).get_json(),
               june.id)
    assert row["missing_out"] == 1 and row["corrections"] == 3


def test_corrections_that_do_not_fit_are_refused(client, owner, manager, june, db_session):
    before = db_session.scalar(select(func.count()).select_from(AttendancePunch))

    def post(body: dict, who=manager):
        return client.post(f"{API}/corrections", json={"staff_id": june.id, "reason": "测试",
                                                        **body}, headers=who.write_headers())

    r = post({"action": "add", "kind": "in", "at": "2025-06-02T10:00"})  # in while working
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "attendance_sequence_invalid"
    assert "上班" in r.get_json()["error"]["message"]
    r = post({"action": "add", "kind": "break_end", "at": "2025-06-03T12:00"})
    assert r.status_code == 422
    r = post({"action": "add", "kind": "out", "at": "2999-01-01T18:00"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "punch_in_future"
    r = post({"action": "add", "kind": "out", "at": "2025-06-06T18:00",
              "business_date": "2025-06-01"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "punch_outside_day"
    r = post({"action": "change", "at": "2025-06-06T18:00"})  # which punch?
    assert r.status_code == 400
    r = post({"action": "add", "kind": "out", "at": "2025-06-06T18:00", "reason": ""})
    assert r.status_code == 400 and "reason" in r.get_json()["error"]["fields"]
    assert db_session.scalar(select(func.count()).select_from(AttendancePunch)) == before
    assert db_session.scalar(select(func.count()).select_from(AttendanceCorrection)) == 0


def test_who_may_correct(client, owner, manager, cashier, db_session):
    day = {"action": "add", "kind": "in", "at": "2025-06-02T09:00", "reason": "补打卡"}
    r = client.post(f"{API}/corrections", json={"staff_id": cashier.id, **day},
                    headers=cashier.write_headers())
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    r = client.post(f"{API}/corrections", json={"staff_id": manager.id, **day},
                    headers=manager.write_headers())
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "correct_own_attendance"
    r = client.post(f"{API}/corrections", json={"staff_id": owner.id, **day},
                    headers=manager.write_headers())
    assert r.status_code == 403
    # the owner corrects anyone, themselves included
    for who in (manager, owner):
        r = client.post(f"{API}/corrections", json={"staff_id": who.id, **day},
                        headers=owner.write_headers())
        assert r.status_code == 201, r.get_json()
    assert db_session.scalar(select(func.count()).select_from(AttendanceCorrection)) == 2


def test_a_forgotten_clock_out_does_not_lock_anyone_out(app, client, cashier, db_session):
    """A session open longer than 16 hours is a missing clock-out; the next clock-in starts
    a new session."""
    state = app.extensions["lanpos"]
    clock_ = shop_clock(state.config)
    actor = Actor(staff_id=cashier.id, username="cash", role=Role.CASHIER, counter="01")
    yesterday = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=20)
    with state.session_factory() as s:
        attendance.clock_action(s, actor, state.passwords, state.auth_policy, clock_, "cash",
                                TEST_PASSWORD, "in", now=yesterday)
        s.commit()
    r = clock(client, cashier, "cash", TEST_PASSWORD, "out")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_clocked_in"
    r = clock(client, cashier, "cash", TEST_PASSWORD, "in")
    assert r.status_code == 201
    assert [p.kind for p in punches(db_session, cashier.id)] == ["in", "in"]


def test_the_counter_list_shows_who_is_in(client, cashier, make_staff):
    make_staff(Role.CASHIER, "anna")
    assert clock(client, cashier, "cash", TEST_PASSWORD, "in").status_code == 201
    r = client.get(f"{API}/staff", headers=cashier.headers)
    assert r.status_code == 200
    states = {s["username"]: (s["state"], s["since"] is not None) for s in r.get_json()}
    assert states == {"cash": ("working", True), "anna": ("off", False)}
