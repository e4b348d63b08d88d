"""The checkout screen: barcode entry, cart + live totals from common.pricing, function keys,
wedge scanner signal, screenshots at 1024×768 and 1920×1080."""

from __future__ import annotations

import pytest

from client.counter.checkout import LATER_FEATURES, BarcodeEntry, CheckoutScreen
from client.qt import Qt, QtCore, Signal
from client.shell.main_window import MainWindow
from client.widgets.context import SessionInfo
from tests.conftest import TEST_PASSWORD

from .conftest import ensure_shift, save_shot


class FakeWedge(QtCore.QObject):
    """Stands in for client.devices.wedge.WedgeScanFilter (same ``scanned`` signal)."""

    scanned = Signal(str)


@pytest.fixture
def products(client, owner) -> dict[str, int]:
    """Products created through the real API (test client)."""
    made = {}
    for name, price, member_price, code in (("农夫山泉 550ml", 200, None, "6921168509256"),
                                           ("洗剪吹（资深发型师）", 8800, 6800, "S0001"),
                                           ("现磨咖啡", 1550, None, "6900000000017")):
        r = client.post("/api/v1/products", headers=owner.write_headers(),
                        json={"name": name, "price": price, "member_price": member_price,
                              "barcodes": [code]})
        assert r.status_code == 201, r.get_json()
        made[code] = r.get_json()["id"]
    return made


@pytest.fixture
def counter(qtbot, services, cashier):
    res = services.api.login("cash", TEST_PASSWORD)
    ensure_shift(services.api)  # counter 01's shift is open (no shift dialog at login)
    wedge = FakeWedge()
    win = MainWindow(services, SessionInfo(res.staff, res.counter), scan_source=wedge)
    win.wedge = wedge
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.wait_exposed(win)
    return win


def scan(qtbot, screen, code: str, via=None) -> None:
    model = screen.cart_model
    with qtbot.wait_signal(model.totals_changed, timeout=10_000):
        if via is None:
            qtbot.keyClicks(screen.entry, code)
            qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
        else:
            via.scanned.emit(code)


def test_barcode_entry_emits_scanned(qtbot) -> None:
    entry = BarcodeEntry()
    qtbot.addWidget(entry)
    with qtbot.wait_signal(entry.scanned, timeout=1000) as blocker:
        qtbot.keyClicks(entry, "6921168509256")
        qtbot.keyClick(entry, Qt.Key.Key_Return)
    assert blocker.args == ["6921168509256"] and entry.text() == ""
    with qtbot.assert_not_emitted(entry.scanned):
        qtbot.keyClick(entry, Qt.Key.Key_Return)  # nothing typed: nothing scanned


def test_scan_adds_to_the_cart_and_totals_follow(qtbot, counter, products, screenshots) -> None:
    screen = counter.checkout
    scan(qtbot, screen, "6921168509256")
    scan(qtbot, screen, "S0001")
    scan(qtbot, screen, "6921168509256")  # same product again: quantity 2
    model = screen.cart_model
    assert model.rowCount() == 2
    assert model.data(model.index(0, 0)) == "农夫山泉 550ml"
    assert model.data(model.index(0, 1)) == "2 件"
    assert model.data(model.index(0, 4)) == "4.00"
    assert screen.totals.total.text() == "¥92.00"
    assert screen.totals.items.text() == "3"
    # + / - / Del on the empty entry change the selected line
    screen.table.selectRow(0)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Plus)
    assert screen.totals.total.text() == "¥94.00"
    qtbot.keyClick(screen.entry, Qt.Key.Key_Minus)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Minus)
    assert model.data(model.index(0, 1)) == "1 件" and screen.totals.total.text() == "¥90.00"
    scan(qtbot, screen, "6900000000017", via=counter.wedge)  # the wedge scanner's signal
    assert model.rowCount() == 3 and screen.totals.total.text() == "¥105.50"
    save_shot(counter, screenshots / "checkout_1024x768.png")
    counter.resize(1920, 1080)
    qtbot.wait(50)
    save_shot(counter, screenshots / "checkout_1920x1080.png")
    screen.table.selectRow(2)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Delete)
    assert model.rowCount() == 2 and screen.totals.total.text() == "¥90.00"


def test_unknown_barcode_shows_the_server_message_inline(qtbot, counter, products) -> None:
    screen = counter.checkout
    qtbot.keyClicks(screen.entry, "0000000")
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    # neither a barcode nor a search hit: "没有找到商品" (issue 14: not "找不到条码")
    qtbot.wait_until(lambda: "没有找到商品" in screen.status.text(), timeout=10_000)
    assert "0000000" in screen.status.text()
    assert screen.cart_model.rowCount() == 0 and screen.totals.total.text() == "¥0.00"


def test_function_keys_are_wired_and_documented(qtbot, counter, services) -> None:
    screen = counter.checkout
    for name, key in screen.KEYS:
        act = screen.actions[name]
        assert act.shortcut().toString() == key
        button = screen.findChild(QtCore.QObject, f"key_{name}")
        assert button is not None and key in button.text()
    # the main window's counter flows made every key available
    for name in LATER_FEATURES:
        act = screen.actions[name]
        assert act.isEnabled() and "后续版本" not in act.toolTip()
    # a bare checkout screen (no flows plugged in) greys them
    bare = CheckoutScreen(services)
    qtbot.addWidget(bare)
    assert all(not bare.actions[n].isEnabled() and "后续版本" in bare.actions[n].toolTip()
               for n in LATER_FEATURES)
    hits = []
    screen.pay_requested.connect(lambda: hits.append("pay"))
    screen.entry.setFocus()
    qtbot.keyClick(screen.entry, Qt.Key.Key_F9)
    assert hits == ["pay"]
    assert screen.status.text() == "购物车是空的"  # F9 on an empty cart: nothing to pay
    # Esc: back (clears the entry)
    qtbot.keyClicks(screen.entry, "123")
    with qtbot.wait_signal(screen.back_requested, timeout=1000):
        qtbot.keyClick(screen.entry, Qt.Key.Key_Escape)
    assert screen.entry.text() == ""
