"""Issue 18's "done when" for appointments, at the counter on a 1024×768 screen, keyboard
first: the front desk opens 预约 (F12), goes to tomorrow (PgDn), books a member with 阿美
and a walk-in with 小波 in their columns; the lists to call show the phones masked for the
cashier. The next day the member comes in: Enter on the booking checks it in, the cart holds
the booked service with 阿美 as its stylist, F9 and Enter pay it in cash, and the commission
ledger pays 阿美. Screenshots of every step; no English on a visible label.

The real client against the real server (live waitress + MariaDB); the shop clock frozen.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from client.counter.appointments import AppointmentDayDialog, BookDialog
from client.counter.payment import PaymentDialog
from client.qt import Qt, QtWidgets
from server.db.appointments import Appointment
from server.db.sales import CommissionLedger, Sale
from tests.conftest import open_shift
from tests.support.salon import freeze, make_salon, post

from .conftest import save_shot
from .test_counter_flows import dialog_of
from .test_front_desk_day import SIZE, _activate, _dialog_on_screen, _no_english
from .test_layout_states import assert_holds


def _book(qtbot, day: AppointmentDayDialog, column: str, row: str, *, member: str = "",
          name: str = "", phone: str = "", service: str) -> None:
    """Move to (column, row) with the arrows, Enter, fill the booking in by keyboard."""
    g = day.grid
    names = [g.horizontalHeaderItem(i).text() for i in range(g.columnCount())]
    times = [g.verticalHeaderItem(i).text() for i in range(g.rowCount())]
    target = (times.index(row), names.index(column))
    g.setFocus()
    g.setCurrentCell(0, 0)
    for _ in range(target[0]):
        qtbot.keyClick(g, Qt.Key.Key_Down)
    for _ in range(target[1]):
        qtbot.keyClick(g, Qt.Key.Key_Right)
    assert (g.currentRow(), g.currentColumn()) == target
    qtbot.keyClick(g, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: isinstance(day.dialog, BookDialog) and day.dialog.isVisible(),
                     timeout=5000)
    dlg = day.dialog
    assert isinstance(dlg, BookDialog)
    _activate(qtbot, dlg)
    assert dlg.staff.currentText() == column  # the column's stylist, the row's time
    assert dlg.time.time().toString("HH:mm") == row
    if member:
        dlg.member_search.setFocus()
        qtbot.keyClicks(dlg.member_search, member)
        qtbot.keyClick(dlg.member_search, Qt.Key.Key_Return)
        qtbot.wait_until(dlg.service_list.hasFocus, timeout=10_000)
    else:
        dlg.walk_in_name.setFocus()
        dlg.walk_in_name.insert(name)  # Chinese comes through the input method
        qtbot.keyClick(dlg.walk_in_name, Qt.Key.Key_Tab)
        assert dlg.walk_in_phone.hasFocus()
        # (11 digits through qtbot at the test wedge's fake 4 ms per key, then Enter, would
        # be a scanner's burst: the number goes in as one insert)
        dlg.walk_in_phone.insert(phone)
        dlg.service_list.setFocus()
    rows = [dlg.service_list.item(i).text() for i in range(dlg.service_list.count())]
    at = next(i for i, t in enumerate(rows) if t.startswith(service))
    dlg.service_list.setCurrentRow(0)
    for _ in range(at):
        qtbot.keyClick(dlg.service_list, Qt.Key.Key_Down)
    qtbot.keyClick(dlg.service_list, Qt.Key.Key_Space)
    assert dlg.picked()
    _dialog_on_screen(dlg, "book")
    _no_english(dlg, "book")
    booked: list = []
    dlg.booked.connect(booked.append)
    with qtbot.wait_signal(day.loaded, timeout=10_000):
        qtbot.keyClick(dlg.service_list, Qt.Key.Key_Return)  # Enter books
        qtbot.wait_until(lambda: bool(booked or dlg.error.text()), timeout=10_000)
        assert booked, dlg.error.text()


def test_the_front_desk_books_tomorrow_and_rings_a_checked_in_booking(
        qtbot, client, manager, cashier, make_staff, monkeypatch, app, open_counter,
        screenshots, assert_invariants) -> None:
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    today = s.day - dt.timedelta(days=1)  # the desk books on Sunday for Monday
    freeze(monkeypatch, app, dt.datetime.combine(today, dt.time(18, 0)))
    member = post(client, cashier, "/members", {"name": "张三", "phone": "13800001234"})
    open_shift(client, cashier)

    win = open_counter("cash", size=SIZE)

    def look(step: str, dlg: QtWidgets.QWidget | None = None) -> None:
        assert_holds(win, SIZE, step)
        save_shot(win, screenshots / f"appt_{step}_1024x768.png")
        if dlg is not None:
            _dialog_on_screen(dlg, step)
            _no_english(dlg, step)
            save_shot(dlg, screenshots / f"appt_{step}_dialog.png")

    # 1. F12: the day view (today), PgDn: tomorrow
    day = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F12),
                    AppointmentDayDialog)
    qtbot.wait_until(lambda: day.day is not None, timeout=10_000)
    _activate(qtbot, day)
    assert day.day.date == today
    with qtbot.wait_signal(day.loaded, timeout=10_000):
        qtbot.keyClick(day.grid, Qt.Key.Key_PageDown)
    assert day.day.date == s.day and s.day.isoformat() in day.date_label.text()
    headers = [day.grid.horizontalHeaderItem(i).text() for i in range(day.grid.columnCount())]
    assert {"阿美", "小波", "团课"} <= set(headers), headers
    assert day.grid.verticalHeaderItem(0).text() == "10:00"
    look("day_empty", day)

    # 2. the member with 阿美 at 10:00, a walk-in with 小波 at 11:00
    _book(qtbot, day, "阿美", "10:00", member="1234", service="洗剪吹")
    _book(qtbot, day, "小波", "11:00", name="王女士", phone="13912345678", service="染发")
    amei_col = headers.index("阿美")
    row10 = 0
    cell = day.grid.item(row10, amei_col)
    assert "张三" in cell.text() and "洗剪吹" in cell.text()
    assert day.grid.rowSpan(row10, amei_col) == 2  # 60 minutes: two half-hour slots
    assert day.grid.rowSpan(2, headers.index("小波")) == 3  # 染发 90 minutes from 11:00
    look("day_booked", day)

    # 3. the lists to call: today's and tomorrow's, the phone masked for a cashier
    day.tabs.setCurrentIndex(1)
    qtbot.wait_until(lambda: day.call.rowCount() == 2, timeout=10_000)
    phones = {day.call.item(r, 2).text(): day.call.item(r, 3).text() for r in range(2)}
    assert phones == {"张三": "138****1234", "王女士": "139****5678"}
    look("to_call", day)
    day.tabs.setCurrentIndex(0)
    qtbot.keyClick(day.grid, Qt.Key.Key_Escape)
    qtbot.wait_until(lambda: not day.isVisible(), timeout=5000)

    # 4. the next morning 张三 comes in: F12, Enter on the booking = check-in → the cart
    freeze(monkeypatch, app, dt.datetime.combine(s.day, dt.time(9, 55)))
    _activate(qtbot, win)
    win.checkout.entry.setFocus()
    day = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F12),
                    AppointmentDayDialog)
    qtbot.wait_until(lambda: day.day is not None, timeout=10_000)
    _activate(qtbot, day)
    assert day.day.date == s.day
    day.grid.setCurrentCell(row10, amei_col)
    assert day.selected() is not None and day.selected().customer_name == "张三"
    look("check_in", day)
    with qtbot.wait_signal(win.counter.member_panel.member_changed, timeout=10_000):
        qtbot.keyClick(day.grid, Qt.Key.Key_Return)
    screen = win.checkout
    qtbot.wait_until(lambda: screen.cart_model.rowCount() == 1, timeout=10_000)
    line = screen.cart_model.cart.lines[0]
    assert (line.product_id, [st.staff_id for st in line.staff]) == (s.wash["id"], [s.amei.id])
    staff_col = screen.cart_model.COLUMNS.index("staff")
    assert screen.cart_model.data(screen.cart_model.index(0, staff_col)) == "阿美"
    assert win.counter.member_panel.member.id == member["id"]
    assert "已到店" in screen.status.text()
    _activate(qtbot, win)
    win.checkout.entry.setFocus()
    look("cart")
    _no_english(win, "cart")

    # 5. F9, Enter: paid in cash; 阿美 earns 20 % of ¥88.00
    pay = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    _activate(qtbot, pay)
    qtbot.wait_until(lambda: pay.confirm.isEnabled(), timeout=10_000)
    assert pay.total == 8800
    look("payment", pay)
    with qtbot.wait_signal(win.counter.sale_completed, timeout=10_000):
        qtbot.keyClick(pay.tendered, Qt.Key.Key_Return)
    _activate(qtbot, win)
    look("after_sale")

    with app.extensions["lanpos"].session_factory() as db:
        sale = db.scalars(select(Sale)).one()
        assert sale.total == 8800 and sale.member_id == member["id"]
        comm = db.scalars(select(CommissionLedger)).all()
        assert [(c.staff_id, c.base_amount, c.amount) for c in comm] == [(s.amei.id, 8800, 1760)]
        statuses = sorted(a.status for a in db.scalars(select(Appointment)))
        assert statuses == ["booked", "checked_in"]
    assert_invariants()


def test_move_cancel_and_a_count_card_check_in_from_the_day_view(
        qtbot, client, manager, cashier, make_staff, monkeypatch, app, open_counter,
        screenshots) -> None:
    from client.counter.appointments import CancelDialog, MoveDialog
    from tests.support.salon import at, book

    s = make_salon(client, manager, make_staff, monkeypatch, app)
    member = post(client, cashier, "/members", {"name": "张三", "phone": "13800001234"})
    open_shift(client, cashier)
    tpl = post(client, manager, "/count-card-templates", {
        "name": "洗剪吹10次卡", "product_id": s.wash["id"], "service_name": "洗剪吹",
        "uses": 10, "validity_days": 365, "price": 60000})
    card = post(client, cashier, "/count-cards", {
        "member_id": member["id"], "template_id": tpl["id"], "method": "cash"})
    kept = book(client, cashier, [s.wash["id"]], at(s.day, "10:00"), s.amei.id,
                member_id=member["id"])
    gone = book(client, cashier, [s.wash["id"]], at(s.day, "14:00"), s.amei.id)
    freeze(monkeypatch, app, dt.datetime.combine(s.day, dt.time(9, 0)))

    win = open_counter("cash", size=SIZE)
    day = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F12),
                    AppointmentDayDialog)
    qtbot.wait_until(lambda: day.day is not None, timeout=10_000)
    _activate(qtbot, day)
    g = day.grid
    names = [g.horizontalHeaderItem(i).text() for i in range(g.columnCount())]
    times = [g.verticalHeaderItem(i).text() for i in range(g.rowCount())]
    col = names.index("阿美")

    # F3 on the 14:00 booking: move it to 15:00, the reason asked for
    g.setCurrentCell(times.index("14:00"), col)
    qtbot.keyClick(g, Qt.Key.Key_F3)
    qtbot.wait_until(lambda: isinstance(day.dialog, MoveDialog), timeout=5000)
    mv = day.dialog
    _activate(qtbot, mv)
    mv.time.setTime(mv.time.time().addSecs(3600))
    qtbot.keyClick(mv.reason, Qt.Key.Key_Return)
    assert mv.error.text() == "请填写原因" and mv.isVisible()
    mv.reason.insert("客人晚到")
    _dialog_on_screen(mv, "move")
    _no_english(mv, "move")
    save_shot(mv, screenshots / "appt_move_dialog.png")
    with qtbot.wait_signal(day.loaded, timeout=10_000):
        qtbot.keyClick(mv.reason, Qt.Key.Key_Return)
    moved = day.by_id[gone["id"]]
    assert moved.local_start.strftime("%H:%M") == "15:00" and moved.moves == 1
    assert "王女士" in g.item(times.index("15:00"), col).text()

    # Delete on it: cancelled with the reason, gone from the day
    g.setCurrentCell(times.index("15:00"), col)
    qtbot.keyClick(g, Qt.Key.Key_Delete)
    qtbot.wait_until(lambda: isinstance(day.dialog, CancelDialog), timeout=5000)
    cd = day.dialog
    _activate(qtbot, cd)
    cd.reason.insert("客人改天")
    with qtbot.wait_signal(day.loaded, timeout=10_000):
        qtbot.keyClick(cd.reason, Qt.Key.Key_Return)
    assert gone["id"] not in day.by_id

    # F8 (no-show) is a manager's: the cashier is told so
    g.setCurrentCell(times.index("10:00"), col)
    qtbot.keyClick(g, Qt.Key.Key_F8)
    assert day.error.text() == "店长才能记爽约"

    # Enter: 张三 holds a card for the wash: the line is paid by it
    with qtbot.wait_signal(win.counter.member_panel.member_changed, timeout=10_000):
        qtbot.keyClick(g, Qt.Key.Key_Return)
    screen = win.checkout
    qtbot.wait_until(lambda: screen.cart_model.rowCount() == 1, timeout=10_000)
    line = screen.cart_model.cart.lines[0]
    assert (line.count_card_id, line.count_card_name) == (card["id"], "洗剪吹10次卡")
    assert [st.staff_id for st in line.staff] == [s.amei.id]
    qtbot.wait_until(lambda: screen.cart_model.cart.quote().total == 0, timeout=10_000)
    r = client.get(f"/api/v1/appointments/{kept['id']}", headers=cashier.headers)
    assert r.get_json()["status"] == "checked_in"
    r = client.get(f"/api/v1/appointments/{gone['id']}", headers=cashier.headers)
    assert (r.get_json()["status"], r.get_json()["reason"]) == ("cancelled", "客人改天")
