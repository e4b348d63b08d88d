"""GET /sales as the refund list uses it: by shop day, member, counter and total (fen), with
the member's and the cashier's names on each row."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.conftest import TEST_PASSWORD


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


def _sell(client, who, product_id: int, qty: int, price: int, member_id=None) -> dict:
    sid = str(uuid.uuid4())
    body = {"id": sid, "lines": [{"product_id": product_id, "qty": qty}],
            "payments": [{"method": "cash", "amount": qty * price}]}
    if member_id:
        body["member_id"] = member_id
    r = client.post("/api/v1/sales", json=body, headers=who.write_headers(sid))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _list(client, who, **params) -> list[dict]:
    r = client.get("/api/v1/sales", query_string=params, headers=who.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def test_sale_list_filters_by_total_member_counter_and_day(client, manager, make_staff) -> None:
    assert TEST_PASSWORD
    cashier2 = make_staff("cashier", counter_name="02")
    p = _post(client, manager, "/api/v1/products", {"name": "洗发水", "price": 5800})
    member = _post(client, manager, "/api/v1/members", {"name": "张三", "phone": "13800001234"})
    for who in (manager, cashier2):
        _post(client, who, "/api/v1/shifts", {"float_amount": 0})
    one = _sell(client, manager, p["id"], 1, 5800)                  # ¥58, counter 01
    two = _sell(client, manager, p["id"], 2, 5800, member["id"])    # ¥116, member, 01
    three = _sell(client, cashier2, p["id"], 3, 5800)               # ¥174, counter 02

    every = _list(client, manager)
    assert [s["number"] for s in every] == [three["number"], two["number"], one["number"]]
    by_number = {s["number"]: s for s in every}
    assert by_number[two["number"]]["member_name"] == "张三"
    assert by_number[one["number"]]["member_name"] is None
    assert by_number[three["number"]]["cashier_name"] == three["cashier_name"] != ""

    # the total, both ends included
    assert [s["number"] for s in _list(client, manager, total_min=11600)] == [
        three["number"], two["number"]]
    assert [s["number"] for s in _list(client, manager, total_max=11600)] == [
        two["number"], one["number"]]
    assert [s["number"] for s in _list(client, manager, total_min=11600,
                                       total_max=11600)] == [two["number"]]
    # member, counter, day
    assert [s["number"] for s in _list(client, manager, member_id=member["id"])] == [
        two["number"]]
    assert [s["number"] for s in _list(client, manager, counter="01")] == [
        two["number"], one["number"]]
    day = dt.date.fromisoformat(one["business_date"])
    assert len(_list(client, manager, date_from=day.isoformat(),
                     date_to=day.isoformat())) == 3
    assert _list(client, manager, date_from=(day + dt.timedelta(days=1)).isoformat()) == []
    # paged: has_more
    r = client.get("/api/v1/sales", query_string={"page_size": 2}, headers=manager.headers)
    assert r.get_json()["has_more"] is True and len(r.get_json()["items"]) == 2


def test_sale_list_refuses_an_upside_down_range(client, manager) -> None:
    r = client.get("/api/v1/sales", query_string={"total_min": 500, "total_max": 100},
                   headers=manager.headers)
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == "validation_error" and "金额" in err["message"] + str(err)
    r = client.get("/api/v1/sales", query_string={"total_min": -1}, headers=manager.headers)
    assert r.status_code == 400
