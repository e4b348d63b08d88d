"""Membership over the API: members, search, levels, cards, stored value, points, count
cards, coupons, PIN, idempotent replays, ledgers and verify."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from tests.conftest import open_shift

API = "/api/v1"


@pytest.fixture(autouse=True)
def _counter_shift(client, cashier):
    """Every login here is at counter 01: its shift is open (recharges, count-card sales and
    sales need it; the refusal without one is in test_shift_rule.py)."""
    open_shift(client, cashier)


def post(client, who, path, body=None, key=None):
    return client.post(API + path, json=body or {}, headers=who.write_headers(key))


def make_member(client, who, name="张三", phone="13800138000", **extra):
    r = post(client, who, "/members", {"name": name, "phone": phone, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def member(client, who, mid):
    r = client.get(f"{API}/members/{mid}", headers=who.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def err(r):
    return r.get_json()["error"]["code"]


# -- members and search --------------------------------------------------------------------
def test_create_member_validates_phone_and_generates_number(client, cashier):
    m = make_member(client, cashier, "张三", "138-0013-8000")
    assert m["phone"] == "13800138000"
    assert m["number"] == f"M{m['id']:07d}"
    assert m["pinyin"] == "zs"
    assert m["stored_value"] == 0 and m["points"] == 0
    r = post(client, cashier, "/members", {"name": "李四", "phone": "12345"})
    assert r.status_code == 400 and "phone" in r.get_json()["error"]["fields"]
    r = post(client, cashier, "/members", {"name": "李四", "phone": "13800138000"})
    assert r.status_code == 409 and err(r) == "phone_taken"
    r = post(client, cashier, "/members", {"name": "李四", "sv_principal": 100})
    assert r.status_code == 400  # balances are never mass-assignable


def test_search_box_kinds_and_ranking(client, cashier):
    a = make_member(client, cashier, "张三", "13800001234")
    b = make_member(client, cashier, "钱四", "13900001234")
    c = make_member(client, cashier, "张珊珊", "13700005678", card_no="C0001234")
    d = make_member(client, cashier, "1234", None)  # a name that looks like a phone suffix

    def ids(q, **params):
        r = client.get(f"{API}/members", query_string={"q": q, **params},
                       headers=cashier.headers)
        assert r.status_code == 200, r.get_json()
        return [m["id"] for m in r.get_json()["items"]]

    assert ids("13800001234") == [a["id"]]
    # last 4: the card number C0001234 does not match, both phones do (ranked by id)
    assert ids("1234") == [a["id"], b["id"]]
    assert ids("C0001234") == [c["id"]]
    assert ids(c["number"]) == [c["id"]]
    assert ids(c["number"].lower()) == [c["id"]]
    assert ids("zs") == [a["id"], c["id"]]  # pinyin prefix (zs, zsss)
    assert ids("ZS") == [a["id"], c["id"]]
    assert ids("张") == [a["id"], c["id"]]
    # exact name first, then substring
    assert ids("张三") == [a["id"]]
    assert ids("珊") == [c["id"]]
    assert ids("1380000") == [a["id"]]  # phone prefix
    assert d["id"] not in ids("1234")  # names are not searched with digits
    # exact match ranks above prefix matches: member number equal to pinyin-ish text
    e = make_member(client, cashier, "周山", "13600000000", number="zs")
    assert ids("zs")[0] == e["id"]


def test_search_pages_have_more(client, cashier):
    for i in range(7):
        make_member(client, cashier, f"王{i}号", f"1350000{i:04d}")
    seen = []
    page = 1
    while True:
        r = client.get(f"{API}/members", query_string={"q": "w", "page": page,
                                                       "page_size": 3},
                       headers=cashier.headers).get_json()
        seen += [m["id"] for m in r["items"]]
        if not r["has_more"]:
            break
        page += 1
    assert page == 3 and len(seen) == 7 and len(set(seen)) == 7


def test_lost_card_does_not_find_member(client, cashier):
    m = make_member(client, cashier, card_no="LOST0001")
    card = m["cards"][0]
    assert post(client, cashier, f"/cards/{card['id']}/lost").status_code == 200
    r = client.get(f"{API}/members", query_string={"q": "LOST0001"}, headers=cashier.headers)
    assert r.get_json()["items"] == []


def test_update_and_deactivate_roles(client, cashier, manager):
    m = make_member(client, cashier)
    r = client.patch(f"{API}/members/{m['id']}", json={"name": "张小三", "tags": ["VIP"]},
                     headers=cashier.write_headers())
    assert r.status_code == 200 and r.get_json()["pinyin"] == "zxs"
    r = client.patch(f"{API}/members/{m['id']}", json={"active": False},
                     headers=cashier.write_headers())
    assert r.status_code == 403
    r = client.patch(f"{API}/members/{m['id']}", json={"active": False},
                     headers=manager.write_headers())
    assert r.status_code == 200 and r.get_json()["active"] is False
    r = post(client, cashier, f"/members/{m['id']}/recharges", {"amount": 100, "method": "cash"})
    assert r.status_code == 409 and err(r) == "member_inactive"


def test_birthdays_this_month(client, cashier):
    today = dt.date.today()
    make_member(client, cashier, "甲", "13800000001",
                birthday=today.replace(year=1990, day=1).isoformat())
    other_month = today.month % 12 + 1
    make_member(client, cashier, "乙", "13800000002",
                birthday=dt.date(1991, other_month, 2).isoformat())
    r = client.get(f"{API}/members/birthdays", headers=cashier.headers).get_json()
    assert [m["name"] for m in r["items"]] == ["甲"]
    r = client.get(f"{API}/members/birthdays", query_string={"month": other_month},
                   headers=cashier.headers).get_json()
    assert [m["name"] for m in r["items"]] == ["乙"]


# -- stored value --------------------------------------------------------------------------
def setup_rules(client, manager):
    for name, threshold, bonus in [("充500送50", 50000, 5000), ("充1000送150", 100000, 15000),
                                   ("充200送10", 20000, 1000)]:
        r = post(client, manager, "/recharge-rules",
                 {"name": name, "threshold": threshold, "bonus": bonus})
        assert r.status_code == 201


def test_recharge_picks_best_bonus_and_replay_changes_nothing(client, cashier, manager,
                                                              assert_invariants):
    setup_rules(client, manager)
    m = make_member(client, cashier)
    key = str(uuid.uuid4())
    r = post(client, cashier, f"/members/{m['id']}/recharges",
             {"amount": 120000, "method": "wechat"}, key=key)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["sv_principal"], body["sv_bonus"]) == (120000, 15000)
    r2 = post(client, cashier, f"/members/{m['id']}/recharges",
              {"amount": 120000, "method": "wechat"}, key=key)
    assert r2.status_code == 201 and r2.headers.get("Idempotent-Replayed") == "true"
    assert r2.get_json() == body
    assert member(client, cashier, m["id"])["stored_value"] == 135000
    r3 = post(client, cashier, f"/members/{m['id']}/recharges",
              {"amount": 100, "method": "wechat"}, key=key)
    assert r3.status_code == 409 and err(r3) == "idempotency_mismatch"
    r = post(client, cashier, f"/members/{m['id']}/recharges", {"amount": 100, "method": "cash"})
    assert r.get_json()["sv_bonus"] == 15000  # below every threshold: no bonus
    r = client.get(f"{API}/members/{m['id']}/recharges", headers=cashier.headers).get_json()
    assert [e["method"] for e in r["items"]] == ["cash", "wechat"]
    assert_invariants()


def test_payment_principal_first_then_bonus(client, cashier, manager, assert_invariants):
    setup_rules(client, manager)
    m = make_member(client, cashier)
    post(client, cashier, f"/members/{m['id']}/recharges", {"amount": 50000, "method": "cash"})
    r = post(client, cashier, f"/members/{m['id']}/stored-value/payments", {"amount": 49000})
    assert r.status_code == 201
    e = r.get_json()["entry"]
    assert (e["principal_change"], e["bonus_change"]) == (-49000, 0)
    r = post(client, cashier, f"/members/{m['id']}/stored-value/payments", {"amount": 3000})
    e = r.get_json()["entry"]
    assert (e["principal_change"], e["bonus_change"]) == (-1000, -2000)
    r = post(client, cashier, f"/members/{m['id']}/stored-value/payments", {"amount": 3001})
    assert r.status_code == 409 and err(r) == "insufficient_balance"
    assert "余额" in r.get_json()["error"]["message"]
    assert member(client, cashier, m["id"])["stored_value"] == 3000
    assert_invariants()


def test_adjust_and_refund_roles_and_forfeit(client, cashier, manager, owner, assert_invariants):
    setup_rules(client, manager)
    m = make_member(client, cashier)
    post(client, cashier, f"/members/{m['id']}/recharges", {"amount": 50000, "method": "cash"})
    path = f"/members/{m['id']}/stored-value/adjustments"
    assert post(client, cashier, path, {"principal_change": 100, "reason": "x"}).status_code == 403
    r = post(client, manager, path, {"principal_change": -60000, "reason": "录错"})
    assert r.status_code == 409 and err(r) == "balance_would_be_negative"
    r = post(client, manager, path, {"principal_change": 1000})
    assert r.status_code == 400  # reason required
    key = str(uuid.uuid4())
    r = post(client, manager, path, {"principal_change": 1000, "reason": "补录"}, key=key)
    assert r.status_code == 201 and r.get_json()["sv_principal"] == 51000
    r = post(client, manager, path, {"principal_change": 1000, "reason": "补录"}, key=key)
    assert r.get_json()["sv_principal"] == 51000  # replay: nothing changed
    refund = f"/members/{m['id']}/stored-value/refunds"
    body = {"amount": 25500, "method": "cash", "reason": "顾客搬家"}
    assert post(client, manager, refund, body).status_code == 403
    r = post(client, owner, refund, body)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["sv_principal"] == 25500 and out["forfeited_bonus"] == 2500
    assert out["sv_bonus"] == 2500
    r = post(client, owner, refund, {**body, "amount": 25501})
    assert r.status_code == 409 and err(r) == "refund_exceeds"
    r = client.get(f"{API}/audit", query_string={"entity": "member"}, headers=owner.headers)
    actions = {e["action"] for e in r.get_json()["items"]}
    assert {"stored_value.recharge", "stored_value.adjust", "stored_value.cash_refund"} <= actions
    assert_invariants()


def test_lost_card_cannot_pay_reissued_card_can(client, cashier, manager, assert_invariants):
    m = make_member(client, cashier, card_no="A1000001")
    post(client, cashier, f"/members/{m['id']}/recharges", {"amount": 10000, "method": "cash"})
    pay = f"/members/{m['id']}/stored-value/payments"
    assert post(client, cashier, pay, {"amount": 100, "card_no": "A1000001"}).status_code == 201
    card_id = m["cards"][0]["id"]
    assert post(client, cashier, f"/cards/{card_id}/lost").get_json()["status"] == "lost"
    r = post(client, cashier, pay, {"amount": 100, "card_no": "A1000001"})
    assert r.status_code == 422 and err(r) == "card_lost"
    r = post(client, cashier, f"/cards/{card_id}/reissue", {"card_no": "A1000002"})
    assert r.status_code == 201 and r.get_json()["replaces_id"] == card_id
    new = r.get_json()
    looked = client.get(f"{API}/cards", query_string={"card_no": "A1000002"},
                        headers=cashier.headers).get_json()
    assert looked["member"]["stored_value"] == 9900
    r = post(client, cashier, pay, {"amount": 9900, "card_no": "A1000002"})
    assert r.status_code == 201 and r.get_json()["stored_value"] == 0
    r = post(client, cashier, pay, {"amount": 1, "card_no": "A1000001"})
    assert err(r) == "card_lost"
    # freeze / unfreeze
    assert post(client, cashier, f"/cards/{new['id']}/freeze").status_code == 403
    assert post(client, manager, f"/cards/{new['id']}/freeze").get_json()["status"] == "frozen"
    post(client, cashier, f"/members/{m['id']}/recharges", {"amount": 500, "method": "cash"})
    r = post(client, cashier, pay, {"amount": 100, "card_no": "A1000002"})
    assert r.status_code == 422 and err(r) == "card_frozen"
    assert post(client, manager, f"/cards/{new['id']}/unfreeze").status_code == 200
    assert post(client, cashier, pay, {"amount": 100, "card_no": "A1000002"}).status_code == 201
    other = make_member(client, cashier, "李四", "13900000000")
    r = post(client, cashier, f"/members/{other['id']}/stored-value/payments",
             {"amount": 1, "card_no": "A1000002"})
    assert r.status_code == 422 and err(r) == "card_not_of_member"
    assert_invariants()


def test_pin_required_above_threshold_and_lockout(client, cashier, manager, db_session):
    r = client.put(f"{API}/members/settings", json={"pin_threshold": 5000,
                                                     "pin_max_failures": 3},
                   headers=manager.write_headers())
    assert r.status_code == 200
    m = make_member(client, cashier)
    post(client, cashier, f"/members/{m['id']}/recharges", {"amount": 100000, "method": "cash"})
    r = client.put(f"{API}/members/{m['id']}/pin", json={"pin": "123456"},
                   headers=cashier.write_headers())
    assert r.status_code == 200 and r.get_json()["has_pin"] is True
    pay = f"/members/{m['id']}/stored-value/payments"
    assert post(client, cashier, pay, {"amount": 5000}).status_code == 201  # at threshold
    r = post(client, cashier, pay, {"amount": 5001})
    assert r.status_code == 422 and err(r) == "pin_required"
    assert post(client, cashier, pay, {"amount": 5001, "pin": "123456"}).status_code == 201
    r = post(client, cashier, pay, {"amount": 6000, "pin": "000000"})
    assert err(r) == "pin_wrong" and r.get_json()["error"]["details"]["left"] == 2
    r = post(client, cashier, pay, {"amount": 6000, "pin": "000000"})
    assert err(r) == "pin_wrong"
    r = post(client, cashier, pay, {"amount": 6000, "pin": "000000"})
    assert err(r) == "pin_locked"
    r = post(client, cashier, pay, {"amount": 6000, "pin": "123456"})  # right PIN, but locked
    assert err(r) == "pin_locked"
    assert member(client, cashier, m["id"])["stored_value"] == 100000 - 10001
    # a cashier cannot change the PIN without the old one; a manager can unlock
    r = client.put(f"{API}/members/{m['id']}/pin", json={"pin": "654321"},
                   headers=cashier.write_headers())
    assert r.status_code == 422
    assert post(client, manager, f"/members/{m['id']}/pin/unlock").status_code == 200
    assert post(client, cashier, pay, {"amount": 6000, "pin": "123456"}).status_code == 201


# -- points --------------------------------------------------------------------------------
def test_points_adjust_redeem_and_replay(client, cashier, manager, assert_invariants):
    m = make_member(client, cashier)
    path = f"/members/{m['id']}/points"
    assert post(client, cashier, path, {"change": 100, "reason": "x"}).status_code == 403
    r = post(client, manager, path, {"change": 500, "reason": "老会员补积分"})
    assert r.status_code == 201 and r.get_json()["points"] == 500
    key = str(uuid.uuid4())
    red = f"/members/{m['id']}/points/redemptions"
    r = post(client, cashier, red, {"points": 300, "gift": "雨伞"}, key=key)
    assert r.status_code == 201 and r.get_json()["points"] == 200
    r = post(client, cashier, red, {"points": 300, "gift": "雨伞"}, key=key)
    assert r.get_json()["points"] == 200
    r = post(client, cashier, red, {"points": 300, "gift": "雨伞"})
    assert r.status_code == 409 and err(r) == "insufficient_points"
    r = client.get(f"{API}/members/{m['id']}/ledger", query_string={"book": "points"},
                   headers=cashier.headers).get_json()
    assert [(e["kind"], e["change"], e["balance_after"]) for e in r["items"]] == [
        ("gift", -300, 200), ("adjust", 500, 500)]
    assert_invariants()


def test_earn_points_and_level_upgrade_never_downgrade(app, client, cashier, manager,
                                                       assert_invariants):
    from server.domain import members as members_domain
    from server.domain import points
    from server.domain.actor import Actor

    base = post(client, manager, "/levels", {"name": "普通会员", "rank": 0,
                                             "points_per_yuan": 1}).get_json()
    silver = post(client, manager, "/levels", {"name": "银卡", "rank": 1, "discount_bp": 9500,
                                               "points_per_yuan": 2,
                                               "upgrade_threshold": 100000}).get_json()
    gold = post(client, manager, "/levels", {"name": "金卡", "rank": 2, "discount_bp": 9000,
                                             "points_per_yuan": 3,
                                             "upgrade_threshold": 300000}).get_json()
    m = make_member(client, cashier)
    assert m["level_id"] == base["id"]  # the lowest level by default
    factory = app.extensions["lanpos"].session_factory
    actor = Actor(staff_id=cashier.id, username="cash", role=cashier.role)
    with factory() as s:
        assert points.earn(s, actor, m["id"], 12345, ref_type="sale", ref_id="s1").points == 123
        members_domain.record_visit(s, actor, m["id"], 120000, ref_type="sale", ref_id="s1")
        s.commit()
    got = member(client, cashier, m["id"])
    assert got["level_id"] == silver["id"] and got["visit_count"] == 1
    assert got["discount_bp"] == 9500
    with factory() as s:
        assert points.earn(s, actor, m["id"], 1000, ref_type="sale", ref_id="s2").change == 20
        members_domain.record_visit(s, actor, m["id"], 300000, ref_type="sale", ref_id="s2")
        s.commit()
    assert member(client, cashier, m["id"])["level_id"] == gold["id"]
    with factory() as s:  # a big refund lowers the spend but keeps the level
        members_domain.record_visit(s, actor, m["id"], -400000, ref_type="refund", ref_id="r1",
                                    count_visit=False)
        s.commit()
    got = member(client, cashier, m["id"])
    assert got["level_id"] == gold["id"] and got["total_spent"] == 20000
    assert got["points"] == 143
    assert_invariants()


def test_points_expiry_fifo(app, client, cashier, manager, assert_invariants, engine):
    m = make_member(client, cashier)
    post(client, manager, f"/members/{m['id']}/points", {"change": 1000, "reason": "旧积分"})
    with engine.begin() as conn:  # make those points 13 months old
        conn.execute(text("UPDATE points_ledger SET at = :at WHERE member_id = :m"),
                     {"at": dt.datetime.now(dt.UTC).replace(tzinfo=None)
                      - dt.timedelta(days=400), "m": m["id"]})
    post(client, manager, f"/members/{m['id']}/points", {"change": 200, "reason": "新积分"})
    post(client, cashier, f"/members/{m['id']}/points/redemptions", {"points": 300,
                                                                      "gift": "毛巾"})
    r = post(client, manager, "/points/expiry", {"months": 12})
    assert r.status_code == 200 and r.get_json()["points"] == 700  # 1000 old - 300 used
    assert member(client, cashier, m["id"])["points"] == 200
    r = post(client, manager, "/points/expiry", {"months": 12})
    assert r.get_json()["points"] == 0  # running again expires nothing more
    r = client.get(f"{API}/members/{m['id']}/ledger", query_string={"book": "points"},
                   headers=cashier.headers).get_json()
    assert r["items"][0]["kind"] == "expire" and r["items"][0]["change"] == -700
    assert_invariants()


# -- count cards ---------------------------------------------------------------------------
def test_count_card_sell_use_expire(client, cashier, manager, engine, assert_invariants):
    t = post(client, manager, "/count-card-templates",
             {"name": "洗剪吹10次卡", "service_name": "洗剪吹", "uses": 3, "validity_days": 30,
              "price": 30000})
    assert t.status_code == 201, t.get_json()
    t = t.get_json()
    m = make_member(client, cashier)
    post(client, cashier, f"/members/{m['id']}/recharges", {"amount": 50000, "method": "cash"})
    r = post(client, cashier, "/count-cards", {"member_id": m["id"], "template_id": t["id"],
                                               "method": "stored_value"})
    assert r.status_code == 201, r.get_json()
    card = r.get_json()
    assert card["remaining_uses"] == 3 and card["expires_at"] is not None
    assert member(client, cashier, m["id"])["stored_value"] == 20000
    use = f"/count-cards/{card['id']}/uses"
    key = str(uuid.uuid4())
    r = post(client, cashier, use, {"member_id": m["id"]}, key=key)
    assert r.status_code == 201 and r.get_json()["card"]["remaining_uses"] == 2
    r = post(client, cashier, use, {"member_id": m["id"]}, key=key)  # replay
    assert r.get_json()["card"]["remaining_uses"] == 2
    r = post(client, cashier, use, {"member_id": m["id"], "uses": 3})
    assert r.status_code == 409 and err(r) == "count_card_used_up"
    other = make_member(client, cashier, "李四", "13900000000")
    r = post(client, cashier, use, {"member_id": other["id"]})
    assert r.status_code == 422 and err(r) == "count_card_not_of_member"
    with engine.begin() as conn:
        conn.execute(text("UPDATE member_count_cards SET expires_at = '2000-01-01' "
                          "WHERE id = :i"), {"i": card["id"]})
    r = post(client, cashier, use, {"member_id": m["id"]})
    assert r.status_code == 422 and err(r) == "count_card_expired"
    r = client.get(f"{API}/count-cards", query_string={"member_id": m["id"]},
                   headers=cashier.headers).get_json()
    assert r["items"][0]["expired"] is True and r["items"][0]["remaining_uses"] == 2
    r = client.get(f"{API}/count-cards", query_string={"member_id": m["id"],
                                                       "usable_only": True},
                   headers=cashier.headers).get_json()
    assert r["items"] == []
    r = client.get(f"{API}/members/{m['id']}/ledger", query_string={"book": "count_cards"},
                   headers=cashier.headers).get_json()
    assert [e["kind"] for e in r["items"]] == ["use", "purchase"]
    assert_invariants()


# -- coupons -------------------------------------------------------------------------------
def test_coupons_issue_to_level_redeem_once_void(client, cashier, manager, owner):
    post(client, manager, "/levels", {"name": "普通", "rank": 0})
    lv = post(client, manager, "/levels", {"name": "金卡", "rank": 1}).get_json()
    t = post(client, manager, "/coupon-templates",
             {"name": "满100减20", "kind": "amount", "amount_fen": 2000,
              "threshold_fen": 10000}).get_json()
    a = make_member(client, cashier, "甲", "13800000001", level_id=lv["id"])
    b = make_member(client, cashier, "乙", "13800000002", level_id=lv["id"])
    make_member(client, cashier, "丙", "13800000003")
    assert post(client, cashier, "/coupons", {"template_id": t["id"],
                                              "level_id": lv["id"]}).status_code == 403
    r = post(client, manager, "/coupons", {"template_id": t["id"], "level_id": lv["id"]})
    assert r.status_code == 201 and r.get_json()["issued"] == 2
    ca = client.get(f"{API}/coupons", query_string={"member_id": a["id"]},
                    headers=cashier.headers).get_json()["items"][0]
    assert ca["amount_fen"] == 2000 and ca["status"] == "issued"
    key = str(uuid.uuid4())
    r = post(client, cashier, f"/coupons/{ca['id']}/redemptions", {"member_id": a["id"]}, key=key)
    assert r.status_code == 201 and r.get_json()["status"] == "redeemed"
    r2 = post(client, cashier, f"/coupons/{ca['id']}/redemptions", {"member_id": a["id"]},
              key=key)
    assert r2.status_code == 201 and r2.headers.get("Idempotent-Replayed") == "true"
    r = post(client, cashier, f"/coupons/{ca['id']}/redemptions", {"member_id": a["id"]})
    assert r.status_code == 409 and err(r) == "coupon_used"
    cb = client.get(f"{API}/coupons", query_string={"member_id": b["id"]},
                    headers=cashier.headers).get_json()["items"][0]
    r = post(client, cashier, f"/coupons/{cb['id']}/redemptions", {"member_id": a["id"]})
    assert r.status_code == 422 and err(r) == "coupon_not_of_member"
    assert post(client, cashier, f"/coupons/{cb['id']}/void", {"reason": "x"}).status_code == 403
    r = post(client, manager, f"/coupons/{cb['id']}/void", {"reason": "发错了"})
    assert r.status_code == 200 and r.get_json()["status"] == "voided"
    r = post(client, cashier, f"/coupons/{cb['id']}/redemptions", {"member_id": b["id"]})
    assert r.status_code == 422 and err(r) == "coupon_voided"
    r = client.get(f"{API}/audit", query_string={"action": "coupon.void"},
                   headers=owner.headers).get_json()
    assert r["items"][0]["reason"] == "发错了"


def test_expired_coupon_cannot_be_redeemed(client, cashier, manager):
    t = post(client, manager, "/coupon-templates",
             {"name": "过期券", "kind": "percent", "percent_bp": 8500,
              "valid_from": "2020-01-01", "valid_to": "2020-12-31"}).get_json()
    a = make_member(client, cashier)
    post(client, manager, "/coupons", {"template_id": t["id"], "member_id": a["id"]})
    c = client.get(f"{API}/coupons", query_string={"member_id": a["id"]},
                   headers=cashier.headers).get_json()["items"][0]
    r = post(client, cashier, f"/coupons/{c['id']}/redemptions", {"member_id": a["id"]})
    assert r.status_code == 422 and err(r) == "coupon_expired"


# -- verify --------------------------------------------------------------------------------
@pytest.mark.parametrize("column", ["sv_principal", "sv_bonus", "points"])
def test_verify_detects_tampered_cached_balance(client, cashier, manager, owner, engine, app,
                                               column):
    from server.domain import member_totals
    from server.domain.verify import run_all

    m = make_member(client, cashier)
    post(client, cashier, f"/members/{m['id']}/recharges", {"amount": 1000, "method": "cash"})
    post(client, manager, f"/members/{m['id']}/points", {"change": 10, "reason": "x"})
    factory = app.extensions["lanpos"].session_factory
    with factory() as s:
        assert all(r.ok for r in run_all(s))
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE members SET {column} = {column} + 1 WHERE id = :i"),
                     {"i": m["id"]})
    with factory() as s:
        bad = {r.name: r.problems for r in run_all(s) if not r.ok}
    # the member's row no longer equals its ledger, and the kept totals no longer equal the
    # sums over the members: exactly these two checks say so
    ledger = "members: points = points ledger" if column == "points" else \
        "members: stored value = stored-value ledger"
    totals = "members: kept totals = sums over the members"
    assert set(bad) == {ledger, totals}
    assert m["number"] in bad[ledger][0]
    with factory() as s:
        kept = getattr(member_totals.read(s), column)
    assert bad[totals] == [f"member totals: {column} kept {kept} != {kept + 1} over the members"]


def test_verify_detects_tampered_count_card(client, cashier, manager, owner, engine, app):
    from server.domain.verify import run_all

    t = post(client, manager, "/count-card-templates",
             {"name": "卡", "service_name": "服务", "uses": 5, "price": 100}).get_json()
    m = make_member(client, cashier)
    post(client, cashier, "/count-cards", {"member_id": m["id"], "template_id": t["id"],
                                           "method": "cash"})
    with engine.begin() as conn:
        conn.execute(text("UPDATE member_count_cards SET remaining_uses = 6"))
    with app.extensions["lanpos"].session_factory() as s:
        bad = [r.name for r in run_all(s) if not r.ok]
    assert bad == ["members: count-card uses = count-card ledger"]
