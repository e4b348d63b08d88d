"""Replay of the offline journal against the real server (``live_server``): every journaled
sale on the server exactly once, in order, with ``origin`` offline and the counter's local
number — also when an answer is lost (``FaultProxy``), when the replay stops halfway and is
run again, when the sale had reached the server online before it was journaled, and when two
replays (threads, and ``lanpos-client journal replay`` processes) run at once; a refused sale
is kept; the support command line (``journal list`` / ``journal replay``) as real
subprocesses."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from client.offline import journal_path
from client.offline.journal import Journal, JournalEntry
from client.offline.replay import replay
from common.schemas.sales import SaleIn
from tests.client.conftest import FaultProxy, dead_address, ensure_shift
from tests.conftest import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(live_server, make_api, owner, cashier):
    """Two products on the server; counter 01's cashier logged in with the shift open."""
    boss = make_api([live_server.url], counter="09")
    boss.login("boss", TEST_PASSWORD)
    cola = boss.create_product({"name": "可乐", "price": 350, "barcodes": ["6901"]})
    towel = boss.create_product({"name": "毛巾", "price": 1200, "barcodes": ["6902"]})
    api = make_api([live_server.url], counter="01")
    api.login("cash", TEST_PASSWORD)
    ensure_shift(api)
    return {"api": api, "boss": boss, "cola": cola, "towel": towel}


def entry(shop, i: int, *, method: str = "cash", extra: dict | None = None,
          sale_id: uuid.UUID | None = None) -> JournalEntry:
    """Sale i: i+1 colas and a towel, priced as the counter's catalogue had them."""
    cola, towel = shop["cola"], shop["towel"]
    amounts = [cola.price * (i + 1), towel.price]
    total = sum(amounts)
    pay: dict = {"method": method, "amount": total}
    if method == "cash":
        pay["tendered"] = total + 100
    else:
        pay["reference"] = f"REF{i}"
    sale = SaleIn(id=sale_id or uuid.uuid4(),
                  lines=[{"product_id": cola.id, "qty": i + 1},
                         {"product_id": towel.id, "qty": 1}],
                  payments=[pay], **(extra or {}))
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30 - i)
    return JournalEntry(sale=sale, counter="01", cashier="cash", line_amounts=amounts,
                        total=total, recorded_at=when)


def offline_sales(api) -> list:
    page = api.list_sales(page_size=200, origin="offline")
    return page.items


def post_keys(proxy: FaultProxy) -> collections.Counter:
    return collections.Counter(k for line, k in proxy.requests
                               if line.startswith("POST /api/v1/sales ") and k)


def test_replay_sends_every_journaled_sale_once_in_order(shop, tmp_path, assert_invariants
                                                         ) -> None:
    api = shop["api"]
    j = Journal(tmp_path / "journal.sqlite3")
    methods = ["cash", "card", "wechat", "alipay", "cash", "cash"]
    numbers = [j.record(entry(shop, i, method=m)) for i, m in enumerate(methods)]
    result = replay(api, j)
    assert (result.sent, result.remaining, result.refused, result.busy) == (6, 0, 0, False)
    assert result.complete and [o.number for o in result.outcomes] == numbers
    on_server = offline_sales(api)
    assert sorted(s.offline_number for s in on_server) == numbers  # each once
    assert all(s.origin == "offline" for s in on_server)
    by_number = {s.offline_number: s for s in on_server}
    for rec in j.recent(10):
        assert rec.state == "sent"
        assert rec.server_number == by_number[rec.number].number
        full = api.get_sale(str(rec.sale_id))
        assert full.total == rec.total and full.offline_number == rec.number
    # in order: the server's numbers grow with the local ones
    server_numbers = [by_number[n].number for n in numbers]
    assert server_numbers == sorted(server_numbers)
    again = replay(api, j)  # nothing left: nothing sent
    assert (again.sent, again.remaining) == (0, 0)
    assert len(offline_sales(api)) == 6
    assert_invariants()
    j.close()


def test_a_lost_answer_is_resent_with_the_same_key(shop, live_server, make_api, tmp_path
                                                   ) -> None:
    proxy = FaultProxy(live_server.port)
    try:
        api = make_api([proxy.url], counter="01")
        api.login("cash", TEST_PASSWORD)
        j = Journal(tmp_path / "journal.sqlite3")
        recs = [j.record(entry(shop, i)) for i in range(3)]
        proxy.drop_write_responses = 1  # the server commits the first, its answer is lost
        result = replay(api, j)
        assert (result.sent, result.remaining) == (3, 0)
        assert proxy.dropped and proxy.dropped[0].startswith("POST /api/v1/sales ")
        keys = post_keys(proxy)
        first = str(j.by_number(recs[0]).sale_id)
        assert keys[first] == 2  # resent once, with its own id as the key
        assert sorted(keys.values()) == [1, 1, 2]
        assert sorted(s.offline_number for s in offline_sales(shop["api"])) == recs
        j.close()
    finally:
        proxy.close()


def test_a_replay_stopped_by_a_lost_answer_resumes_with_the_stored_sale(
        shop, live_server, make_api, tmp_path) -> None:
    """One try only (as after a restart halfway): the first replay stops at the lost answer;
    the next one gets the stored sale for it, not a second sale."""
    proxy = FaultProxy(live_server.port)
    try:
        api = make_api([proxy.url], counter="01", max_attempts=1)
        api.login("cash", TEST_PASSWORD)
        j = Journal(tmp_path / "journal.sqlite3")
        numbers = [j.record(entry(shop, i)) for i in range(3)]
        proxy.drop_write_responses = 1
        first = replay(api, j)
        assert first.stopped is not None and first.stopped.status == 0
        assert (first.sent, first.remaining) == (0, 3)
        assert j.by_number(numbers[0]).state == "pending"
        committed = offline_sales(shop["api"])
        assert [s.offline_number for s in committed] == [numbers[0]]  # it did get through
        second = replay(api, j)
        assert (second.sent, second.remaining) == (3, 0)
        assert second.outcomes[0].server_number == committed[0].number
        assert sorted(s.offline_number for s in offline_sales(shop["api"])) == numbers
        j.close()
    finally:
        proxy.close()


def test_a_refused_sale_is_kept_and_the_rest_go_on(shop, tmp_path) -> None:
    api = shop["api"]
    j = Journal(tmp_path / "journal.sqlite3")
    ok1 = j.record(entry(shop, 0))
    bad = j.record(entry(shop, 1, extra={"coupon_id": 999}))  # a coupon needs the server
    ok2 = j.record(entry(shop, 2))
    result = replay(api, j)
    assert (result.sent, result.refused, result.remaining) == (2, 1, 0)
    refused = j.by_number(bad)
    assert refused.state == "refused" and refused.error_code == "offline_not_allowed"
    assert refused.error and refused.error in " ".join(result.errors)
    assert sorted(s.offline_number for s in offline_sales(api)) == [ok1, ok2]
    assert j.counts() == {"pending": 0, "sent": 2, "refused": 1}  # never dropped
    j.close()


def test_a_sale_that_reached_the_server_online_is_not_doubled(shop, tmp_path) -> None:
    """Sent online, its answer lost, then journaled: the server has it with another body
    (409 idempotency_mismatch); the replay takes the stored sale."""
    api = shop["api"]
    e = entry(shop, 0)
    online = api.create_sale(e.sale, key=str(e.sale.id))
    j = Journal(tmp_path / "journal.sqlite3")
    j.record(e)
    result = replay(api, j)
    assert (result.sent, result.remaining) == (1, 0)
    assert result.outcomes[0].replayed and result.outcomes[0].server_number == online.number
    assert len(api.list_sales(page_size=50).items) == 1
    j.close()


def test_no_server_stops_the_replay_and_keeps_every_sale_pending(shop, make_api, tmp_path
                                                                 ) -> None:
    api = make_api([dead_address()], counter="01", max_attempts=1)
    api.token = shop["api"].token
    j = Journal(tmp_path / "journal.sqlite3")
    for i in range(3):
        j.record(entry(shop, i))
    result = replay(api, j)
    assert result.stopped is not None and result.stopped.status == 0
    assert (result.sent, result.remaining) == (0, 3) and not result.complete
    assert [r.attempts for r in j.pending()] == [1, 0, 0]  # stopped at the first
    assert offline_sales(shop["api"]) == []
    j.close()


def test_two_threads_replaying_at_once_send_each_sale_once(shop, live_server, make_api,
                                                           tmp_path) -> None:
    proxy = FaultProxy(live_server.port, delay=0.02)
    try:
        path = tmp_path / "journal.sqlite3"
        with Journal(path) as j:
            numbers = [j.record(entry(shop, i)) for i in range(10)]
        results = []

        def run() -> None:
            api = make_api([proxy.url], counter="01")
            api.login("cash", TEST_PASSWORD)
            with Journal(path) as mine:
                results.append(replay(api, mine))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sum(r.sent for r in results) == 10
        assert sum(r.busy for r in results) <= 1
        assert set(post_keys(proxy).values()) == {1}  # no sale sent twice
        assert len(post_keys(proxy)) == 10
        assert sorted(s.offline_number for s in offline_sales(shop["api"])) == numbers
    finally:
        proxy.close()


# --- the support command line, as real processes -------------------------------------------
def cli_env(tmp_path: Path, server: str) -> tuple[Path, dict[str, str]]:
    cfg = tmp_path / "lanpos" / "client.json"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(json.dumps({"servers": [server], "counter": "01", "lang": "zh"}),
                   encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANPOS_CLIENT_CONFIG": str(cfg)}
    env.pop("LANPOS_PASSWORD", None)
    return cfg, env


def cli(env: dict[str, str], *args: str, password: str | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "client.main", "journal", *args],
                          input=password + "\n" if password is not None else None,
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)


def test_cli_list_and_replay(shop, live_server, tmp_path) -> None:
    cfg, env = cli_env(tmp_path, live_server.url)
    with Journal(journal_path(cfg)) as j:  # where the counter keeps it
        numbers = [j.record(entry(shop, i)) for i in range(3)]
    listed = cli(env, "list")
    assert listed.returncode == 0, listed.stderr
    for n in numbers:
        assert n in listed.stdout
    assert listed.stdout.count("待上传") == 3 + 1  # three rows and the summary
    assert "¥" in listed.stdout and "待上传 3 笔，已上传 0 笔" in listed.stdout

    sent = cli(env, "replay", "--password-stdin", password=TEST_PASSWORD)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    for n in numbers:
        assert f"已上传 {n} → 服务器单号 " in sent.stdout
    assert "本次上传 3 笔，仍待上传 0 笔" in sent.stdout
    assert sorted(s.offline_number for s in offline_sales(shop["api"])) == numbers

    after = cli(env, "list")
    assert "待上传 0 笔，已上传 3 笔" in after.stdout
    server_numbers = {s.number for s in offline_sales(shop["api"])}
    assert all(sn in after.stdout for sn in server_numbers)

    wrong = cli(env, "replay", "--password-stdin", password="wrong")  # nothing pending
    assert wrong.returncode == 0 and "本次上传 0 笔" in wrong.stdout


def test_cli_replay_without_a_server_keeps_the_sales_and_says_so(shop, tmp_path) -> None:
    cfg, env = cli_env(tmp_path, dead_address())
    with Journal(journal_path(cfg)) as j:
        j.record(entry(shop, 0))
    out = cli(env, "replay", "--password-stdin", password=TEST_PASSWORD)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "登录失败" in out.stderr
    with Journal(journal_path(cfg)) as j:
        assert j.pending_count() == 1


def test_cli_on_a_damaged_journal_says_how_to_recover(tmp_path, live_server) -> None:
    cfg, env = cli_env(tmp_path, live_server.url)
    path = journal_path(cfg)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00" * 4096)
    out = cli(env, "list")
    assert out.returncode == 2
    assert str(path) in out.stderr and "已原样保留" in out.stderr
    assert path.read_bytes() == b"\x00" * 4096


def test_two_cli_replays_at_once_send_each_sale_once(shop, live_server, tmp_path) -> None:
    proxy = FaultProxy(live_server.port, delay=0.02)
    try:
        cfg, env = cli_env(tmp_path, proxy.url)
        with Journal(journal_path(cfg)) as j:
            numbers = [j.record(entry(shop, i)) for i in range(12)]
        procs = [subprocess.Popen(
            [sys.executable, "-m", "client.main", "journal", "replay", "--password-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env, cwd=ROOT) for _ in range(2)]
        outs = [p.communicate(TEST_PASSWORD + "\n", timeout=120) for p in procs]
        codes = sorted(p.returncode for p in procs)
        assert codes[0] == 0 and codes[1] in (0, 1), outs
        keys = post_keys(proxy)
        assert len(keys) == 12 and set(keys.values()) == {1}  # each sale sent once
        assert sorted(s.offline_number for s in offline_sales(shop["api"])) == numbers
        with Journal(journal_path(cfg)) as j:
            assert j.counts()["sent"] == 12
    finally:
        proxy.close()
