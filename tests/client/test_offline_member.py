"""Issue 15 (helper E): what the journal keeps besides the sale — the cashier logged in when
it was made and a member typed offline by card number / full phone — survives reopening the
journal and reaches the server at replay (the sale is that cashier's; the member gets the
points and the visit). Real server, real journal file."""

from __future__ import annotations

import dataclasses

from client.offline.journal import Journal
from client.offline.replay import replay
from tests.client.test_offline_replay import entry, shop  # noqa: F401  (fixture)


def test_the_cashier_and_a_member_typed_offline_reach_the_server(shop, owner,  # noqa: F811
                                                                 tmp_path, assert_invariants
                                                                 ) -> None:
    boss, api = shop["boss"], shop["api"]
    level = boss.create_level({"name": "银卡", "rank": 1, "discount_bp": 10000,
                               "points_per_yuan": 1})
    member = boss.create_member({"name": "张三", "phone": "13800001234", "level_id": level.id})
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as j:
        made_by_boss = dataclasses.replace(entry(shop, 0), cashier="boss", cashier_id=owner.id,
                                           member_ref="13800001234")
        unknown = dataclasses.replace(entry(shop, 1), member_ref="13999999999")
        numbers = [j.record(made_by_boss), j.record(unknown)]
    with Journal(path) as j:  # what the journal keeps, after a restart of the counter
        kept = {r.number: r for r in j.pending()}
        assert (kept[numbers[0]].entry.cashier_id, kept[numbers[0]].entry.member_ref) == (
            owner.id, "13800001234")
        assert kept[numbers[0]].offline_body()["offline"]["member_ref"] == "13800001234"
        assert "cashier_id" not in kept[numbers[1]].offline_body()["offline"]
        res = replay(api, j)  # the cashier "cash" is logged in now
        assert (res.sent, res.remaining, res.refused) == (2, 0, 0)
        first = api.get_sale(str(kept[numbers[0]].sale_id))
        second = api.get_sale(str(kept[numbers[1]].sale_id))
    assert (first.cashier, first.member.id if first.member else None) == ("boss", member.id)
    assert (second.cashier, second.member) == ("cash", None)
    again = boss.get_member(member.id)
    assert (again.visit_count, again.total_spent) == (1, first.total)
    assert again.points == first.member.points_earned == first.total // 100
    assert_invariants()
