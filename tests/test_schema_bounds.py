"""What a shared schema accepts, the database stores unchanged (through the API); one past a
bound is a 400 ``validation_error`` naming the field, never a 500 (issue #16)."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.schemas.base import MAX_AMOUNT_FEN, MAX_POINTS, MAX_PRICE_FEN, MAX_QTY
from common.schemas.members import MAX_FEN
from tests.conftest import open_shift

API = "/api/v1"
PROPERTY = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
# text a cashier can type: any letter, digit, punctuation or space of any script (no
# control or format characters, which the API refuses), stripped as the schema strips it
TEXT = st.text(st.characters(categories=["L", "N", "P", "S", "Zs"],
                             exclude_characters="\u2028\u2029"),
               min_size=1, max_size=64).map(str.strip).filter(bool)


def _bad(r, field: str) -> None:
    assert r.status_code == 400, (r.status_code, r.get_json())
    err = r.get_json()["error"]
    assert err["code"] == "validation_error" and field in err["fields"], err


@PROPERTY
@given(price=st.integers(0, MAX_PRICE_FEN), cost=st.none() | st.integers(0, MAX_PRICE_FEN),
       low=st.none() | st.integers(0, MAX_QTY), name=TEXT.map(lambda s: s[:90]))
def test_product_fields_are_stored_as_accepted(client, owner, price, cost, low, name):
    name = f"{name}{uuid.uuid4().hex[:8]}"
    body = {"name": name, "price": price, "cost": cost, "low_stock": low}
    r = client.post(f"{API}/products", json=body, headers=owner.write_headers())
    assert r.status_code == 201, (body, r.get_json())
    stored = client.get(f"{API}/products/{r.get_json()['id']}", headers=owner.headers).get_json()
    assert {k: stored[k] for k in body} == body


def test_product_bounds_plus_one_are_refused(client, owner):
    for field, value in (("price", MAX_PRICE_FEN + 1), ("price", -1), ("cost", 2**63),
                         ("low_stock", MAX_QTY + 1), ("price", 2**64)):
        r = client.post(f"{API}/products", json={"name": "x", "price": 1, field: value},
                        headers=owner.write_headers())
        _bad(r, field)


@PROPERTY
@given(change=st.integers(-MAX_QTY, MAX_QTY).filter(bool))
def test_stock_adjustments_are_stored_as_accepted(client, owner, change):
    r = client.post(f"{API}/products", json={"name": f"p{uuid.uuid4().hex}", "price": 1,
                                             "track_stock": True, "opening_stock": MAX_QTY},
                    headers=owner.write_headers())
    pid = r.get_json()["id"]
    r = client.post(f"{API}/stock/adjustments",
                    json={"product_id": pid, "change": change, "reason": "盘点"},
                    headers=owner.write_headers())
    assert r.status_code in (200, 201), r.get_json()
    ledger = client.get(f"{API}/stock/ledger/{pid}", headers=owner.headers).get_json()
    entries = ledger["items"] if isinstance(ledger, dict) else ledger
    assert change in [e["change"] for e in entries]
    stored = client.get(f"{API}/products/{pid}", headers=owner.headers).get_json()
    assert stored["stock"] == MAX_QTY + change


@PROPERTY
@given(amount=st.integers(1, MAX_FEN), points=st.integers(-MAX_POINTS, MAX_POINTS).filter(bool),
       name=TEXT, notes=st.none() | TEXT.map(lambda s: s[:200]))
def test_member_money_points_and_text_are_stored_as_accepted(client, owner, amount, points,
                                                              name, notes):
    r = client.post(f"{API}/members", json={"name": name, "notes": notes},
                    headers=owner.write_headers())
    assert r.status_code == 201, r.get_json()
    m = r.get_json()
    assert (m["name"], m["notes"]) == (name, notes)
    mid = m["id"]
    r = client.post(f"{API}/members/{mid}/stored-value/adjustments",
                    json={"principal_change": amount, "reason": "补录"},
                    headers=owner.write_headers())
    assert r.status_code in (200, 201), r.get_json()
    if points < 0:  # a balance never goes negative: give them first
        client.post(f"{API}/members/{mid}/points", json={"change": -points, "reason": "补录"},
                    headers=owner.write_headers())
    r = client.post(f"{API}/members/{mid}/points", json={"change": points, "reason": "补录"},
                    headers=owner.write_headers())
    assert r.status_code in (200, 201), r.get_json()
    stored = client.get(f"{API}/members/{mid}", headers=owner.headers).get_json()
    assert stored["sv_principal"] == amount
    assert stored["points"] == max(points, 0)


def test_member_bounds_plus_one_are_refused(client, owner):
    r = client.post(f"{API}/members", json={"name": "李四"}, headers=owner.write_headers())
    mid = r.get_json()["id"]
    for path, body, field in (
            ("stored-value/adjustments", {"principal_change": MAX_FEN + 1, "reason": "x"},
             "principal_change"),
            ("stored-value/adjustments", {"bonus_change": -MAX_FEN - 1, "reason": "x"},
             "bonus_change"),
            ("recharges", {"amount": MAX_FEN + 1, "method": "cash"}, "amount"),
            ("points", {"change": MAX_POINTS + 1, "reason": "x"}, "change"),
            ("points/redemptions", {"points": 2**63, "gift": "杯子"}, "points")):
        r = client.post(f"{API}/members/{mid}/{path}", json=body, headers=owner.write_headers())
        _bad(r, field)
    r = client.post(f"{API}/members", json={"name": "x" * 65}, headers=owner.write_headers())
    _bad(r, "name")


# -- sales (common/schemas/sales.py) -------------------------------------------------------
@PROPERTY
@given(price=st.integers(1, MAX_PRICE_FEN), qty=st.integers(1, 9999),
       extra=st.integers(0, MAX_AMOUNT_FEN), note=st.none() | TEXT.map(lambda s: s[:255]))
def test_a_sale_is_stored_as_accepted(client, owner, price, qty, extra, note):
    total = price * qty
    if total > MAX_AMOUNT_FEN:  # one payment is at most the amount cap: ring fewer
        qty = max(1, MAX_AMOUNT_FEN // price)
        total = price * qty
    tendered = min(MAX_AMOUNT_FEN, total + extra)
    open_shift(client, owner)
    r = client.post(f"{API}/products", json={"name": f"p{uuid.uuid4().hex}", "price": price},
                    headers=owner.write_headers())
    pid = r.get_json()["id"]
    sid = str(uuid.uuid4())
    body = {"id": sid, "lines": [{"product_id": pid, "qty": qty}], "note": note,
            "payments": [{"method": "cash", "amount": total, "tendered": tendered}]}
    r = client.post(f"{API}/sales", json=body, headers=owner.write_headers(sid))
    assert r.status_code == 201, (body, r.get_json())
    sale = client.get(f"{API}/sales/{sid}", headers=owner.headers).get_json()
    assert [(ln["product_id"], ln["qty"]) for ln in sale["lines"]] == [(pid, qty)]
    assert sale["total"] == total and sale["note"] == note
    (pay,) = sale["payments"]
    assert (pay["amount"], pay["tendered"], pay["change"]) == (total, tendered,
                                                               tendered - total)


def test_sale_bounds_plus_one_are_refused(client, owner):
    open_shift(client, owner)
    pid = client.post(f"{API}/products", json={"name": f"p{uuid.uuid4().hex}", "price": 100},
                      headers=owner.write_headers()).get_json()["id"]
    line = {"product_id": pid, "qty": 1}
    cash = {"method": "cash", "amount": 100}
    for lines, payments, field in (
            ([{**line, "qty": 10_000}], [cash], "lines.0.qty"),
            ([line], [{**cash, "tendered": MAX_AMOUNT_FEN + 1}], "payments.0.tendered"),
            ([line], [{**cash, "amount": MAX_AMOUNT_FEN + 1}], "payments.0.amount"),
            ([{**line, "open_price": MAX_PRICE_FEN + 1}], [cash], "lines.0.open_price"),
            ([{**line, "product_id": 2**64}], [cash], "lines.0.product_id")):
        sid = str(uuid.uuid4())
        r = client.post(f"{API}/sales", json={"id": sid, "lines": lines, "payments": payments},
                        headers=owner.write_headers(sid))
        _bad(r, field)
    assert client.get(f"{API}/sales", headers=owner.headers).get_json()["items"] == []


# -- shop settings and staff (common/schemas/shop.py, staff.py) ---------------------------
@PROPERTY
@given(name=TEXT.map(lambda s: s[:64]), address=TEXT.map(lambda s: s[:128]),
       phone=st.from_regex(r"[0-9+\- ]{0,32}", fullmatch=True).map(str.strip),
       header=st.lists(TEXT.map(lambda s: s[:40]), max_size=5),
       footer=st.lists(TEXT.map(lambda s: s[:40]), max_size=5))
def test_shop_settings_are_stored_as_accepted(client, owner, name, address, phone, header,
                                              footer):
    body = {"name": name, "address": address, "phone": phone, "receipt_header": header,
            "receipt_footer": footer}
    r = client.put(f"{API}/settings/shop", json=body, headers=owner.write_headers())
    assert r.status_code == 200, (body, r.get_json())
    stored = client.get(f"{API}/settings/shop", headers=owner.headers).get_json()
    assert {k: stored[k] for k in body} == body


@PROPERTY
@given(display=TEXT.map(lambda s: s[:64]),
       phone=st.none() | st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_staff_are_stored_as_accepted(client, owner, display, phone):
    body = {"username": f"u{uuid.uuid4().hex[:12]}", "display_name": display,
            "role": "cashier", "password": "secret123", "phone": phone}
    r = client.post(f"{API}/staff", json=body, headers=owner.write_headers())
    assert r.status_code == 201, (body, r.get_json())
    stored = client.get(f"{API}/staff/{r.get_json()['id']}", headers=owner.headers).get_json()
    assert (stored["username"], stored["display_name"], stored["phone"]) == (
        body["username"], display, phone)


def test_shop_and_staff_bounds_plus_one_are_refused(client, owner):
    for body, field in (({"name": "x" * 65}, "name"), ({"address": "x" * 129}, "address"),
                        ({"receipt_footer": ["a"] * 6}, "receipt_footer")):
        _bad(client.put(f"{API}/settings/shop", json=body, headers=owner.write_headers()),
             field)
    base = {"username": "ux", "display_name": "x", "role": "cashier", "password": "secret123"}
    for extra, field in (({"display_name": "x" * 65}, "display_name"),
                         ({"phone": "1" * 21}, "phone")):
        _bad(client.post(f"{API}/staff", json={**base, **extra},
                         headers=owner.write_headers()), field)
