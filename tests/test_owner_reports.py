"""The owner's reports (#17) against the real MariaDB: data made through the API (sales with
and without members, stored value with a bonus rule, refunds and discounts with approval,
count cards sold, used, expired and voided, stock moves, a voided coupon) plus bulk members;
every figure is cross-checked against the tables and ledgers it summarises."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from common.schemas.base import Role
from common.text import mask_phone
from server import clock as clock_module
from server.clock import shop_clock
from tests.conftest import open_shift

API = "/api/v1"
ENDPOINTS = ("members", "count-cards", "stock", "exceptions")


def _post(client, who, path, body, status=201):
    r = client.post(API + path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


def _sale(client, who, lines, payments, **extra):
    sale_id = str(uuid.uuid4())
    body = {"id": sale_id, "lines": lines, "payments": payments, **extra}
    r = client.post(API + "/sales", json=body, headers=who.write_headers(sale_id))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _approval(client, cashier, purpose=None):
    body = {"username": "mgr", "password": "secret123"}
    if purpose:
        body["purpose"] = purpose
    r = client.post(API + "/approvals", json=body, headers=cashier.headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["approval_token"]


def _get(client, who, path, status=200, **params):
    r = client.get(API + path, query_string=params, headers=who.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def _today(client) -> dt.date:
    return shop_clock(client.application.extensions["lanpos"].config).today()


def _period(client, **extra):
    t = _today(client).isoformat()
    return {"date_from": t, "date_to": t, **extra}


@pytest.fixture
def mgr(make_staff):
    return make_staff(Role.MANAGER, "mgr", password="secret123")


@pytest.fixture
def shop_data(app, client, owner, mgr, cashier, db_session):
    """A day of a small shop (see the module docstring) and 30 bulk members with opening
    balances and points."""
    from server.domain import member_bulk

    drinks = _post(client, mgr, "/categories", {"name": "饮料"})
    daily = _post(client, mgr, "/categories", {"name": "日用"})
    tea = _post(client, mgr, "/products", {
        "name": "绿茶", "price": 500, "cost": 300, "category_id": drinks["id"],
        "track_stock": True, "opening_stock": 100, "low_stock": 150})
    soap = _post(client, mgr, "/products", {
        "name": "香皂", "price": 900, "category_id": daily["id"], "track_stock": True,
        "opening_stock": 5, "low_stock": 2})
    shampoo = _post(client, mgr, "/products", {
        "name": "洗发水", "price": 5800, "cost": 3000, "track_stock": True,
        "opening_stock": 4, "low_stock": 5})
    massage = _post(client, mgr, "/products", {
        "name": "肩颈按摩", "kind": "service", "price": 6800})
    level = _post(client, mgr, "/levels", {"name": "金卡", "rank": 1, "discount_bp": 10000,
                                           "points_per_yuan": 1})
    _post(client, mgr, "/recharge-rules", {"name": "充100送20", "threshold": 10000,
                                           "bonus": 2000})
    m1 = _post(client, cashier, "/members", {"name": "王芳", "phone": "13912345678",
                                             "level_id": level["id"]})
    m2 = _post(client, cashier, "/members", {"name": "李雷", "phone": "13987654321"})
    state = app.extensions["lanpos"]
    with state.session_factory() as s:
        member_bulk.generate(s, 30, seed=3)
        s.commit()
    open_shift(client, cashier)
    _post(client, cashier, f"/members/{m1['id']}/recharges", {"amount": 10000,
                                                              "method": "cash"})
    _post(client, cashier, f"/members/{m2['id']}/recharges", {"amount": 5000,
                                                              "method": "wechat"})
    _post(client, mgr, f"/members/{m2['id']}/points", {"change": 300, "reason": "活动赠送"})
    # sales: guest cash; member stored value; member with a big manual discount (approved);
    # guest with an order discount
    s1 = _sale(client, cashier, [{"product_id": tea["id"], "qty": 2}],
               [{"method": "cash", "amount": 1000}])
    s2 = _sale(client, cashier, [{"product_id": tea["id"], "qty": 1},
                                 {"product_id": massage["id"], "qty": 1}],
               [{"method": "stored_value", "amount": 7300}], member_id=m1["id"])
    s3 = _sale(client, cashier, [{"product_id": shampoo["id"], "qty": 1,
                                  "manual_discount_bp": 3000}],
               [{"method": "cash", "amount": 4060}], member_id=m2["id"],
               approval_token=_approval(client, cashier))
    s4 = _sale(client, cashier, [{"product_id": soap["id"], "qty": 2}],
               [{"method": "alipay", "amount": 1700}], order_discount_fen=100)
    # refunds: the manager refunds s1; the cashier refunds the tea of s2 with approval
    r1 = _post(client, mgr, f"/sales/{s1['id']}/refunds",
               {"id": str(uuid.uuid4()), "reason": "顾客退货"})
    r2 = _post(client, cashier, f"/sales/{s2['id']}/refunds",
               {"id": str(uuid.uuid4()), "reason": "买错了",
                "lines": [{"line_id": s2["lines"][0]["id"], "qty": 1}],
                "approval_token": _approval(client, cashier, "refund")})
    # count cards
    five = _post(client, mgr, "/count-card-templates", {
        "name": "按摩5次卡", "product_id": massage["id"], "service_name": "肩颈按摩",
        "uses": 5, "validity_days": 365, "price": 20000})
    three = _post(client, mgr, "/count-card-templates", {
        "name": "按摩3次卡", "product_id": massage["id"], "service_name": "肩颈按摩",
        "uses": 3, "price": 10000})

    def card_sale(member, template):
        s = _sale(client, cashier, [{"count_card_template_id": template["id"], "qty": 1}],
                  [{"method": "cash", "amount": template["price"]}], member_id=member["id"])
        return s, max(c["id"] for c in s["member"]["count_cards"])

    _, c1 = card_sale(m1, five)
    use = _sale(client, cashier, [{"product_id": massage["id"], "qty": 1,
                                   "count_card_id": c1}], [], member_id=m1["id"])
    _sale(client, cashier, [{"product_id": massage["id"], "qty": 1, "count_card_id": c1}],
          [], member_id=m1["id"])
    _post(client, mgr, f"/sales/{use['id']}/refunds",  # the first use is given back
          {"id": str(uuid.uuid4()), "reason": "未服务"})
    _, c2 = card_sale(m2, three)
    _sale(client, cashier, [{"product_id": massage["id"], "qty": 1, "count_card_id": c2}],
          [], member_id=m2["id"])
    _, c3 = card_sale(m2, five)  # expires (below)
    void_sale, c4 = card_sale(m1, three)  # voided: its purchase refunded unused
    _post(client, mgr, f"/sales/{void_sale['id']}/refunds",
          {"id": str(uuid.uuid4()), "reason": "不想要了"})
    _, c5 = card_sale(m1, three)  # its template is gone (below)
    db_session.execute(text("UPDATE member_count_cards SET expires_at = :t WHERE id = :i"),
                       {"t": dt.datetime.now(dt.UTC).replace(tzinfo=None)
                        - dt.timedelta(days=1), "i": c3})
    db_session.execute(text("UPDATE member_count_cards SET template_id = NULL WHERE id = :i"),
                       {"i": c5})
    # a voided coupon
    ctpl = _post(client, mgr, "/coupon-templates", {"name": "满50减10", "kind": "amount",
                                                    "amount_fen": 1000,
                                                    "threshold_fen": 5000})
    _post(client, mgr, "/coupons", {"template_id": ctpl["id"], "member_id": m1["id"]})
    coupon = _get(client, mgr, "/coupons", member_id=m1["id"])["items"][0]
    _post(client, mgr, f"/coupons/{coupon['id']}/void", {"reason": "发错了"}, status=200)
    # stock: a purchase, an adjustment, a count
    _post(client, mgr, "/stock/purchases", {
        "supplier": "批发", "lines": [{"product_id": tea["id"], "qty": 30, "unit_cost": 320}]})
    _post(client, mgr, "/stock/adjustments", {"product_id": soap["id"], "change": -1,
                                              "reason": "破损"})
    _post(client, mgr, "/stock/counts", {"lines": [{"product_id": shampoo["id"],
                                                     "counted": 2}]})
    db_session.commit()
    return {"members": (m1, m2), "sales": (s1, s2, s3, s4), "refunds": (r1, r2),
            "cards": (c1, c2, c3, c4, c5), "templates": (five, three), "coupon": coupon,
            "products": (tea, soap, shampoo, massage)}


def _one(db_session, sql, **p):
    db_session.rollback()  # a fresh snapshot
    return db_session.execute(text(sql), p).one()


def test_member_report_equals_balances_and_ledgers(client, mgr, shop_data, db_session,
                                                   assert_invariants):
    rep = _get(client, mgr, "/reports/members", **_period(client))
    # stored-value liability = Σ members' balances = the ledger sums, principal and bonus apart
    members = db_session.execute(text(
        "SELECT active, sv_principal, sv_bonus, points FROM members")).all()
    principal, bonus = sum(m[1] for m in members), sum(m[2] for m in members)
    assert principal > 0 and bonus > 0
    led_p, led_b = _one(db_session, "SELECT SUM(principal_change), SUM(bonus_change) "
                                    "FROM stored_value_ledger")
    assert (rep["liability_principal"], rep["liability_bonus"]) == (principal, bonus) \
        == (led_p, led_b)
    assert rep["liability_total"] == principal + bonus
    assert rep["members_with_balance"] == sum(1 for m in members if m[1] + m[2] > 0)
    pts = sum(m[3] for m in members)
    assert rep["points_outstanding"] == pts == _one(
        db_session, "SELECT SUM(`change`) FROM points_ledger")[0]
    assert rep["members_with_points"] == sum(1 for m in members if m[3] > 0)
    assert rep["members"] == sum(1 for m in members if m[0]) == 32
    assert rep["new_members"] == 32
    # the period from the ledgers: two recharges, the 100 one with its 20 bonus
    assert (rep["recharge_count"], rep["recharge_principal"], rep["recharge_bonus"]) == (
        2, 15000, 2000)
    s2, r2 = shop_data["sales"][1], shop_data["refunds"][1]
    sv_paid = 7300 - sum(p["amount"] for p in r2["payments"] if p["method"] == "stored_value")
    assert r2["total"] == 500
    assert rep["sv_spent_principal"] + rep["sv_spent_bonus"] == sv_paid
    spent = _one(db_session, "SELECT -SUM(principal_change), -SUM(bonus_change) FROM "
                             "stored_value_ledger WHERE kind IN ('payment', 'payment_refund')")
    assert (rep["sv_spent_principal"], rep["sv_spent_bonus"]) == tuple(spent)
    assert rep["sv_cash_refunded"] == 0 and rep["sv_adjusted"] == 0
    # the period's movements explain the liability (every entry of the test is today)
    assert rep["recharge_principal"] + rep["recharge_bonus"] - rep["sv_spent_principal"] \
        - rep["sv_spent_bonus"] + rep["sv_opening"] - rep["sv_cash_refunded"] \
        - rep["sv_bonus_forfeited"] + rep["sv_adjusted"] == principal + bonus
    assert rep["points_earned"] == _one(
        db_session, "SELECT SUM(`change`) FROM points_ledger WHERE kind = 'earn'")[0] > 0
    assert rep["points_earned"] - rep["points_redeemed"] - rep["points_expired"] \
        + rep["points_other"] == pts
    # sales of the period with and without a member
    sales = db_session.execute(text("SELECT member_id, total FROM sales")).all()
    assert (rep["member_sales"], rep["member_total"]) == (
        sum(1 for s in sales if s[0]), sum(s[1] for s in sales if s[0]))
    assert (rep["guest_sales"], rep["guest_total"]) == (
        sum(1 for s in sales if not s[0]), sum(s[1] for s in sales if not s[0]))
    # the top spenders
    by_member: dict[int, list[int]] = {}
    for mid, total in sales:
        if mid:
            by_member.setdefault(mid, []).append(total)
    best = sorted(by_member, key=lambda m: (-sum(by_member[m]), m))
    assert [t["member_id"] for t in rep["top"]] == best
    m1 = shop_data["members"][0]
    top1 = next(t for t in rep["top"] if t["member_id"] == m1["id"])
    bal = _one(db_session, "SELECT sv_principal + sv_bonus FROM members WHERE id = :i",
               i=m1["id"])[0]
    assert (top1["name"], top1["sales"], top1["balance"]) == ("王芳", len(by_member[m1["id"]]),
                                                              bal)
    assert s2["member"]["id"] == m1["id"]
    one = _get(client, mgr, "/reports/members", **_period(client, top=1))
    assert len(one["top"]) == 1 and one["top"][0]["member_id"] == best[0]
    # a period without any of it: the liability is still now's
    past = (_today(client) - dt.timedelta(days=40)).isoformat()
    old = _get(client, mgr, "/reports/members", date_from=past, date_to=past)
    assert old["liability_principal"] == principal and old["recharge_count"] == 0
    assert old["member_sales"] == 0 and old["top"] == [] and old["new_members"] == 0
    assert_invariants()


def test_count_card_report_equals_the_cards_and_the_ledger(client, mgr, shop_data, db_session,
                                                           assert_invariants):
    rep = _get(client, mgr, "/reports/count-cards", **_period(client))
    five, three = shop_data["templates"]
    rows = {r["key"]: r for r in rep["rows"]}
    assert set(rows) == {str(five["id"]), str(three["id"]), "other"}
    assert rows["other"]["label"] == "其他" and rows[str(five["id"])]["label"] == "按摩5次卡"
    cards = db_session.execute(text(
        "SELECT id, template_id, price, total_uses, remaining_uses, status, expires_at "
        "FROM member_count_cards")).all()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def key(c):
        return str(c[1]) if c[1] is not None else "other"

    def live(c):
        return c[5] == "active" and c[4] > 0 and (c[6] is None or c[6] > now)

    for k, row in rows.items():
        mine = [c for c in cards if key(c) == k]
        act = [c for c in mine if live(c)]
        assert row["active_cards"] == len(act), k
        assert row["uses_left"] == sum(c[4] for c in act), k
        # liability = Σ uses left × value per use, rounded down per card
        assert row["value_left"] == sum(c[2] * c[4] // c[3] for c in act), k
        assert row["expired_uses_left"] == sum(
            c[4] for c in mine if c[5] == "active" and c[6] is not None and c[6] <= now), k
        # every card of the test was bought today
        assert (row["sold"], row["sold_total"]) == (len(mine), sum(c[2] for c in mine)), k
    # five: c1 (5 uses, 1 net use: two taken, one given back) and c3 expired with 5 left
    f = rows[str(five["id"])]
    assert (f["sold"], f["uses"], f["active_cards"], f["uses_left"], f["value_left"],
            f["expired_uses_left"]) == (2, 1, 1, 4, 20000 * 4 // 5, 5)
    # three: c2 one use (3333 × 2 = 6666 rounded per card), c4 voided
    t = rows[str(three["id"])]
    assert (t["sold"], t["uses"], t["active_cards"], t["uses_left"], t["value_left"]) == (
        2, 1, 1, 2, 10000 * 2 // 3)
    assert rows["other"]["active_cards"] == 1 and rows["other"]["value_left"] == 10000
    # uses in the period = the ledger (use − reverse)
    uses = _one(db_session, "SELECT -SUM(`change`) FROM count_card_ledger "
                            "WHERE kind IN ('use', 'reverse')")[0]
    tot = rep["totals"]
    assert tot["uses"] == uses == 2
    assert tot["value_left"] == sum(r["value_left"] for r in rep["rows"])
    assert tot["uses_left"] == sum(c[4] for c in cards if live(c))
    assert tot["sold"] == 5
    assert_invariants()


def test_stock_report_equals_the_products_and_the_stock_ledger(
        client, mgr, shop_data, db_session, assert_invariants):
    db_session.execute(text("UPDATE products SET active = 0 WHERE name = '洗发水'"))
    db_session.commit()
    rep = _get(client, mgr, "/reports/stock", **_period(client))
    prods = db_session.execute(text(
        "SELECT id, category_id, stock, cost, low_stock, active, track_stock FROM products"
    )).all()
    tracked = [p for p in prods if p[6]]
    assert rep["value_at_cost"] == sum(p[2] * p[3] for p in tracked
                                       if p[2] > 0 and p[3] is not None)
    # tea (100 − 2 − 1 + 2 refunded + 30 at 320 — its cost is the last purchase's) and
    # shampoo (counted 2 at 3000)
    tea = next(p for p in tracked if p[0] == shop_data["products"][0]["id"])
    assert rep["value_at_cost"] == tea[2] * tea[3] + 2 * 3000
    assert rep["tracked_products"] == len(tracked) == 3
    assert rep["products_without_cost"] == 1  # the soap
    assert rep["negative_stock"] == 0
    cats = {r["label"]: r for r in rep["categories"]}
    assert set(cats) == {"饮料", "日用", "未分类"}
    assert (cats["日用"]["products"], cats["日用"]["qty"], cats["日用"]["value"]) == (
        1, 5 - 2 - 1, 0)
    assert cats["未分类"]["qty"] == 2 and cats["未分类"]["value"] == 6000
    assert rep["categories_total"]["value"] == rep["value_at_cost"]
    # low stock: active tracked products at or below their threshold (shampoo is inactive)
    low = sorted((p for p in tracked if p[5] and p[4] is not None and p[2] <= p[4]),
                 key=lambda p: (p[2] - p[4], p[0]))
    assert [r["product_id"] for r in rep["low_stock"]] == [p[0] for p in low]
    assert [r["name"] for r in rep["low_stock"]] == ["绿茶", "香皂"]  # 129 of 150, 2 of 2
    assert rep["low_stock"][0]["low_stock"] == 150 and rep["low_stock_truncated"] is False
    # movements = stock ledger sums per kind
    led = db_session.execute(text("SELECT kind, `change` FROM stock_ledger")).all()
    moves = {r["kind"]: r for r in rep["movements"]}
    assert set(moves) == {k for k, _ in led} == {"opening", "purchase", "sale", "refund",
                                                 "adjust", "count"}
    for kind, row in moves.items():
        ch = [c for k, c in led if k == kind]
        assert (row["entries"], row["qty_in"], row["qty_out"], row["net"]) == (
            len(ch), sum(c for c in ch if c > 0), -sum(c for c in ch if c < 0), sum(ch)), kind
    assert moves["purchase"]["label"] == "进货" and moves["count"]["label"] == "盘点"
    assert [r["kind"] for r in rep["movements"]] == ["opening", "purchase", "sale", "refund",
                                                     "adjust", "count"]
    assert rep["movements_total"]["net"] == sum(c for _, c in led) == sum(
        p[2] for p in tracked)
    past = (_today(client) - dt.timedelta(days=3)).isoformat()
    old = _get(client, mgr, "/reports/stock", date_from=past, date_to=past)
    assert old["movements"] == [] and old["value_at_cost"] == rep["value_at_cost"]
    # an entry whose time is out of the ids' order (the newest id, three days ago) is counted
    # on its own day only
    clock = shop_clock(client.application.extensions["lanpos"].config)
    db_session.execute(text("UPDATE stock_ledger SET at = :t ORDER BY id DESC LIMIT 1"),
                       {"t": clock.day_start(_today(client) - dt.timedelta(days=3))
                        + dt.timedelta(hours=9)})
    db_session.commit()
    old = _get(client, mgr, "/reports/stock", date_from=past, date_to=past)
    assert [(r["kind"], r["entries"]) for r in old["movements"]] == [("count", 1)]
    now = _get(client, mgr, "/reports/stock", **_period(client))
    assert now["movements_total"]["entries"] == rep["movements_total"]["entries"] - 1
    assert_invariants()


def test_exceptions_report_lists_refunds_discounts_and_voids(
        client, mgr, cashier, shop_data, db_session, assert_invariants):
    rep = _get(client, mgr, "/reports/exceptions", **_period(client))
    refunds = db_session.execute(text(
        "SELECT number, total, approved_by, created_at FROM refunds ORDER BY created_at, id"
    )).all()
    assert [r["number"] for r in rep["refunds"]] == [r[0] for r in refunds]
    assert rep["refund_count"] == len(refunds) == 4
    assert rep["refund_total"] == sum(r[1] for r in refunds)
    r1, r2 = shop_data["refunds"]
    by_no = {r["number"]: r for r in rep["refunds"]}
    assert by_no[r1["number"]]["approved_by"] is None
    assert by_no[r1["number"]]["cashier"] == "测试店长"
    assert by_no[r2["number"]]["approved_by"] == "测试店长"
    assert by_no[r2["number"]]["cashier"] == "测试收银员"
    assert by_no[r2["number"]]["reason"] == "买错了"
    assert by_no[r2["number"]]["sale_number"] == shop_data["sales"][1]["number"]
    # discounts: the sales with a manual or order discount
    disc = db_session.execute(text(
        "SELECT number, manual_discount + order_discount FROM sales "
        "WHERE manual_discount > 0 OR order_discount > 0 ORDER BY created_at, id")).all()
    assert [d["number"] for d in rep["discounts"]] == [d[0] for d in disc] == [
        shop_data["sales"][2]["number"], shop_data["sales"][3]["number"]]
    assert rep["discount_count"] == 2
    assert rep["discount_total"] == sum(d[1] for d in disc) == 5800 - 4060 + 100
    assert [d["discount"] for d in rep["discounts"]] == [1740, 100]
    # the 30% discount needed the manager's approval; 1 yuan off the order did not
    assert [(d["approved_by"], d["cashier"]) for d in rep["discounts"]] == [
        ("测试店长", "测试收银员"), (None, "测试收银员")]
    assert shop_data["sales"][2]["approved_by"] == "mgr"
    assert shop_data["sales"][3]["approved_by"] is None
    assert rep["discounts"][0]["list_total"] == 5800 and rep["discounts"][0]["total"] == 4060
    # voids: the coupon and the count card whose purchase was refunded
    assert [(v["kind"], v["reason"]) for v in rep["voids"]] == [
        ("count_card", "不想要了"), ("coupon", "发错了")]
    assert rep["void_count"] == 2 and not rep["voids_truncated"]
    card_void, coupon_void = rep["voids"]
    assert coupon_void["ref"] == shop_data["coupon"]["code"]
    assert coupon_void["member"].startswith("王芳 (") and coupon_void["by"] == "测试店长"
    assert card_void["ref"] == f"按摩3次卡 #{shop_data['cards'][3]}"
    # limits: the lists stop, the counts and totals do not
    small = _get(client, mgr, "/reports/exceptions", **_period(client, limit=1))
    assert len(small["refunds"]) == 1 and small["refunds_truncated"] is True
    assert small["refund_count"] == 4 and small["refund_total"] == rep["refund_total"]
    assert len(small["discounts"]) == 1 and small["discounts_truncated"] is True
    assert small["discount_total"] == rep["discount_total"]
    assert len(small["voids"]) == 1 and small["voids_truncated"] and small["void_count"] == 2
    # a refund counts on its own business day
    yesterday = _today(client) - dt.timedelta(days=1)
    db_session.execute(text("UPDATE refunds SET business_date = :d WHERE number = :n"),
                       {"d": yesterday, "n": r1["number"]})
    db_session.commit()
    moved = _get(client, mgr, "/reports/exceptions", **_period(client))
    assert moved["refund_count"] == 3 and moved["refund_total"] == rep["refund_total"] - 1000
    assert_invariants()


def _members(db_session):
    db_session.rollback()
    return db_session.execute(text(
        "SELECT id, active, created_at, last_visit_at, birth_md, phone FROM members")).all()


def _list(client, who, status=200, **params):
    return _get(client, who, "/reports/member-list", status=status, **params)


def _all_pages(client, who, **params):
    out, page = [], 1
    while True:
        got = _list(client, who, page=page, page_size=7, **params)
        out += got["items"]
        if not got["has_more"]:
            return out, got
        page += 1


def test_member_lists_new_dormant_and_birthdays(app, client, mgr, db_session):
    from server.domain import member_bulk

    state = app.extensions["lanpos"]
    with state.session_factory() as s:
        member_bulk.generate(s, 60, seed=5)
        s.commit()
    clock = shop_clock(state.config)
    today = clock.today()
    ids = [m[0] for m in _members(db_session)]
    # created: 10 a week ago, 10 forty days ago; visits spread over 0..199 days; 5 inactive
    for n, mid in enumerate(ids):
        created = clock.day_start(today - dt.timedelta(days=7 if n < 10 else 40 if n < 20
                                                       else 300)) + dt.timedelta(hours=10)
        visit = None if n % 6 == 0 else clock.day_start(
            today - dt.timedelta(days=(n * 7) % 200)) + dt.timedelta(hours=12)
        db_session.execute(text("UPDATE members SET created_at = :c, last_visit_at = :v, "
                                "active = :a WHERE id = :i"),
                           {"c": created, "v": visit, "a": n % 12 != 5, "i": mid})
    db_session.commit()
    rows = _members(db_session)
    # new: created in the last 10 days, active only
    a = (today - dt.timedelta(days=10)).isoformat()
    got, last = _all_pages(client, mgr, kind="new", date_from=a, date_to=today.isoformat())
    lo = clock.day_start(today - dt.timedelta(days=10))
    want = sorted((r for r in rows if r[1] and r[2] >= lo), key=lambda r: (r[2], r[0]))
    assert [g["id"] for g in got] == [r[0] for r in want] and len(want) >= 8
    assert last["total"] == len(want)
    # phones are masked for every role, the owner's manager included
    phones = {r[0]: r[5] for r in rows}
    assert all(g["phone"] == mask_phone(phones[g["id"]]) and "****" in g["phone"] for g in got)
    # dormant: no visit (or, never visited, creation) more than 60 days before today
    cut = clock.day_start(today - dt.timedelta(days=60))
    got, last = _all_pages(client, mgr, kind="dormant")
    want = [r for r in rows if r[1] and (r[3] < cut if r[3] else r[2] < cut)]
    assert sorted(g["id"] for g in got) == sorted(r[0] for r in want) and len(want) > 10
    assert last["total"] is None
    never = [g for g in got if g["last_visit_at"] is None]
    assert got[:len(never)] == never  # never visited first, then the longest ago first
    visits = [g["last_visit_at"] for g in got[len(never):]]
    assert visits == sorted(visits)
    got, _ = _all_pages(client, mgr, kind="dormant", days=150)
    cut = clock.day_start(today - dt.timedelta(days=150))
    assert sorted(g["id"] for g in got) == sorted(
        r[0] for r in rows if r[1] and (r[3] < cut if r[3] else r[2] < cut))
    # birthdays this month, by day
    got, last = _all_pages(client, mgr, kind="birthdays")
    want = sorted((r for r in rows if r[1] and r[4] and r[4] // 100 == today.month),
                  key=lambda r: (r[4], r[0]))
    assert [g["id"] for g in got] == [r[0] for r in want]
    assert last["total"] == len(want)


def test_birthdays_of_a_week_over_the_year_end(app, client, mgr, db_session, monkeypatch):
    """Today 29 December (the shop's clock): the week is 29 Dec … 4 Jan, in that order."""
    from server.domain import member_bulk

    state = app.extensions["lanpos"]
    with state.session_factory() as s:
        member_bulk.generate(s, 12, seed=9)
        s.commit()
    ids = [m[0] for m in _members(db_session)]
    days = [(12, 28), (12, 29), (12, 31), (1, 1), (1, 4), (1, 5), (12, 30), (1, 2), (6, 1),
            (12, 31), (1, 3), (11, 30)]
    for mid, (mo, d) in zip(ids, days, strict=True):
        db_session.execute(text("UPDATE members SET birthday = :b, birth_md = :md, "
                                "active = :a WHERE id = :i"),
                           {"b": dt.date(1990, mo, d), "md": mo * 100 + d,
                            "a": mid != ids[9], "i": mid})
    db_session.commit()
    monkeypatch.setattr(clock_module, "utcnow",
                        lambda: dt.datetime(2026, 12, 29, 4, 0, tzinfo=dt.UTC))
    assert shop_clock(state.config).today() == dt.date(2026, 12, 29)
    got = _list(client, mgr, kind="birthdays", scope="week")
    assert [(g["birthday"][5:]) for g in got["items"]] == [
        "12-29", "12-30", "12-31", "01-01", "01-02", "01-03", "01-04"]
    assert got["total"] == 7 and got["has_more"] is False
    month = _list(client, mgr, kind="birthdays")
    assert [g["birthday"][5:] for g in month["items"]] == ["12-28", "12-29", "12-30",
                                                           "12-31"]


def test_birthday_days_keep_29_february():
    from server.domain.owner_reports import birthday_days

    assert birthday_days(dt.date(2027, 2, 25), "week") == [225, 226, 227, 228, 229, 301, 302,
                                                           303]
    assert birthday_days(dt.date(2028, 2, 25), "week") == [225, 226, 227, 228, 229, 301, 302]


def test_owner_reports_are_for_managers_and_check_their_input(client, owner, mgr, cashier):
    t = _today(client).isoformat()
    y = (_today(client) - dt.timedelta(days=1)).isoformat()
    for path in ENDPOINTS:
        assert client.get(f"{API}/reports/{path}", query_string={"date_from": t, "date_to": t},
                          headers=cashier.headers).status_code == 403, path
        assert _get(client, owner, f"/reports/{path}", date_from=t, date_to=t)
        bad = _get(client, mgr, f"/reports/{path}", status=400, date_from=t, date_to=y)
        assert bad["error"]["code"] == "validation_error"
        assert "结束日期不能早于开始日期" in str(bad["error"]), path
        far = _get(client, mgr, f"/reports/{path}", status=400, date_from="2020-01-01",
                   date_to="2024-01-01")
        assert "3 年" in str(far["error"]), path
    assert client.get(f"{API}/reports/member-list", query_string={"kind": "dormant"},
                      headers=cashier.headers).status_code == 403
    bad = _list(client, mgr, status=400, kind="lapsed")
    assert "kind" in bad["error"]["fields"]
    bad = _list(client, mgr, status=400, kind="new")
    assert "开始和结束日期" in str(bad["error"])
    bad = _list(client, mgr, status=400, kind="dormant", days=0)
    assert "days" in bad["error"]["fields"]
    bad = _get(client, mgr, "/reports/exceptions", status=400, date_from=t, date_to=t,
               limit=501)
    assert "limit" in bad["error"]["fields"]
    empty = _get(client, mgr, "/reports/count-cards", date_from=t, date_to=t)
    assert empty["rows"] == [] and empty["totals"]["value_left"] == 0
    doc = client.get(f"{API}/openapi.json").get_json()
    for path in (*ENDPOINTS, "member-list"):
        op = doc["paths"][f"{API}/reports/{path}"]["get"]
        assert sorted(op["x-roles"]) == sorted([Role.OWNER.value, Role.MANAGER.value]), path


def test_client_api_methods_return_the_report_models(live_server, shop_data, mgr):
    from client.api import ApiClient
    from common.schemas import reports as sr

    api = ApiClient([live_server.url], counter="01", max_attempts=1)
    try:
        api.login("mgr", "secret123")
        today = dt.datetime.now(dt.UTC).date()  # the shop's day is within a day of it
        a = today - dt.timedelta(days=1)
        b = today + dt.timedelta(days=1)
        m = api.members_report(a, b, top=1)
        assert isinstance(m, sr.MemberReportOut) and len(m.top) == 1
        assert m.liability_total == m.liability_principal + m.liability_bonus > 0
        cards = api.count_card_report(a, b)
        assert isinstance(cards, sr.CountCardReportOut) and cards.totals.sold == 5
        stock = api.stock_report(a, b)
        assert isinstance(stock, sr.StockReportOut) and stock.tracked_products == 3
        exc = api.exceptions_report(a, b, limit=1)
        assert exc.refund_count == 4 and len(exc.refunds) == 1 and exc.refunds_truncated
        page = api.member_list("new", page_size=1, date_from=a, date_to=b)
        assert isinstance(page.items[0], sr.MemberListRowOut)
        assert page.total == 32 and page.has_more
        assert api.member_list("birthdays", scope="week").total is not None
    finally:
        api.close()


def test_periods_at_the_ends_of_the_calendar_answer(client, mgr):
    """Year 1 and 9999 are valid dates (the period's 3 years at most): no overflow, no 500."""
    for a, b in (("0001-01-01", "0001-01-05"), ("9999-12-25", "9999-12-31")):
        for path in ENDPOINTS:
            assert _get(client, mgr, f"/reports/{path}", date_from=a, date_to=b), (path, a)
        got = _list(client, mgr, kind="new", date_from=a, date_to=b)
        assert got["items"] == [] and got["total"] == 0
