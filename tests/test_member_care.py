"""会员关怀 (member care, #18 §4) against the real MariaDB: the care lists (low stored value,
count cards running low or expiring soon) equal a hand filter of the tables, page by page;
a list's count; a coupon to every member of a list — one per member, in one audited
transaction, a retry (same key or same batch) issues nothing new, a cashier cannot; the
owner's export of a list with full phones; the message seam records what would be sent."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import uuid

import pytest
from sqlalchemy import text

from common.schemas.base import Role
from common.text import mask_phone
from server.clock import shop_clock, utcnow
from server.domain import member_totals

API = "/api/v1"


@pytest.fixture
def mgr(make_staff):
    return make_staff(Role.MANAGER, "mgr")


def _get(client, who, path, status=200, **params):
    r = client.get(API + path, query_string=params, headers=who.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def _post(client, who, path, body, status=201, key=None):
    r = client.post(API + path, json=body, headers=who.write_headers(key))
    assert r.status_code == status, (path, r.get_json())
    return r


def _all_pages(client, who, **params):
    out, page = [], 1
    while True:
        got = _get(client, who, "/reports/member-list", page=page, page_size=7, **params)
        out += got["items"]
        if not got["has_more"]:
            return out, got
        page += 1


def _members(app, n, seed=11):
    from server.domain import member_bulk

    state = app.extensions["lanpos"]
    with state.session_factory() as s:
        first, last = member_bulk.generate(s, n, seed=seed, extras=False)
        s.commit()
    return list(range(first, last + 1))


def _rows(db_session, sql, **p):
    db_session.rollback()  # a fresh snapshot
    return db_session.execute(text(sql), p).all()


@pytest.fixture
def care_data(app, db_session):
    """48 members: balances spread over both ranges of the low-balance list (principal 0
    with a bonus, principal with or without a bonus, exactly the threshold, nothing), some
    inactive; count cards with 0..5 uses left, expiring in 5 / 20 / 40 days, expired,
    voided, never expiring, some members with two."""
    ids = _members(app, 48)
    balances = [(0, 300), (1000, 500), (4999, 1), (0, 0), (4000, 999), (20000, 0),
                (0, 4999), (1, 0), (6000, 0), (3000, 3000)]
    now = utcnow().replace(tzinfo=None)
    for n, mid in enumerate(ids):  # each balance with its opening ledger entry (verify)
        p, b = balances[n % len(balances)]
        db_session.execute(text("UPDATE members SET sv_principal = :p, sv_bonus = :b, "
                                "active = :a WHERE id = :i"),
                           {"p": p, "b": b, "a": n % 11 != 4, "i": mid})
        if p or b:
            db_session.execute(text(
                "INSERT INTO stored_value_ledger (member_id, kind, principal_change, "
                "bonus_change, principal_after, bonus_after, at) VALUES (:m, 'opening', :p, "
                ":b, :p, :b, :now)"), {"m": mid, "p": p, "b": b, "now": now})
    expiries = [now + dt.timedelta(days=5), now + dt.timedelta(days=20),
                now + dt.timedelta(days=40), now - dt.timedelta(days=1), None]
    for n, mid in enumerate(ids[:30]):
        for k in range(1 + (n % 3 == 0)):
            left = (n + k * 2) % 6
            db_session.execute(text(
                "INSERT INTO member_count_cards (member_id, name, service_name, total_uses, "
                "remaining_uses, price, purchased_at, expires_at, status) VALUES (:m, :name, "
                "'洗剪吹', 10, :left, 30000, :now, :exp, :st)"),
                {"m": mid, "name": f"十次卡{n}-{k}", "left": left, "now": now,
                 "exp": expiries[(n + k) % len(expiries)],
                 "st": "voided" if n % 7 == 6 else "active"})
            if left:
                db_session.execute(text(
                    "INSERT INTO count_card_ledger (card_id, member_id, kind, `change`, "
                    "balance_after, at) VALUES (LAST_INSERT_ID(), :m, 'opening', :left, "
                    ":left, :now)"), {"m": mid, "left": left, "now": now})
    member_totals.recount(db_session)  # balances written with SQL of our own (verify)
    db_session.commit()
    return ids


def test_low_balance_list_equals_a_hand_filter(client, mgr, care_data, db_session):
    rows = _rows(db_session, "SELECT id, active, sv_principal + sv_bonus FROM members")

    def want(t):
        return sorted((r[2], r[0]) for r in rows if r[1] and 0 < r[2] < t)

    got, last = _all_pages(client, mgr, kind="low_balance")  # the setting's default: ¥50
    assert [(g["balance"], g["id"]) for g in got] == want(5000) and len(got) >= 10
    assert last["total"] == len(want(5000))
    assert all("****" in g["phone"] for g in got if g["phone"])
    got, last = _all_pages(client, mgr, kind="low_balance", threshold=20001)
    assert [(g["balance"], g["id"]) for g in got] == want(20001)
    # the shop's setting moves the default
    r = client.put(f"{API}/members/settings", json={"care_low_balance": 1001},
                   headers=mgr.write_headers())
    assert r.status_code == 200 and r.get_json()["care_low_balance"] == 1001
    got, _ = _all_pages(client, mgr, kind="low_balance")
    assert [(g["balance"], g["id"]) for g in got] == want(1001)
    count = _get(client, mgr, "/reports/member-list/count", kind="low_balance")
    assert count == {"count": len(want(1001)),
                     "definition": {"kind": "low_balance", "threshold": 1001}}


def _cards(db_session):
    return _rows(db_session, "SELECT c.member_id, c.name, c.remaining_uses, c.expires_at, "
                             "c.status, m.active, c.id FROM member_count_cards c "
                             "JOIN members m ON m.id = c.member_id")


def test_count_card_lists_equal_a_hand_filter(client, mgr, care_data, db_session):
    now = utcnow().replace(tzinfo=None)
    cards = _cards(db_session)
    live = [c for c in cards if c[4] == "active" and c[5]]
    # running low: 1..2 uses left on a card that has not expired; fewest uses first, each
    # member once with that card
    low = [c for c in live if 1 <= c[2] <= 2 and (c[3] is None or c[3] > now)]
    best: dict[int, tuple] = {}
    for c in sorted(low, key=lambda c: (c[2], c[3] is None, c[3] or now, c[6])):
        best.setdefault(c[0], c)
    got, last = _all_pages(client, mgr, kind="card_low", uses=2)
    assert [g["id"] for g in got] == sorted(best, key=lambda m: (best[m][2], m))
    assert len(got) >= 5 and last["total"] == len(best)
    assert [(g["card"], g["card_uses_left"]) for g in got] == [
        (best[g["id"]][1], best[g["id"]][2]) for g in got]
    # expiring within 30 days, uses left; soonest first
    soon = [c for c in live if c[2] > 0 and c[3] is not None
            and now < c[3] <= now + dt.timedelta(days=30)]
    first: dict[int, tuple] = {}
    for c in sorted(soon, key=lambda c: (c[3], c[2], c[6])):
        first.setdefault(c[0], c)
    got, last = _all_pages(client, mgr, kind="card_expiring", days=30)
    assert [g["id"] for g in got] == sorted(first, key=lambda m: (first[m][3], m))
    assert len(got) >= 5 and last["total"] == len(first)
    assert all(g["card"] == first[g["id"]][1] and g["card_expires_at"] for g in got)
    got, _ = _all_pages(client, mgr, kind="card_expiring", days=10)
    assert {g["id"] for g in got} == {c[0] for c in soon
                                      if c[3] <= now + dt.timedelta(days=10)}
    for kind, n in (("card_low", len(best)), ("card_expiring", len(first))):
        assert _get(client, mgr, "/reports/member-list/count", kind=kind, days=30,
                    uses=2)["count"] == n


def test_a_lists_count_is_its_members(app, client, mgr, care_data, db_session):
    clock = shop_clock(app.extensions["lanpos"].config)
    cut = clock.day_start(clock.today() - dt.timedelta(days=60))
    rows = _rows(db_session, "SELECT id, active, last_visit_at, created_at FROM members")
    dormant = [r[0] for r in rows if r[1] and (r[2] < cut if r[2] else r[3] < cut)]
    got = _get(client, mgr, "/reports/member-list/count", kind="dormant")
    assert got == {"count": len(dormant), "definition": {"kind": "dormant", "days": 60}}
    bad = _get(client, mgr, "/reports/member-list/count", status=400, kind="low_balance",
               threshold=0)
    assert "threshold" in bad["error"]["fields"]
    bad = _get(client, mgr, "/reports/member-list", status=400, kind="card_low", uses=0)
    assert "uses" in bad["error"]["fields"]


@pytest.fixture
def gift(client, mgr):
    r = _post(client, mgr, "/coupon-templates", {"name": "生日礼券", "kind": "amount",
                                                  "amount_fen": 2000, "threshold_fen": 0,
                                                  "valid_to": "2099-12-31"})
    return r.get_json()


def _coupons(db_session, batch):
    return _rows(db_session, "SELECT member_id, template_id, status FROM coupons "
                             "WHERE batch = :b", b=batch)


def _issue_audits(db_session):
    return _rows(db_session, "SELECT staff_id, entity_id, after FROM audit_log "
                             "WHERE action = 'coupon.issue' ORDER BY id")


def test_a_coupon_to_every_member_of_a_list_once(app, client, mgr, cashier, care_data, gift,
                                                 db_session, assert_invariants):
    import json

    clock = shop_clock(app.extensions["lanpos"].config)
    cut = clock.day_start(clock.today() - dt.timedelta(days=60))
    rows = _rows(db_session, "SELECT id, active, last_visit_at, created_at FROM members")
    dormant = sorted(r[0] for r in rows if r[1] and (r[2] < cut if r[2] else r[3] < cut))
    assert len(dormant) > 10
    batch = uuid.uuid4()
    body = {"template_id": gift["id"], "members": {"kind": "dormant", "days": 60},
            "batch_id": str(batch)}
    # a cashier cannot
    r = client.post(f"{API}/coupons", json=body, headers=cashier.write_headers(str(batch)))
    assert r.status_code == 403
    assert _coupons(db_session, batch.hex) == []
    r = _post(client, mgr, "/coupons", body, key=str(batch))
    out = r.get_json()
    assert out == {"batch": batch.hex, "issued": len(dormant), "already": False,
                   "messages": 0}
    issued = _coupons(db_session, batch.hex)
    assert sorted(c[0] for c in issued) == dormant  # one each, nobody else
    assert {(c[1], c[2]) for c in issued} == {(gift["id"], "issued")}
    audits = _issue_audits(db_session)
    assert len(audits) == 1
    staff_id, entity, after = audits[0]
    after = json.loads(after) if isinstance(after, str) else after
    assert (staff_id, entity) == (mgr.id, str(gift["id"]))
    assert after["issued"] == len(dormant) and after["batch"] == batch.hex
    assert after["list"] == {"kind": "dormant", "days": 60}
    # the same request again (a lost answer): the stored answer, nothing new
    again = _post(client, mgr, "/coupons", body, key=str(batch))
    assert again.get_json() == out and again.headers.get("Idempotent-Replayed") == "true"
    # the same batch under another key (a client that lost its key): nothing new either
    other = _post(client, mgr, "/coupons", body).get_json()
    assert other == {**out, "already": True}
    assert len(_coupons(db_session, batch.hex)) == len(dormant)
    assert len(_issue_audits(db_session)) == 1
    # the same key with another list: refused, not issued
    r = client.post(f"{API}/coupons", json={**body, "members": {"kind": "dormant", "days": 30}},
                    headers=mgr.write_headers(str(batch)))
    assert r.status_code == 409
    assert len(_coupons(db_session, batch.hex)) == len(dormant)
    # one target only
    r = client.post(f"{API}/coupons", json={**body, "level_id": 1},
                    headers=mgr.write_headers())
    assert r.status_code == 400 and "三选一" in str(r.get_json()["error"])
    assert_invariants()


BIG = 12_345  # members: a dozen INSERTs of coupons.ISSUE_CHUNK in the one transaction


def test_a_big_list_is_issued_in_chunks(app, client, mgr, gift, db_session):
    from server.domain import coupons, member_bulk

    state = app.extensions["lanpos"]
    with state.session_factory() as s:
        member_bulk.generate(s, BIG, seed=2, extras=False)
        s.commit()
    # the generator's visits are 0..365 days ago: most members have not come for 7 days
    clock = shop_clock(state.config)
    cut = clock.day_start(clock.today() - dt.timedelta(days=7))
    want = _rows(db_session, "SELECT COUNT(*) FROM members WHERE active = 1 AND "
                             "(last_visit_at < :c OR (last_visit_at IS NULL AND "
                             "created_at < :c))", c=cut)[0][0]
    assert want > coupons.ISSUE_CHUNK * 10
    batch = uuid.uuid4()
    out = _post(client, mgr, "/coupons", {"template_id": gift["id"], "batch_id": str(batch),
                                          "members": {"kind": "dormant", "days": 7}},
                key=str(batch)).get_json()
    assert out["issued"] == want
    got = _rows(db_session, "SELECT COUNT(*), COUNT(DISTINCT member_id) FROM coupons "
                            "WHERE batch = :b", b=batch.hex)[0]
    assert tuple(got) == (want, want)


def test_messages_go_to_the_sender_after_the_commit(app, client, mgr, care_data, gift,
                                                    db_session):
    from server.domain.messaging import RecordingSender

    sender = app.extensions["lanpos"].services.messages
    assert isinstance(sender, RecordingSender)
    before = sender.count
    batch = uuid.uuid4()
    out = _post(client, mgr, "/coupons", {"template_id": gift["id"], "batch_id": str(batch),
                                          "notify": True,
                                          "members": {"kind": "low_balance"}},
                key=str(batch)).get_json()
    assert out["messages"] == out["issued"] > 0
    assert sender.count - before == out["issued"]
    sent = list(sender.recent)[-out["issued"]:]
    phones = dict(_rows(db_session, "SELECT id, phone FROM members"))
    codes = dict(_rows(db_session, "SELECT member_id, code FROM coupons WHERE batch = :b",
                       b=batch.hex))
    assert {m.member_id for m in sent} == set(codes)
    assert all(m.phone == phones[m.member_id] and codes[m.member_id] in m.text
               and "生日礼券" in m.text and m.ref == batch.hex for m in sent)
    # a refused issue sends nothing
    r = client.post(f"{API}/coupons", json={"template_id": 999999, "notify": True,
                                            "members": {"kind": "low_balance"}},
                    headers=mgr.write_headers())
    assert r.status_code == 404 and sender.count - before == out["issued"]


def test_the_owner_exports_a_list_with_full_phones(client, owner, mgr, care_data,
                                                   db_session):
    import json

    rows = _rows(db_session, "SELECT id, number, phone, active, sv_principal + sv_bonus "
                             "FROM members")
    want = {r[1]: r[2] for r in rows if r[3] and 0 < r[4] < 5000}
    r = client.get(f"{API}/members/export", query_string={"format": "csv",
                                                           "kind": "low_balance"},
                   headers=owner.headers)
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["filename"] == "members-low_balance.csv"
    table = list(csv.reader(io.StringIO(base64.b64decode(out["content_base64"])
                                        .decode("utf-8-sig"))))
    assert {row[0]: row[2] for row in table[1:]} == want and len(want) >= 10
    assert all(p and "*" not in p for p in want.values())
    after = _rows(db_session, "SELECT after FROM audit_log WHERE action = 'member.export'")
    doc = json.loads(after[-1][0]) if isinstance(after[-1][0], str) else after[-1][0]
    assert doc == {"rows": len(want), "format": "csv",
                   "list": {"kind": "low_balance", "threshold": 5000}}
    # the report page of the same list masks them; a manager cannot export
    page = _get(client, mgr, "/reports/member-list", kind="low_balance", page_size=200)
    assert {g["number"]: g["phone"] for g in page["items"]} == {
        k: mask_phone(v) for k, v in want.items()}
    r = client.get(f"{API}/members/export", query_string={"kind": "low_balance"},
                   headers=mgr.headers)
    assert r.status_code == 403
    # every member, as before
    r = client.get(f"{API}/members/export", headers=owner.headers)
    assert r.status_code == 200
    table = list(csv.reader(io.StringIO(base64.b64decode(r.get_json()["content_base64"])
                                        .decode("utf-8-sig"))))
    assert len(table) - 1 == len(rows)


def test_two_counters_sending_one_batch_at_once_issue_it_once(client, live_server, mgr,
                                                               care_data, gift, db_session):
    """The same batch sent at the same moment under several keys (a client retrying on
    another connection), and once more under one key from two threads: one issue."""
    import threading

    import requests

    batch = uuid.uuid4()
    body = {"template_id": gift["id"], "batch_id": str(batch),
            "members": {"kind": "dormant", "days": 60}}
    want = _get(client, mgr, "/reports/member-list/count", kind="dormant")["count"]
    barrier = threading.Barrier(6)
    answers: list[tuple[int, dict]] = []
    same_key = str(uuid.uuid4())

    def send(key: str) -> None:
        barrier.wait()
        r = requests.post(f"{live_server.url}/coupons", json=body,
                          headers=mgr.write_headers(key), timeout=60)
        answers.append((r.status_code, r.json()))

    keys = [str(uuid.uuid4()) for _ in range(4)] + [same_key, same_key]
    threads = [threading.Thread(target=send, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [s for s, _ in answers] == [201] * 6, answers
    assert {a["issued"] for _, a in answers} == {want} and want > 10
    fresh = [a for _, a in answers if not a["already"]]
    assert len(fresh) in (1, 2)  # the one that issued (and its same-key twin's replay)
    assert len({a["batch"] for a in fresh}) == 1
    got = _rows(db_session, "SELECT COUNT(*), COUNT(DISTINCT member_id) FROM coupons "
                            "WHERE batch = :b", b=batch.hex)[0]
    assert tuple(got) == (want, want)
    assert len(_issue_audits(db_session)) == 1


def test_care_lists_read_their_indexes(app, engine, mgr, db_session):
    """EXPLAIN every statement a care list's page runs (3,000 members, 1,000 cards): each is
    answered through its index (migration 0016), never a full scan of members or cards."""
    from sqlalchemy import event

    from common.schemas.reports import MemberListQuery
    from server.domain import owner_reports

    ids = _members(app, 3000, seed=8)
    db_session.execute(text("UPDATE members SET sv_principal = id MOD 9000, "
                            "sv_bonus = id MOD 3 * 100"))
    member_totals.recount(db_session)
    db_session.execute(text(
        "INSERT INTO member_count_cards (member_id, name, service_name, total_uses, "
        "remaining_uses, price, purchased_at, expires_at, status) SELECT id, '十次卡', '护理', "
        "10, id MOD 11, 30000, NOW(), NOW() + INTERVAL (id MOD 400) DAY, 'active' "
        "FROM members WHERE id MOD 3 = 0"))
    db_session.commit()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE TABLE members, member_count_cards"))
    state = app.extensions["lanpos"]
    clock = shop_clock(state.config)
    sa_engine = state.session_factory.kw["bind"]
    captured: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and (
                "FROM members" in statement or "FROM member_count_cards" in statement):
            captured.append((statement, parameters))

    def keys(**q) -> set[str]:
        captured.clear()
        event.listen(sa_engine, "before_cursor_execute", grab)
        try:
            with state.session_factory() as s:
                page = owner_reports.member_list(s, MemberListQuery(**q), clock=clock,
                                                 today=clock.today())
        finally:
            event.remove(sa_engine, "before_cursor_execute", grab)
        assert page.items, q
        found: set[str] = set()
        with engine.connect() as conn:
            for stmt, params in captured:
                for row in conn.exec_driver_sql("EXPLAIN " + stmt, params).mappings():
                    if row["table"] in ("m", "c", "members", "member_count_cards"):
                        assert row["type"] != "ALL", (q, stmt, row)
                        found.add(row["key"])
        return found

    assert "ix_members_balances" in keys(kind="low_balance", threshold=3000)
    assert keys(kind="birthdays", scope="month") == {"ix_members_active_birth_md"}
    assert "ix_member_count_cards_status_remaining_uses" in keys(kind="card_low", uses=1)
    assert "ix_member_count_cards_status_expires_at" in keys(kind="card_expiring", days=10)
    assert len(ids) == 3000
