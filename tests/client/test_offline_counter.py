"""The counter when no server answers (issue 15): the real Qt client offscreen against the real
server (live waitress + MariaDB) behind a proxy that can be *frozen* — it keeps accepting
connections but answers nothing, like a server process stopped with SIGSTOP (the live server
of the tests is a thread, so it is frozen at the wire) — and thawed again.

Checked where it ends up: the banner and the pending count on screen, the cart, the journal
file, the printer's bytes and the server's database."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from client.api import ApiClient
from client.counter.offline_mode import is_offline_sale, local_sale
from client.counter.payment import PaymentDialog
from client.counter.receipts import sale_document
from client.devices.facade import DeviceService
from client.i18n import tr
from client.offline.journal import Journal
from client.qt import Qt, QtWidgets
from client.settings import ClientSettings
from client.shell.main_window import MainWindow
from client.widgets.context import Services, SessionInfo
from common.schemas.shop import ShopSettingsOut
from server.db.sales import Sale
from tests.conftest import TEST_PASSWORD, open_shift
from tests.support.escpos_decoder import decode

from .conftest import device_settings, save_shot

COLA, SHAMPOO, UNKNOWN = "6901234567892", "6900000000017", "6999999999994"


class FreezeProxy:
    """A TCP pass-through to the live server that can be frozen: while ``frozen`` it accepts
    connections and reads nothing, forwards nothing, answers nothing (a stopped process: the
    kernel still accepts); thawed, whatever waited goes on (SIGCONT)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.frozen = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self._closed = False
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _wait_thawed(self) -> bool:
        while self.frozen.is_set():
            if self._closed:
                return False
            time.sleep(0.02)
        return not self._closed

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while self._wait_thawed():
                src.settimeout(0.1)
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    return
                if not self._wait_thawed():
                    return
                dst.sendall(data)
        except OSError:
            return
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _serve(self, conn: socket.socket) -> None:
        if not self._wait_thawed():
            conn.close()
            return
        try:
            up = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            conn.close()
            return
        with self._lock:
            self._open.update((conn, up))
        t = threading.Thread(target=self._pump, args=(up, conn), daemon=True)
        t.start()
        self._pump(conn, up)
        t.join(5)
        conn.close()
        up.close()

    def close(self) -> None:
        self._closed = True
        self.frozen.clear()
        self.sock.close()
        with self._lock:
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.close()


@pytest.fixture
def freeze(live_server) -> Iterator[FreezeProxy]:
    p = FreezeProxy(live_server.port)
    yield p
    p.close()


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


@pytest.fixture
def shop(client, owner, manager, cashier) -> dict:
    cola = _post(client, manager, "/api/v1/products", {
        "name": "可口可乐 330ml", "price": 350, "barcodes": [COLA], "track_stock": True,
        "opening_stock": 1})
    shampoo = _post(client, manager, "/api/v1/products", {
        "name": "洗发水", "price": 5800, "barcodes": [SHAMPOO]})
    member = _post(client, cashier, "/api/v1/members", {"name": "张三",
                                                        "phone": "13800001234"})
    open_shift(client, cashier)
    _post(client, cashier, f"/api/v1/members/{member['id']}/recharges",
          {"amount": 50000, "method": "cash"})
    return {"cola": cola, "shampoo": shampoo, "member": member}


@pytest.fixture
def offline_counter(qtbot, freeze, runner, dialogs, make_api, printer, tmp_path, wedge):
    """``open()`` → (window, api): counter 01 logged in as the cashier through the freezable
    proxy, with a printer and an offline directory of its own; short time-outs (a cashier's:
    an unanswered request gives up after a few seconds)."""
    made: list[MainWindow] = []

    def _open(offline_dir: Path | None = None, attempts: int = 2) -> MainWindow:
        settings = ClientSettings(servers=(freeze.url,), counter="01")
        api: ApiClient = make_api(settings.servers, counter="01", connect_timeout=1.0,
                                  read_timeout=3.0, max_attempts=attempts,
                                  retry_delays=(0.2,))
        services = Services(api=api, runner=runner, dialogs=dialogs, settings=settings)
        res = api.login("cash", TEST_PASSWORD)
        services.devices = DeviceService(device_settings(printer), tmp_path / "spool")
        win = MainWindow(services, SessionInfo(res.staff, res.counter), scan_source=wedge,
                         offline_dir=offline_dir or tmp_path / "offline")
        qtbot.addWidget(win)
        made.append(win)
        win.resize(1024, 768)
        win.show()
        qtbot.wait_exposed(win)
        win.activateWindow()
        win.checkout.entry.setFocus()
        return win

    yield _open
    for w in made:
        w.counter.shutdown()
        w.offline.stop()


def scan(qtbot, win: MainWindow, code: str) -> None:
    entry = win.checkout.entry
    entry.setFocus()
    qtbot.keyClicks(entry, code)
    qtbot.keyClick(entry, Qt.Key.Key_Return)


def items(win: MainWindow) -> int:
    return win.checkout.cart_model.cart.item_count


def open_payment(qtbot, win: MainWindow) -> PaymentDialog:
    opened: list = []
    win.counter.dialog_opened.connect(opened.append)
    win.counter.pay()
    qtbot.wait_until(lambda: any(isinstance(d, PaymentDialog) for d in opened), timeout=5000)
    return next(d for d in opened if isinstance(d, PaymentDialog))


def pay_cash(qtbot, win: MainWindow, tendered_fen: int) -> PaymentDialog:
    dlg = open_payment(qtbot, win)
    qtbot.wait_until(lambda: dlg.quote_ready, timeout=5000)
    dlg.tendered.set_fen(tendered_fen)
    qtbot.wait_until(lambda: dlg.confirm.isEnabled(), timeout=5000)
    return dlg


def receipts(printer, n: int) -> list[str]:
    """The text of the first ``n`` receipts printed (a cash sale's drawer kick is a job of
    its own, without text)."""
    deadline = time.monotonic() + 10
    while True:
        texts = [d.text for d in (decode(j, "gbk") for j in printer.jobs) if d.lines]
        if len(texts) >= n or time.monotonic() > deadline:
            assert len(texts) >= n, texts
            return texts[:n]
        QtWidgets.QApplication.processEvents()
        time.sleep(0.05)


def test_offline_receipt_says_offline_and_carries_the_local_number() -> None:
    """Pure: the receipt of a journaled sale (the local SaleOut) is marked 离线单, top and
    bottom, with the local number; the same sale online has no mark."""
    from client.counter.cart import Cart
    from common.schemas.catalog import ProductOut
    from common.schemas.staff import StaffOut

    product = ProductOut(id=1, kind="product", sku=None, name="可口可乐", pinyin="kkkl",
                         unit="瓶", category_id=None, price=350, member_price=None, cost=None,
                         open_price=False, discountable=True, track_stock=False, stock=0,
                         low_stock=None, commission_kind="none", commission_value=0,
                         barcodes=[COLA], active=True, updated_at="2026-01-01T00:00:00+00:00")
    cart = Cart()
    cart.add_product(product, COLA, 2)
    quote = cart.quote()
    staff = StaffOut.model_validate({"id": 1, "username": "cash", "display_name": "小王",
                                     "role": "cashier", "active": True,
                                     "created_at": dt.datetime.now(dt.UTC)})
    sale = local_sale(sale_id=str(uuid.uuid4()), number="01-L000007",
                      recorded_at=dt.datetime.now(dt.UTC),
                      cart=cart, quote=quote,
                      payments=[{"method": "cash", "amount": 700, "tendered": 1000}],
                      change=300, session=SessionInfo(staff, "01"))
    assert is_offline_sale(sale) and sale.total == 700 and sale.change == 300
    text = "\n".join(sale_document(sale, ShopSettingsOut(name="悦享"), 32).text_lines())
    assert text.count("离线单") >= 2
    assert "01-L000007" in text
    online = sale.model_copy(update={"status": "completed", "number": "S0001"})
    assert "离线单" not in "\n".join(
        sale_document(online, ShopSettingsOut(name="悦享"), 32).text_lines())


def test_server_frozen_mid_shift_the_counter_keeps_selling_and_replays_once(
        qtbot, app, shop, freeze, offline_counter, printer, dialogs, tmp_path,
        screenshots) -> None:
    win = offline_counter()
    off, screen = win.offline, win.checkout
    qtbot.wait_until(lambda: off.catalogue is not None and off.catalogue.version > 0,
                     timeout=15_000)  # the local catalogue, filled at login
    assert not win.offline_banner.isVisible() and not win.pending_label.isVisible()
    member = win.services.api.get_member(shop["member"]["id"])
    win.counter.member_panel.attach(member)  # attached while online: earns points on replay
    win.counter.member_panel.member_changed.emit(member)
    scan(qtbot, win, COLA)
    qtbot.wait_until(lambda: items(win) == 1, timeout=2000)

    # --- the server freezes mid-shift (accepts, answers nothing)
    freeze.frozen.set()
    t0 = time.monotonic()
    scan(qtbot, win, SHAMPOO)  # resolved locally: on the cart at once, no waiting
    qtbot.wait_until(lambda: items(win) == 2, timeout=1000)
    qtbot.wait_until(win.offline_banner.isVisible, timeout=12_000)
    assert time.monotonic() - t0 < 12
    assert win.offline_banner.text() == tr("offline.banner")
    # an unknown code is refused at once, loudly — never left at "正在查找…"
    scan(qtbot, win, UNKNOWN)
    assert items(win) == 2
    assert UNKNOWN in screen.status.text() and screen.status.property("error") is True
    # what needs the server's balances: refused with the reason
    win.counter.recharge()
    assert screen.status.text() == tr("offline.refused.recharge")
    win.counter.refund()
    assert screen.status.text() == tr("offline.refused.refund")

    # --- sale 1: stored value refused, then cash (with change)
    dlg = open_payment(qtbot, win)
    qtbot.wait_until(lambda: dlg.quote_ready, timeout=3000)
    assert dlg.offline_sale and dlg.total == 350 + 5800
    assert not dlg.sv_amount.isEnabled() and not dlg.points.isEnabled()
    assert not dlg.findChild(QtWidgets.QPushButton, "payAllStoredValue").isEnabled()
    dlg.sv_amount.set_fen(1000)
    assert dlg.error.text() == tr("offline.refused.stored_value")
    assert not dlg.confirm.isEnabled()
    dlg.sv_amount.clear()
    dlg.tendered.set_fen(10_000)
    qtbot.wait_until(dlg.confirm.isEnabled, timeout=2000)
    save_shot(dlg, screenshots / "offline_payment.png")
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: win.counter.last_sale is not None, timeout=3000)
    sale1 = win.counter.last_sale
    assert is_offline_sale(sale1) and sale1.number == "01-L000001"
    assert sale1.change == 10_000 - 6150 and sale1.member is not None
    receipt = receipts(printer, 1)[0]
    assert "离线单" in receipt and "01-L000001" in receipt and "找零" in receipt
    qtbot.wait_until(win.pending_label.isVisible, timeout=2000)
    assert win.pending_label.text() == tr("offline.pending", n=1)

    # --- sale 2: bank card with its reference
    scan(qtbot, win, COLA)
    qtbot.wait_until(lambda: items(win) == 1, timeout=1000)
    dlg = open_payment(qtbot, win)
    qtbot.wait_until(lambda: dlg.quote_ready, timeout=3000)
    dlg.amounts["card"].set_fen(dlg.total)
    dlg.refs["card"].setText("POS-778")
    qtbot.wait_until(dlg.confirm.isEnabled, timeout=2000)
    dlg.submit()
    qtbot.wait_until(lambda: win.counter.last_sale.number == "01-L000002", timeout=3000)
    assert win.pending_label.text() == tr("offline.pending", n=2)
    second = receipts(printer, 2)[1]
    assert "01-L000002" in second and "离线单" in second
    with Journal(tmp_path / "offline" / "journal.sqlite3") as j:  # durable, on disk
        assert [r.number for r in j.pending()] == ["01-L000001", "01-L000002"]
    win.resize(1024, 768)
    save_shot(win, screenshots / "offline_counter_1024.png")
    # switching staff warns while any wait
    dialogs.answer = False
    win.acts["switch_staff"].trigger()
    assert dialogs.confirms[-1] == tr("offline.warn_logout", n=2)

    # --- the server comes back: the banner goes, the journal goes up, once each
    freeze.frozen.clear()
    qtbot.wait_until(lambda: not win.offline_banner.isVisible(), timeout=15_000)
    qtbot.wait_until(lambda: off.pending == 0, timeout=30_000)
    qtbot.wait_until(lambda: not win.pending_label.isVisible(), timeout=2000)
    ids = {str(sale1.id), str(win.counter.last_sale.id)}
    factory = app.extensions["lanpos"].session_factory
    with factory() as db:
        rows = db.scalars(select(Sale).where(Sale.uuid.in_(ids))).all()
        assert len(rows) == 2
        assert {r.origin for r in rows} == {"offline"}
        assert sorted(r.offline_number for r in rows) == ["01-L000001", "01-L000002"]
        assert sorted(r.total for r in rows) == [350, 6150]
        assert {r.member_id for r in rows} == {shop["member"]["id"], None}
    with Journal(tmp_path / "offline" / "journal.sqlite3") as j:
        assert j.counts() == {"pending": 0, "sent": 2, "refused": 0}
    assert dialogs.errors == []


def test_submit_not_answered_cannot_be_dismissed_and_is_journaled_with_its_key(
        qtbot, app, shop, freeze, offline_counter, printer, tmp_path) -> None:
    """Online, the server freezes after the quote: "正在提交…" stays (Esc and close are
    ignored), the unanswered sale is resent with the same key, then journaled under the same
    id; when the server is back it is on the server exactly once (the held request reaches
    the server when it thaws, and so does the replay with the same key: one sale). One try
    per request here: the submit's own read time-out (``SUBMIT_TIMEOUT``) is what waits."""
    win = offline_counter(attempts=1)
    off = win.offline
    qtbot.wait_until(lambda: off.catalogue is not None and off.catalogue.version > 0,
                     timeout=15_000)
    scan(qtbot, win, SHAMPOO)
    qtbot.wait_until(lambda: items(win) == 1, timeout=2000)
    dlg = pay_cash(qtbot, win, 6000)
    assert dlg.server_quote is not None and not dlg.offline_sale  # the server's quote
    sale_id = dlg.sale_id
    freeze.frozen.set()
    dlg.submit()
    assert dlg.busy and dlg.error.text() == tr("pay.submitting")
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    dlg.reject()
    dlg.close()
    QtWidgets.QApplication.processEvents()
    assert dlg.isVisible() and dlg.busy  # cannot be dismissed into a second sale
    qtbot.wait_until(lambda: win.counter.last_sale is not None, timeout=40_000)
    sale = win.counter.last_sale
    assert is_offline_sale(sale) and str(sale.id) == sale_id
    assert not dlg.isVisible()
    assert "离线单" in receipts(printer, 1)[0]
    assert win.offline_banner.isVisible()
    freeze.frozen.clear()
    qtbot.wait_until(lambda: off.pending == 0 and not off.active, timeout=30_000)
    factory = app.extensions["lanpos"].session_factory
    with factory() as db:
        rows = db.scalars(select(Sale).where(Sale.uuid == sale_id)).all()
        assert len(rows) == 1 and rows[0].total == 5800


def test_a_cart_repriced_while_its_quote_is_out_is_quoted_again(
        qtbot, shop, freeze, offline_counter) -> None:
    """The cart changes while the payment dialog waits for the server's quote (the local
    catalogue's promotions arrive, say): the late answer for the old cart is not shown, and
    the dialog asks again for the cart as it is now instead of waiting for ever. A catalogue
    refresh that brings nothing new does not reprice the cart; one that does, re-quotes the
    bill on screen."""
    win = offline_counter()
    off = win.offline
    qtbot.wait_until(lambda: off.catalogue is not None and off.catalogue.version > 0,
                     timeout=15_000)
    scan(qtbot, win, SHAMPOO)
    qtbot.wait_until(lambda: items(win) == 1, timeout=2000)
    model = win.checkout.cart_model
    freeze.frozen.set()  # the quote's request is held at the wire
    dlg = open_payment(qtbot, win)
    assert not dlg.quote_ready
    model.changed()  # repriced meanwhile: the held answer will be for an older cart
    freeze.frozen.clear()
    qtbot.wait_until(lambda: dlg.server_quote is not None, timeout=10_000)
    assert model.server_quoted and dlg.total == 5800 and not dlg.offline_sale

    updates: list[int] = []
    off.catalogue_updated.connect(updates.append)
    version = model.version
    off.refresh_catalogue()
    qtbot.wait_until(lambda: not off._refreshing, timeout=10_000)
    assert updates == [] and model.version == version  # nothing new: nothing repriced

    first = dlg.server_quote
    win.counter._load_promotions()  # new promotions: the open bill is priced with them
    qtbot.wait_until(lambda: dlg.server_quote is not None and dlg.server_quote is not first,
                     timeout=10_000)
    assert model.server_quoted and dlg.quote_ready and dlg.total == 5800
