"""Checkout against the real MariaDB: quote, sales with mixed payments, refunds, held orders,
shifts, commission, approvals, and the concurrency bar through a real HTTP server."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import func, select

from common.schemas.base import Role
from server.db.catalog import Product, StockLedger
from server.db.members import Member, MemberCountCard, PointsLedger, StoredValueLedger
from server.db.sales import CommissionLedger, Sale, SaleLine
from server.domain import settings as settings_domain
from server.domain.actor import Actor
from tests.conftest import open_shift


@dataclass
class Shop:
    cola: dict
    shampoo: dict
    haircut: dict
    level: dict
    member: dict
    other_member: dict
    template: dict
    coupon: dict


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


@pytest.fixture
def shop(client, manager, cashier) -> Shop:
    cat = _post(client, manager, "/api/v1/categories", {"name": "饮料"})
    cola = _post(client, manager, "/api/v1/products", {
        "name": "可口可乐 330ml", "price": 350, "member_price": 300, "category_id": cat["id"],
        "barcodes": ["6901234567892"], "track_stock": True, "opening_stock": 10})
    shampoo = _post(client, manager, "/api/v1/products", {
        "name": "洗发水", "price": 5800, "track_stock": True, "opening_stock": 5, "cost": 3000})
    haircut = _post(client, manager, "/api/v1/products", {
        "name": "精剪", "kind": "service", "price": 3000, "commission_kind": "percent",
        "commission_value": 2000})
    level = _post(client, manager, "/api/v1/levels", {
        "name": "金卡", "rank": 2, "discount_bp": 9000, "points_per_yuan": 2})
    member = _post(client, cashier, "/api/v1/members", {
        "name": "张三", "phone": "13800001234", "level_id": level["id"]})
    other = _post(client, cashier, "/api/v1/members", {"name": "李四", "phone": "13900005678"})
    open_shift(client, cashier)  # counter 01 (every login of these tests) sells in a shift
    _post(client, cashier, f"/api/v1/members/{member['id']}/recharges",
          {"amount": 50000, "method": "cash"})
    _post(client, manager, f"/api/v1/members/{member['id']}/points",
          {"change": 1000, "reason": "开业赠送"})
    template = _post(client, manager, "/api/v1/count-card-templates", {
        "name": "精剪5次卡", "product_id": haircut["id"], "service_name": "精剪", "uses": 5,
        "validity_days": 365, "price": 12000})
    ctpl = _post(client, manager, "/api/v1/coupon-templates", {
        "name": "满50减10", "kind": "amount", "amount_fen": 1000, "threshold_fen": 5000})
    issued = _post(client, manager, "/api/v1/coupons",
                   {"template_id": ctpl["id"], "member_id": member["id"]})
    coupons = client.get(f"/api/v1/coupons?member_id={member['id']}",
                         headers=manager.headers).get_json()["items"]
    assert issued and coupons
    return Shop(cola, shampoo, haircut, level, member, other, template, coupons[0])


def _sale(client, who, lines, payments, status=201, key=None, **extra):
    sale_id = extra.pop("id", None) or str(uuid.uuid4())
    body = {"id": sale_id, "lines": lines, "payments": payments, **extra}
    r = client.post("/api/v1/sales", json=body, headers=who.write_headers(key or sale_id))
    assert r.status_code == status, r.get_json()
    return r.get_json()


def test_quote_uses_server_prices_and_member_level(client, cashier, shop, db_session):
    body = {"lines": [{"product_id": shop.cola["id"], "qty": 2},
                      {"product_id": shop.shampoo["id"], "qty": 1}]}
    q = client.post("/api/v1/sales/quote", json=body, headers=cashier.headers).get_json()
    assert q["total"] == 2 * 350 + 5800
    body["member_id"] = shop.member["id"]
    q = client.post("/api/v1/sales/quote", json=body, headers=cashier.headers).get_json()
    # cola: member price 3.00 beats 9折 3.15; shampoo: 9折 of 58.00 = 52.20
    assert [ln["amount"] for ln in q["lines"]] == [600, 5220]
    assert q["total"] == 5820 and q["member_discount"] == 100 + 580
    assert db_session.scalar(select(func.count()).select_from(Sale)) == 0


def test_walk_in_cash_sale_with_change(client, cashier, shop, db_session, assert_invariants):
    s = _sale(client, cashier, [{"product_id": shop.cola["id"], "qty": 3}],
              [{"method": "cash", "amount": 1050, "tendered": 2000}])
    assert re.fullmatch(r"\d{8}-01-0001", s["number"])
    assert s["total"] == 1050 and s["change"] == 950
    assert s["payments"][0]["label"] == "现金" and s["payments"][0]["change"] == 950
    assert s["lines"][0]["name"] == "可口可乐 330ml"
    assert s["member"] is None
    s2 = _sale(client, cashier, [{"product_id": shop.cola["id"], "qty": 1}],
               [{"method": "wechat", "amount": 350, "reference": "4200001234"}])
    assert s2["number"].endswith("-01-0002")
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    assert db_session.get(Product, shop.cola["id"]).stock == 6
    by_number = client.get(f"/api/v1/sales/{s['number']}", headers=cashier.headers).get_json()
    assert by_number["id"] == s["id"] and by_number["total"] == 1050
    assert_invariants()


def test_member_sale_split_stored_value_points_and_cash(client, cashier, shop, db_session,
                                                        assert_invariants):
    m = shop.member["id"]
    s = _sale(client, cashier,
              [{"product_id": shop.cola["id"], "qty": 2},
               {"product_id": shop.shampoo["id"], "qty": 1}],
              [{"method": "stored_value", "amount": 3000},
               {"method": "points", "amount": 500, "points": 500},
               {"method": "cash", "amount": 2320, "tendered": 2500}],
              member_id=m)
    assert s["total"] == 5820 and s["change"] == 180
    assert s["member"]["stored_value"] == 50000 - 3000
    # 1000 − 500 redeemed + 2 points/yuan on 53.20 paid other than points = 106
    assert s["member"]["points_earned"] == 106
    assert s["member"]["points"] == 1000 - 500 + 106
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    mem = db_session.get(Member, m)
    assert (mem.sv_principal, mem.points, mem.total_spent, mem.visit_count) == (
        47000, 606, 5820, 1)
    kinds = db_session.scalars(select(PointsLedger.kind).where(PointsLedger.member_id == m)
                               .order_by(PointsLedger.id)).all()
    assert kinds == ["adjust", "redeem", "earn"]
    sv = db_session.scalars(select(StoredValueLedger).where(
        StoredValueLedger.member_id == m, StoredValueLedger.kind == "payment")).one()
    assert sv.principal_change == -3000 and sv.ref_id == s["id"]
    assert_invariants()


def test_the_same_sale_posted_twice_exists_once(client, cashier, shop, db_session):
    sale_id = str(uuid.uuid4())
    lines = [{"product_id": shop.cola["id"], "qty": 1}]
    pays = [{"method": "cash", "amount": 350}]
    first = _sale(client, cashier, lines, pays, id=sale_id)
    again = _sale(client, cashier, lines, pays, id=sale_id)  # retry after a dropped response
    assert again == first
    # the same sale id under another key is refused, not doubled
    r = _sale(client, cashier, lines, pays, id=sale_id, key=str(uuid.uuid4()), status=409)
    assert r["error"]["code"] == "sale_exists"
    assert db_session.scalar(select(func.count()).select_from(Sale)) == 1
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    assert db_session.get(Product, shop.cola["id"]).stock == 9


def test_bad_input_is_a_clear_4xx_and_writes_nothing(client, cashier, manager, shop,
                                                     db_session):
    cola = shop.cola["id"]
    cases = [
        ([{"product_id": 999999, "qty": 1}], [{"method": "cash", "amount": 350}], {}, 404,
         "product_not_found"),
        ([{"product_id": cola, "qty": -1}], [{"method": "cash", "amount": 350}], {}, 400,
         "validation_error"),
        ([{"product_id": cola, "qty": 2}], [{"method": "cash", "amount": 350}], {}, 422,
         "payment_mismatch"),
        ([{"product_id": cola, "qty": 20}], [{"method": "card", "amount": 6000}],
         {"member_id": shop.other_member["id"], "coupon_id": shop.coupon["id"]}, 422,
         "coupon_not_of_member"),
        ([{"product_id": cola, "qty": 1}], [{"method": "stored_value", "amount": 350}], {},
         422, "payment_needs_member"),
        ([{"product_id": cola, "qty": 1}], [{"method": "cash", "amount": 350.5}], {}, 400,
         "validation_error"),
    ]
    for lines, pays, extra, status, code in cases:
        r = _sale(client, cashier, lines, pays, status=status, **extra)
        assert r["error"]["code"] == code, (code, r)
        assert r["error"]["message"]
    # an expired count card
    card = _post(client, cashier, "/api/v1/count-cards", {
        "member_id": shop.member["id"], "template_id": shop.template["id"], "method": "cash"})
    db_session.execute(
        MemberCountCard.__table__.update().where(MemberCountCard.id == card["id"])
        # (not NOW() - 1: MariaDB makes that a number, 20261201180500 - 1, which is no time
        # at all when the clock is on a whole minute)
        .values(expires_at=dt.datetime(2000, 1, 1)))
    db_session.commit()
    r = _sale(client, cashier, [{"product_id": shop.haircut["id"], "qty": 1,
                                 "count_card_id": card["id"]}], [],
              member_id=shop.member["id"], status=422)
    assert r["error"]["code"] == "count_card_expired"
    assert db_session.scalar(select(func.count()).select_from(Sale)) == 0
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    assert db_session.get(Product, cola).stock == 10
    assert db_session.get(Member, shop.member["id"]).sv_principal == 50000


def test_buy_a_count_card_then_use_it(client, cashier, shop, db_session, assert_invariants):
    m = shop.member["id"]
    s = _sale(client, cashier, [{"count_card_template_id": shop.template["id"], "qty": 1}],
              [{"method": "alipay", "amount": 12000, "reference": "2088-1"}], member_id=m)
    assert s["lines"][0]["name"] == "精剪5次卡" and s["total"] == 12000
    cards = s["member"]["count_cards"]
    assert [(c["name"], c["remaining_uses"]) for c in cards] == [("精剪5次卡", 5)]
    use = _sale(client, cashier, [{"product_id": shop.haircut["id"], "qty": 1,
                                   "count_card_id": cards[0]["id"]}], [], member_id=m)
    assert use["total"] == 0 and use["lines"][0]["count_card_discount"] == 2700
    assert use["member"]["count_cards"][0]["remaining_uses"] == 4
    r = _sale(client, cashier, [{"product_id": shop.cola["id"], "qty": 1,
                                 "count_card_id": cards[0]["id"]}], [], member_id=m,
              status=422)
    assert r["error"]["code"] == "count_card_wrong_service"
    assert_invariants()


def test_coupon_is_used_once(client, cashier, shop):
    m = shop.member["id"]
    lines = [{"product_id": shop.shampoo["id"], "qty": 1}]
    s = _sale(client, cashier, lines, [{"method": "cash", "amount": 4220}], member_id=m,
              coupon_id=shop.coupon["id"])
    assert s["total"] == 5220 - 1000
    r = _sale(client, cashier, lines, [{"method": "cash", "amount": 4220}], member_id=m,
              coupon_id=shop.coupon["id"], status=409)
    assert r["error"]["code"] == "coupon_used"


def test_big_discount_needs_a_managers_approval(client, cashier, manager, shop, db_session):
    lines = [{"product_id": shop.shampoo["id"], "qty": 1, "manual_discount_bp": 3000}]
    pays = [{"method": "cash", "amount": 4060}]
    r = _sale(client, cashier, lines, pays, status=422)
    assert r["error"]["code"] == "discount_needs_approval"
    assert "授权" in r["error"]["message"]
    bad = client.post("/api/v1/approvals", json={"username": "cash", "password": "secret123"},
                      headers=cashier.headers)
    assert bad.status_code == 403
    appr = client.post("/api/v1/approvals", json={"username": "mgr", "password": "secret123"},
                       headers=cashier.headers)
    assert appr.status_code == 201, appr.get_json()
    token = appr.get_json()["approval_token"]
    s = _sale(client, cashier, lines, pays, approval_token=token)
    assert s["approved_by"] == "mgr" and s["total"] == 4060
    r = _sale(client, cashier, lines, pays, approval_token=token, status=403)
    assert r["error"]["code"] == "approval_invalid"


def test_refund_by_line_then_the_rest(client, cashier, manager, make_staff, shop, db_session,
                                      assert_invariants):
    stylist = make_staff(Role.CASHIER, "tony")
    m = shop.member["id"]
    s = _sale(client, cashier,
              [{"product_id": shop.cola["id"], "qty": 4},
               {"product_id": shop.haircut["id"], "qty": 1,
                "staff": [{"staff_id": stylist.id, "share_bp": 10000}]}],
              [{"method": "stored_value", "amount": 2000},
               {"method": "cash", "amount": 1900}], member_id=m)
    assert s["total"] == 4 * 300 + 2700
    comm = db_session.scalars(select(CommissionLedger)).all()
    assert [(c.staff_id, c.amount) for c in comm] == [(stylist.id, 540)]
    cola_line = s["lines"][0]["id"]
    body = {"id": str(uuid.uuid4()), "lines": [{"line_id": cola_line, "qty": 1}],
            "reason": "包装破损"}
    r = client.post(f"/api/v1/sales/{s['number']}/refunds", json=body,
                    headers=cashier.write_headers())
    assert r.status_code == 403
    r = client.post(f"/api/v1/sales/{s['number']}/refunds", json=body,
                    headers=manager.write_headers())
    assert r.status_code == 201, r.get_json()
    rf = r.get_json()
    assert rf["total"] == 300 and rf["number"].startswith("R")
    assert sum(p["amount"] for p in rf["payments"]) == 300
    body = {"id": str(uuid.uuid4()), "lines": [{"line_id": cola_line, "qty": 4}],
            "reason": "多退"}
    r = client.post(f"/api/v1/sales/{s['id']}/refunds", json=body,
                    headers=manager.write_headers())
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "refund_qty_exceeds"
    # the rest of the sale
    r = client.post(f"/api/v1/sales/{s['id']}/refunds",
                    json={"id": str(uuid.uuid4()), "reason": "顾客不要了"},
                    headers=manager.write_headers())
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["total"] == s["total"] - 300
    sale = client.get(f"/api/v1/sales/{s['id']}", headers=cashier.headers).get_json()
    assert sale["status"] == "refunded" and sale["refunded_total"] == s["total"]
    assert {p["method"]: p["refunded"] for p in sale["payments"]} == {
        "stored_value": 2000, "cash": 1900}
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    mem = db_session.get(Member, m)
    assert mem.sv_principal == 50000 and mem.total_spent == 0
    assert mem.points == 1000  # earned points taken back
    assert db_session.get(Product, shop.cola["id"]).stock == 10
    assert db_session.scalar(select(func.sum(CommissionLedger.amount))) == 0
    r = client.post(f"/api/v1/sales/{s['id']}/refunds",
                    json={"id": str(uuid.uuid4()), "reason": "再退"},
                    headers=manager.write_headers())
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "nothing_to_refund"
    assert_invariants()


def test_held_order_resumes_once_from_any_counter(client, cashier, make_staff, shop):
    other = make_staff(Role.CASHIER, "cash2", counter_name="02")
    cart = {"lines": [{"product_id": shop.cola["id"], "qty": 2}],
            "member_id": shop.member["id"]}
    held = _post(client, cashier, "/api/v1/held-orders", {"label": "张三", "cart": cart})
    assert held["version"] == 1 and held["counter"] == "01" and held["line_count"] == 1
    listed = client.get("/api/v1/held-orders", headers=other.headers).get_json()["items"]
    assert [h["id"] for h in listed] == [held["id"]]
    got = _post(client, other, f"/api/v1/held-orders/{held['id']}/resume", None, status=200)
    assert got["cart"]["lines"][0]["qty"] == 2 and got["cart"]["member_id"] == shop.member["id"]
    r = client.post(f"/api/v1/held-orders/{held['id']}/resume", headers=cashier.write_headers())
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "held_order_gone"
    assert client.get("/api/v1/held-orders", headers=other.headers).get_json()["items"] == []


def test_shift_open_sell_refund_close(client, cashier, manager, shop):
    setup = client.get("/api/v1/shifts/current", headers=cashier.headers).get_json()
    _post(client, cashier, f"/api/v1/shifts/{setup['id']}/close",
          {"denominations": {10000: 5}}, status=200)  # the shop fixture's (its ¥500 recharge)
    shift = _post(client, cashier, "/api/v1/shifts", {"float_amount": 20000})
    r = client.post("/api/v1/shifts", json={"float_amount": 1}, headers=cashier.write_headers())
    assert r.status_code == 409
    s = _sale(client, cashier, [{"product_id": shop.shampoo["id"], "qty": 1}],
              [{"method": "cash", "amount": 5800, "tendered": 10000}])
    _sale(client, cashier, [{"product_id": shop.cola["id"], "qty": 2}],
          [{"method": "wechat", "amount": 700}])
    _post(client, cashier, f"/api/v1/members/{shop.other_member['id']}/recharges",
          {"amount": 30000, "method": "cash"})
    # the manager refunds at the same counter (01): counted in this shift
    r = client.post(f"/api/v1/sales/{s['id']}/refunds",
                    json={"id": str(uuid.uuid4()), "reason": "质量问题"},
                    headers=manager.write_headers())
    assert r.status_code == 201
    live = client.get("/api/v1/shifts/current", headers=cashier.headers).get_json()
    assert live["sales_count"] == 2 and live["refunds_total"] == 5800
    assert live["by_method"]["cash"] == 5800 and live["by_method"]["wechat"] == 700
    assert live["recharges_total"] == 30000
    expected = 20000 + 5800 + 30000 - 5800
    assert live["expected_cash"] == expected
    rep = _post(client, cashier, f"/api/v1/shifts/{shift['id']}/close",
                {"denominations": {10000: 4, 5000: 1, 100: 40}}, status=200)
    assert rep["counted_cash"] == 49000 and rep["difference"] == 49000 - expected
    assert rep["status"] == "closed"
    day = client.get("/api/v1/shifts/day-close", headers=manager.headers).get_json()
    assert day["sales_total"] == 5800 + 700 and day["difference"] == rep["difference"]
    assert day["open_shifts"] == 0


def test_commission_totals(client, cashier, manager, make_staff, shop):
    a = make_staff(Role.CASHIER, "stylist_a")
    b = make_staff(Role.CASHIER, "stylist_b")
    _sale(client, cashier, [{"product_id": shop.haircut["id"], "qty": 1, "staff": [
        {"staff_id": a.id, "share_bp": 6000}, {"staff_id": b.id, "share_bp": 4000}]}],
        [{"method": "cash", "amount": 3000}])
    import datetime as dt

    today = dt.date.today().isoformat()
    rows = client.get(f"/api/v1/commissions?date_from={today}&date_to={today}",
                      headers=manager.headers).get_json()
    assert isinstance(rows, list), rows
    assert {r["username"]: r["commission"] for r in rows} == {"stylist_a": 360,
                                                              "stylist_b": 240}


# -- concurrency through the real HTTP server -------------------------------------------------
def test_twenty_counters_sell_the_last_ten_units(live_server, app, make_staff, shop,
                                                 db_session, assert_invariants):
    with app.extensions["lanpos"].session_factory() as s:
        settings_domain.put(s, Actor.system(), "stock.allow_negative", False)
        s.commit()
    cashiers = [make_staff(Role.CASHIER, f"c{i:02d}", counter_name=f"{i:02d}")
                for i in range(20)]
    for c in cashiers:
        open_shift(live_server.flask_client, c)

    def sell(c):
        sid = str(uuid.uuid4())
        return requests.post(live_server.url + "/sales", headers=c.write_headers(sid), json={
            "id": sid, "lines": [{"product_id": shop.cola["id"], "qty": 1}],
            "payments": [{"method": "cash", "amount": 350}]}, timeout=60)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(sell, cashiers))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] * 10 + [409] * 10, [r.json() for r in results if r.status_code != 201]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {
        "insufficient_stock"}
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    assert db_session.get(Product, shop.cola["id"]).stock == 0
    assert db_session.scalar(select(func.sum(StockLedger.change)).where(
        StockLedger.product_id == shop.cola["id"])) == 0
    assert db_session.scalar(select(func.count()).select_from(Sale)) == 10
    assert_invariants()


def test_two_concurrent_refunds_of_one_line(live_server, cashier, manager, shop, db_session,
                                            assert_invariants):
    s = _sale(live_server.flask_client, cashier, [{"product_id": shop.cola["id"], "qty": 3}],
              [{"method": "cash", "amount": 1050}])
    line = s["lines"][0]["id"]

    def refund(_):
        return requests.post(live_server.url + f"/sales/{s['id']}/refunds",
                             headers=manager.write_headers(), json={
                                 "id": str(uuid.uuid4()), "lines": [{"line_id": line, "qty": 2}],
                                 "reason": "并发"}, timeout=60)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(refund, range(2)))
    assert sorted(r.status_code for r in results) == [201, 409]
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    ln = db_session.get(SaleLine, line)
    assert ln.refunded_qty == 2
    assert db_session.get(Product, shop.cola["id"]).stock == 10 - 3 + 2
    assert_invariants()


def test_member_balance_changes_during_sales_no_lost_update(live_server, make_staff, shop,
                                                            db_session, assert_invariants):
    m = shop.member["id"]
    counters = [make_staff(Role.CASHIER, f"k{i}", counter_name=f"1{i}") for i in range(8)]
    for c in counters:
        open_shift(live_server.flask_client, c)

    def work(i):
        c = counters[i % len(counters)]
        if i % 3 == 0:
            return requests.post(live_server.url + f"/members/{m}/recharges",
                                 headers=c.write_headers(),
                                 json={"amount": 1000, "method": "cash"}, timeout=60)
        sid = str(uuid.uuid4())
        return requests.post(live_server.url + "/sales", headers=c.write_headers(sid), json={
            "id": sid, "member_id": m, "lines": [{"product_id": shop.haircut["id"], "qty": 1}],
            "payments": [{"method": "stored_value", "amount": 2000},
                         {"method": "points", "amount": 100, "points": 100},
                         {"method": "cash", "amount": 600}]}, timeout=60)

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(work, range(24)))
    assert all(r.status_code == 201 for r in results), [r.json() for r in results
                                                       if r.status_code != 201]
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    mem = db_session.get(Member, m)
    sales_n = sum(1 for i in range(24) if i % 3)
    recharges = 24 - sales_n
    assert mem.sv_principal + mem.sv_bonus == 50000 + recharges * 1000 - sales_n * 2000
    assert mem.sv_principal >= 0 and mem.points >= 0
    assert mem.visit_count == sales_n
    assert_invariants()


def test_cashier_refunds_with_a_managers_approval(client, cashier, manager, shop):
    s = _sale(client, cashier, [{"product_id": shop.cola["id"], "qty": 2}],
              [{"method": "cash", "amount": 700}])
    body = {"id": str(uuid.uuid4()), "reason": "顾客退货"}
    r = client.post(f"/api/v1/sales/{s['number']}/refunds", json=body,
                    headers=cashier.write_headers())
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "refund_needs_approval"
    # a discount approval is not a refund approval
    disc = client.post("/api/v1/approvals", json={"username": "mgr", "password": "secret123"},
                       headers=cashier.headers).get_json()["approval_token"]
    r = client.post(f"/api/v1/sales/{s['number']}/refunds",
                    json={**body, "approval_token": disc}, headers=cashier.write_headers())
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "approval_invalid"
    tok = client.post("/api/v1/approvals", json={"username": "mgr", "password": "secret123",
                                                 "purpose": "refund"},
                      headers=cashier.headers).get_json()["approval_token"]
    r = client.post(f"/api/v1/sales/{s['number']}/refunds",
                    json={**body, "approval_token": tok}, headers=cashier.write_headers())
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["approved_by"] == "mgr" and r.get_json()["total"] == 700


def test_shop_settings_for_receipts(client, cashier, owner, manager):
    r = client.get("/api/v1/settings/shop", headers=cashier.headers)
    assert r.status_code == 200 and r.get_json()["receipt_footer"]
    body = {"name": "丽人美发", "receipt_header": ["地址：人民路 88 号"],
            "receipt_footer": ["会员储值更优惠"]}
    r = client.put("/api/v1/settings/shop", json=body, headers=manager.write_headers())
    assert r.status_code == 403
    r = client.put("/api/v1/settings/shop", json=body, headers=owner.write_headers())
    assert r.status_code == 200, r.get_json()
    got = client.get("/api/v1/settings/shop", headers=cashier.headers).get_json()
    assert got["name"] == "丽人美发" and got["receipt_header"] == ["地址：人民路 88 号"]


def test_refunding_a_count_card_purchase_voids_the_unused_card(client, cashier, manager, shop,
                                                               db_session, assert_invariants):
    m = shop.member["id"]
    line = [{"count_card_template_id": shop.template["id"], "qty": 1}]
    pay = [{"method": "cash", "amount": 12000}]
    used = _sale(client, cashier, line, pay, member_id=m)
    card_id = used["member"]["count_cards"][0]["id"]
    _sale(client, cashier, [{"product_id": shop.haircut["id"], "qty": 1,
                             "count_card_id": card_id}], [], member_id=m)
    r = client.post(f"/api/v1/sales/{used['id']}/refunds",
                    json={"id": str(uuid.uuid4()), "reason": "不想要了"},
                    headers=manager.write_headers())
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "count_card_in_use"
    fresh = _sale(client, cashier, line, pay, member_id=m)
    fresh_card = next(c for c in fresh["member"]["count_cards"] if c["id"] != card_id)
    r = client.post(f"/api/v1/sales/{fresh['id']}/refunds",
                    json={"id": str(uuid.uuid4()), "reason": "不想要了"},
                    headers=manager.write_headers())
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["total"] == 12000
    db_session.rollback()
    card = db_session.get(MemberCountCard, fresh_card["id"])
    assert (card.status, card.remaining_uses) == ("voided", 0)
    assert_invariants()
