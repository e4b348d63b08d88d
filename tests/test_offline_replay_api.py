"""Replaying offline sales (``POST /sales`` with ``offline``): the counter's time and amounts,
origin offline, the differences list, negative stock, idempotency (twice, concurrently, after
a lost answer) and the drawer's cash counted exactly once."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import requests
from sqlalchemy import func, select

from server.clock import ShopClock
from server.db.catalog import Product, StockLedger
from server.db.models import AuditLog, Staff
from server.db.sales import OfflineDifference, Sale
from tests.client.conftest import FaultProxy
from tests.conftest import open_shift


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


@pytest.fixture
def goods(client, manager):
    cola = _post(client, manager, "/api/v1/products", {
        "name": "可口可乐", "price": 350, "track_stock": True, "opening_stock": 1,
        "barcodes": ["6901234567892"]})
    tea = _post(client, manager, "/api/v1/products", {"name": "绿茶", "price": 300})
    return cola, tea


def _utc(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat()


def offline_body(lines, amounts, payments, *, number="01-L000001", at=None, **extra):
    at = at or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    return {"id": str(uuid.uuid4()), "lines": lines, "payments": payments,
            "offline": {"number": number, "recorded_at": _utc(at), "total": sum(amounts),
                        "line_amounts": amounts}, **extra}


def _replay(client, who, body, status=201, key=None):
    r = client.post("/api/v1/sales", json=body, headers=who.write_headers(key or body["id"]))
    assert r.status_code == status, r.get_json()
    return r.get_json()


def test_replay_keeps_the_counter_time_and_prices_and_lists_the_differences(
        client, manager, cashier, goods, db_session, assert_invariants):
    cola, tea = goods
    open_shift(client, cashier)
    clock = ShopClock("")
    yesterday_noon = dt.datetime.combine(clock.today() - dt.timedelta(days=1),
                                         dt.time(12, 0), tzinfo=clock.tz)
    # the counter sold 2 colas (1 in stock) and a tea at 3.00; the tea is 4.00 by now
    r = client.patch(f"/api/v1/products/{tea['id']}", json={"price": 400},
                     headers=manager.write_headers())
    assert r.status_code == 200
    body = offline_body([{"product_id": cola["id"], "qty": 2}, {"product_id": tea["id"],
                                                                 "qty": 1}],
                        [700, 300], [{"method": "cash", "amount": 1000, "tendered": 2000}],
                        number="01-L000007", at=yesterday_noon)
    s = _replay(client, cashier, body)
    assert (s["origin"], s["offline_number"], s["total"], s["change"]) == (
        "offline", "01-L000007", 1000, 1000)
    assert [ln["amount"] for ln in s["lines"]] == [700, 300]
    assert dt.datetime.fromisoformat(s["created_at"]) == yesterday_noon
    assert s["business_date"] == str(yesterday_noon.date())
    assert s["number"].startswith(f"{yesterday_noon:%Y%m%d}-01-")
    assert s["stock_warnings"] == ["可口可乐 库存为 -1"]

    db_session.rollback()
    assert db_session.get(Product, cola["id"]).stock == -1
    moves = db_session.scalars(select(StockLedger.change).where(
        StockLedger.product_id == cola["id"]).order_by(StockLedger.id)).all()
    assert moves == [1, -2]

    diffs = client.get("/api/v1/sales/offline-differences", headers=manager.headers).get_json()
    got = {(d["kind"], d["product_id"], d["counter_amount"], d["server_amount"])
           for d in diffs["items"]}
    assert got == {("price_changed", tea["id"], 300, 400), ("stock_negative", cola["id"],
                                                            None, None),
                   ("total_differs", None, 1000, 1100)}
    assert all(d["sale_number"] == s["number"] and d["offline_number"] == "01-L000007"
               for d in diffs["items"])
    price = next(d for d in diffs["items"] if d["kind"] == "price_changed")
    assert price["message"] == "绿茶：收银台收 ¥3.00，现在应收 ¥4.00"
    r = client.get("/api/v1/sales/offline-differences", headers=cashier.headers)
    assert r.status_code == 403

    # a sale rung up online is not "offline"; the filter finds only the replayed one
    online = {"id": str(uuid.uuid4()), "lines": [{"product_id": tea["id"], "qty": 1}],
              "payments": [{"method": "wechat", "amount": 400}]}
    on = _replay(client, cashier, online)
    assert on["origin"] == "counter" and on["offline_number"] is None
    listed = client.get("/api/v1/sales?origin=offline", headers=cashier.headers).get_json()
    assert [(x["id"], x["origin"], x["offline_number"]) for x in listed["items"]] == [
        (s["id"], "offline", "01-L000007")]
    assert len(client.get("/api/v1/sales", headers=cashier.headers).get_json()["items"]) == 2
    assert_invariants()


def test_an_inactive_product_and_an_unknown_member_do_not_refuse_the_sale(
        client, manager, cashier, goods, assert_invariants):
    _, tea = goods
    open_shift(client, cashier)
    r = client.patch(f"/api/v1/products/{tea['id']}", json={"active": False},
                     headers=manager.write_headers())
    assert r.status_code == 200
    body = offline_body([{"product_id": tea["id"], "qty": 1}], [300],
                        [{"method": "alipay", "amount": 300, "reference": "2088"}],
                        member_id=987654)
    s = _replay(client, cashier, body)
    assert s["member"] is None and s["total"] == 300
    kinds = {d["kind"] for d in client.get("/api/v1/sales/offline-differences",
                                           headers=manager.headers).get_json()["items"]}
    assert kinds == {"product_inactive", "member_unknown"}
    assert_invariants()


def test_what_needs_the_server_is_refused_with_a_message_a_cashier_understands(
        client, cashier, goods, db_session):
    cola, _ = goods
    open_shift(client, cashier)
    for pay in ({"method": "stored_value", "amount": 350},
                {"method": "points", "amount": 350, "points": 35000}):
        body = offline_body([{"product_id": cola["id"], "qty": 1}], [350], [pay])
        err = _replay(client, cashier, body, status=422)["error"]
        assert err["code"] == "offline_not_allowed"
        assert err["message"].startswith("离线销售只能用现金、银行卡、微信或支付宝收款")
    body = offline_body([{"product_id": cola["id"], "qty": 1}], [350],
                        [{"method": "cash", "amount": 350}])
    body["offline"]["line_amounts"] = [300]  # does not add up to the total
    err = _replay(client, cashier, body, status=400)["error"]
    assert err["code"] == "validation_error"
    body = offline_body([{"product_id": cola["id"], "qty": 1}], [350],
                        [{"method": "cash", "amount": 300}])
    assert _replay(client, cashier, body, status=422)["error"]["code"] == "payment_mismatch"
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Sale)) == 0


def test_the_same_sale_twice_is_one_sale(client, cashier, goods, db_session,
                                         assert_invariants):
    cola, _ = goods
    open_shift(client, cashier)
    body = offline_body([{"product_id": cola["id"], "qty": 1}], [350],
                        [{"method": "card", "amount": 350}])
    first = _replay(client, cashier, body)
    r = client.post("/api/v1/sales", json=body, headers=cashier.write_headers(body["id"]))
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true"
    assert r.get_json()["number"] == first["number"]
    # the same sale under another key (a journal whose key was lost): still the stored one
    again = _replay(client, cashier, body, key=str(uuid.uuid4()))
    assert again["number"] == first["number"] and again["id"] == first["id"]
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Sale)) == 1
    assert db_session.get(Product, cola["id"]).stock == 0
    assert_invariants()


def test_shift_expected_cash_counts_offline_cash_exactly_once(
        client, manager, cashier, goods, db_session, assert_invariants):
    """Sold in shift 1 while the server was away; shift 1 was closed (its drawer counted
    with that cash in it) before the counter could replay. The replay lands in shift 1 and
    its figures follow; a sale when the counter has no open shift at all is not refused."""
    _, tea = goods
    s1 = open_shift(client, cashier, float_fen=1000)
    at = dt.datetime.now(dt.UTC)
    r = client.post(f"/api/v1/shifts/{s1['id']}/close",
                    json={"denominations": {1000: 1, 500: 1}}, headers=cashier.write_headers())
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["expected_cash"], r.get_json()["difference"]) == (1000, 500)

    body = offline_body([{"product_id": tea["id"], "qty": 2}], [600],
                        [{"method": "cash", "amount": 600, "tendered": 1000}], at=at)
    sale = _replay(client, cashier, body)  # no shift open now: recorded all the same
    rep = client.get(f"/api/v1/shifts/{s1['id']}", headers=cashier.headers).get_json()
    assert (rep["status"], rep["sales_count"], rep["expected_cash"], rep["counted_cash"],
            rep["difference"]) == ("closed", 1, 1600, 1500, -100)
    assert rep["by_method"] == {"cash": 600}

    s2 = open_shift(client, cashier, float_fen=2000)
    later = offline_body([{"product_id": tea["id"], "qty": 1}], [300],
                         [{"method": "cash", "amount": 300}], number="01-L000002")
    _replay(client, cashier, later)  # recorded while shift 2 is open: shift 2
    rep2 = client.get(f"/api/v1/shifts/{s2['id']}", headers=cashier.headers).get_json()
    assert (rep2["sales_count"], rep2["expected_cash"]) == (1, 2300)
    day = client.get("/api/v1/shifts/day-close", headers=manager.headers).get_json()
    assert day["expected_cash"] == 1600 + 2300 and day["sales_count"] == 2
    db_session.rollback()
    assert db_session.scalar(select(Sale.shift_id).where(Sale.uuid == sale["id"])) == s1["id"]
    assert_invariants()


def test_a_counter_that_never_had_a_shift_is_not_refused(client, manager, cashier, goods):
    _, tea = goods
    body = offline_body([{"product_id": tea["id"], "qty": 1}], [300],
                        [{"method": "wechat", "amount": 300}])
    s = _replay(client, cashier, body)
    assert s["origin"] == "offline"
    kinds = [d["kind"] for d in client.get("/api/v1/sales/offline-differences",
                                           headers=manager.headers).get_json()["items"]]
    assert kinds == ["no_shift"]


def test_two_counters_replaying_at_once_record_each_sale_once(live_server, make_staff,
                                                              goods, db_session,
                                                              assert_invariants):
    """Counters 01 and 02 each replay 8 journal sales; every sale is sent by two threads at
    once (two processes of one counter, or a retry racing the first try)."""
    cola, tea = goods
    base = live_server.url
    flask = live_server.flask_client
    logins = [make_staff("cashier", f"c{n}", counter_name=n) for n in ("01", "02")]
    for who in logins:
        open_shift(flask, who)
    bodies = [(who, offline_body([{"product_id": cola["id"], "qty": 1},
                                  {"product_id": tea["id"], "qty": 1}], [350, 300],
                                 [{"method": "cash", "amount": 650}],
                                 number=f"{who.username}-L{i:06d}"))
              for who in logins for i in range(8)]
    answers: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def send(who, body) -> None:
        r = requests.post(base + "/sales", json=body, headers=who.write_headers(body["id"]),
                          timeout=60)
        with lock:
            answers.append((body["id"], r.status_code, r.json().get("number", r.text)))

    threads = [threading.Thread(target=send, args=pair) for pair in bodies for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code == 201 for _, code, _ in answers), answers
    by_sale: dict[str, set[str]] = {}
    for sid, _, number in answers:
        by_sale.setdefault(sid, set()).add(number)
    assert len(by_sale) == 16 and all(len(n) == 1 for n in by_sale.values())
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Sale)) == 16
    assert db_session.get(Product, cola["id"]).stock == 1 - 16
    numbers = db_session.scalars(select(Sale.number)).all()
    assert len(set(numbers)) == 16
    # 1 in stock: the first sale takes it to 0, each of the 15 others below
    assert db_session.scalar(select(func.count()).select_from(OfflineDifference).where(
        OfflineDifference.kind == "stock_negative")) == 15
    assert_invariants()


def test_a_lost_answer_is_answered_with_the_stored_sale(live_server, cashier, goods,
                                                        db_session, assert_invariants):
    """The server committed the sale, then the connection dropped before the answer got
    back: the counter's replay of the same sale returns the stored sale, not a second."""
    cola, _ = goods
    open_shift(live_server.flask_client, cashier)
    proxy = FaultProxy(live_server.port)
    try:
        proxy.drop_write_responses = 1
        body = offline_body([{"product_id": cola["id"], "qty": 1}], [350],
                            [{"method": "cash", "amount": 350}])
        with pytest.raises(requests.ConnectionError):
            requests.post(proxy.url + "/sales", json=body,
                          headers=cashier.write_headers(body["id"]), timeout=30)
        assert proxy.dropped == ["POST /api/v1/sales HTTP/1.1"]
        db_session.rollback()
        stored = db_session.scalars(select(Sale).where(Sale.uuid == body["id"])).one()
        r = requests.post(proxy.url + "/sales", json=body,
                          headers=cashier.write_headers(body["id"]), timeout=30)
        assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true"
        assert r.json()["number"] == stored.number and r.json()["origin"] == "offline"
    finally:
        proxy.close()
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Sale)) == 1
    assert_invariants()


def test_a_member_attached_offline_by_card_or_phone_earns_points_at_replay(
        client, manager, cashier, goods, db_session, assert_invariants):
    """Offline the counter cannot search members: the cashier typed a card number or a full
    phone number (``offline.member_ref``); the replay finds the member and credits points and
    the visit as an online sale would. An unknown ref keeps the sale, without member."""
    _, tea = goods
    open_shift(client, cashier)
    level = _post(client, manager, "/api/v1/levels", {
        "name": "银卡", "rank": 1, "discount_bp": 10000, "points_per_yuan": 2})

    def member(name, phone, **more):
        return _post(client, cashier, "/api/v1/members", {
            "name": name, "phone": phone, "level_id": level["id"], **more})

    by_phone = member("张三", "13800001234")
    by_card = member("李四", "13900005678", card_no="VIP8866")
    yardstick = member("王五", "13700001111")
    online = _replay(client, cashier, {
        "id": str(uuid.uuid4()), "member_id": yardstick["id"],
        "lines": [{"product_id": tea["id"], "qty": 2}],
        "payments": [{"method": "cash", "amount": 600}]})
    earned = online["member"]["points_earned"]
    assert earned > 0

    sold = {}
    for who, ref in ((by_phone, "13800001234"), (by_card, "VIP8866"),
                     (None, "13999999999")):
        body = offline_body([{"product_id": tea["id"], "qty": 2}], [600],
                            [{"method": "cash", "amount": 600}])
        body["offline"]["member_ref"] = ref
        sold[ref] = s = _replay(client, cashier, body)
        if who is None:
            assert s["member"] is None and s["total"] == 600
        else:
            assert (s["member"]["id"], s["member"]["points_earned"]) == (who["id"], earned)
            m = client.get(f"/api/v1/members/{who['id']}", headers=cashier.headers
                           ).get_json()
            assert (m["points"], m["visit_count"], m["total_spent"]) == (earned, 1, 600)
    diffs = client.get("/api/v1/sales/offline-differences", headers=manager.headers
                       ).get_json()["items"]
    unknown = [d for d in diffs if d["kind"] == "member_unknown"]
    assert [(d["sale_number"], d["message"]) for d in unknown] == [
        (sold["13999999999"]["number"],
         "卡号/手机号 13999999999 没有对应的会员（或已停用），按非会员记录")]
    assert not any(d["kind"] == "member_unknown" and d["sale_number"] != unknown[0][
        "sale_number"] for d in diffs)
    # the same sale again (a lost answer): no second earning
    again = _replay(client, cashier, body, key=str(uuid.uuid4()))
    assert again["number"] == sold["13999999999"]["number"]
    m = client.get(f"/api/v1/members/{by_card['id']}", headers=cashier.headers).get_json()
    assert m["visit_count"] == 1
    assert_invariants()


def test_a_replayed_sale_keeps_the_cashier_who_made_it(client, manager, cashier, make_staff,
                                                       goods, db_session, assert_invariants):
    """The journal records who was logged in; another login replays it: the sale is the
    first cashier's, the audit names both. A cashier the server no longer knows (or
    deactivated): the replaying login, with a ``cashier_unknown`` difference."""
    _, tea = goods
    open_shift(client, cashier)
    maker = make_staff("cashier", "xiaoli")
    gone = make_staff("cashier", "xiaowang")
    db_session.get(Staff, gone.id).active = False
    db_session.commit()

    body = offline_body([{"product_id": tea["id"], "qty": 1}], [300],
                        [{"method": "cash", "amount": 300}])
    body["offline"]["cashier_id"] = maker.id
    s = _replay(client, cashier, body)  # replayed by the cashier logged in now
    assert s["cashier"] == "xiaoli"
    db_session.rollback()
    assert db_session.scalar(select(Sale.staff_id).where(Sale.uuid == s["id"])
                             ) == maker.id
    entry = db_session.scalars(select(AuditLog).where(AuditLog.action == "sale.offline",
                                                      AuditLog.entity_id == s["number"])
                               ).one()
    assert (entry.after["cashier"], entry.after["replayed_by"], entry.username) == (
        "xiaoli", cashier.username, cashier.username)

    for cid in (gone.id, 999_999):
        body = offline_body([{"product_id": tea["id"], "qty": 1}], [300],
                            [{"method": "cash", "amount": 300}])
        body["offline"]["cashier_id"] = cid
        s = _replay(client, cashier, body)
        assert s["cashier"] == cashier.username
    diffs = client.get("/api/v1/sales/offline-differences", headers=manager.headers
                       ).get_json()["items"]
    assert sorted(d["message"] for d in diffs if d["kind"] == "cashier_unknown") == sorted(
        f"收银员 {cid} 不存在或已停用，记在补传的 {cashier.username} 名下"
        for cid in (gone.id, 999_999))
    assert_invariants()


def test_late_sales_added_to_a_closed_shift_match_a_full_recomputation(
        client, cashier, goods, db_session, assert_invariants):
    """Replaying into a closed shift adds each sale to its frozen figures (no full
    recomputation per sale): the result is what recomputing the whole shift gives."""
    from server.domain import shifts

    _, tea = goods
    s1 = open_shift(client, cashier, float_fen=500)
    _replay(client, cashier, {"id": str(uuid.uuid4()), "lines": [{"product_id": tea["id"],
                                                                   "qty": 1}],
                              "payments": [{"method": "cash", "amount": 300,
                                            "tendered": 500}]})
    at = dt.datetime.now(dt.UTC)
    r = client.post(f"/api/v1/shifts/{s1['id']}/close", json={"denominations": {500: 2}},
                    headers=cashier.write_headers())
    assert r.status_code == 200, r.get_json()
    for pays in ([{"method": "cash", "amount": 600, "tendered": 1000}],
                 [{"method": "card", "amount": 200}, {"method": "cash", "amount": 400}],
                 [{"method": "wechat", "amount": 600}]):
        _replay(client, cashier, offline_body([{"product_id": tea["id"], "qty": 2}], [600],
                                              pays, at=at))
    frozen = client.get(f"/api/v1/shifts/{s1['id']}", headers=cashier.headers).get_json()
    assert (frozen["sales_count"], frozen["sales_total"], frozen["expected_cash"],
            frozen["difference"], frozen["by_method"]) == (
        4, 2100, 500 + 300 + 600 + 400, 1000 - 1800,
        {"cash": 1300, "card": 200, "wechat": 600})
    db_session.rollback()
    shift = shifts.get(db_session, s1["id"])
    kept = dict(shift.report)
    full = shifts.refreeze(db_session, shift)
    db_session.rollback()
    for key in ("sales_count", "sales_total", "by_method", "cash_in", "change_given",
                "expected_cash", "difference", "recharges_by_method"):
        assert kept[key] == full[key], key
    assert_invariants()
