"""Small counter fixes of issue 14, each with the test that would have caught it: Enter in the
print jobs never deletes, 失败 n follows a retry, "请先选择会员" goes once a member is picked,
scan errors are a banner, held orders show amount and items, a language switch keeps the cart,
Qt's standard buttons speak Chinese."""

from __future__ import annotations

import re

import pytest

from client import i18n
from client.app import install_qt_translation
from client.counter.cart import CartLine
from client.counter.controller import DiscountDialog
from client.counter.device_settings import DeviceSettingsDialog, PrintJobsDialog
from client.counter.held import HeldOrdersDialog
from client.counter.member_panel import NewMemberDialog
from client.counter.shift import ShiftOpenDialog
from client.devices.document import Document
from client.devices.facade import DeviceSettings
from client.qt import Qt, QtCore, QtWidgets

from .conftest import save_shot
from .test_counter_flows import COLA, _post, dialog_of, wedge_scan
from .test_login import log_in, make_controller

SHAMPOO = "6900000000017"
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")




@pytest.fixture
def goods(client, manager, cashier) -> dict:
    _post(client, manager, "/api/v1/products", {
        "name": "可口可乐 330ml", "price": 350, "barcodes": [COLA]})
    _post(client, manager, "/api/v1/products", {
        "name": "洗发水", "price": 5800, "barcodes": [SHAMPOO]})
    return _post(client, cashier, "/api/v1/members", {"name": "张三", "phone": "13800001234"})


@pytest.fixture
def qt_chinese(qapp):
    assert install_qt_translation(i18n.ZH)
    yield
    install_qt_translation(i18n.ZH)


def _doc() -> Document:
    doc = Document(32)
    doc.text("测试小票")
    return doc


def test_print_jobs_enter_retries_never_deletes_and_the_count_follows(
        qtbot, shift_open, open_counter, goods, printer, dialogs) -> None:
    win = open_counter()
    printer.stop()  # switched off: the job fails and is kept
    win.counter.print_doc(lambda _w: _doc(), "小票 测试")
    qtbot.wait_until(lambda: "失败 1" in win.counter.jobs_button.text(), timeout=10_000)
    jobs = dialog_of(qtbot, win, win.counter.jobs_button.click, PrintJobsDialog)
    qtbot.wait_until(lambda: jobs.table.rowCount() == 1, timeout=5000)
    assert jobs.retry_button.isDefault() and not jobs.discard_button.isDefault()
    assert not jobs.discard_button.autoDefault()
    jobs.discard_button.setFocus()  # even with the focus on 删除
    qtbot.keyClick(jobs.table, Qt.Key.Key_Return)  # Enter = 重试 (the printer is still off)
    qtbot.wait_until(lambda: jobs.retry_button.isEnabled() and jobs.error.text() != "",
                     timeout=10_000)
    assert dialogs.confirms == [] and jobs.table.rowCount() == 1  # nothing was deleted
    printer.start()
    qtbot.mouseClick(jobs.retry_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: jobs.table.rowCount() == 0, timeout=10_000)
    # the status bar follows at once, with the dialog still open
    qtbot.wait_until(lambda: "失败 0" in win.counter.jobs_button.text(), timeout=5000)
    assert jobs.isVisible()
    jobs.accept()


def test_need_member_message_goes_once_a_member_is_picked(qtbot, shift_open, open_counter,
                                                          goods) -> None:
    win = open_counter()
    screen, panel = win.checkout, win.counter.member_panel
    qtbot.keyClick(screen.entry, Qt.Key.Key_F8)  # 充值 needs a member
    assert screen.status.text() == "请先选择会员（F2）"
    with qtbot.wait_signal(panel.extras_loaded, timeout=10_000):
        qtbot.keyClicks(panel.search, "1234")
        qtbot.keyClick(panel.search, Qt.Key.Key_Return)
    assert panel.member is not None
    assert "请先选择会员" not in screen.status.text()


def test_scan_error_is_a_banner_until_the_next_action(qtbot, shift_open, open_counter, goods,
                                                      screenshots) -> None:
    win = open_counter()
    screen = win.checkout
    screen.handle_scan("0000000000")
    qtbot.wait_until(lambda: screen.status.property("error") is True, timeout=10_000)
    text = screen.status.text()
    assert "0000000000" in text or "找不到" in text
    assert screen.status.font().pointSize() >= 14 and screen.status.font().bold()
    assert "background" in screen.status.styleSheet()
    qtbot.wait_until(lambda: screen.status.height() >= 36, timeout=2000)  # laid out
    qtbot.wait(1500)
    assert screen.status.text() == text  # it stays …
    save_shot(win, screenshots / "scan_error_banner_1024x768.png")
    wedge_scan(qtbot, screen, COLA)  # … until the next action
    assert screen.status.property("error") is False


def test_held_orders_show_amount_and_items(qtbot, shift_open, open_counter, goods,
                                           dialogs) -> None:
    win = open_counter()
    screen = win.checkout
    wedge_scan(qtbot, screen, COLA)
    wedge_scan(qtbot, screen, COLA)
    wedge_scan(qtbot, screen, SHAMPOO)
    with qtbot.wait_signal(win.counter.held, timeout=10_000):
        qtbot.keyClick(screen.entry, Qt.Key.Key_F4)
    assert dialogs.errors == []
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F5),
                    HeldOrdersDialog)
    qtbot.wait_until(lambda: dlg.table.rowCount() == 1, timeout=10_000)
    headers = [dlg.table.horizontalHeaderItem(c).text() for c in range(dlg.table.columnCount())]
    assert headers[4:] == ["件数", "金额"]
    assert dlg.table.item(0, 4).text() == "3"
    assert dlg.table.item(0, 5).text() == "¥65.00"
    dlg.reject()


def test_language_switch_keeps_the_cart(qtbot, live_server, manager, goods, dialogs, runner,
                                        make_api) -> None:
    c = make_controller(qtbot, live_server, dialogs, runner, make_api)
    c.start()
    qtbot.addWidget(c.login_window)
    win = log_in(qtbot, c, "mgr")
    qtbot.addWidget(win)
    screen = win.checkout
    for n, code in enumerate((COLA, SHAMPOO), 1):
        screen.handle_scan(code)
        qtbot.wait_until(lambda n=n: screen.cart_model.rowCount() == n, timeout=10_000)
    panel = win.counter.member_panel
    with qtbot.wait_signal(panel.extras_loaded, timeout=10_000):
        panel.search.setText("1234")
        panel.do_search()
    dlg = c.open_settings()
    dlg.language.setCurrentIndex(dlg.language.findData(i18n.EN))
    with qtbot.wait_signal(c.main_window_shown, timeout=10_000) as shown:
        dlg.buttons.accepted.emit()
    new = shown.args[0]
    qtbot.addWidget(new)
    assert new is not win and i18n.language() == i18n.EN
    assert [ln.name for ln in new.checkout.cart_model.cart.lines] == ["可口可乐 330ml", "洗发水"]
    assert new.counter.member_panel.member is not None
    assert new.counter.member_panel.member.name == "张三"
    assert new.checkout.totals.total.text() == "¥61.50"
    keys = [b.text() for b in new.checkout.findChildren(QtWidgets.QToolButton)
            if b.objectName() == "key_pay"]
    assert keys == ["F9 Pay"]
    assert dialogs.confirms == []  # nothing to ask: nothing was thrown away


def test_standard_buttons_speak_chinese(qtbot, services, qt_chinese, screenshots) -> None:
    assert QtCore.QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    line = CartLine(line_id="l1", product_id=1, name="可乐", unit="件", qty=1, list_price=350)
    made: list[QtWidgets.QWidget] = [
        DeviceSettingsDialog(services, DeviceSettings()),
        NewMemberDialog(services),
        ShiftOpenDialog(services),
        DiscountDialog(line),
    ]
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, "确认", "确定吗？",
                                QtWidgets.QMessageBox.StandardButton.Yes
                                | QtWidgets.QMessageBox.StandardButton.No)
    made.append(box)
    for w in made:
        qtbot.addWidget(w)
        w.show()
        buttons = [b for b in w.findChildren(QtWidgets.QAbstractButton) if b.isVisible()]
        assert buttons, type(w).__name__
        english = [b.text() for b in buttons if ENGLISH_WORD.search(b.text().replace("&", "")
                                                                    .split("(")[0])]
        assert english == [], (type(w).__name__, english)
    save_shot(made[0], screenshots / "device_settings_zh.png")


def test_app_installs_qt_chinese(qtbot, live_server, dialogs, runner, make_api) -> None:
    install_qt_translation(i18n.EN)
    assert QtCore.QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"
    make_controller(qtbot, live_server, dialogs, runner, make_api)  # lang zh (the default)
    assert QtCore.QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    bb = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Save
                                    | QtWidgets.QDialogButtonBox.StandardButton.Close)
    qtbot.addWidget(bb)
    assert sorted(b.text() for b in bb.buttons()) == sorted(["保存", "关闭"])


def test_cash_recharge_slip_prints_tendered_and_change(qtbot, shift_open, open_counter, goods,
                                                      printer, output_dir) -> None:
    """F8 ¥500 in cash, ¥600 handed over: the slip says 实收 ￥600.00 and 找零 ￥100.00."""
    from client.counter.recharge import RechargeDialog
    from tests.support.escpos_decoder import decode

    from .test_counter_flows import attach_member, receipt_file

    win = open_counter()
    attach_member(qtbot, win, "1234")
    win.activateWindow()
    win.checkout.entry.setFocus()
    qtbot.wait_until(win.checkout.entry.hasFocus, timeout=5000)
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F8),
                    RechargeDialog)
    dlg.activateWindow()
    qtbot.wait_until(dlg.isActiveWindow, timeout=5000)
    qtbot.wait_until(dlg.amount.hasFocus, timeout=5000)
    qtbot.keyClicks(dlg.amount, "500")
    qtbot.keyClick(dlg.amount, Qt.Key.Key_Tab)
    qtbot.wait_until(dlg.tendered.hasFocus, timeout=5000)
    qtbot.keyClicks(dlg.tendered, "600")
    assert dlg.change.text() == "¥100.00"
    qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)  # the confirmation step
    assert dlg.reviewing
    with qtbot.wait_signal(dlg.recharged, timeout=10_000):
        qtbot.keyClick(dlg, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: any(decode(j, "gbk").lines for j in printer.jobs),
                     timeout=10_000)  # the drawer kick may come as a job of its own
    slip = next(decode(j, "gbk") for j in printer.jobs if decode(j, "gbk").lines)
    pins = [p for j in printer.jobs for p in decode(j, "gbk").drawer_pins]
    receipt_file(output_dir, "recharge_cash_change.txt", slip.text)
    rows = [" ".join(r.split()) for r in slip.texts]
    assert "实收 ￥600.00" in rows and "找零 ￥100.00" in rows, rows
    assert pins == [2]  # cash: the drawer opens
