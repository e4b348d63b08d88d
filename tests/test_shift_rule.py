"""A sale, a recharge and a count-card sale need the counter's open shift (409
``shift_not_open``, nothing written); the shift report lists recharges and count cards apart
from sales; a staff member's own commission (``GET /commissions/mine``); the sales report by
serving staff; the member ledger's human references (sale / recharge slip numbers)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import func, select

from common.schemas.base import Role
from server.db.catalog import Product
from server.db.members import Member, MemberCountCard, StoredValueLedger
from server.db.sales import Sale
from server.domain.shifts import _split_takings
from tests.conftest import open_shift

API = "/api/v1"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


def _post(client, who, path, body, status=201, key=None):
    r = client.post(API + path, json=body, headers=who.write_headers(key))
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


@pytest.fixture
def shop(client, manager, cashier) -> dict:
    cola = _post(client, manager, "/products", {
        "name": "可口可乐", "price": 350, "track_stock": True, "opening_stock": 10})
    haircut = _post(client, manager, "/products", {
        "name": "精剪", "kind": "service", "price": 3000, "commission_kind": "percent",
        "commission_value": 2000})
    member = _post(client, cashier, "/members", {"name": "张三", "phone": "13800001234"})
    template = _post(client, manager, "/count-card-templates", {
        "name": "精剪5次卡", "product_id": haircut["id"], "service_name": "精剪", "uses": 5,
        "validity_days": 365, "price": 12000})
    return {"cola": cola, "haircut": haircut, "member": member, "template": template}


def _sale_body(shop, **extra):
    return {"id": str(uuid.uuid4()), "lines": [{"product_id": shop["cola"]["id"], "qty": 3}],
            "payments": [{"method": "cash", "amount": 1050, "tendered": 2000}], **extra}


def _counts(db) -> tuple:
    db.rollback()  # a fresh snapshot (REPEATABLE READ)
    m = db.scalar(select(Member))
    return (db.scalar(select(func.count()).select_from(Sale)),
            db.scalar(select(func.count()).select_from(StoredValueLedger)),
            db.scalar(select(func.count()).select_from(MemberCountCard)),
            db.scalar(select(Product.stock).where(Product.name == "可口可乐")),
            m.sv_principal + m.sv_bonus)


def test_sale_recharge_and_card_sale_are_refused_without_the_counters_shift(
        client, cashier, manager, make_staff, shop, db_session, assert_invariants):
    before = _counts(db_session)
    mid = shop["member"]["id"]
    body = _sale_body(shop)
    writes = [("/sales", body, body["id"]),
              (f"/members/{mid}/recharges", {"amount": 50000, "method": "cash"}, None),
              ("/count-cards", {"member_id": mid, "template_id": shop["template"]["id"],
                                "method": "cash"}, None)]
    for path, data, key in writes:
        r = client.post(API + path, json=data, headers=cashier.write_headers(key))
        assert r.status_code == 409, (path, r.get_json())
        err = r.get_json()["error"]
        assert err["code"] == "shift_not_open"
        assert err["message"] == "本收银台还没有开班，请先开班（收银操作 → 开班）"
    r = client.post(API + "/sales", json=_sale_body(shop),
                    headers={**cashier.write_headers(), "Accept-Language": "en"})
    assert r.get_json()["error"]["message"].startswith("This counter has no open shift")
    assert _counts(db_session) == before  # nothing written

    # another counter's open shift is not this counter's
    other = make_staff(Role.CASHIER, "cash2", counter_name="02")
    open_shift(client, other)
    r = client.post(API + "/sales", json=body, headers=cashier.write_headers(body["id"]))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "shift_not_open"

    shift = open_shift(client, cashier, 20000)
    sale = _post(client, cashier, "/sales", body, key=body["id"])
    rech = _post(client, cashier, f"/members/{mid}/recharges",
                 {"amount": 50000, "method": "cash"})
    card = _post(client, manager, "/count-cards", {  # the manager at the same counter (01)
        "member_id": mid, "template_id": shop["template"]["id"], "method": "cash"})
    db_session.rollback()
    assert db_session.scalar(select(Sale.shift_id).where(Sale.uuid == sale["id"])) \
        == shift["id"]
    assert db_session.get(StoredValueLedger, rech["entry"]["id"]).shift_id == shift["id"]
    assert db_session.get(MemberCountCard, card["id"]).shift_id == shift["id"]
    assert_invariants()


def test_a_replayed_sale_answers_the_recorded_sale_after_the_shift_closed(
        client, cashier, shop):
    shift = open_shift(client, cashier)
    body = _sale_body(shop)
    first = client.post(API + "/sales", json=body, headers=cashier.write_headers(body["id"]))
    assert first.status_code == 201, first.get_json()
    _post(client, cashier, f"/shifts/{shift['id']}/close", {"denominations": {}}, status=200)
    again = client.post(API + "/sales", json=body, headers=cashier.write_headers(body["id"]))
    assert again.status_code == 201, again.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    # a new sale is refused: the shift is closed
    new = _sale_body(shop)
    r = client.post(API + "/sales", json=new, headers=cashier.write_headers(new["id"]))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "shift_not_open"


def test_shift_report_lists_recharges_and_count_cards_apart_from_sales(
        client, cashier, manager, make_staff, shop):
    mid = shop["member"]["id"]
    shift = open_shift(client, cashier, 20000)
    _post(client, cashier, "/sales", _sale_body(shop))
    _post(client, cashier, f"/members/{mid}/recharges", {"amount": 50000, "method": "cash"})
    _post(client, manager, f"/members/{mid}/recharges",  # another login at counter 01
          {"amount": 20000, "method": "wechat", "reference": "4200000001"})
    _post(client, cashier, "/count-cards", {"member_id": mid,
                                            "template_id": shop["template"]["id"],
                                            "method": "cash"})
    # a recharge at another counter: that counter's shift, not this one's
    other = make_staff(Role.CASHIER, "cash2", counter_name="02")
    open_shift(client, other)
    _post(client, other, f"/members/{mid}/recharges", {"amount": 7700, "method": "cash"})

    live = client.get(API + "/shifts/current", headers=cashier.headers).get_json()
    assert live["by_method"] == {"cash": 1050}  # sales only: no recharge_cash among them
    assert live["sales_count"] == 1 and live["sales_total"] == 1050
    assert live["recharges_by_method"] == {"cash": 50000, "wechat": 20000}
    assert live["recharges_count"] == 2 and live["recharges_total"] == 70000
    assert live["count_cards_by_method"] == {"cash": 12000}
    assert live["count_cards_count"] == 1 and live["count_cards_total"] == 12000
    assert live["expected_cash"] == 20000 + 1050 + 50000 + 12000
    rep = _post(client, cashier, f"/shifts/{shift['id']}/close",
                {"denominations": {10000: 8, 2000: 1, 1000: 1, 50: 1}}, status=200)
    assert rep["difference"] == 0 and rep["recharges_by_method"] == live["recharges_by_method"]
    frozen = client.get(API + f"/shifts/{shift['id']}", headers=cashier.headers).get_json()
    assert frozen["by_method"] == {"cash": 1050}
    assert frozen["recharges_by_method"] == {"cash": 50000, "wechat": 20000}
    day = client.get(API + "/shifts/day-close", headers=manager.headers).get_json()
    assert day["recharges_by_method"] == {"cash": 57700, "wechat": 20000}
    assert day["by_method"] == {"cash": 1050} and day["count_cards_total"] == 12000


def test_a_report_frozen_before_the_split_is_read_split():
    old = {"by_method": {"cash": 1050, "recharge_cash": 50000, "count_card_wechat": 12000},
           "recharges_total": 50000}
    rep = _split_takings(old)
    assert rep["by_method"] == {"cash": 1050}
    assert rep["recharges_by_method"] == {"cash": 50000}
    assert rep["count_cards_by_method"] == {"wechat": 12000}
    assert rep["count_cards_total"] == 12000


def _served_sale(client, cashier, shop, a, b) -> dict:
    return _post(client, cashier, "/sales", {
        "id": str(uuid.uuid4()),
        "lines": [{"product_id": shop["haircut"]["id"], "qty": 1, "staff": [
            {"staff_id": a.id, "share_bp": 6000}, {"staff_id": b.id, "share_bp": 4000}]},
            {"product_id": shop["cola"]["id"], "qty": 1}],
        "payments": [{"method": "cash", "amount": 3350}]})


def test_my_commission_and_served_sales(client, cashier, manager, make_staff, shop):
    a = make_staff(Role.CASHIER, "stylist_a")
    b = make_staff(Role.CASHIER, "stylist_b")
    open_shift(client, cashier)
    sale = _served_sale(client, cashier, shop, a, b)
    today = dt.date.today().isoformat()
    q = {"date_from": today, "date_to": today}

    mine = client.get(API + "/commissions/mine", query_string=q, headers=a.headers).get_json()
    assert mine["username"] == "stylist_a"
    assert (mine["served_sales"], mine["served_amount"], mine["commission"]) == (1, 1800, 360)
    assert (mine["cashier_sales"], mine["cashier_total"]) == (0, 0)
    [line] = mine["lines"]
    assert (line["sale_number"], line["item"], line["share_bp"], line["served"],
            line["commission"], line["kind"]) == (sale["number"], "精剪", 6000, 1800, 360, "sale")
    theirs = client.get(API + "/commissions/mine", query_string=q,
                        headers=b.headers).get_json()
    assert (theirs["served_amount"], theirs["commission"]) == (1200, 240)
    desk = client.get(API + "/commissions/mine", query_string=q,
                      headers=cashier.headers).get_json()
    assert (desk["served_sales"], desk["commission"], desk["lines"]) == (0, 0, [])
    assert (desk["cashier_sales"], desk["cashier_total"]) == (1, 3350)
    # all staff's commission stays a manager's
    r = client.get(API + "/commissions", query_string=q, headers=a.headers)
    assert r.status_code == 403
    # a refund of the served line gives the share and the commission back
    line_id = next(ln["id"] for ln in sale["lines"] if ln["name"] == "精剪")
    _post(client, manager, f"/sales/{sale['id']}/refunds", {
        "id": str(uuid.uuid4()), "lines": [{"line_id": line_id, "qty": 1}], "reason": "返工"})
    mine = client.get(API + "/commissions/mine", query_string=q, headers=a.headers).get_json()
    assert (mine["served_amount"], mine["served_refunds"], mine["commission"]) == (1800, 1800, 0)
    assert [(ln["kind"], ln["served"], ln["commission"]) for ln in mine["lines"]] == [
        ("refund", -1800, -360), ("sale", 1800, 360)]
    r = client.get(API + "/commissions/mine", query_string={"date_from": today,
                                                            "date_to": "2000-01-01"},
                   headers=a.headers)
    assert r.status_code == 400


def test_sales_report_by_serving_staff_next_to_by_cashier(client, cashier, manager,
                                                          make_staff, shop):
    a = make_staff(Role.CASHIER, "stylist_a")
    b = make_staff(Role.CASHIER, "stylist_b")
    open_shift(client, cashier)
    _served_sale(client, cashier, shop, a, b)
    _served_sale(client, cashier, shop, a, b)
    today = dt.date.today().isoformat()

    def report(group):
        r = client.get(API + "/reports/sales", headers=manager.headers, query_string={
            "date_from": today, "date_to": today, "group": group})
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    by_cashier = report("staff")
    assert [(r["key"], r["sales"], r["total"]) for r in by_cashier["rows"]] == [
        (str(cashier.id), 2, 6700)]
    serving = report("serving")
    assert [(r["key"], r["sales"], r["total"], r["commission"]) for r in serving["rows"]] == [
        (str(a.id), 2, 3600, 720), (str(b.id), 2, 2400, 480)]
    assert serving["totals"]["total"] == 6000 and serving["totals"]["commission"] == 1200
    assert serving["rows"][0]["label"] == "测试收银员"
    r = client.get(API + "/reports/sales", headers=cashier.headers, query_string={
        "date_from": today, "date_to": today, "group": "serving"})
    assert r.status_code == 403


def test_member_ledger_carries_sale_and_recharge_numbers(client, cashier, manager, shop):
    level = _post(client, manager, "/levels", {"name": "金卡", "rank": 1, "discount_bp": 10000,
                                               "points_per_yuan": 1})
    mid = _post(client, cashier, "/members", {"name": "李四", "phone": "13900005678",
                                              "level_id": level["id"]})["id"]
    open_shift(client, cashier)
    rech = _post(client, cashier, f"/members/{mid}/recharges",
                 {"amount": 20000, "method": "cash"})
    sale = _post(client, cashier, "/sales", {
        "id": str(uuid.uuid4()), "member_id": mid,
        "lines": [{"product_id": shop["cola"]["id"], "qty": 2}],
        "payments": [{"method": "stored_value", "amount": 700}]})
    _post(client, cashier, "/count-cards", {"member_id": mid, "method": "stored_value",
                                            "template_id": shop["template"]["id"]})

    def ledger(book):
        r = client.get(API + f"/members/{mid}/ledger", query_string={"book": book},
                       headers=cashier.headers)
        assert r.status_code == 200, r.get_json()
        return r.get_json()["items"]

    sv = ledger("stored_value")
    by_kind = {(e["kind"], e["ref_type"]): e["ref_no"] for e in sv}
    assert by_kind[("recharge", None)] == f"SV{rech['entry']['id']:08d}"
    assert by_kind[("payment", "sale")] == sale["number"]
    assert by_kind[("payment", "count_card")] == "精剪5次卡 #" + str(
        max(c["id"] for c in client.get(API + "/count-cards", query_string={"member_id": mid},
                                        headers=cashier.headers).get_json()["items"]))
    pts = ledger("points")
    assert [e["ref_no"] for e in pts if e["kind"] == "earn"] == [sale["number"]]
    for e in sv + pts + ledger("count_cards"):
        assert not UUID_RE.search(e["ref_no"] or ""), e
