"""Activities (活动) against the real MariaDB: publish, free and paid sign-ups (a paid one
through the normal sale; refunding its line cancels it), check-in, cancel, capacity under
concurrency through the real waitress server, statistics, roles and bad input."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import requests
from sqlalchemy import select
from waitress import wasyncore

from server.db.activities import Activity, ActivitySignup
from server.db.models import AuditLog
from tests.conftest import LiveServer, open_shift

API = "/api/v1"


def _post(client, who, path, body=None, status=201):
    r = client.post(API + path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


def _err(r, status, code):
    assert r.status_code == status, r.get_json()
    body = r.get_json()["error"]
    assert body["code"] == code, body
    assert body["message"]  # something a cashier can read
    return body


def _when(days: float, hours: float = 2) -> tuple[str, str]:
    start = (dt.datetime.now() + dt.timedelta(days=days)).replace(microsecond=0, second=0)
    return start.isoformat(), (start + dt.timedelta(hours=hours)).isoformat()


def _activity(client, manager, *, price=0, capacity=10, days=2, title="插花课", **kw):
    starts, ends = _when(days)
    return _post(client, manager, "/activities", {
        "title": title, "kind": "class", "place": "二楼教室", "starts_at": starts,
        "ends_at": ends, "capacity": capacity, "price": price, **kw})


def _member(client, cashier, name="王芳", phone=None):
    phone = phone or f"139{uuid.uuid4().int % 10**8:08d}"
    return _post(client, cashier, "/members", {"name": name, "phone": phone})


def test_publish_list_and_edit_an_activity_audited(client, manager, cashier, db_session):
    a = _activity(client, manager, price=5000, capacity=12, description="自带剪刀")
    assert (a["taken"], a["left"], a["status"], a["price"]) == (0, 12, "open", 5000)
    page = client.get(f"{API}/activities?upcoming=true", headers=cashier.headers).get_json()
    assert [x["id"] for x in page["items"]] == [a["id"]] and page["has_more"] is False
    r = client.patch(f"{API}/activities/{a['id']}", json={"capacity": 15, "place": "大厅"},
                     headers=manager.write_headers())
    assert r.status_code == 200 and (r.get_json()["capacity"], r.get_json()["place"]) == (
        15, "大厅")
    actions = db_session.scalars(select(AuditLog.action).where(
        AuditLog.entity == "activity", AuditLog.entity_id == str(a["id"]))
        .order_by(AuditLog.id)).all()
    assert actions == ["activity.create", "activity.update"]


def test_roles_and_bad_input(client, manager, cashier):
    starts, ends = _when(2)
    body = {"title": "瑜伽", "starts_at": starts, "ends_at": ends, "capacity": 5}
    _err(client.post(f"{API}/activities", json=body, headers=cashier.write_headers()),
         403, "forbidden")
    _err(client.post(f"{API}/activities", json={**body, "ends_at": starts},
                     headers=manager.write_headers()), 400, "validation_error")
    _err(client.post(f"{API}/activities", json={**body, "capacity": 0},
                     headers=manager.write_headers()), 400, "validation_error")
    _err(client.post(f"{API}/activities", json={**body, "price": -1},
                     headers=manager.write_headers()), 400, "validation_error")
    _err(client.get(f"{API}/reports/activities?date_from=2026-01-01&date_to=2026-01-31",
                    headers=cashier.headers), 403, "forbidden")
    _err(client.get(f"{API}/activities/999999", headers=cashier.headers), 404, "not_found")
    a = _activity(client, manager)
    _err(client.patch(f"{API}/activities/{a['id']}", json={"capacity": 3},
                      headers=cashier.write_headers()), 403, "forbidden")
    _err(client.patch(f"{API}/activities/{a['id']}", json={"capacity": None},
                      headers=manager.write_headers()), 400, "validation_error")
    _err(client.post(f"{API}/activities/{a['id']}/signups", json={"member_id": 999999},
                     headers=cashier.write_headers()), 404, "not_found")
    # a sign-up is reached through its own activity only
    other = _activity(client, manager, title="另一个")
    m = _member(client, cashier)
    s = _post(client, cashier, f"/activities/{a['id']}/signups", {"member_id": m["id"]})
    _err(client.post(f"{API}/activities/{other['id']}/signups/{s['id']}/check-in",
                     headers=cashier.write_headers()), 404, "not_found")


def test_free_sign_up_check_in_and_cancel_frees_the_seat(client, manager, cashier,
                                                         db_session, assert_invariants):
    a = _activity(client, manager, capacity=1)
    m1, m2 = _member(client, cashier, "甲"), _member(client, cashier, "乙")
    s = _post(client, cashier, f"/activities/{a['id']}/signups", {"member_id": m1["id"]})
    assert s["status"] == "signed_up" and s["price"] == 0
    _err(client.post(f"{API}/activities/{a['id']}/signups", json={"member_id": m1["id"]},
                     headers=cashier.write_headers()), 409, "already_signed_up")
    full = _err(client.post(f"{API}/activities/{a['id']}/signups",
                            json={"member_id": m2["id"]}, headers=cashier.write_headers()),
                409, "activity_full")
    assert "报满" in full["message"]
    # cancel needs a reason; then the seat is free for the other member
    _err(client.post(f"{API}/activities/{a['id']}/signups/{s['id']}/cancel", json={},
                     headers=cashier.write_headers()), 400, "validation_error")
    c = _post(client, cashier, f"/activities/{a['id']}/signups/{s['id']}/cancel",
              {"reason": "临时有事"}, status=200)
    assert c["status"] == "cancelled" and c["cancel_reason"] == "临时有事"
    assert client.get(f"{API}/activities/{a['id']}", headers=cashier.headers
                      ).get_json()["left"] == 1
    s2 = _post(client, cashier, f"/activities/{a['id']}/signups", {"member_id": m2["id"]})
    ci = _post(client, cashier, f"/activities/{a['id']}/signups/{s2['id']}/check-in",
               status=200)
    assert ci["status"] == "checked_in" and ci["checked_in_at"]
    _err(client.post(f"{API}/activities/{a['id']}/signups/{s2['id']}/check-in",
                     headers=cashier.write_headers()), 409, "already_checked_in")
    _err(client.post(f"{API}/activities/{a['id']}/signups/{s2['id']}/cancel",
                     json={"reason": "x"}, headers=cashier.write_headers()),
         409, "signup_checked_in")
    # the first member may sign up again once a seat is free: capacity 2 now
    r = client.patch(f"{API}/activities/{a['id']}", json={"capacity": 2},
                     headers=manager.write_headers())
    assert r.status_code == 200
    again = _post(client, cashier, f"/activities/{a['id']}/signups", {"member_id": m1["id"]})
    assert again["id"] == s["id"] and again["status"] == "signed_up"
    # the capacity cannot go below the seats taken
    _err(client.patch(f"{API}/activities/{a['id']}", json={"capacity": 1},
                      headers=manager.write_headers()), 409, "activity_capacity_below_taken")
    db_session.rollback()
    assert db_session.get(Activity, a["id"]).taken == 2
    page = client.get(f"{API}/activities/{a['id']}/signups?status=checked_in",
                      headers=cashier.headers).get_json()
    assert [x["member_name"] for x in page["items"]] == ["乙"]
    actions = db_session.scalars(select(AuditLog.action).where(
        AuditLog.entity == "activity", AuditLog.entity_id == str(a["id"]))
        .order_by(AuditLog.id)).all()
    assert actions.count("activity.signup") == 3 and "activity.cancel" in actions
    assert "activity.check_in" in actions
    assert_invariants()


def test_ended_or_cancelled_activity_takes_no_sign_up(client, manager, cashier):
    m = _member(client, cashier)
    past = _activity(client, manager, days=-3)
    _err(client.post(f"{API}/activities/{past['id']}/signups", json={"member_id": m["id"]},
                     headers=cashier.write_headers()), 409, "activity_ended")
    a = _activity(client, manager)
    r = client.patch(f"{API}/activities/{a['id']}", json={"status": "cancelled"},
                     headers=manager.write_headers())
    assert r.status_code == 200
    _err(client.post(f"{API}/activities/{a['id']}/signups", json={"member_id": m["id"]},
                     headers=cashier.write_headers()), 409, "activity_cancelled")


def test_paid_sign_up_through_the_sale_and_refund_cancels_it(client, manager, cashier,
                                                              db_session, assert_invariants):
    a = _activity(client, manager, price=8800, capacity=3, title="会员日沙龙")
    m = _member(client, cashier)
    # a priced activity is not signed up for directly
    _err(client.post(f"{API}/activities/{a['id']}/signups", json={"member_id": m["id"]},
                     headers=cashier.write_headers()), 409, "activity_needs_payment")
    open_shift(client, cashier)
    line = [{"activity_id": a["id"], "qty": 1}]
    # it needs a member; one seat a line
    r = client.post(f"{API}/sales/quote", json={"lines": line}, headers=cashier.headers)
    _err(r, 422, "activity_needs_member")
    r = client.post(f"{API}/sales/quote", json={"lines": [{"activity_id": a["id"], "qty": 2}],
                                                 "member_id": m["id"]}, headers=cashier.headers)
    _err(r, 422, "activity_one_seat")
    q = client.post(f"{API}/sales/quote", json={"lines": line, "member_id": m["id"]},
                    headers=cashier.headers).get_json()
    assert q["total"] == 8800 and q["lines"][0]["name"] == "活动报名：会员日沙龙"
    sale_id = str(uuid.uuid4())
    r = client.post(f"{API}/sales", json={"id": sale_id, "lines": line, "member_id": m["id"],
                                           "payments": [{"method": "cash", "amount": 8800}]},
                    headers=cashier.write_headers(sale_id))
    assert r.status_code == 201, r.get_json()
    sale = r.get_json()
    assert sale["lines"][0]["activity_id"] == a["id"]
    signups = client.get(f"{API}/members/{m['id']}/activity-signups",
                         headers=cashier.headers).get_json()
    assert [(s["activity_id"], s["price"], s["status"]) for s in signups] == [
        (a["id"], 8800, "signed_up")]
    signup_id = signups[0]["id"]
    # the same member cannot buy a second seat
    r = client.post(f"{API}/sales", json={"id": str(uuid.uuid4()), "lines": line,
                                           "member_id": m["id"],
                                           "payments": [{"method": "cash", "amount": 8800}]},
                    headers=cashier.write_headers())
    _err(r, 409, "already_signed_up")
    # a paid sign-up is cancelled by a refund only
    body = _err(client.post(f"{API}/activities/{a['id']}/signups/{signup_id}/cancel",
                            json={"reason": "不来了"}, headers=cashier.write_headers()),
                409, "signup_paid_refund")
    assert sale["number"] in body["message"]
    r = client.post(f"{API}/sales/{sale_id}/refunds",
                    json={"id": str(uuid.uuid4()), "reason": "不来了"},
                    headers=manager.write_headers())
    assert r.status_code == 201, r.get_json()
    db_session.rollback()
    s = db_session.get(ActivitySignup, signup_id)
    assert s.status == "cancelled" and s.cancel_reason == "不来了"
    assert db_session.get(Activity, a["id"]).taken == 0
    day = dt.date.today()
    stats = client.get(f"{API}/reports/activities", headers=manager.headers, query_string={
        "date_from": (day - dt.timedelta(days=7)).isoformat(),
        "date_to": (day + dt.timedelta(days=7)).isoformat()}).get_json()
    row = next(i for i in stats["items"] if i["id"] == a["id"])
    assert (row["signups"], row["cancelled"], row["revenue"]) == (0, 1, 0)
    assert_invariants()


def test_statistics_sign_ups_attendance_and_revenue(client, manager, cashier, db_session):
    a = _activity(client, manager, price=3000, capacity=5, title="烘焙课")
    free = _activity(client, manager, capacity=5, title="会员日")
    open_shift(client, cashier)
    members = [_member(client, cashier, f"会员{i}") for i in range(3)]
    for m in members:
        sid = str(uuid.uuid4())
        r = client.post(f"{API}/sales", json={
            "id": sid, "lines": [{"activity_id": a["id"], "qty": 1}], "member_id": m["id"],
            "payments": [{"method": "wechat", "amount": 3000}]},
            headers=cashier.write_headers(sid))
        assert r.status_code == 201, r.get_json()
    s_free = [_post(client, cashier, f"/activities/{free['id']}/signups", {"member_id": m["id"]})
              for m in members[:2]]
    page = client.get(f"{API}/activities/{a['id']}/signups", headers=cashier.headers).get_json()
    _post(client, cashier, f"/activities/{a['id']}/signups/{page['items'][0]['id']}/check-in",
          status=200)
    _post(client, cashier, f"/activities/{free['id']}/signups/{s_free[0]['id']}/check-in",
          status=200)
    _post(client, cashier, f"/activities/{free['id']}/signups/{s_free[1]['id']}/cancel",
          {"reason": "改期"}, status=200)
    day = dt.date.today()
    stats = client.get(f"{API}/reports/activities", headers=manager.headers, query_string={
        "date_from": day.isoformat(), "date_to": (day + dt.timedelta(days=5)).isoformat()}
    ).get_json()
    by_id = {i["id"]: i for i in stats["items"]}
    assert (by_id[a["id"]]["signups"], by_id[a["id"]]["checked_in"],
            by_id[a["id"]]["revenue"]) == (3, 1, 9000)
    assert (by_id[free["id"]]["signups"], by_id[free["id"]]["checked_in"],
            by_id[free["id"]]["cancelled"], by_id[free["id"]]["revenue"]) == (1, 1, 1, 0)
    assert (stats["signups"], stats["checked_in"], stats["revenue"]) == (4, 2, 9000)
    _err(client.get(f"{API}/reports/activities?date_from=2026-02-01&date_to=2026-01-01",
                    headers=manager.headers), 400, "validation_error")


@pytest.fixture
def live(app):
    """conftest's live server, stopped from inside its own event loop (as in
    test_members_concurrency)."""
    srv = LiveServer(app, threads=24).start()
    try:
        yield srv
    finally:
        server = srv.server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        srv.thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        assert not srv.thread.is_alive()


def _race(n, fn):
    barrier = threading.Barrier(n)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        resp = fn(i)
        with lock:
            results.append((resp.status_code, resp.json()))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == n
    return results


def test_two_counters_last_free_seat_one_wins(client, live, manager, cashier, make_staff,
                                              db_session, assert_invariants):
    a = _activity(client, manager, capacity=3)
    members = [_member(client, cashier, f"抢{i}") for i in range(8)]
    other = make_staff("cashier", "cash2", counter_name="02")
    for m in members[:2]:
        _post(client, cashier, f"/activities/{a['id']}/signups", {"member_id": m["id"]})
    # one seat left; six members at two counters want it at the same moment
    who = [cashier, other]
    results = _race(6, lambda i: requests.post(
        f"{live.url}/activities/{a['id']}/signups", json={"member_id": members[2 + i]["id"]},
        headers=who[i % 2].write_headers(), timeout=60))
    ok = [b for s, b in results if s == 201]
    refused = [(s, b) for s, b in results if s != 201]
    assert len(ok) == 1, results
    assert all(s == 409 and b["error"]["code"] == "activity_full" for s, b in refused), refused
    db_session.rollback()
    assert db_session.get(Activity, a["id"]).taken == 3
    live_rows = db_session.scalars(select(ActivitySignup).where(
        ActivitySignup.activity_id == a["id"], ActivitySignup.status != "cancelled")).all()
    assert len(live_rows) == 3
    assert_invariants()


def test_verify_sees_places_out_of_step_with_the_sign_ups(client, manager, cashier,
                                                         db_session):
    from sqlalchemy import update

    from server.domain import activities

    a = _activity(client, manager, capacity=2)
    m = _member(client, cashier)
    _post(client, cashier, f"/activities/{a['id']}/signups", {"member_id": m["id"]})
    db_session.rollback()
    assert activities.check_seats(db_session) == []
    assert activities.check_paid_signups(db_session) == []
    db_session.execute(update(Activity).where(Activity.id == a["id"]).values(taken=3))
    problems = activities.check_seats(db_session)
    assert problems == [f"activity {a['id']}: taken 3 != 1 sign-ups",
                        f"activity {a['id']}: taken 3 > capacity 2"]
    db_session.rollback()


def test_two_counters_last_paid_seat_one_sale_wins(client, live, manager, cashier, make_staff,
                                                   db_session, assert_invariants):
    a = _activity(client, manager, capacity=1, price=2000)
    m1, m2 = _member(client, cashier, "快"), _member(client, cashier, "慢")
    other = make_staff("cashier", "cash3", counter_name="02")
    open_shift(client, cashier)
    open_shift(client, other)
    who, mids = [cashier, other], [m1["id"], m2["id"]]

    def sell(i: int):
        sid = str(uuid.uuid4())
        return requests.post(f"{live.url}/sales", json={
            "id": sid, "lines": [{"activity_id": a["id"], "qty": 1}], "member_id": mids[i],
            "payments": [{"method": "cash", "amount": 2000}]},
            headers=who[i].write_headers(sid), timeout=60)

    results = _race(2, sell)
    codes = sorted(s for s, _ in results)
    assert codes == [201, 409], results
    lost = next(b for s, b in results if s == 409)
    assert lost["error"]["code"] == "activity_full"
    db_session.rollback()
    assert db_session.get(Activity, a["id"]).taken == 1
    # the losing sale left nothing behind: one sale with an activity line
    from server.db.sales import SaleLine
    assert len(db_session.scalars(select(SaleLine).where(
        SaleLine.activity_id == a["id"])).all()) == 1
    assert_invariants()
