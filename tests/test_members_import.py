"""Member import/export, the bulk generator (demo data) and EXPLAIN checks of search."""

from __future__ import annotations

import base64
import io

from sqlalchemy import event, text

API = "/api/v1"

GOOD_CSV = """姓名,手机号,性别,生日,会员等级,卡号,储值余额,赠送余额,积分,原系统编号,备注
张三,13800000001,男,1990-05-06,金卡,K00000001,500.00,50,1200,OLD-1,老顾客
李四,13800000002,女,1988/12/01,,,0,,,OLD-2,
王五,,,,,K00000003,12.5,,30,OLD-3,
"""


def upload(client, who, name, data: bytes, dry_run: bool):
    return client.post(f"{API}/members/import",
                       json={"filename": name, "dry_run": dry_run,
                             "content_base64": base64.b64encode(data).decode()},
                       headers=who.write_headers())


def setup_level(client, manager):
    r = client.post(f"{API}/levels", json={"name": "金卡", "rank": 1},
                    headers=manager.write_headers())
    assert r.status_code == 201


def test_import_dry_run_then_commit_then_rerun(client, manager, cashier, assert_invariants):
    setup_level(client, manager)
    data = GOOD_CSV.encode("utf-8")
    r = upload(client, manager, "old.csv", data, dry_run=True)
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"dry_run": True, "rows": 3, "created": 3, "updated": 0,
                            "errors": []}
    assert client.get(f"{API}/members", headers=cashier.headers).get_json()["items"] == []
    r = upload(client, manager, "old.csv", data, dry_run=False)
    assert r.status_code == 200 and r.get_json()["created"] == 3
    found = client.get(f"{API}/members", query_string={"q": "13800000001"},
                       headers=cashier.headers).get_json()["items"]
    assert len(found) == 1
    z = found[0]
    assert (z["sv_principal"], z["sv_bonus"], z["points"]) == (50000, 5000, 1200)
    assert z["level_name"] == "金卡" and z["gender"] == "M" and z["birthday"] == "1990-05-06"
    assert z["cards"][0]["card_no"] == "K00000001"
    ledger = client.get(f"{API}/members/{z['id']}/ledger", headers=cashier.headers).get_json()
    assert [(e["kind"], e["principal_change"], e["bonus_change"])
            for e in ledger["items"]] == [("opening", 50000, 5000)]
    # running the same file again: matched, nothing duplicated, balances unchanged
    r = upload(client, manager, "old.csv", data, dry_run=False)
    assert r.status_code == 200 and r.get_json()["created"] == 0
    assert r.get_json()["updated"] == 3
    all_members = client.get(f"{API}/members", headers=cashier.headers).get_json()["items"]
    assert len(all_members) == 3
    again = next(m for m in all_members if m["id"] == z["id"])
    assert (again["sv_principal"], again["points"]) == (50000, 1200)
    assert_invariants()


def test_import_bad_rows_reported_and_nothing_written(client, manager, cashier,
                                                      assert_invariants):
    setup_level(client, manager)
    bad = GOOD_CSV + ("赵六,12345,男,,,,,,,OLD-4,\n"            # row 5: bad phone
                      "钱七,13800000009,x,,,,,,,OLD-5,\n"         # row 6: bad gender
                      "孙八,13800000010,,,钻石,,,,,OLD-6,\n"      # row 7: unknown level
                      ",13800000011,,,,,,,,OLD-7,\n"              # row 8: no name
                      "周九,13800000001,,,,,,,,OLD-8,\n"          # row 9: phone repeats row 2
                      "吴十,13800000012,,,,,abc,,,OLD-9,\n"       # row 10: bad money
                      "郑一,13800000013,,,,,,,-5,OLD-10,\n")      # row 11: negative points
    r = upload(client, manager, "bad.csv", bad.encode("utf-8"), dry_run=True)
    assert r.status_code == 200
    report = r.get_json()
    assert [e["row"] for e in report["errors"]] == [5, 6, 7, 8, 9, 10, 11]
    assert "手机号" in report["errors"][0]["message"]
    assert "第 2 行" in report["errors"][4]["message"]
    assert report["created"] == 0
    r = upload(client, manager, "bad.csv", bad.encode("utf-8"), dry_run=False)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "import_rejected"
    assert "row 5" in r.get_json()["error"]["fields"]
    assert client.get(f"{API}/members", headers=cashier.headers).get_json()["items"] == []
    assert cashier.role == "cashier"
    r = upload(client, cashier, "old.csv", GOOD_CSV.encode(), dry_run=True)
    assert r.status_code == 403
    assert_invariants()


def test_import_xlsx_gbk_csv_and_export(client, owner, manager, cashier):
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["name", "phone", "balance", "points"])
    ws.append(["陈一", 13900000001, 100, 5])
    ws.append(["陈二", "13900000002", "", ""])
    buf = io.BytesIO()
    wb.save(buf)
    r = upload(client, manager, "m.xlsx", buf.getvalue(), dry_run=False)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["created"] == 2
    gbk = "姓名,手机号\n林三,13900000003\n".encode("gbk")
    assert upload(client, manager, "gbk.csv", gbk, dry_run=False).get_json()["created"] == 1
    # export: the owner's (issue 16: every phone at once; test_member_privacy.py)
    r = client.get(f"{API}/members/export", query_string={"format": "xlsx"},
                   headers=manager.headers)
    assert r.status_code == 403
    r = client.get(f"{API}/members/export", query_string={"format": "xlsx"},
                   headers=owner.headers)
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(base64.b64decode(r.get_json()["content_base64"])))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("会员号", "姓名", "手机号") and len(rows) == 4
    assert {row[1] for row in rows[1:]} == {"陈一", "陈二", "林三"}
    r = client.get(f"{API}/members/export", query_string={"format": "csv"},
                   headers=owner.headers)
    csv_text = base64.b64decode(r.get_json()["content_base64"]).decode("utf-8-sig")
    assert "陈一,13900000001" in csv_text and "100.00" in csv_text


def test_demo_membership_loads_and_verifies(app, owner, assert_invariants):
    from sqlalchemy import func, select

    from server.db.members import Coupon, Member, MemberCountCard, MemberLevel
    from server.domain import member_bulk

    factory = app.extensions["lanpos"].session_factory
    with factory() as s:
        member_bulk.load_demo(s)
        s.commit()
        assert s.scalar(select(func.count()).select_from(Member)) == 200
        assert s.scalar(select(func.count()).select_from(MemberLevel)) == 4
        assert s.scalar(select(func.count()).select_from(MemberCountCard)) == 30
        assert s.scalar(select(func.count()).select_from(Coupon)) >= 40
        assert s.scalar(select(func.sum(Member.sv_principal))) > 0
        member_bulk.load_demo(s)  # a second call adds nothing
        s.commit()
        assert s.scalar(select(func.count()).select_from(Member)) == 200
    assert_invariants()


def test_search_queries_use_indexes(app, engine, owner):
    """EXPLAIN every statement the search runs for each kind of query: each lookup must be
    answered by its index, never by a full table scan (except the documented name
    substring)."""
    from server.domain import member_bulk
    from server.domain import members as members_domain

    factory = app.extensions["lanpos"].session_factory
    with factory() as s:
        member_bulk.generate(s, 3000, seed=3)
        s.commit()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE TABLE members, member_cards"))
    captured: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip(" \n(").upper().startswith("SELECT") and "FROM members" in statement:
            captured.append((statement, parameters))

    def plans(q: str) -> list[list[dict]]:
        captured.clear()
        sa_engine = app.extensions["lanpos"].session_factory.kw["bind"]
        event.listen(sa_engine, "before_cursor_execute", grab)
        try:
            with factory() as s:
                members_domain.search(s, q, 1, 20)
        finally:
            event.remove(sa_engine, "before_cursor_execute", grab)
        out = []
        with engine.connect() as conn:
            for stmt, params in captured:
                if "WHERE members.id IN" in stmt and "LIMIT" not in stmt:
                    continue  # loading the page's rows by primary key
                rows = conn.exec_driver_sql("EXPLAIN " + stmt, params).mappings().all()
                out.append([dict(r) for r in rows])
        return out

    def keys(q: str) -> set[str]:
        found = set()
        for plan in plans(q):
            for row in plan:
                if row["table"] in ("members", "member_cards"):
                    assert row["type"] != "ALL", (q, plan)
                    found.add(row["key"])
        return found

    phone = member_bulk.phone_for(1500)
    assert "uq_members_phone" in keys(phone)
    assert "ix_members_phone_last4" in keys(phone[-4:])
    with engine.connect() as conn:  # (a unique key that matches nothing is "impossible WHERE")
        card_no = conn.execute(text("SELECT card_no FROM member_cards LIMIT 1")).scalar_one()
    assert "uq_member_cards_card_no" in keys(card_no)
    assert "ix_members_pinyin" in keys("zw")
    assert "uq_members_number" in keys("M0001500")
    assert "ix_members_name" in keys("张伟")
