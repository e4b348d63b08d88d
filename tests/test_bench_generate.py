"""The benchmark's data generator (bench/generate.py) at a tiny size against the test
database: every ``lanpos-server verify`` invariant must hold on what it loads, and the data
must look like a shop's (so the benchmark measures something real)."""

from __future__ import annotations

import random

from sqlalchemy import text

from bench.env import conn_factory
from bench.generate import COMPOUND_SURNAMES, GIVEN_CHARS, SURNAMES, GenSpec, generate
from common.text import pinyin_initials
from server.domain.verify import run_all


def test_generated_data_passes_every_invariant(runtime, app, db_session):
    state = app.extensions["lanpos"]
    spec = GenSpec(members=400, products=80, services=6, sale_lines=4000, days=20, counters=3,
                   chunk_rows=97, binlog=True, refund_share=0.05,
                   partial_refund_share=0.03)
    res = generate(conn_factory(runtime), state.session_factory, state.passwords, spec)
    assert res.rows["members"] == 400 and res.rows["products"] == 86
    assert abs(res.sale_lines - 4000) < 800 and res.rows["sale_lines"] == res.sale_lines
    assert res.rows["refunds"] > 0 and res.rows["stored_value_ledger"] > 0
    # count cards for the count-card report: every 20th member, some partly used
    assert res.rows["member_count_cards"] == 20
    used, left = db_session.execute(text(
        "SELECT SUM(remaining_uses < total_uses), SUM(remaining_uses) FROM member_count_cards"
    )).one()
    assert 0 < used < 20 and left > 0
    # small chunks: parents are always loaded before the chunk that references them (LOAD
    # DATA LOCAL would skip a row with a missing parent with only a warning; the loader
    # checks every chunk's row count)
    for table, n in res.rows.items():
        if table in ("members", "sales", "sale_lines", "points_ledger", "stock_ledger"):
            assert db_session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == n
    problems = [(r.name, r.problems[:3]) for r in run_all(db_session) if not r.ok]
    assert problems == []
    q = lambda sql: db_session.execute(text(sql)).one()  # noqa: E731
    # about half the sales have a member; payments of several kinds; both refund kinds
    n, with_member = q("SELECT COUNT(*), SUM(member_id IS NOT NULL) FROM sales")
    assert 0.35 < with_member / n < 0.65
    methods = {m for (m,) in db_session.execute(text("SELECT DISTINCT method FROM sale_payments"))}
    assert {"cash", "wechat", "alipay", "stored_value"} <= methods
    statuses = {s for (s,) in db_session.execute(text("SELECT DISTINCT status FROM sales"))}
    assert statuses == {"completed", "refunded", "part_refunded"}
    # members: unique phones, last 4 digits and pinyin as the app computes them
    bad = q("SELECT COUNT(*) FROM members WHERE phone_last4 <> RIGHT(phone, 4) "
            "OR number <> CONCAT('M', LPAD(id, 7, '0'))")[0]
    assert bad == 0
    for name, py in db_session.execute(text("SELECT name, pinyin FROM members LIMIT 50")):
        assert py == pinyin_initials(name)
    # the staff the load runner logs in as
    assert q("SELECT COUNT(*) FROM staff WHERE username IN ('owner', 'manager', 'c01')")[0] == 3
    # a second run appends (new ids), still consistent
    generate(conn_factory(runtime), state.session_factory, state.passwords,
             GenSpec(members=50, products=5, services=1, sale_lines=300, days=3, counters=3,
                     seed=7))
    db_session.rollback()
    assert q("SELECT COUNT(*) FROM members")[0] == 450
    assert [(r.name, r.problems[:3]) for r in run_all(db_session) if not r.ok] == []


def test_name_initials_by_parts_equal_the_whole_name():
    """The generator caches initials per surname and per given name (100× faster)."""
    rnd = random.Random(3)
    for sur in list(SURNAMES) + list(COMPOUND_SURNAMES):
        for _ in range(20):
            given = rnd.choice(GIVEN_CHARS) + rnd.choice(GIVEN_CHARS)
            assert pinyin_initials(sur + given) == pinyin_initials(sur) + pinyin_initials(given)
