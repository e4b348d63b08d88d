"""Members' personal data (issue 16 part 3) over the API with the real database: cashiers get
masked phones in every list (search, birthdays, a card look-up, a sale's and a refund's
member) and still find members by the full number or its last 4 digits; the member's own
record shows the full number, a cashier's reading it audited once a day; the export is the
owner's and audited with its row count; 注销 removes the personal data from the member, its
audit snapshots and stored responses, keeps every ledger, sale and balance, is idempotent."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, select, text

from common.text import mask_phone
from server.db.members import Member, PointsLedger, StoredValueLedger
from server.db.models import AuditLog, IdempotencyRecord
from tests.conftest import open_shift

API = "/api/v1"
PHONE = "13812345678"
MASKED = "138****5678"


def post(client, who, path, body=None, key=None):
    return client.post(API + path, json=body or {}, headers=who.write_headers(key))


def get(client, who, path, **query):
    return client.get(API + path, query_string=query, headers=who.headers)


def err(r):
    return r.get_json()["error"]["code"]


@pytest.fixture
def member(client, cashier):
    """A member with every personal field, a card, stored value and points."""
    month = dt.date.today().month
    r = post(client, cashier, "/members", {
        "name": "王小明", "phone": PHONE, "gender": "M", "birthday": f"1990-{month:02d}-15",
        "tags": ["常客"], "notes": "住在幸福小区 3 栋", "card_no": "88001234"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


@pytest.fixture
def product(client, manager):
    r = post(client, manager, "/products", {"name": "洗发水", "price": 5800})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def sale(client, who, member_id, product_id, payments):
    sale_id = str(uuid.uuid4())
    r = client.post(API + "/sales", json={
        "id": sale_id, "member_id": member_id, "lines": [{"product_id": product_id, "qty": 1}],
        "payments": payments}, headers=who.write_headers(sale_id))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


# -- masked phones in lists --------------------------------------------------------------------
def test_mask_phone_is_one_rule_and_idempotent():
    assert mask_phone(PHONE) == MASKED
    assert mask_phone(MASKED) == MASKED  # the server's masked phone prints as it is


def test_cashier_lists_mask_the_phone_and_search_still_finds(client, cashier, manager, owner,
                                                             member):
    for q in (PHONE, "5678", "王小明", "wxm", "88001234"):
        items = get(client, cashier, "/members", q=q).get_json()["items"]
        assert [m["id"] for m in items] == [member["id"]], q
        assert items[0]["phone"] == MASKED, q
    # no query at all, and the birthdays of this month: masked too
    assert [m["phone"] for m in get(client, cashier, "/members").get_json()["items"]] == [MASKED]
    bdays = get(client, cashier, "/members/birthdays").get_json()["items"]
    assert [m["phone"] for m in bdays] == [MASKED]
    card = get(client, cashier, "/cards", card_no="88001234").get_json()
    assert card["member"]["phone"] == MASKED
    # the full number is in no list a cashier gets
    for path in ("/members", "/members/birthdays"):
        assert PHONE not in get(client, cashier, path).get_data(as_text=True)
    # owner and manager see full numbers in lists
    for who in (manager, owner):
        assert get(client, who, "/members", q="5678").get_json()["items"][0]["phone"] == PHONE
        assert get(client, who, "/cards", card_no="88001234").get_json()["member"][
            "phone"] == PHONE


def test_own_record_shows_the_full_phone_and_a_cashiers_read_is_audited(
        client, cashier, manager, member, db_session):
    for _ in range(3):  # the counter refreshes the member after every sale
        r = get(client, cashier, f"/members/{member['id']}")
        assert r.status_code == 200 and r.get_json()["phone"] == PHONE
    assert get(client, manager, f"/members/{member['id']}").get_json()["phone"] == PHONE
    views = db_session.scalars(select(AuditLog).where(AuditLog.action == "member.view")).all()
    # once per member and cashier a day; a manager's read is not audited
    assert [(v.staff_id, v.entity_id) for v in views] == [(cashier.id, str(member["id"]))]
    assert views[0].ip == "127.0.0.1"


def test_sale_and_refund_show_the_member_masked_to_a_cashier(client, cashier, manager, member,
                                                             product):
    open_shift(client, cashier)
    s = sale(client, cashier, member["id"], product["id"], [{"method": "cash", "amount": 5800}])
    assert s["member"]["phone"] == MASKED
    assert get(client, cashier, f"/sales/{s['number']}").get_json()["member"]["phone"] == MASKED
    assert get(client, manager, f"/sales/{s['number']}").get_json()["member"]["phone"] == PHONE
    tok = client.post(API + "/approvals", json={"username": "mgr", "password": "secret123",
                                                 "purpose": "refund"},
                      headers=cashier.headers).get_json()["approval_token"]
    r = post(client, cashier, f"/sales/{s['id']}/refunds",
             {"id": str(uuid.uuid4()), "reason": "不要了", "approval_token": tok})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["member"]["phone"] == MASKED
    sales = get(client, cashier, "/sales").get_json()["items"]
    assert PHONE not in json.dumps(sales)


# -- export ----------------------------------------------------------------------------------
def test_export_is_owner_only_and_audited_with_the_row_count(client, owner, manager, cashier,
                                                             member, db_session):
    post(client, cashier, "/members", {"name": "李四", "phone": "13900001111"})
    for who in (cashier, manager):
        r = get(client, who, "/members/export", format="csv")
        assert r.status_code == 403 and err(r) == "forbidden"
    assert db_session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "member.export")) == 0
    r = get(client, owner, "/members/export", format="csv")
    assert r.status_code == 200
    db_session.rollback()  # a fresh snapshot
    entry = db_session.scalars(select(AuditLog).where(AuditLog.action == "member.export")).one()
    assert entry.staff_id == owner.id and entry.after == {"rows": 2, "format": "csv"}


# -- anonymise -------------------------------------------------------------------------------
def _sums(db_session, mid):
    db_session.rollback()  # a fresh snapshot
    m = db_session.get(Member, mid)
    sv = db_session.execute(select(func.sum(StoredValueLedger.principal_change),
                                   func.sum(StoredValueLedger.bonus_change),
                                   func.count()).where(StoredValueLedger.member_id == mid)).one()
    pts = db_session.execute(select(func.sum(PointsLedger.change), func.count())
                             .where(PointsLedger.member_id == mid)).one()
    sales = db_session.execute(text("SELECT COUNT(*), SUM(total) FROM sales WHERE member_id "
                                    "= :m"), {"m": mid}).one()
    return {"row": (m.sv_principal, m.sv_bonus, m.points, m.total_spent, m.visit_count),
            "sv": tuple(sv), "points": tuple(pts), "sales": tuple(sales)}


def test_anonymise_removes_personal_data_and_keeps_every_figure(
        client, owner, manager, cashier, member, product, db_session, assert_invariants):
    mid = member["id"]
    open_shift(client, cashier)
    assert post(client, cashier, f"/members/{mid}/recharges",
                {"amount": 30000, "method": "cash"}).status_code == 201
    assert post(client, manager, f"/members/{mid}/points",
                {"change": 500, "reason": "开业"}).status_code == 201
    r = client.patch(f"{API}/members/{mid}", json={"notes": "喜欢薄荷味"},
                     headers=manager.write_headers())
    assert r.status_code == 200 and r.get_json()["phone"] == PHONE
    s = sale(client, cashier, mid, product["id"], [{"method": "stored_value", "amount": 5800}])
    assert client.put(f"{API}/members/{mid}/pin", json={"pin": "1234"},
                      headers=cashier.write_headers()).status_code == 200
    before = _sums(db_session, mid)
    report_before = get(client, manager, "/reports/sales").get_json()

    # only the owner
    for who in (cashier, manager):
        r = post(client, who, f"/members/{mid}/anonymise", {"reason": "本人申请"})
        assert r.status_code == 403, r.get_json()
    r = post(client, owner, f"/members/{mid}/anonymise", {"reason": "本人申请"})
    assert r.status_code == 200, r.get_json()
    m = r.get_json()
    assert m["name"] == f"已注销会员 #{mid}" and m["anonymised_at"]
    assert (m["phone"], m["birthday"], m["gender"], m["notes"], m["tags"], m["has_pin"],
            m["active"]) == (None, None, None, None, [], False, False)
    assert m["number"] == member["number"] and m["cards"][0]["card_no"] == "88001234"
    # balances, ledgers, sales: unchanged; the invariants hold
    assert _sums(db_session, mid) == before
    assert m["stored_value"] == 30000 - 5800 and m["points"] == before["row"][2]
    assert get(client, manager, "/reports/sales").get_json() == report_before
    assert get(client, manager, f"/sales/{s['number']}").get_json()["total"] == s["total"]
    assert_invariants()

    # nobody finds the member by the old phone or its last digits any more
    for q in (PHONE, "5678", "王小明", "wxm"):
        assert get(client, owner, "/members", q=q, include_inactive=True).get_json()[
            "items"] == [], q
    # the personal data is gone from the row, the audit log and the stored responses
    db_session.rollback()
    row = db_session.get(Member, mid)
    assert (row.phone, row.phone_last4, row.birthday, row.birth_md, row.pinyin, row.pin_hash,
            row.external_id) == (None, None, None, None, "", None, None)
    for table in ("audit_log", "idempotency_keys", "members"):
        dump = " ".join(str(r) for r in db_session.execute(text(f"SELECT * FROM {table}")))
        for secret in (PHONE, "王小明", "幸福小区", "薄荷", "1990-"):
            assert secret not in dump, (table, secret)
    entry = db_session.scalars(select(AuditLog).where(AuditLog.action == "member.anonymise")
                               ).one()
    assert entry.staff_id == owner.id and entry.reason == "本人申请"
    assert set(entry.after["removed"]) >= {"name", "phone", "birthday", "notes", "pin"}
    assert entry.after["sv_principal"] == 30000 - 5800
    # a late replay of the sale answers with the anonymised member
    assert db_session.get(IdempotencyRecord, s["id"]) is not None
    replay = client.post(API + "/sales", json={
        "id": s["id"], "member_id": mid, "lines": [{"product_id": product["id"], "qty": 1}],
        "payments": [{"method": "stored_value", "amount": 5800}]},
        headers=cashier.write_headers(s["id"]))
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json()["member"]["name"] == f"已注销会员 #{mid}"
    assert replay.get_json()["member"]["phone"] is None

    # idempotent: a second request changes nothing and writes no second entry
    again = post(client, owner, f"/members/{mid}/anonymise", {})
    assert again.status_code == 200 and again.get_json()["name"] == m["name"]
    assert db_session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "member.anonymise")) == 1
    # the record cannot be given personal data again, nor be reactivated
    for body in ({"phone": PHONE}, {"name": "王小明"}, {"active": True}):
        r = client.patch(f"{API}/members/{mid}", json=body, headers=owner.write_headers())
        assert r.status_code == 409 and err(r) == "member_anonymised", body
    # the phone is free for a new member
    assert post(client, cashier, "/members", {"name": "新会员", "phone": PHONE}
                ).status_code == 201
    # the balance kept on the record can still be paid out by the owner (退储值)
    r = post(client, owner, f"/members/{mid}/stored-value/refunds",
             {"amount": 30000 - 5800, "method": "cash", "reason": "注销退款"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["stored_value"] == 0
    assert_invariants()


def test_anonymise_replaces_a_member_number_that_is_a_phone(client, owner, manager):
    r = post(client, manager, "/members", {"name": "赵六", "number": "13700001111",
                                           "phone": "13700001111"})
    assert r.status_code == 201, r.get_json()
    mid = r.get_json()["id"]
    m = post(client, owner, f"/members/{mid}/anonymise").get_json()
    assert m["number"] == f"M{mid:07d}" and "13700001111" not in json.dumps(m)
    r = get(client, owner, "/members/export", format="csv")
    assert r.status_code == 200
    import base64

    csv_text = base64.b64decode(r.get_json()["content_base64"]).decode("utf-8-sig")
    assert "13700001111" not in csv_text and f"已注销会员 #{mid}" in csv_text
