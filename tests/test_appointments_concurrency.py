"""Counters booking the last slot at the same moment, through the real waitress server: exactly
one wins, the others get 409 with the reason; nothing is double-booked."""

from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import func, select
from waitress import wasyncore

from server.db.appointments import Appointment
from tests.conftest import LiveServer
from tests.support.salon import at, book, make_salon

N = 8


@pytest.fixture
def live_server(app):
    """Stopped from inside its own event loop (as in test_members_concurrency)."""
    srv = LiveServer(app, threads=24).start()
    try:
        yield srv
    finally:
        server = srv.server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        srv.thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        assert not srv.thread.is_alive()


def _race(live_server, cashier, bodies: list[dict]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def one(body: dict) -> None:
        barrier.wait()
        r = requests.post(f"{live_server.url}/appointments", json=body,
                          headers=cashier.write_headers(), timeout=60)
        with lock:
            results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=one, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == len(bodies)
    return results


def _walk_in(i: int, **kw) -> dict:
    return {"customer_name": f"客人{i}", "phone": f"1390000{i:04d}", **kw}


def test_eight_counters_book_one_stylists_last_slot(client, manager, cashier, make_staff,
                                                    monkeypatch, app, live_server, db_session):
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    d = s.day
    # 阿美's day is full but for 18:00–19:00
    for hhmm in ("10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00"):
        book(client, cashier, [s.wash["id"]], at(d, hhmm), s.amei.id)
    res = _race(live_server, cashier, [
        _walk_in(i, product_ids=[s.wash["id"]], staff_id=s.amei.id,
                 starts_at=at(d, "18:00" if i % 2 else "18:30")) for i in range(N)])
    ok = [b for st, b in res if st == 201]
    assert len(ok) == 1, res
    assert all(st == 409 and b["error"]["code"] in ("booking_conflict", "booking_outside_hours")
               for st, b in res if st != 201), res
    # 18:30 + 60 min ends after her hours: only an 18:00 booking can have won
    assert ok[0]["local_start"] == at(d, "18:00")
    conflicts = [b for st, b in res if st == 409 and b["error"]["code"] == "booking_conflict"]
    assert conflicts and all("阿美" in b["error"]["message"] for b in conflicts)
    db_session.rollback()
    n = db_session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.staff_id == s.amei.id, Appointment.status == "booked"))
    assert n == 9


def test_anyone_and_the_last_class_places_under_a_race(client, manager, cashier, make_staff,
                                                       monkeypatch, app, live_server,
                                                       db_session):
    s = make_salon(client, manager, make_staff, monkeypatch, app, capacity=3)
    d = s.day
    # two stylists free at 10:00: of eight "anyone" bookings exactly two win, one each
    res = _race(live_server, cashier, [
        _walk_in(i, product_ids=[s.wash["id"]], starts_at=at(d, "10:00")) for i in range(N)])
    ok = [b for st, b in res if st == 201]
    assert sorted(b["staff_id"] for b in ok) == sorted([s.amei.id, s.xiaobo.id]), res
    assert all(st == 409 and b["error"]["code"] == "booking_no_staff_free"
               for st, b in res if st != 201)
    # the class has 3 places, 2 taken: of eight counters, one gets the last
    for _ in range(2):
        book(client, cashier, [s.yoga["id"]], at(d, "19:00"))
    res = _race(live_server, cashier, [
        _walk_in(i, product_ids=[s.yoga["id"]], starts_at=at(d, "19:00")) for i in range(N)])
    assert [st for st, _ in res].count(201) == 1, res
    full = [b for st, b in res if st != 201]
    assert all(b["error"]["code"] == "class_full" and "3 人" in b["error"]["message"]
               for b in full), full
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.class_product_id == s.yoga["id"], Appointment.status == "booked")) == 3
