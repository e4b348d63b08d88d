"""Serving staff (技师 / 导购) of a sale line: ``GET /staff/serving`` for every role, the
shares a sale line carries (validated: active staff, once each, 100 % in all), the names the
sale returns for its receipt, and the commission ledger the product's rule writes."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from common.schemas.base import Role
from server.db.sales import CommissionLedger, Sale


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


def _rename(client, manager, staff, name: str) -> None:
    r = client.patch(f"/api/v1/staff/{staff.id}", json={"display_name": name},
                     headers=manager.write_headers())
    assert r.status_code == 200, r.get_json()


def test_every_role_lists_the_active_serving_staff(client, owner, manager, cashier, make_staff):
    a = make_staff(Role.CASHIER, "stylist_a")
    gone = make_staff(Role.CASHIER, "stylist_gone")
    _rename(client, manager, a, "阿美")
    r = client.patch(f"/api/v1/staff/{gone.id}", json={"active": False},
                     headers=manager.write_headers())
    assert r.status_code == 200, r.get_json()

    for who in (cashier, manager, owner):
        r = client.get("/api/v1/staff/serving", headers=who.headers)
        assert r.status_code == 200, r.get_json()
        rows = r.get_json()
        by_id = {row["id"]: row for row in rows}
        assert by_id[a.id] == {"id": a.id, "display_name": "阿美", "role": "cashier"}
        assert gone.id not in by_id  # a deactivated account serves nobody
        assert {owner.id, manager.id, cashier.id} <= set(by_id)
        # only what a picker needs: no phone, username or lock state
        assert all(set(row) == {"id", "display_name", "role"} for row in rows)
    # the manager list stays managers-only
    assert client.get("/api/v1/staff", headers=cashier.headers).status_code == 403
    r = client.get("/api/v1/staff/serving")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


def test_a_line_with_two_stylists_writes_their_commission(client, manager, cashier, make_staff,
                                                         db_session, assert_invariants):
    a = make_staff(Role.CASHIER, "stylist_a")
    b = make_staff(Role.CASHIER, "stylist_b")
    _rename(client, manager, a, "阿美")
    _rename(client, manager, b, "小波")
    color = _post(client, manager, "/api/v1/products", {
        "name": "染发", "kind": "service", "price": 26800, "commission_kind": "percent",
        "commission_value": 1500})  # 15 % of the line
    wash = _post(client, manager, "/api/v1/products", {
        "name": "洗吹", "kind": "service", "price": 3000, "commission_kind": "fixed",
        "commission_value": 500})  # ¥5 per service
    _post(client, cashier, "/api/v1/shifts", {"float_amount": 0})
    sid = str(uuid.uuid4())
    body = {"id": sid, "lines": [
        {"product_id": color["id"], "qty": 1, "staff": [
            {"staff_id": a.id, "share_bp": 6000}, {"staff_id": b.id, "share_bp": 4000}]},
        {"product_id": wash["id"], "qty": 2, "staff": [{"staff_id": b.id, "share_bp": 10000}]}],
        "payments": [{"method": "cash", "amount": 32800}]}
    r = client.post("/api/v1/sales", json=body, headers=cashier.write_headers(sid))
    assert r.status_code == 201, r.get_json()
    sale = r.get_json()
    # the sale tells the receipt who served each line
    assert [[(s["staff_id"], s["share_bp"], s["name"]) for s in ln["staff"]]
            for ln in sale["lines"]] == [[(a.id, 6000, "阿美"), (b.id, 4000, "小波")],
                                         [(b.id, 10000, "小波")]]
    again = client.get(f"/api/v1/sales/{sale['number']}", headers=cashier.headers).get_json()
    assert again["lines"][0]["staff"] == sale["lines"][0]["staff"]

    row = db_session.scalars(select(Sale).where(Sale.uuid == sid)).one()
    ledger = sorted((c.staff_id, c.base_amount, c.amount, c.kind) for c in db_session.scalars(
        select(CommissionLedger).where(CommissionLedger.sale_id == row.id)))
    # 15 % of ¥268.00 = ¥40.20: 60 % ¥24.12 to A, 40 % ¥16.08 to B; the wash ¥5 × 2 to B
    assert ledger == sorted([(a.id, 26800, 2412, "sale"), (b.id, 26800, 1608, "sale"),
                             (b.id, 6000, 1000, "sale")])
    assert_invariants()


def test_bad_serving_staff_is_a_clear_4xx(client, manager, cashier, make_staff, db_session):
    a = make_staff(Role.CASHIER, "stylist_a")
    gone = make_staff(Role.CASHIER, "stylist_gone")
    cut = _post(client, manager, "/api/v1/products", {
        "name": "精剪", "kind": "service", "price": 3000, "commission_kind": "percent",
        "commission_value": 2000})
    r = client.patch(f"/api/v1/staff/{gone.id}", json={"active": False},
                     headers=manager.write_headers())
    assert r.status_code == 200
    _post(client, cashier, "/api/v1/shifts", {"float_amount": 0})

    def sell(staff):
        sid = str(uuid.uuid4())
        return client.post("/api/v1/sales", headers=cashier.write_headers(sid), json={
            "id": sid, "lines": [{"product_id": cut["id"], "qty": 1, "staff": staff}],
            "payments": [{"method": "cash", "amount": 3000}]})

    for staff in ([{"staff_id": 999_999, "share_bp": 10000}],
                  [{"staff_id": gone.id, "share_bp": 10000}]):
        r = sell(staff)
        assert r.status_code == 422, r.get_json()
        err = r.get_json()["error"]
        assert err["code"] == "not_found" and "服务人员" in err["message"]
    # the request's shape (the shared schema): 400 validation_error with the reason
    r = sell([{"staff_id": a.id, "share_bp": 5000}, {"staff_id": a.id, "share_bp": 5000}])
    assert r.status_code == 400 and "只能出现一次" in str(r.get_json())
    r = sell([{"staff_id": a.id, "share_bp": 6000}])
    assert r.status_code == 400 and "100%" in str(r.get_json())
    # a quote checks the same (the counter learns it before payment)
    r = client.post("/api/v1/sales/quote", headers=cashier.headers, json={
        "lines": [{"product_id": cut["id"], "qty": 1,
                   "staff": [{"staff_id": 999_999, "share_bp": 10000}]}]})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "not_found"
    assert db_session.scalars(select(Sale)).first() is None
    assert db_session.scalars(select(CommissionLedger)).first() is None
