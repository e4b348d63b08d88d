"""Stored value and coupons under concurrent requests through the real waitress server."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests
from waitress import wasyncore

from tests.conftest import LiveServer, open_shift

API = "/api/v1"


@pytest.fixture
def live_server(app):
    """conftest's live server, but stopped from inside its own event loop: closing the
    sockets from the test thread while the loop sits in select() sometimes raises EBADF in
    the server thread (an unhandled-thread-exception warning, i.e. an error here)."""
    srv = LiveServer(app, threads=24).start()
    try:
        yield srv
    finally:
        server = srv.server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        srv.thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        assert not srv.thread.is_alive()


def test_twenty_threads_paying_from_one_member(client, live_server, cashier, manager,
                                               assert_invariants):
    r = client.post(f"{API}/members", json={"name": "并发", "phone": "13800138000"},
                    headers=cashier.write_headers())
    mid = r.get_json()["id"]
    open_shift(client, cashier)
    r = client.post(f"{API}/members/{mid}/recharges", json={"amount": 5000, "method": "cash"},
                    headers=cashier.write_headers())
    assert r.status_code == 201
    r = client.post(f"{API}/members/{mid}/stored-value/adjustments",
                    json={"bonus_change": 5000, "reason": "活动赠送"},
                    headers=manager.write_headers())
    assert r.status_code == 201  # balance 5000 principal + 5000 bonus

    barrier = threading.Barrier(20)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def pay() -> None:
        barrier.wait()
        resp = requests.post(f"{live_server.url}/members/{mid}/stored-value/payments",
                             json={"amount": 700}, headers=cashier.write_headers(),
                             timeout=60)
        with lock:
            results.append((resp.status_code, resp.json()))

    threads = [threading.Thread(target=pay) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ok = [body for status, body in results if status == 201]
    refused = [(status, body) for status, body in results if status != 201]
    assert len(results) == 20
    assert len(ok) == 14  # 14 × 7.00 = 98.00 of 100.00
    assert all(status == 409 and body["error"]["code"] == "insufficient_balance"
               for status, body in refused), refused
    assert all(b["stored_value"] >= 0 for b in ok)
    # every success saw a distinct balance: payments were serialised, none lost
    assert sorted(b["stored_value"] for b in ok) == [10_000 - 700 * k for k in range(14, 0, -1)]
    m = client.get(f"{API}/members/{mid}", headers=cashier.headers).get_json()
    assert (m["sv_principal"], m["sv_bonus"]) == (0, 200)
    ledger = client.get(f"{API}/members/{mid}/ledger",
                        query_string={"book": "stored_value", "page_size": 200},
                        headers=cashier.headers).get_json()["items"]
    assert sum(e["change"] for e in ledger) == m["stored_value"] == 200
    assert len([e for e in ledger if e["kind"] == "payment"]) == 14
    assert_invariants()


def test_same_key_replayed_concurrently_pays_once(client, live_server, cashier,
                                                  assert_invariants):
    mid = client.post(f"{API}/members", json={"name": "重放", "phone": "13800138001"},
                      headers=cashier.write_headers()).get_json()["id"]
    open_shift(client, cashier)
    r = client.post(f"{API}/members/{mid}/recharges", json={"amount": 10_000, "method": "cash"},
                    headers=cashier.write_headers())
    assert r.status_code == 201, r.get_json()
    headers = cashier.write_headers(str(uuid.uuid4()))
    barrier = threading.Barrier(8)
    codes: list[int] = []

    def pay() -> None:
        barrier.wait()
        resp = requests.post(f"{live_server.url}/members/{mid}/stored-value/payments",
                             json={"amount": 1000}, headers=headers, timeout=60)
        codes.append(resp.status_code)

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [201] * 8
    m = client.get(f"{API}/members/{mid}", headers=cashier.headers).get_json()
    assert m["stored_value"] == 9_000
    assert_invariants()


def test_coupon_redeemed_once_under_race(client, live_server, cashier, manager):
    t = client.post(f"{API}/coupon-templates", json={"name": "减10", "kind": "amount",
                                                     "amount_fen": 1000},
                    headers=manager.write_headers()).get_json()
    mid = client.post(f"{API}/members", json={"name": "抢券", "phone": "13800138002"},
                      headers=cashier.write_headers()).get_json()["id"]
    client.post(f"{API}/coupons", json={"template_id": t["id"], "member_id": mid},
                headers=manager.write_headers())
    cid = client.get(f"{API}/coupons", query_string={"member_id": mid},
                     headers=cashier.headers).get_json()["items"][0]["id"]
    barrier = threading.Barrier(10)
    codes: list[int] = []

    def redeem() -> None:
        barrier.wait()
        resp = requests.post(f"{live_server.url}/coupons/{cid}/redemptions",
                             json={"member_id": mid}, headers=cashier.write_headers(),
                             timeout=60)
        codes.append(resp.status_code)

    threads = [threading.Thread(target=redeem) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert sorted(codes) == [201] + [409] * 9


def test_member_totals_kept_under_concurrent_writes(client, live_server, cashier, manager,
                                                    db_session, assert_invariants):
    """The members' totals (the stored-value liability and points the owner's report shows
    without summing a million rows) follow every balance change: 24 threads recharging,
    paying and awarding points for 8 members at once, one request refused for want of money
    (its transaction rolled back), a member deactivated — the kept totals equal the sums over
    the members, which equal the ledgers (verify), and the writes were spread over stripes."""
    from sqlalchemy import text

    from server.domain import member_totals

    open_shift(client, cashier)
    mids = []
    for i in range(8):
        r = client.post(f"{API}/members", json={"name": f"条带{i}", "phone": f"1380013{i:04d}"},
                        headers=cashier.write_headers())
        assert r.status_code == 201
        mids.append(r.get_json()["id"])
    barrier = threading.Barrier(24)
    statuses: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        mid = mids[n % 8]
        barrier.wait()
        for path, body, who in (
                ("recharges", {"amount": 1000 + n, "method": "cash"}, cashier),
                ("stored-value/payments", {"amount": 300}, cashier),
                ("points", {"change": 5 + n, "reason": "并发"}, manager),
                ("stored-value/payments", {"amount": 10_000_000}, cashier)):  # refused
            resp = requests.post(f"{live_server.url}/members/{mid}/{path}", json=body,
                                 headers=who.write_headers(), timeout=60)
            with lock:
                statuses.append(resp.status_code)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [201] * 72 + [409] * 24
    r = client.patch(f"{API}/members/{mids[0]}", json={"active": False},
                     headers=manager.write_headers())
    assert r.status_code == 200
    db_session.rollback()
    kept = member_totals.read(db_session)
    assert kept == member_totals.live(db_session)
    assert kept == member_totals.Totals(
        members=7, sv_principal=sum(1000 + n - 300 for n in range(24)), sv_bonus=0,
        with_balance=8, points=sum(5 + n for n in range(24)), with_points=8)
    used = db_session.scalar(text("SELECT COUNT(*) FROM member_totals WHERE sv_principal <> 0"))
    assert used > 1  # the counters' writes went to more than one row
    assert_invariants()
