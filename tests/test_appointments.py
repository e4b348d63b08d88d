"""Appointments (预约, #18 §1) through the API on the real database: hours, overlaps, "anyone",
group-class capacity, moves and cancellations with reasons (audited), check-in to a sale with
the booked stylist's commission or a count-card use, no-shows counted per member, roles,
masked phones and bad input."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from server.db.appointments import Appointment
from server.db.members import MemberCountCard
from server.db.models import AuditLog
from server.db.sales import CommissionLedger, Sale
from tests.conftest import open_shift
from tests.support.salon import API, at, book, freeze, make_salon, post


def _err(r, status: int, code: str) -> str:
    assert r.status_code == status, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == code, err
    return err["message"]


def test_hours_and_overlaps_for_one_stylist(client, manager, cashier, make_staff, monkeypatch,
                                            app, db_session):
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    d = s.day
    a = book(client, cashier, [s.wash["id"]], at(d, "10:00"), s.amei.id)
    assert (a["local_start"], a["local_end"]) == (at(d, "10:00"), at(d, "11:00"))
    assert a["staff_name"] == "阿美" and a["status"] == "booked" and not a["any_staff"]
    assert [x["name"] for x in a["services"]] == ["洗剪吹"]

    # 10:30 overlaps 10:00–11:00: refused, saying who and when
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json={
        "product_ids": [s.wash["id"]], "starts_at": at(d, "10:30"), "staff_id": s.amei.id,
        "customer_name": "李先生", "phone": "13700001111"})
    msg = _err(r, 409, "booking_conflict")
    assert "阿美" in msg and "10:00–11:00" in msg and "王女士" in msg
    # an overlap from before (09:30 + 90 min would also be before her hours) and a
    # touching booking: 11:00 starts when 10:00's ends
    b = book(client, cashier, [s.wash["id"], s.dye["id"]], at(d, "11:00"), s.amei.id)
    assert b["local_end"] == at(d, "13:30")  # 60 + 90 minutes, one after the other
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json={
        "product_ids": [s.wash["id"]], "starts_at": at(d, "13:00"), "staff_id": s.amei.id,
        "customer_name": "李先生", "phone": "13700001111"})
    _err(r, 409, "booking_conflict")
    # another stylist at the same time is free
    book(client, cashier, [s.wash["id"]], at(d, "10:30"), s.xiaobo.id)
    # outside the weekly hours 10:00–19:00
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json={
        "product_ids": [s.dye["id"]], "starts_at": at(d, "18:00"), "staff_id": s.amei.id,
        "customer_name": "李先生", "phone": "13700001111"})
    msg = _err(r, 409, "booking_outside_hours")
    assert "10:00–19:00" in msg and "18:00–19:30" in msg
    # a planned shift (排班) that day takes the place of the weekly hours
    r = client.post(f"{API}/attendance/plans", headers=manager.write_headers(), json={
        "staff_id": s.xiaobo.id, "dates": [(d + dt.timedelta(days=1)).isoformat()],
        "start": "14:00", "end": "18:00"})
    assert r.status_code == 201, r.get_json()
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json={
        "product_ids": [s.wash["id"]], "starts_at": at(d + dt.timedelta(days=1), "10:00"),
        "staff_id": s.xiaobo.id, "customer_name": "李先生", "phone": "13700001111"})
    assert "14:00–18:00" in _err(r, 409, "booking_outside_hours")
    book(client, cashier, [s.wash["id"]], at(d + dt.timedelta(days=1), "14:00"), s.xiaobo.id)
    # a weekday off (Tuesday not in work_days)
    r = client.patch(f"{API}/staff/{s.amei.id}", json={"work_days": 0b1111101},
                     headers=manager.write_headers())
    assert r.status_code == 200 and r.get_json()["work_days"] == 0b1111101
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json={
        "product_ids": [s.wash["id"]], "starts_at": at(d + dt.timedelta(days=1), "10:00"),
        "staff_id": s.amei.id, "customer_name": "李先生", "phone": "13700001111"})
    assert "阿美" in _err(r, 409, "booking_day_off")
    assert db_session.scalar(select(Appointment.id).where(
        Appointment.customer_name == "李先生")) is None  # nothing half-written


def test_anyone_gets_a_free_stylist_who_does_the_service(client, manager, cashier, make_staff,
                                                         monkeypatch, app):
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    d = s.day
    first = book(client, cashier, [s.wash["id"]], at(d, "10:00"))
    assert first["any_staff"] and first["staff_id"] in (s.amei.id, s.xiaobo.id)
    second = book(client, cashier, [s.wash["id"]], at(d, "10:00"))
    assert {first["staff_id"], second["staff_id"]} == {s.amei.id, s.xiaobo.id}
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json={
        "product_ids": [s.wash["id"]], "starts_at": at(d, "10:30"),
        "customer_name": "李先生", "phone": "13700001111"})
    assert "10:30–11:30" in _err(r, 409, "booking_no_staff_free")
    # the dye is only 小波's: anyone gets him; 阿美 by name is refused
    r = client.patch(f"{API}/products/{s.dye['id']}", json={"staff_ids": [s.xiaobo.id]},
                     headers=manager.write_headers())
    assert r.status_code == 200 and r.get_json()["staff_ids"] == [s.xiaobo.id]
    got = book(client, cashier, [s.dye["id"]], at(d, "14:00"))
    assert got["staff_id"] == s.xiaobo.id
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json={
        "product_ids": [s.dye["id"]], "starts_at": at(d, "16:00"), "staff_id": s.amei.id,
        "customer_name": "李先生", "phone": "13700001111"})
    msg = _err(r, 422, "staff_cannot_serve")
    assert "阿美" in msg and "染发" in msg
    # fairness: with both free, anyone goes to who has fewer bookings that day
    r = client.patch(f"{API}/products/{s.dye['id']}", json={"staff_ids": []},
                     headers=manager.write_headers())
    assert r.status_code == 200
    loads = {s.amei.id: 1, s.xiaobo.id: 2}
    nxt = book(client, cashier, [s.wash["id"]], at(d, "17:00"))
    assert nxt["staff_id"] == min(loads, key=loads.get)


def test_a_group_class_takes_its_capacity_and_no_more(client, manager, cashier, make_staff,
                                                      monkeypatch, app):
    s = make_salon(client, manager, make_staff, monkeypatch, app, capacity=2)
    d = s.day
    member = post(client, cashier, "/members", {"name": "张三", "phone": "13800001234"})
    one = book(client, cashier, [s.yoga["id"]], at(d, "19:00"), member_id=member["id"])
    assert one["staff_id"] is None and one["class_product_id"] == s.yoga["id"]
    assert one["customer_name"] == "张三"
    book(client, cashier, [s.yoga["id"]], at(d, "19:00"))
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json={
        "product_ids": [s.yoga["id"]], "starts_at": at(d, "19:00"),
        "customer_name": "李先生", "phone": "13700001111"})
    msg = _err(r, 409, "class_full")
    assert "瑜伽团课" in msg and "2 人" in msg
    # another day's class has its own places; the class is at its time only, and alone
    book(client, cashier, [s.yoga["id"]], at(d + dt.timedelta(days=1), "19:00"))
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json={
        "product_ids": [s.yoga["id"]], "starts_at": at(d, "18:00"),
        "customer_name": "李先生", "phone": "13700001111"})
    assert "19:00" in _err(r, 422, "class_wrong_time")
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json={
        "product_ids": [s.yoga["id"], s.wash["id"]], "starts_at": at(d, "19:00"),
        "customer_name": "李先生", "phone": "13700001111"})
    _err(r, 422, "class_alone")
    # a cancelled place is free again
    r = client.post(f"{API}/appointments/{one['id']}/cancel", json={"reason": "临时有事"},
                    headers=cashier.write_headers())
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    book(client, cashier, [s.yoga["id"]], at(d, "19:00"))
    day = client.get(f"{API}/appointments/day", query_string={"date": d.isoformat()},
                     headers=cashier.headers).get_json()
    assert [(c["name"], c["booked"], c["capacity"]) for c in day["classes"]] == [
        ("瑜伽团课", 2, 2)]


def test_move_and_cancel_need_a_reason_and_are_audited(client, manager, cashier, make_staff,
                                                       monkeypatch, app, db_session):
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    d = s.day
    a = book(client, cashier, [s.wash["id"]], at(d, "10:00"), s.amei.id)
    b = book(client, cashier, [s.wash["id"]], at(d, "12:00"), s.amei.id)
    r = client.post(f"{API}/appointments/{a['id']}/move", headers=cashier.write_headers(),
                    json={"starts_at": at(d, "11:00")})
    assert r.status_code == 400 and "reason" in r.get_json()["error"]["fields"]
    # onto the 12:00 booking: refused; the old slot is not its own conflict
    r = client.post(f"{API}/appointments/{a['id']}/move", headers=cashier.write_headers(),
                    json={"starts_at": at(d, "11:30"), "reason": "客人晚到"})
    _err(r, 409, "booking_conflict")
    r = client.post(f"{API}/appointments/{a['id']}/move", headers=cashier.write_headers(),
                    json={"starts_at": at(d, "10:30"), "reason": "客人晚到"})
    assert r.status_code == 200, r.get_json()
    moved = r.get_json()
    assert (moved["local_start"], moved["moves"], moved["reason"]) == (at(d, "10:30"), 1,
                                                                       "客人晚到")
    # to another stylist
    r = client.post(f"{API}/appointments/{b['id']}/move", headers=cashier.write_headers(),
                    json={"starts_at": at(d, "12:00"), "staff_id": s.xiaobo.id,
                          "reason": "阿美请假"})
    assert r.status_code == 200 and r.get_json()["staff_name"] == "小波"
    # 阿美 has 10:30–11:30 now and 12:00 went to 小波: 11:30 is free for her
    book(client, cashier, [s.wash["id"]], at(d, "11:30"), s.amei.id)
    r = client.post(f"{API}/appointments/{a['id']}/cancel", headers=cashier.write_headers(),
                    json={"reason": ""})
    assert r.status_code == 400
    r = client.post(f"{API}/appointments/{a['id']}/cancel", headers=cashier.write_headers(),
                    json={"reason": "客人改天"})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    for action in ("cancel", "move"):
        r = client.post(f"{API}/appointments/{a['id']}/{action}",
                        headers=cashier.write_headers(),
                        json={"reason": "再来", "starts_at": at(d, "15:00")}
                        if action == "move" else {"reason": "再来"})
        assert "已取消" in _err(r, 409, "booking_not_open")
    rows = db_session.scalars(select(AuditLog).where(
        AuditLog.entity == "appointment", AuditLog.entity_id == str(a["id"]))
        .order_by(AuditLog.id)).all()
    assert [(x.action, x.reason) for x in rows] == [
        ("appointment.create", None), ("appointment.move", "客人晚到"),
        ("appointment.cancel", "客人改天")]
    assert rows[1].before["starts_at"] != rows[1].after["starts_at"]
    assert rows[2].after["status"] == "cancelled"
    r = client.post(f"{API}/appointments/999999/cancel", headers=cashier.write_headers(),
                    json={"reason": "x"})
    _err(r, 404, "not_found")


def test_check_in_rings_the_services_with_the_stylists_commission(
        client, manager, cashier, make_staff, monkeypatch, app, db_session, assert_invariants):
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    d = s.day
    member = post(client, cashier, "/members", {"name": "张三", "phone": "13800001234"})
    a = book(client, cashier, [s.wash["id"], s.dye["id"]], at(d, "10:00"), s.amei.id,
             member_id=member["id"])
    # not on another day
    tomorrow = book(client, cashier, [s.wash["id"]], at(d + dt.timedelta(days=1), "10:00"),
                    s.amei.id)
    r = client.post(f"{API}/appointments/{tomorrow['id']}/check-in",
                    headers=cashier.write_headers())
    _err(r, 409, "booking_not_today")
    freeze(monkeypatch, app, dt.datetime.combine(d, dt.time(9, 55)))
    r = client.post(f"{API}/appointments/{a['id']}/check-in", headers=cashier.write_headers())
    assert r.status_code == 200, r.get_json()
    res = r.get_json()
    assert res["appointment"]["status"] == "checked_in"
    assert [(ln["product_id"], ln["staff_id"], ln["staff_name"], ln["count_card_id"])
            for ln in res["lines"]] == [(s.wash["id"], s.amei.id, "阿美", None),
                                        (s.dye["id"], s.amei.id, "阿美", None)]
    again = client.post(f"{API}/appointments/{a['id']}/check-in",
                        headers=cashier.write_headers())
    assert "已到店" in _err(again, 409, "booking_not_open")
    # the counter rings the lines as they came: the normal sale pays 阿美
    open_shift(client, cashier)
    sid = str(uuid.uuid4())
    lines = [{"product_id": ln["product_id"], "qty": 1,
              "staff": [{"staff_id": ln["staff_id"], "share_bp": 10000}]}
             for ln in res["lines"]]
    r = client.post(f"{API}/sales", headers=cashier.write_headers(sid), json={
        "id": sid, "member_id": member["id"], "lines": lines,
        "payments": [{"method": "cash", "amount": 8800 + 26800}]})
    assert r.status_code == 201, r.get_json()
    sale = db_session.scalars(select(Sale).where(Sale.uuid == sid)).one()
    comm = sorted((c.staff_id, c.base_amount, c.amount) for c in db_session.scalars(
        select(CommissionLedger).where(CommissionLedger.sale_id == sale.id)))
    assert comm == [(s.amei.id, 8800, 1760), (s.amei.id, 26800, 3000)]
    assert_invariants()


def test_check_in_uses_the_members_count_card(client, manager, cashier, make_staff,
                                              monkeypatch, app, db_session, assert_invariants):
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    d = s.day
    member = post(client, cashier, "/members", {"name": "张三", "phone": "13800001234"})
    open_shift(client, cashier)
    tpl = post(client, manager, "/count-card-templates", {
        "name": "洗剪吹10次卡", "product_id": s.wash["id"], "service_name": "洗剪吹",
        "uses": 10, "validity_days": 365, "price": 60000})
    card = post(client, cashier, "/count-cards", {
        "member_id": member["id"], "template_id": tpl["id"], "method": "cash"})
    a = book(client, cashier, [s.wash["id"], s.dye["id"]], at(d, "15:00"), s.xiaobo.id,
             member_id=member["id"])
    freeze(monkeypatch, app, dt.datetime.combine(d, dt.time(15, 5)))
    res = post(client, cashier, f"/appointments/{a['id']}/check-in", status=200)
    assert [(ln["product_id"], ln["count_card_id"], ln["count_card_name"])
            for ln in res["lines"]] == [(s.wash["id"], card["id"], "洗剪吹10次卡"),
                                        (s.dye["id"], None, None)]
    sid = str(uuid.uuid4())
    lines = [{"product_id": ln["product_id"], "qty": 1,
              "staff": [{"staff_id": ln["staff_id"], "share_bp": 10000}],
              **({"count_card_id": ln["count_card_id"]} if ln["count_card_id"] else {})}
             for ln in res["lines"]]
    r = client.post(f"{API}/sales", headers=cashier.write_headers(sid), json={
        "id": sid, "member_id": member["id"], "lines": lines,
        "payments": [{"method": "cash", "amount": 26800}]})  # the wash is on the card
    assert r.status_code == 201, r.get_json()
    db_session.rollback()
    assert db_session.get(MemberCountCard, card["id"]).remaining_uses == 9
    assert_invariants()


def test_no_shows_are_marked_by_a_manager_and_counted_on_the_member(
        client, manager, cashier, make_staff, monkeypatch, app, assert_invariants):
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    d = s.day
    member = post(client, cashier, "/members", {"name": "张三", "phone": "13800001234"})
    a = book(client, cashier, [s.wash["id"]], at(d, "10:00"), s.amei.id, member_id=member["id"])
    b = book(client, cashier, [s.wash["id"]], at(d, "14:00"), s.amei.id, member_id=member["id"])
    r = client.post(f"{API}/appointments/{a['id']}/no-show", headers=manager.write_headers())
    assert "还没开始" in _err(r, 409, "no_show_too_early")
    freeze(monkeypatch, app, dt.datetime.combine(d, dt.time(16, 0)))
    r = client.post(f"{API}/appointments/{a['id']}/no-show", headers=cashier.write_headers())
    _err(r, 403, "forbidden")
    for x in (a, b):
        r = client.post(f"{API}/appointments/{x['id']}/no-show", headers=manager.write_headers())
        assert r.status_code == 200 and r.get_json()["status"] == "no_show"
        assert r.get_json()["no_show_count"] >= 1
    m = client.get(f"{API}/members/{member['id']}", headers=cashier.headers).get_json()
    assert m["no_show_count"] == 2
    found = client.get(f"{API}/members", query_string={"q": "1234"},
                       headers=cashier.headers).get_json()["items"]
    assert [x["no_show_count"] for x in found] == [2]
    assert_invariants()  # the cached count equals the no-show bookings


def test_lists_to_call_mask_the_phone_for_a_cashier(client, owner, manager, cashier,
                                                    make_staff, monkeypatch, app):
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    d = s.day
    member = post(client, cashier, "/members", {"name": "张三", "phone": "13800001234"})
    book(client, cashier, [s.wash["id"]], at(d, "10:00"), s.amei.id, member_id=member["id"])
    book(client, cashier, [s.wash["id"]], at(d, "11:00"), s.amei.id)
    book(client, cashier, [s.wash["id"]], at(d + dt.timedelta(days=1), "11:00"), s.amei.id)
    # today (the frozen day) and tomorrow, as the front desk calls them
    today = client.get(f"{API}/appointments", headers=cashier.headers).get_json()
    assert [(x["customer_name"], x["phone"]) for x in today["items"]] == [
        ("张三", "138****1234"), ("王女士", "139****5678")]
    assert today["has_more"] is False
    full = client.get(f"{API}/appointments", headers=manager.headers).get_json()
    assert [x["phone"] for x in full["items"]] == ["13800001234", "13912345678"]
    tomorrow = client.get(f"{API}/appointments", headers=cashier.headers, query_string={
        "date": (d + dt.timedelta(days=1)).isoformat(), "status": "booked"}).get_json()
    assert len(tomorrow["items"]) == 1
    page = client.get(f"{API}/appointments", headers=owner.headers,
                      query_string={"page_size": 1}).get_json()
    assert len(page["items"]) == 1 and page["has_more"] is True
    day = client.get(f"{API}/appointments/day", headers=cashier.headers).get_json()
    assert day["date"] == d.isoformat() and day["slot_minutes"] == 30
    cols = {c["display_name"]: (c["start"], c["end"], c["source"]) for c in day["staff"]}
    assert cols["阿美"] == ("10:00:00", "19:00:00", "weekly")
    assert [x["phone"] for x in day["appointments"]] == ["138****1234", "139****5678"]
    assert client.get(f"{API}/appointments").status_code == 401


def test_bad_input_is_a_clear_4xx(client, manager, cashier, make_staff, monkeypatch, app):
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    d = s.day
    cola = post(client, manager, "/products", {"name": "可乐", "price": 300})
    plain = post(client, manager, "/products", {"name": "修眉", "kind": "service",
                                                "price": 2000})
    stranger = make_staff("cashier", "stranger")

    def try_(body, status, code):
        r = client.post(f"{API}/appointments", headers=cashier.write_headers(), json=body)
        return _err(r, status, code)

    base = {"product_ids": [s.wash["id"]], "starts_at": at(d, "10:00"), "staff_id": s.amei.id,
            "customer_name": "李先生", "phone": "13700001111"}
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(),
                    json={**base, "customer_name": None, "phone": None})
    assert r.status_code == 400 and "散客的姓名和电话" in str(r.get_json())
    r = client.post(f"{API}/appointments", headers=cashier.write_headers(),
                    json={**base, "starts_at": at(d, "10:03")})
    assert r.status_code == 400 and "5 分钟" in str(r.get_json())
    try_({**base, "product_ids": []}, 400, "validation_error")
    try_({**base, "phone": "abc"}, 400, "validation_error")
    assert "可乐" in try_({**base, "product_ids": [cola["id"]]}, 422, "service_not_bookable")
    assert "修眉" in try_({**base, "product_ids": [plain["id"]]}, 422, "service_not_bookable")
    try_({**base, "product_ids": [999_999]}, 422, "not_found")
    try_({**base, "member_id": 999_999}, 422, "not_found")
    try_({**base, "staff_id": stranger.id}, 422, "staff_not_bookable")
    try_({**base, "staff_id": 999_999}, 422, "not_found")
    try_({**base, "starts_at": at(d - dt.timedelta(days=1), "10:00")}, 422, "booking_in_past")
    # a product's booking fields: only a service, a class has capacity and time together
    r = client.post(f"{API}/products", headers=manager.write_headers(), json={
        "name": "团课X", "kind": "service", "price": 100, "duration_minutes": 60,
        "capacity": 5})
    assert r.status_code == 400 and "开课时间" in str(r.get_json())
    r = client.post(f"{API}/products", headers=manager.write_headers(), json={
        "name": "洗发水", "price": 100, "duration_minutes": 30})
    assert r.status_code == 400 and "只有服务项目" in str(r.get_json())
    r = client.patch(f"{API}/products/{s.wash['id']}", headers=manager.write_headers(),
                     json={"duration_minutes": 7})
    assert r.status_code == 400
    r = client.patch(f"{API}/staff/{s.amei.id}", headers=manager.write_headers(),
                     json={"work_start": "19:00"})
    assert r.status_code == 400 and "晚于开始" in str(r.get_json())
    r = client.patch(f"{API}/staff/{s.amei.id}", headers=manager.write_headers(),
                     json={"work_start": None})
    assert r.status_code == 400 and "同时填写" in str(r.get_json())
    # an idempotent replay books once
    key = str(uuid.uuid4())
    h = {**cashier.headers, "Idempotency-Key": key}
    r1 = client.post(f"{API}/appointments", headers=h, json={**base, "starts_at": at(d, "15:00")})
    r2 = client.post(f"{API}/appointments", headers=h, json={**base, "starts_at": at(d, "15:00")})
    assert r1.status_code == r2.status_code == 201 and r1.get_json()["id"] == r2.get_json()["id"]
