"""Sales reports against the real MariaDB: sales made through the API, every grouping adds up
to the period's totals exactly, refunds counted on the refund's day, margin on known costs."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from common.schemas.base import Role
from tests.conftest import open_shift

GROUPS = ("day", "month", "hour", "payment", "category", "product", "staff")


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


def _sale(client, who, lines, payments, **extra):
    sale_id = str(uuid.uuid4())
    body = {"id": sale_id, "lines": lines, "payments": payments, **extra}
    r = client.post("/api/v1/sales", json=body, headers=who.write_headers(sale_id))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _refund(client, who, sale, lines=None):
    body = {"id": str(uuid.uuid4()), "reason": "顾客退货"}
    if lines is not None:
        body["lines"] = lines
    return _post(client, who, f"/api/v1/sales/{sale['id']}/refunds", body)


def _report(client, who, group, a, b=None, status=200, **extra):
    params = {"date_from": a.isoformat(), "date_to": (b or a).isoformat(), "group": group,
              **extra}
    r = client.get("/api/v1/reports/sales", query_string=params, headers=who.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


@pytest.fixture
def day_of_sales(client, manager, cashier):
    """Two categories, a product with cost, a service without, a 9折 member with stored
    value; four sales (cash with change, member split payment, alipay, wechat) and two
    refunds (one line of one unit; a whole sale)."""
    drinks = _post(client, manager, "/api/v1/categories", {"name": "饮料"})
    care = _post(client, manager, "/api/v1/categories", {"name": "护理"})
    tea = _post(client, manager, "/api/v1/products", {
        "name": "绿茶", "price": 500, "cost": 300, "category_id": drinks["id"],
        "track_stock": True, "opening_stock": 100})
    juice = _post(client, manager, "/api/v1/products", {
        "name": "果汁", "price": 800, "cost": 450, "category_id": drinks["id"]})
    massage = _post(client, manager, "/api/v1/products", {
        "name": "肩颈按摩", "kind": "service", "price": 6800, "category_id": care["id"]})
    level = _post(client, manager, "/api/v1/levels", {
        "name": "金卡", "rank": 1, "discount_bp": 9000, "points_per_yuan": 1})
    member = _post(client, cashier, "/api/v1/members", {
        "name": "王芳", "phone": "13912345678", "level_id": level["id"]})
    open_shift(client, cashier)
    _post(client, cashier, f"/api/v1/members/{member['id']}/recharges",
          {"amount": 10000, "method": "cash"})
    s1 = _sale(client, cashier, [{"product_id": tea["id"], "qty": 2}],
               [{"method": "cash", "amount": 1000, "tendered": 2000}])
    # member: 9折 → tea 2×450 = 900, massage 6120 → 7020
    s2 = _sale(client, cashier, [{"product_id": tea["id"], "qty": 2},
                                 {"product_id": massage["id"], "qty": 1}],
               [{"method": "stored_value", "amount": 5000},
                {"method": "wechat", "amount": 2020}], member_id=member["id"])
    s3 = _sale(client, cashier, [{"product_id": juice["id"], "qty": 3},
                                 {"product_id": tea["id"], "qty": 1}],
               [{"method": "alipay", "amount": 2900}])
    s4 = _sale(client, cashier, [{"product_id": massage["id"], "qty": 1}],
               [{"method": "wechat", "amount": 6800}])
    r1 = _refund(client, manager, s3, [{"line_id": s3["lines"][0]["id"], "qty": 1}])
    r2 = _refund(client, manager, s4)
    return {"sales": [s1, s2, s3, s4], "refunds": [r1, r2], "tea": tea, "juice": juice,
            "massage": massage, "drinks": drinks, "care": care}


def test_every_grouping_adds_up_to_the_period_totals(client, manager, cashier, day_of_sales,
                                                     assert_invariants):
    sales, refunds = day_of_sales["sales"], day_of_sales["refunds"]
    today = dt.date.today()
    total = sum(s["total"] for s in sales)
    list_total = sum(s["list_total"] for s in sales)
    refunded = sum(r["total"] for r in refunds)
    assert (total, refunded) == (1000 + 7020 + 2900 + 6800, 800 + 6800)
    for group in GROUPS:
        rep = _report(client, manager, group, today)
        t = rep["totals"]
        assert (t["sales"], t["total"], t["list_total"], t["refunds"], t["net"]) == (
            4, total, list_total, refunded, total - refunded), group
        assert t["discount"] == list_total - total
        rows = rep["rows"]
        assert sum(r["total"] for r in rows) == total, group
        assert sum(r["refunds"] for r in rows) == refunded, group
        assert sum(r["net"] for r in rows) == total - refunded, group
        if group != "payment":
            assert sum(r["list_total"] for r in rows) == list_total, group
        # margin: tea 300/unit, juice 450/unit; the service has no cost
        # sold: tea 2×500 + 2×450 + 1×500 = 2400 for 5 units; juice 3×800 = 2400 for 3 units
        # refunded: one juice (800, cost 450)
        assert (t["margin_base"], t["cost"]) == (2400 + 2400 - 800, 5 * 300 + 2 * 450), group
        assert t["margin"] == t["margin_base"] - t["cost"]
    assert_invariants()


def test_groups_give_the_right_figures(client, manager, cashier, day_of_sales):
    today = dt.date.today()
    d = day_of_sales
    pay = {r["key"]: r for r in _report(client, manager, "payment", today)["rows"]}
    assert {k: (r["total"], r["refunds"]) for k, r in pay.items()} == {
        "cash": (1000, 0), "wechat": (2020 + 6800, 6800), "alipay": (2900, 800),
        "stored_value": (5000, 0)}
    assert pay["cash"]["label"] == "现金"
    cats = {r["label"]: r for r in _report(client, manager, "category", today)["rows"]}
    assert cats["饮料"]["total"] == 1000 + 900 + 2900
    assert cats["饮料"]["qty"] == 2 + 2 + 3 + 1
    assert (cats["饮料"]["refunds"], cats["护理"]["refunds"]) == (800, 6800)
    assert cats["护理"]["total"] == 6120 + 6800 and cats["护理"]["cost"] == 0
    top = _report(client, manager, "product", today, top=1)
    assert top["truncated"] is True and len(top["rows"]) == 1
    assert top["rows"][0]["label"] == "肩颈按摩"
    assert top["rows"][0]["net"] == 6120  # 6120 + 6800 − 6800 refunded
    assert top["totals"]["total"] == sum(s["total"] for s in d["sales"])  # all, not the top
    staff = {r["label"]: r for r in _report(client, manager, "staff", today)["rows"]}
    assert staff["测试收银员"]["sales"] == 4 and staff["测试收银员"]["refunds"] == 0
    assert staff["测试店长"]["refunds"] == 800 + 6800 and staff["测试店长"]["sales"] == 0
    days = _report(client, manager, "day", today - dt.timedelta(days=3), today)["rows"]
    assert [r["key"] for r in days] == [today.isoformat()]
    # 数量: the units sold (2 + 2 + 1 + 3 + 1 + 1 lines' qty), in the day and staff views too
    units = sum(ln["qty"] for s in d["sales"] for ln in s["lines"])
    assert units == 10
    assert days[0]["qty"] == units
    assert _report(client, manager, "day", today)["totals"]["qty"] == units
    assert staff["测试收银员"]["qty"] == units and staff["测试店长"]["qty"] == 0
    months = _report(client, manager, "month", today)["rows"]
    assert [r["key"] for r in months] == [today.strftime("%Y-%m")]


def test_a_refund_counts_on_its_own_day(client, manager, day_of_sales, db_session):
    today = dt.date.today()
    yesterday = today - dt.timedelta(days=1)
    s4 = day_of_sales["sales"][3]
    # the sale of s4 happened yesterday; its refund today
    db_session.execute(text("UPDATE sales SET business_date = :d WHERE uuid = :u"),
                       {"d": yesterday, "u": s4["id"]})
    db_session.commit()
    days = {r["key"]: r for r in _report(client, manager, "day", yesterday, today)["rows"]}
    assert days[yesterday.isoformat()]["total"] == 6800
    assert days[yesterday.isoformat()]["refunds"] == 0
    assert days[today.isoformat()]["refunds"] == 800 + 6800
    only_today = _report(client, manager, "day", today)["totals"]
    assert only_today["sales"] == 3 and only_today["net"] == 1000 + 7020 + 2900 - 7600


def test_reports_are_for_managers_and_check_the_range(client, manager, cashier, owner):
    today = dt.date.today()
    r = client.get("/api/v1/reports/sales", query_string={
        "date_from": today.isoformat(), "date_to": today.isoformat()}, headers=cashier.headers)
    assert r.status_code == 403
    empty = _report(client, owner, "day", today)
    assert empty["rows"] == [] and empty["totals"]["total"] == 0
    bad = _report(client, manager, "day", today, today - dt.timedelta(days=1), status=400)
    assert bad["error"]["code"] == "validation_error"
    r = client.get("/api/v1/reports/sales", query_string={
        "date_from": today.isoformat(), "date_to": today.isoformat(), "group": "weekday"},
        headers=manager.headers)
    assert r.status_code == 400 and "group" in r.get_json()["error"]["fields"]


def test_reports_are_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/reports/sales"]["get"]
    assert sorted(op["x-roles"]) == sorted([Role.OWNER.value, Role.MANAGER.value])


def test_closed_days_come_from_the_cache_and_equal_the_live_figures(
        client, manager, day_of_sales, db_session):
    """Days before yesterday are read from ``report_days`` (built by the first report that
    needs them): every grouping equals the live computation, ``verify`` compares the two
    and catches a wrong cached figure, and a back-dated sale drops its day from the cache."""
    from common.schemas.reports import SalesReportQuery
    from common.schemas.sales import SaleIn
    from server.clock import shop_clock
    from server.domain import reports, sales
    from server.domain.actor import Actor

    today = dt.date.today()
    s1, s2, s3, _s4 = day_of_sales["sales"]
    r1 = day_of_sales["refunds"][0]
    moves = [("sales", s1["id"], 5), ("sales", s2["id"], 5), ("sales", s3["id"], 3),
             ("refunds", r1["id"], 4)]
    for table, uid, back in moves:
        db_session.execute(text(f"UPDATE {table} SET business_date = :d WHERE uuid = :u"),
                           {"d": today - dt.timedelta(days=back), "u": uid})
    db_session.commit()
    a = today - dt.timedelta(days=10)

    def live(group: str) -> dict:
        db_session.rollback()  # a fresh snapshot
        q = SalesReportQuery(date_from=a, date_to=today, group=group, top=500)
        return reports.sales_report(db_session, q, today=today,
                                    cache=False).model_dump(mode="json")

    def cached(group: str) -> dict:
        return _report(client, manager, group, a, today, top=500)

    for group in GROUPS:
        got = cached(group)
        assert got == live(group), group
        assert got["totals"]["sales"] == 4
    built = {r[0] for r in db_session.execute(text(
        "SELECT business_date FROM report_days WHERE dim = 'day'"))}
    assert built == {a + dt.timedelta(days=i) for i in range(9)}  # up to the day before yesterday
    days = {r["key"]: r for r in cached("day")["rows"]}
    assert days[(today - dt.timedelta(days=5)).isoformat()]["total"] == 1000 + 7020
    assert days[(today - dt.timedelta(days=4)).isoformat()]["refunds"] == 800
    assert reports.check_cache(db_session) == []

    # a wrong cached figure is caught by verify
    db_session.execute(text("UPDATE report_days SET total = total + 1 WHERE dim = 'product' "
                            "ORDER BY business_date, k LIMIT 1"))
    db_session.commit()
    problems = reports.check_cache(db_session)
    assert len(problems) == 1 and "product" in problems[0]
    db_session.execute(text("UPDATE report_days SET total = total - 1 WHERE dim = 'product' "
                            "ORDER BY business_date, k LIMIT 1"))
    db_session.commit()

    # a sale back-dated onto a cached day (demo history) invalidates that day
    state = client.application.extensions["lanpos"]
    juice = day_of_sales["juice"]
    when = dt.datetime.combine(today - dt.timedelta(days=3), dt.time(15, 0))
    with state.session_factory() as s:
        actor = Actor(staff_id=manager.id, username=manager.username, role=Role.MANAGER,
                      counter="01", ip=None)
        sales.create_sale(s, actor, state.passwords, SaleIn.model_validate({
            "id": str(uuid.uuid4()), "lines": [{"product_id": juice["id"], "qty": 1}],
            "payments": [{"method": "cash", "amount": 800}]}),
            clock=shop_clock(state.config), at=when)
        s.commit()
    for group in GROUPS:
        got = cached(group)
        assert got == live(group), group
        assert got["totals"]["sales"] == 5
    assert reports.check_cache(db_session) == []


def test_sales_by_hour_of_the_shop_day(client, manager, day_of_sales):
    """The hour group: each sale in the shop's hour of the day of its time; the hours between
    the first and the last are all there (zero when quiet), labelled 09:00–10:00."""
    from server.clock import shop_clock

    clock = shop_clock(client.application.extensions["lanpos"].config)
    today = dt.date.today()
    rep = _report(client, manager, "hour", today)
    expected: dict[str, int] = {}
    for s in day_of_sales["sales"]:
        at = dt.datetime.fromisoformat(s["created_at"].replace("Z", "+00:00"))
        key = f"{clock.local(at).hour:02d}"
        expected[key] = expected.get(key, 0) + s["total"]
    got = {r["key"]: r["total"] for r in rep["rows"] if r["total"]}
    assert got == expected
    keys = [int(r["key"]) for r in rep["rows"]]
    assert keys == list(range(min(keys), max(keys) + 1))
    first = rep["rows"][0]
    assert first["label"] == f"{keys[0]:02d}:00–{(keys[0] + 1) % 24:02d}:00"
    assert all(r["qty"] == 0 for r in rep["rows"])


def test_serving_staff_figures_of_closed_days_come_from_the_cache(
        client, manager, cashier, make_staff, db_session):
    """By serving staff over closed days (cached per day) equals the live computation; the
    commission in the report is the commission ledger's, a refund's on the refund's day."""
    from common.schemas.reports import SalesReportQuery
    from server.domain import reports

    a_st, b_st = make_staff(Role.CASHIER, "amei"), make_staff(Role.CASHIER, "tony")
    color = _post(client, manager, "/api/v1/products", {
        "name": "染发", "kind": "service", "price": 26800, "commission_kind": "percent",
        "commission_value": 1000})
    open_shift(client, cashier)
    s1 = _sale(client, cashier, [{"product_id": color["id"], "qty": 1, "staff": [
        {"staff_id": a_st.id, "share_bp": 6000}, {"staff_id": b_st.id, "share_bp": 4000}]}],
        [{"method": "cash", "amount": 26800}])
    s2 = _sale(client, cashier, [{"product_id": color["id"], "qty": 1, "staff": [
        {"staff_id": b_st.id, "share_bp": 10000}]}], [{"method": "wechat", "amount": 26800}])
    r = _refund(client, manager, s2)
    today = dt.date.today()
    for table, uid, back in (("sales", s1["id"], 6), ("sales", s2["id"], 5),
                             ("refunds", r["id"], 4)):
        db_session.execute(text(f"UPDATE {table} SET business_date = :d WHERE uuid = :u"),
                           {"d": today - dt.timedelta(days=back), "u": uid})
    db_session.commit()
    a = today - dt.timedelta(days=8)
    q = SalesReportQuery(date_from=a, date_to=today, group="serving")
    got = _report(client, manager, "serving", a, today)  # builds the cache
    assert db_session.scalar(text(
        "SELECT COUNT(*) FROM report_days WHERE dim = 'serving'")) == 4  # (day, staff): s1 ×2,
    # s2, the refund
    db_session.rollback()
    assert got == reports.sales_report(db_session, q, today=today,
                                       cache=False).model_dump(mode="json")
    rows = {int(r["key"]): (r["total"], r["refunds"], r["commission"]) for r in got["rows"]}
    assert rows == {a_st.id: (16080, 0, 1608), b_st.id: (10720 + 26800, 26800, 1072)}
    commission = db_session.scalar(text("SELECT SUM(amount) FROM commission_ledger"))
    assert got["totals"]["commission"] == int(commission) == 2680  # s2's 2680 given back
    assert got["totals"]["total"] == 26800 * 2 and got["totals"]["refunds"] == 26800
    # one day only: the refund's day has tony's refund and his commission given back
    day = _report(client, manager, "serving", today - dt.timedelta(days=4))
    assert [(r["refunds"], r["commission"]) for r in day["rows"]] == [(26800, -2680)]
    assert reports.check_cache(db_session) == []
