"""Issue 14's "done when", as a new cashier does it, keyboard only, on a 1024×768 screen: open
the shift, ring a salon service with a stylist and two products found by pinyin, attach a
member by the last 4 digits of the phone, pay part stored value and part cash with a fitting
quick-cash button, and print the receipt. After every step: nothing off screen (the F-key
bar, the totals and the status bar inside the window, an open dialog inside the screen) and
no English word on any visible label, button, group box, tab or header.

The real client against the real server (live waitress + MariaDB); the printer at the wire.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from client.counter.payment import PaymentDialog
from client.counter.product_search import ProductPicker
from client.counter.serving_staff import ServingStaffDialog
from client.counter.shift import ShiftOpenDialog
from client.qt import Qt, QtCore, QtWidgets
from common.schemas.base import Role
from server.db.members import StoredValueLedger
from server.db.sales import CommissionLedger, Sale, Shift
from tests.conftest import open_shift
from tests.support.escpos_decoder import decode

from .conftest import save_shot
from .test_counter_flows import _post, dialog_of, receipt_file
from .test_layout_states import assert_holds
from .test_strings import english_words, visible_texts

SIZE = (1024, 768)


#: what the cashier types (pinyin initials), echoed back on screen: not the program's English
TYPED = {"xjc", "hfs", "xfs", "am"}


def _no_english(root: QtWidgets.QWidget, step: str) -> None:
    found = sorted({f"{name}: {text!r}" for name, text in visible_texts(root)
                    if set(english_words(re.sub(r"<[^>]+>", " ", text))) - TYPED})
    assert found == [], (step, found)


def _dialog_on_screen(dlg: QtWidgets.QWidget, step: str) -> None:
    QtWidgets.QApplication.processEvents()
    r = QtCore.QRect(dlg.mapToGlobal(QtCore.QPoint(0, 0)), dlg.size())
    assert r.width() <= SIZE[0] and r.height() <= SIZE[1], (step, r)


def _activate(qtbot, w: QtWidgets.QWidget) -> None:
    """Offscreen, a window opened after a dialog closed is not made active by itself."""
    w.activateWindow()
    qtbot.wait_until(w.isActiveWindow, timeout=5000)


def _refocus(qtbot, win) -> None:
    _activate(qtbot, win)
    win.checkout.entry.setFocus()
    qtbot.wait_until(win.checkout.entry.hasFocus, timeout=5000)


def test_a_new_cashier_runs_a_salon_sale_keyboard_only(
        qtbot, client, manager, cashier, make_staff, open_counter, printer,
        app, screenshots, output_dir, assert_invariants) -> None:
    # the salon: a service with a 20 % commission for the stylist, two products whose pinyin
    # initials are both "xfs" (洗发水, 修复素) and one "hfs" (护发素), a member with ¥500
    wash = _post(client, manager, "/api/v1/products", {
        "name": "洗剪吹", "kind": "service", "price": 8800, "barcodes": ["S1001"],
        "commission_kind": "percent", "commission_value": 2000})
    for name, price, code in (("护发素", 4500, "6900000000024"), ("洗发水", 3980, "6900000000031"),
                              ("修复素", 6600, "6900000000048")):
        _post(client, manager, "/api/v1/products", {"name": name, "price": price,
                                                    "barcodes": [code]})
    stylist = make_staff(Role.CASHIER, "amei")
    r = client.patch(f"/api/v1/staff/{stylist.id}", json={"display_name": "阿美"},
                     headers=manager.write_headers())
    assert r.status_code == 200, r.get_json()
    member = _post(client, cashier, "/api/v1/members", {"name": "张三", "phone": "13800001234"})
    # the member's money went on the card earlier, at the back office's counter and shift
    desk = make_staff(Role.MANAGER, "desk", counter_name="09")
    open_shift(client, desk)
    _post(client, desk, f"/api/v1/members/{member['id']}/recharges",
          {"amount": 50000, "method": "wechat"})

    _run_the_day(qtbot, open_counter, printer, screenshots, output_dir, wash, member)

    # what the server recorded: the sale is in the shift, the stylist's commission, the card
    with app.extensions["lanpos"].session_factory() as s:
        sale = s.scalars(select(Sale)).one()
        shift = s.get(Shift, sale.shift_id)
        assert shift is not None and shift.counter == "01" and shift.closed_at is None
        assert sale.total == 8800 + 4500 + 3980
        comm = s.scalars(select(CommissionLedger)).all()
        assert [(c.staff_id, c.base_amount, c.amount) for c in comm] == [
            (stylist.id, 8800, 1760)]
        sv = s.scalars(select(StoredValueLedger).where(
            StoredValueLedger.member_id == member["id"]).order_by(StoredValueLedger.id)).all()
        assert [e.principal_change + e.bonus_change for e in sv] == [50000, -10000]
    assert_invariants()  # every cached balance equals its ledger


def _run_the_day(qtbot, open_counter, printer, screenshots, output_dir, wash,
                 member) -> None:
    def look(step: str, dlg: QtWidgets.QWidget | None = None) -> None:
        assert_holds(win, SIZE, step)
        _no_english(win, step)
        save_shot(win, screenshots / f"day_{step}_1024x768.png")
        if dlg is not None:
            _dialog_on_screen(dlg, step)
            _no_english(dlg, step)
            save_shot(dlg, screenshots / f"day_{step}_dialog.png")

    # 1. log in: no shift yet, so the counter asks for the float; Enter opens it
    win = open_counter("cash", size=SIZE, focus=False)
    screen = win.checkout
    qtbot.wait_until(lambda: isinstance(win.counter.dialog, ShiftOpenDialog), timeout=10_000)
    dlg = win.counter.dialog
    qtbot.wait_until(dlg.float_amount.hasFocus, timeout=5000)
    look("shift_open", dlg)
    qtbot.keyClicks(dlg.float_amount, "200")
    qtbot.keyClick(dlg.float_amount, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: win.counter.shift is not None, timeout=10_000)
    assert win.counter.shift.float_amount == 20000
    _refocus(qtbot, win)

    # 2. the service by pinyin initials (one match: added), then its stylist with F10
    qtbot.keyClicks(screen.entry, "xjc")
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: screen.cart_model.rowCount() == 1, timeout=10_000)
    assert screen.cart_model.cart.lines[0].product_id == wash["id"]
    picker = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F10),
                       ServingStaffDialog)
    qtbot.wait_until(lambda: bool(picker.staff), timeout=10_000)
    _activate(qtbot, picker)
    look("stylist", picker)
    qtbot.keyClicks(picker.filter, "am")
    qtbot.keyClick(picker.filter, Qt.Key.Key_Space)
    with qtbot.wait_signal(picker.chosen, timeout=5000):
        qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
    staff_col = screen.cart_model.COLUMNS.index("staff")
    assert screen.cart_model.data(screen.cart_model.index(0, staff_col)) == "阿美"
    _refocus(qtbot, win)

    # 3. two products by pinyin: "hfs" is one product; "xfs" is two, so a picker: ↓, Enter
    qtbot.keyClicks(screen.entry, "hfs")
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: screen.cart_model.rowCount() == 2, timeout=10_000)
    qtbot.keyClicks(screen.entry, "xfs")
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    choose = _wait_picker(qtbot, win)
    _activate(qtbot, choose)
    look("product_picker", choose)
    names = [choose.list.item(i).text() for i in range(choose.list.count())]
    assert len(names) == 2 and any("洗发水" in n for n in names), names
    target = next(i for i, n in enumerate(names) if "洗发水" in n)
    for _ in range(target):
        qtbot.keyClick(choose.list, Qt.Key.Key_Down)
    qtbot.keyClick(choose.list, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: screen.cart_model.rowCount() == 3, timeout=10_000)
    assert [ln.name for ln in screen.cart_model.cart.lines] == ["洗剪吹", "护发素", "洗发水"]
    _refocus(qtbot, win)
    look("three_lines")

    # 4. the member by the last 4 digits of the phone (F2)
    panel = win.counter.member_panel
    qtbot.keyClick(screen.entry, Qt.Key.Key_F2)
    assert panel.search.hasFocus()
    with qtbot.wait_signal(panel.extras_loaded, timeout=10_000):
        qtbot.keyClicks(panel.search, "1234")
        qtbot.keyClick(panel.search, Qt.Key.Key_Return)
    assert panel.member is not None and panel.member.id == member["id"]
    look("member")
    _refocus(qtbot, win)

    # 5. F9: ¥100 from the stored value (F2), the rest in cash by a fitting quick-cash key
    pay = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    _activate(qtbot, pay)
    qtbot.wait_until(lambda: pay.server_quote is not None, timeout=10_000)
    assert pay.total == 8800 + 4500 + 3980  # ¥172.80
    qtbot.keyClick(pay, Qt.Key.Key_F2)
    assert pay.sv_amount.hasFocus()
    pay.sv_amount.selectAll()
    qtbot.keyClicks(pay.sv_amount, "100")
    # ¥72.80 left in cash: the quick-cash keys offer 72.80, 80, 100, 200
    quick = [pay.findChild(QtWidgets.QPushButton, f"payQuick{i}").text().split("\n")[0]
             for i in range(1, 5)]
    assert quick == ["¥72.80", "¥80.00", "¥100.00", "¥200.00"], quick
    look("payment", pay)
    qtbot.keyClick(pay, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # ¥100 handed over
    assert pay.settle().change == 2720
    assert "27.20" in pay.change_label.text()
    with qtbot.wait_signal(win.counter.sale_completed, timeout=10_000):
        qtbot.keyClick(pay, Qt.Key.Key_Return)  # Enter: the bill is covered

    # the counter says what happened in the payment dialog's words: 应收, 实收 (cash), 找零
    done = win.checkout.totals.last_sale.text().splitlines()
    assert done[1:] == ["应收 ¥172.80", "实收 ¥100.00  找零 ¥27.20"], done

    # 6. the receipt, read at the wire
    qtbot.wait_until(lambda: any(decode(j, "gbk").lines for j in printer.jobs),
                     timeout=10_000)  # the drawer kick may come as a job of its own
    text = next(decode(j, "gbk") for j in printer.jobs if decode(j, "gbk").lines).text
    receipt_file(output_dir, "front_desk_day.txt", text)
    for part in ("洗剪吹", "阿美", "护发素", "洗发水", "张三", "储值", "100.00", "72.80",
                 "实收", "找零", "27.20"):
        assert part in text, (part, text)
    assert not english_words(text.replace("lanpos", "")), text
    _refocus(qtbot, win)
    look("after_sale")


def _wait_picker(qtbot, win) -> ProductPicker:
    found: list[ProductPicker] = []

    def seen() -> bool:
        found[:] = [w for w in QtWidgets.QApplication.topLevelWidgets()
                    if isinstance(w, ProductPicker) and w.isVisible()]
        return bool(found)

    qtbot.wait_until(seen, timeout=10_000)
    return found[0]
