"""Issue 15, the hard cases: the counter process killed (-9) in the middle of an offline
shift, two counters offline at once while a price changes, and leaving (换班 / 交班 / 退出 /
the window's close button) while sales wait to go up.

The killed counter is the real client in a process of its own
(``tests/support/offline_counter_driver.py``) against the real server (live waitress +
MariaDB) behind the freezing proxy of ``test_offline_counter`` (it accepts and answers
nothing, like a stopped server process). Checked where it ends up: the journal file, the
server's database, its shift report, ``verify``."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from client.counter.offline_mode import is_offline_sale
from client.counter.shift import ShiftCloseDialog
from client.devices.facade import DeviceService
from client.i18n import tr
from client.offline.journal import Journal, JournalEntry
from client.offline.replay import replay_lock
from client.settings import ClientSettings
from client.shell.main_window import MainWindow
from client.widgets.context import Services, SessionInfo
from common.schemas.sales import SaleIn
from server.db.sales import Sale
from tests.conftest import TEST_PASSWORD, open_shift

from .conftest import device_settings
from .test_offline_counter import COLA, SHAMPOO, FreezeProxy, items, pay_cash, scan

REPO = Path(__file__).resolve().parents[2]
TOTAL = 50
KILL_AFTER = 25
FLOAT = 1000


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


@pytest.fixture
def frozen_proxy(live_server) -> Iterator[FreezeProxy]:
    p = FreezeProxy(live_server.port)
    yield p
    p.close()


@pytest.fixture
def goods(client, manager) -> dict:
    cola = _post(client, manager, "/api/v1/products", {
        "name": "可口可乐 330ml", "price": 350, "barcodes": [COLA], "track_stock": True,
        "opening_stock": 10})
    shampoo = _post(client, manager, "/api/v1/products", {
        "name": "洗发水", "price": 5800, "barcodes": [SHAMPOO]})
    return {"cola": cola, "shampoo": shampoo}


class Driver:
    """The counter driver process; its stdout read line by line in a thread."""

    def __init__(self, url: str, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        self.err = open(log, "ab")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.offline_counter_driver", "--server", url,
             "--password", TEST_PASSWORD, "--codes", f"{COLA},{SHAMPOO}", *args],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next(self, timeout: float = 60) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"driver silent for {timeout}s; saw {self.seen[-5:]}; "
                                 f"stderr: {self.log.read_text(errors='replace')[-3000:]}"
                                 ) from None
        assert line is not None, (self.seen[-5:], self.log.read_text(errors="replace")[-3000:])
        assert not line.startswith("error"), (line, self.log.read_text(errors="replace")[-3000:])
        self.seen.append(line)
        return line

    def expect(self, prefix: str, timeout: float = 60) -> str:
        line = self.next(timeout)
        assert line.startswith(prefix), (prefix, line, self.seen[-5:])
        return line

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self.reader.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.err.close()


def _offline_sales(app) -> list[Sale]:
    factory = app.extensions["lanpos"].session_factory
    with factory() as db:
        return list(db.scalars(select(Sale).where(Sale.origin == "offline")
                               .order_by(Sale.offline_number)).all())


def test_killed_counter_keeps_every_offline_sale_and_each_goes_up_once(
        app, client, cashier, goods, frozen_proxy, tmp_path, assert_invariants) -> None:
    """The issue's first test: the server stops answering mid-shift; the real counter rings
    50 cash sales offline, is killed (-9) after 25, starts again with the server back: what
    the killed run journaled goes up at start; the rest is rung offline again and goes up
    when the server comes back. All 50 on the server exactly once (origin offline), the
    shift's expected cash counts each once, ``verify`` passes."""
    shift = open_shift(client, cashier, float_fen=FLOAT)
    config = tmp_path / "counter-config" / "client.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen",
           "LANPOS_CLIENT_CONFIG": str(config)}
    journal_file = config.parent / "offline" / "journal.sqlite3"
    log = tmp_path / "driver.log"

    # --- run 1: logged in while the server answers, then it freezes; killed after 25 sales
    d1 = Driver(frozen_proxy.url, env, log, "--count", str(TOTAL), "--wait-offline")
    try:
        assert d1.expect("ready").startswith("ready pending=0 ")
        frozen_proxy.frozen.set()
        d1.expect("offline", timeout=30)
        numbers = [d1.expect("journaled ", timeout=30).split()[1] for _ in range(KILL_AFTER)]
        os.kill(d1.proc.pid, signal.SIGKILL)
        assert d1.proc.wait(30) == -signal.SIGKILL
    finally:
        d1.close()
    assert numbers == [f"01-L{i:06d}" for i in range(1, KILL_AFTER + 1)]
    with Journal(journal_file) as j:  # the file survived the kill, every printed sale in it
        pending = j.pending()
        k = len(pending)
        assert KILL_AFTER <= k <= KILL_AFTER + 1  # a 26th may have been committed unprinted
        assert [r.number for r in pending] == [f"01-L{i:06d}" for i in range(1, k + 1)]
        assert j.counts() == {"pending": k, "sent": 0, "refused": 0}
    assert _offline_sales(app) == []  # nothing reached the frozen server

    # --- run 2: the server is back; the counter starts, sends what the killed run left, then
    # the server freezes again and the rest is rung offline, and goes up when it thaws
    frozen_proxy.frozen.clear()
    d2 = Driver(frozen_proxy.url, env, log, "--count", str(TOTAL - k), "--wait-replayed",
                "--wait-offline", "--wait-sent")
    try:
        d2.expect("ready")
        d2.expect("replayed", timeout=90)
        first = _offline_sales(app)
        assert sorted(s.offline_number for s in first) == [r.number for r in pending]
        frozen_proxy.frozen.set()
        d2.expect("offline", timeout=30)
        more = [d2.expect("journaled ", timeout=30).split()[1] for _ in range(TOTAL - k)]
        assert more == [f"01-L{i:06d}" for i in range(k + 1, TOTAL + 1)]
        frozen_proxy.frozen.clear()
        d2.expect("sent", timeout=120)
        d2.expect("done")
        assert d2.proc.wait(60) == 0
    finally:
        d2.close()

    sales = _offline_sales(app)
    assert [s.offline_number for s in sales] == [f"01-L{i:06d}" for i in range(1, TOTAL + 1)]
    assert len({s.uuid for s in sales}) == TOTAL
    with Journal(journal_file) as j:
        assert j.counts() == {"pending": 0, "sent": TOTAL, "refused": 0}
        sent = {str(r.entry.sale_id) for r in j.recent(TOTAL)}
    assert sent == {str(s.uuid) for s in sales}
    assert {s.shift_id for s in sales} == {shift["id"]}
    assert all(s.total in (350, 5800) for s in sales)
    factory = app.extensions["lanpos"].session_factory
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Sale)) == TOTAL  # no other sale
    rep = client.get(f"/api/v1/shifts/{shift['id']}", headers=cashier.headers).get_json()
    cash = sum(s.total for s in sales)
    assert (rep["sales_count"], rep["by_method"], rep["expected_cash"]) == (
        TOTAL, {"cash": cash}, FLOAT + cash)
    assert_invariants()


# --- counters 01 and 02 in this process ------------------------------------------------
@pytest.fixture
def counter_at(qtbot, frozen_proxy, runner, dialogs, make_api, printer, tmp_path):
    """``counter_at(name, username)`` → a MainWindow logged in at counter ``name`` through
    the freezing proxy, with an offline directory of its own."""
    made: list[MainWindow] = []

    def _open(name: str, username: str) -> MainWindow:
        settings = ClientSettings(servers=(frozen_proxy.url,), counter=name)
        api = make_api(settings.servers, counter=name, connect_timeout=1.0, read_timeout=3.0,
                       max_attempts=2, retry_delays=(0.2,))
        services = Services(api=api, runner=runner, dialogs=dialogs, settings=settings)
        res = api.login(username, TEST_PASSWORD)
        services.devices = DeviceService(device_settings(printer), tmp_path / f"spool-{name}")
        win = MainWindow(services, SessionInfo(res.staff, res.counter),
                         offline_dir=tmp_path / f"offline-{name}")
        qtbot.addWidget(win)
        made.append(win)
        win.resize(1024, 768)
        win.show()
        qtbot.wait_exposed(win)
        return win

    yield _open
    for w in made:
        w.counter.shutdown()
        w.offline.stop()


def _ring(qtbot, win: MainWindow, code: str) -> str:
    before = win.counter.last_sale
    scan(qtbot, win, code)
    qtbot.wait_until(lambda: items(win) == 1, timeout=3000)
    dlg = pay_cash(qtbot, win, 10_000)
    assert dlg.offline_sale
    dlg.enter()
    qtbot.wait_until(lambda: win.counter.last_sale is not before, timeout=5000)
    sale = win.counter.last_sale
    assert is_offline_sale(sale)
    return str(sale.id)


def test_two_counters_offline_at_once_a_price_changed_meanwhile(
        qtbot, app, client, manager, cashier, make_staff, goods, frozen_proxy, counter_at,
        assert_invariants) -> None:
    cash2 = make_staff("cashier", "cash2", counter_name="02")
    open_shift(client, cashier)
    open_shift(client, cash2)
    w1, w2 = counter_at("01", "cash"), counter_at("02", "cash2")
    for w in (w1, w2):
        qtbot.wait_until(lambda w=w: w.offline.catalogue is not None
                         and w.offline.catalogue.version > 0, timeout=15_000)
    frozen_proxy.frozen.set()
    for w in (w1, w2):
        qtbot.wait_until(w.offline_banner.isVisible, timeout=15_000)
    old_price = [_ring(qtbot, w1, SHAMPOO), _ring(qtbot, w2, SHAMPOO)]
    colas = [_ring(qtbot, w1, COLA), _ring(qtbot, w2, COLA)]
    # the manager changes the shampoo's price at the server (not through the frozen wire)
    r = client.patch(f"/api/v1/products/{goods['shampoo']['id']}", json={"price": 6200},
                     headers=manager.write_headers())
    assert r.status_code == 200, r.get_json()
    old_price.append(_ring(qtbot, w1, SHAMPOO))  # the counter still has 58.00
    assert (w1.offline.pending, w2.offline.pending) == (3, 2)
    assert [r.number for r in w1.offline.journal.pending()] == [
        "01-L000001", "01-L000002", "01-L000003"]
    assert [r.number for r in w2.offline.journal.pending()] == ["02-L000001", "02-L000002"]

    frozen_proxy.frozen.clear()
    for w in (w1, w2):
        qtbot.wait_until(lambda w=w: not w.offline.active and w.offline.pending == 0,
                         timeout=30_000)
    sales = {str(s.uuid): s for s in _offline_sales(app)}
    assert set(sales) == set(old_price) | set(colas) and len(sales) == 5
    assert sorted((s.counter, s.offline_number) for s in sales.values()) == [
        ("01", "01-L000001"), ("01", "01-L000002"), ("01", "01-L000003"),
        ("02", "02-L000001"), ("02", "02-L000002")]
    assert all(sales[i].total == 5800 for i in old_price)  # the counter's amounts

    diffs = client.get("/api/v1/sales/offline-differences?page_size=100",
                       headers=manager.headers).get_json()["items"]
    changed = [d for d in diffs if d["kind"] == "price_changed"]
    numbers = {str(s.uuid): s.number for s in sales.values()}
    assert sorted(d["sale_number"] for d in changed) == sorted(numbers[i] for i in old_price)
    assert {(d["product_id"], d["counter_amount"], d["server_amount"]) for d in changed} == {
        (goods["shampoo"]["id"], 5800, 6200)}
    assert not [d for d in diffs if d["sale_number"] in {numbers[i] for i in colas}
                and d["kind"] in ("price_changed", "total_differs")]
    assert_invariants()


# --- leaving while sales wait ----------------------------------------------------------
def test_leaving_while_sales_wait_warns_and_keeps_them(
        qtbot, app, client, cashier, goods, frozen_proxy, counter_at, dialogs,
        tmp_path) -> None:
    """Online, but one offline sale still waits (another process of this counter holds the
    replay lock): 交班, 换班, 退出 and the window's close button each warn with the count; No
    keeps the cashier where they were. The next start sends it at once."""
    open_shift(client, cashier)
    journal_file = tmp_path / "offline-01" / "journal.sqlite3"
    journal_file.parent.mkdir()
    sale = SaleIn.model_validate({"id": str(uuid.uuid4()),
                                  "lines": [{"product_id": goods["cola"]["id"], "qty": 2}],
                                  "payments": [{"method": "cash", "amount": 700,
                                                "tendered": 1000}]})
    with Journal(journal_file) as j:
        assert j.record(JournalEntry(sale=sale, counter="01", cashier="cash",
                                     line_amounts=(700,), total=700)) == "01-L000001"
    with replay_lock(journal_file) as held:
        assert held
        win = counter_at("01", "cash")
        qtbot.wait_until(lambda: win.offline.pending == 1 and not win.offline._replaying,
                         timeout=10_000)
        assert not win.offline.active and win.pending_label.text() == tr("offline.pending",
                                                                         n=1)
        dialogs.answer = False
        opened: list = []
        win.counter.dialog_opened.connect(opened.append)
        win.counter.shift_close()
        assert dialogs.confirms[-1] == tr("offline.warn_shift_close", n=1)
        assert not any(isinstance(d, ShiftCloseDialog) for d in opened)
        switched: list = []
        win.switch_staff_requested.connect(lambda: switched.append(True))
        win.acts["switch_staff"].trigger()
        assert dialogs.confirms[-1] == tr("offline.warn_logout", n=1) and not switched
        quits: list = []
        win.quit_requested.connect(lambda: quits.append(True))
        win.acts["quit"].trigger()
        assert dialogs.confirms[-1] == tr("offline.warn_logout", n=1)
        assert win.isVisible() and not quits
        asked = len(dialogs.confirms)
        assert not win.close()  # the window's close button: asked, kept open
        assert len(dialogs.confirms) == asked + 1 and win.isVisible() and not quits
        dialogs.answer = True  # yes: it closes (once asked), the sale stays in the journal
        win.acts["quit"].trigger()
        assert len(dialogs.confirms) == asked + 2
        assert not win.isVisible() and quits == [True]
    with Journal(journal_file) as j:
        assert j.counts() == {"pending": 1, "sent": 0, "refused": 0}

    # the next start (the lock is free): sent at once, not at the first timer tick
    again = counter_at("01", "cash")
    assert again.offline._replaying
    qtbot.wait_until(lambda: again.offline.pending == 0, timeout=4000)
    rows = _offline_sales(app)
    assert [(str(r.uuid), r.offline_number, r.total) for r in rows] == [
        (str(sale.id), "01-L000001", 700)]
