"""The customer display window (issue 14 §7): it follows the cart (lines, total), shows paid and
change after a sale, and the shop's picture (or payment QR) when idle; placed by the device
settings (off / the second screen / screen n)."""

from __future__ import annotations

import pytest

from client.counter.customer_display import AUTO, OFF, CustomerDisplay, choose_screen
from client.counter.device_settings import DeviceSettingsDialog
from client.devices.facade import DeviceSettings
from client.qt import Qt, QtGui, QtWidgets

from .conftest import save_shot
from .test_counter_flows import COLA, _post, dialog_of, wedge_scan

SHAMPOO = "6900000000017"




@pytest.fixture
def picture(tmp_path) -> str:
    """A payment QR-like image (black and white squares) as a PNG file."""
    img = QtGui.QImage(300, 300, QtGui.QImage.Format.Format_RGB32)
    img.fill(QtGui.QColor("white"))
    p = QtGui.QPainter(img)
    for i in range(0, 300, 60):
        for j in range(0, 300, 60):
            if (i + j) // 60 % 2 == 0:
                p.fillRect(i, j, 60, 60, QtGui.QColor("black"))
    p.end()
    path = tmp_path / "pay_qr.png"
    assert img.save(str(path))
    return str(path)


@pytest.fixture
def goods(client, manager, owner) -> None:
    _post(client, manager, "/api/v1/products", {
        "name": "可口可乐 330ml", "price": 350, "barcodes": [COLA]})
    _post(client, manager, "/api/v1/products", {
        "name": "洗发水", "price": 5800, "barcodes": [SHAMPOO]})
    r = client.put("/api/v1/settings/shop", headers=owner.write_headers(),
                   json={"name": "悦享生活馆"})
    assert r.status_code == 200, r.get_json()


def test_choose_screen(qapp) -> None:
    screens = QtGui.QGuiApplication.screens()
    primary = QtGui.QGuiApplication.primaryScreen()
    assert len(screens) == 1  # offscreen: one screen
    assert choose_screen(OFF, screens, primary) is None
    assert choose_screen(AUTO, screens, primary) is None  # never over the cashier's screen
    assert choose_screen("1", screens, primary) is screens[0]
    assert choose_screen("2", screens, primary) is None  # unplugged
    assert choose_screen(AUTO, [primary, "second"], primary) == "second"  # type: ignore[list-item]


def test_idle_shows_the_picture(qtbot, picture, screenshots) -> None:
    d = CustomerDisplay(picture, "悦享生活馆")
    qtbot.addWidget(d)
    d.resize(1024, 600)
    d.show()
    qtbot.wait_exposed(d)
    assert bool(d.windowFlags() & Qt.WindowType.FramelessWindowHint)
    assert d.showing == "idle" and d.has_picture
    assert d.picture.isVisible() and not d.picture.pixmap().isNull()
    assert "悦享生活馆" in d.welcome.text() and "欢迎光临" in d.welcome.text()
    save_shot(d, screenshots / "customer_display_idle.png")
    assert not d.set_image(str(picture) + ".missing")  # a bad path: just the welcome
    assert not d.picture.isVisible() and d.welcome.isVisible()


def test_customer_display_follows_the_cart_and_shows_the_change(
        qtbot, shift_open, open_counter, goods, picture, screenshots) -> None:
    from client.counter.payment import PaymentDialog

    win = open_counter(customer_screen="1", customer_image=picture)
    d = win.counter.customer_display
    assert d is not None and d.isVisible()
    assert d.screen() is QtGui.QGuiApplication.screens()[0]
    assert d.showing == "idle" and d.has_picture
    screen = win.checkout
    wedge_scan(qtbot, screen, COLA)
    wedge_scan(qtbot, screen, COLA)
    wedge_scan(qtbot, screen, SHAMPOO)
    assert d.showing == "cart"
    assert d.lines.rowCount() == 2
    assert d.lines.item(0, 0).text() == "可口可乐 330ml"
    assert d.lines.item(0, 1).text().startswith("2")
    assert d.lines.item(1, 2).text() == "¥58.00"
    assert d.total.text() == screen.totals.total.text() == "¥65.00"
    assert "3" in d.items.text()
    d.resize(1024, 600)
    save_shot(d, screenshots / "customer_display_cart.png")

    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(dlg.confirm.isEnabled, timeout=10_000)
    dlg.tendered.setFocus()
    qtbot.keyClicks(dlg.tendered, "100")
    with qtbot.wait_signal(win.counter.sale_completed, timeout=20_000):
        qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)
    assert d.showing == "paid"
    assert (d.total.text(), d.paid.text(), d.change.text()) == ("¥65.00", "¥100.00", "¥35.00")
    assert d.thanks.isVisible()
    save_shot(d, screenshots / "customer_display_paid.png")
    wedge_scan(qtbot, screen, COLA)  # the next customer
    assert d.showing == "cart" and d.lines.rowCount() == 1 and not d.change.isVisible()
    screen.cart_model.clear()
    assert d.showing == "idle"


def test_device_settings_place_the_customer_display(qtbot, services, picture) -> None:
    dlg = DeviceSettingsDialog(services, DeviceSettings(customer_screen=OFF))
    qtbot.addWidget(dlg)
    combo = dlg.customer_screen
    assert combo.currentData() == OFF
    assert [combo.itemData(i) for i in range(combo.count())][:3] == [OFF, AUTO, "1"]
    combo.setCurrentIndex(combo.findData("1"))
    dlg.customer_image.setText(picture)
    with qtbot.wait_signal(dlg.saved, timeout=2000) as saved:
        dlg.save()
    ds = saved.args[0]
    assert (ds.customer_screen, ds.customer_image) == ("1", picture)
    again = DeviceSettings.from_dict(ds.to_dict())  # kept in the settings file
    assert (again.customer_screen, again.customer_image) == ("1", picture)
    assert DeviceSettings().customer_screen == AUTO  # the second screen when there is one
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[0] == "关闭" and "第二块屏幕" in texts[1]
    assert isinstance(dlg.findChild(QtWidgets.QPushButton, "devCustomerImageBrowse"),
                      QtWidgets.QPushButton)
