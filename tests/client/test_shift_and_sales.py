"""The shift rule at the counter (the shift dialog at login, a refused sale or recharge leads
to it and keeps the cart), the shift close dialog's keyboard (Enter never throws the count
away), recharges listed apart from sales on the close screen and the printed report, 我的业绩
for a stylist, the back-office report by serving staff and the member ledger's sale numbers.
Real server and MariaDB, real Qt offscreen, the printer's bytes decoded."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import select

from client.counter.my_sales import MySalesDialog
from client.counter.payment import PaymentDialog
from client.counter.recharge import RechargeDialog
from client.counter.shift import ShiftCloseDialog, ShiftOpenDialog
from client.qt import Qt, QtWidgets
from common.schemas.base import Role
from server.db.sales import Sale, Shift
from tests.conftest import open_shift
from tests.support.escpos_decoder import decode

from . import test_counter_flows as flows
from .bo_helpers import WAIT, open_window, show
from .conftest import save_shot
from .test_counter_flows import COLA, _post, attach_member, dialog_of, wedge_scan

# the counter fixtures of test_counter_flows (a logged-in window with devices, the shop)
shop = flows.shop

API = "/api/v1"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-")


def _close_current(client, who, denominations: dict[int, int]) -> dict:
    cur = client.get(API + "/shifts/current", headers=who.headers).get_json()
    return _post(client, who, f"{API}/shifts/{cur['id']}/close",
                 {"denominations": denominations}, status=200)


def _opened_after(qtbot, win, cls, before: int, seen: list):
    qtbot.wait_until(lambda: len(seen) > before and isinstance(seen[-1], cls),
                     timeout=10_000)
    return seen[-1]


def test_no_shift_at_login_asks_for_the_float_and_enter_opens_it(
        qtbot, open_counter, shop, client, cashier, screenshots) -> None:
    _close_current(client, cashier, {10000: 6, 2000: 1})  # the shop fixture's shift
    win = open_counter(focus=False)
    qtbot.wait_until(lambda: isinstance(win.counter.dialog, ShiftOpenDialog), timeout=10_000)
    dlg = win.counter.dialog
    assert dlg.isVisible() and "未开班" in win.counter.shift_label.text()
    assert dlg.ok.isDefault() and dlg.ok.text() == "开班"
    assert dlg.cancel.text() == "取消" and not dlg.cancel.isDefault()
    assert "按回车开班" in dlg.hint.text()
    qtbot.wait_until(dlg.float_amount.hasFocus, timeout=5000)
    save_shot(win, screenshots / "counter_login_no_shift_1024x768.png")
    save_shot(dlg, screenshots / "shift_open_at_login.png")
    qtbot.keyClicks(dlg.float_amount, "150")
    qtbot.keyClick(dlg.float_amount, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: win.counter.shift is not None, timeout=10_000)
    assert not dlg.isVisible()
    assert win.counter.shift.float_amount == 15000
    assert "备用金 ¥150.00" in win.counter.shift_label.text()


def test_a_manager_is_not_asked_at_login(qtbot, open_counter, shop, client, cashier,
                                         manager) -> None:
    _close_current(client, cashier, {10000: 6, 2000: 1})
    win = open_counter("mgr")
    qtbot.wait_until(lambda: "未开班" in win.counter.shift_label.text(), timeout=10_000)
    qtbot.wait(300)
    assert win.counter.dialog is None  # they may be here for the back office


def test_a_sale_refused_without_a_shift_leads_to_the_shift_and_keeps_the_cart(
        qtbot, open_counter, shop, client, cashier, app, dialogs, screenshots) -> None:
    win = open_counter()  # the shift is open at login ...
    qtbot.wait_until(lambda: win.counter.shift is not None, timeout=10_000)
    _close_current(client, cashier, {10000: 6, 2000: 1})  # ... and closed since (elsewhere)
    screen = win.checkout
    wedge_scan(qtbot, screen, COLA)
    seen: list = []
    win.counter.dialog_opened.connect(seen.append)
    pay = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(lambda: pay.confirm.isEnabled(), timeout=10_000)
    n = len(seen)
    qtbot.mouseClick(pay.confirm, Qt.MouseButton.LeftButton)
    opener = _opened_after(qtbot, win, ShiftOpenDialog, n, seen)
    assert pay.isVisible() and opener.isVisible()  # the payment waits under the shift dialog
    assert "还没有开班" in pay.error.text()
    assert "请先输入备用金开班，购物车已保留" in screen.status.text()
    assert screen.cart_model.cart.item_count == 1  # the cart stays
    assert dialogs.errors == []  # no generic error box on top
    save_shot(pay, screenshots / "payment_refused_no_shift.png")
    qtbot.keyClicks(opener.float_amount, "100")
    qtbot.keyClick(opener.float_amount, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: win.counter.shift is not None, timeout=10_000)
    new_shift = win.counter.shift.id
    qtbot.wait_until(lambda: pay.confirm.isEnabled(), timeout=10_000)
    sale_id = pay.sale_id
    with qtbot.wait_signal(win.counter.sale_completed, timeout=15_000) as done:
        qtbot.mouseClick(pay.confirm, Qt.MouseButton.LeftButton)
    assert str(done.args[0].id) == sale_id
    with app.extensions["lanpos"].session_factory() as db:
        assert db.scalar(select(Sale.shift_id).where(Sale.uuid == sale_id)) == new_shift


def test_a_recharge_refused_without_a_shift_leads_to_the_shift(
        qtbot, open_counter, shop, client, cashier) -> None:
    win = open_counter()
    qtbot.wait_until(lambda: win.counter.shift is not None, timeout=10_000)
    _close_current(client, cashier, {10000: 6, 2000: 1})
    attach_member(qtbot, win, "1234")
    seen: list = []
    win.counter.dialog_opened.connect(seen.append)
    dlg = dialog_of(qtbot, win, win.counter.recharge, RechargeDialog)
    qtbot.keyClicks(dlg.amount, "100")
    qtbot.keyClick(dlg.amount, Qt.Key.Key_Return)  # the confirmation step
    assert dlg.reviewing
    n = len(seen)
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # post it: refused
    opener = _opened_after(qtbot, win, ShiftOpenDialog, n, seen)
    assert dlg.isVisible() and "还没有开班" in dlg.error.text()
    qtbot.keyClick(opener.float_amount, Qt.Key.Key_Return)  # float ¥0
    qtbot.wait_until(lambda: win.counter.shift is not None, timeout=10_000)
    with qtbot.wait_signal(dlg.recharged, timeout=10_000) as done:
        qtbot.keyClick(dlg, Qt.Key.Key_Return)
    assert done.args[0].entry.principal_change == 10000


def test_shift_close_enter_walks_the_count_and_recharges_are_listed_apart(
        qtbot, open_counter, shop, client, cashier, printer, app, screenshots,
        output_dir) -> None:
    _close_current(client, cashier, {10000: 6, 2000: 1})
    shift = open_shift(client, cashier, 10000)
    sid = str(uuid.uuid4())
    _post(client, cashier, API + "/sales", {
        "id": sid, "lines": [{"product_id": shop["cola"]["id"], "qty": 2}],
        "payments": [{"method": "cash", "amount": 700, "tendered": 1000}]})
    _post(client, cashier, f"{API}/members/{shop['member']['id']}/recharges",
          {"amount": 50000, "method": "cash"})
    win = open_counter()
    closer = dialog_of(qtbot, win, win.counter.acts["shift_close"].trigger, ShiftCloseDialog)
    qtbot.wait_until(lambda: closer.shift is not None, timeout=10_000)
    # the confirm button is the default, 取消 never is
    assert closer.submit_button.isDefault()
    assert not closer.cancel.isDefault() and not closer.cancel.autoDefault()
    text = closer.summary.text()
    assert "recharge" not in text and "充值 1 笔，¥500.00\n    现金 ¥500.00" in text
    assert "销售 1 笔，¥7.00\n    现金 ¥7.00" in text
    assert closer.expected.text() == "¥607.00"  # float 100 + cash 7 + cash recharge 500
    # Enter in a count moves on; the counts stay, the dialog stays open
    hundred = closer.counts[10000]
    qtbot.wait_until(hundred.hasFocus, timeout=5000)
    qtbot.keyClicks(hundred, "6")
    qtbot.keyClick(hundred, Qt.Key.Key_Return)
    assert closer.isVisible() and hundred.value() == 6
    assert closer.counts[5000].hasFocus()
    for fen in (5000, 2000, 1000, 500):
        qtbot.keyClick(closer.counts[fen], Qt.Key.Key_Return)
    qtbot.keyClicks(closer.counts[100], "7")
    for fen in (100, 50, 10, 5, 1):
        qtbot.keyClick(closer.counts[fen], Qt.Key.Key_Return)
    assert closer.note.hasFocus() and closer.isVisible()
    assert closer.counted.text() == "¥607.00" and closer.difference.text() == "¥0.00"
    save_shot(closer, screenshots / "shift_close_recharges_apart.png")
    qtbot.keyClick(closer.note, Qt.Key.Key_Return)
    assert closer.submit_button.hasFocus() and closer.isVisible()
    with qtbot.wait_signal(closer.closed, timeout=10_000):
        qtbot.keyClick(closer.submit_button, Qt.Key.Key_Return)
    data = printer.wait_for_jobs(1)[0]
    report = decode(data, "gbk")
    flows.receipt_file(output_dir, "shift_report_recharges.txt", report.text)
    rows = [r.replace("￥", "¥") for r in report.texts if r.strip()]
    assert "recharge" not in report.text
    at = next(i for i, r in enumerate(rows) if r.startswith("充值"))
    assert rows[at].split()[:2] == ["充值", "1笔"] and rows[at].endswith("¥500.00")
    assert rows[at + 1].split() == ["现金", "¥500.00"]
    sales_at = next(i for i, r in enumerate(rows) if r.startswith("销售"))
    assert rows[sales_at + 1].split() == ["现金", "¥7.00"] and sales_at < at
    with app.extensions["lanpos"].session_factory() as db:
        row = db.get(Shift, shift["id"])
        assert row.status == "closed" and row.difference == 0
        assert row.counted_cash == 60700


def test_my_sales_for_a_stylist(qtbot, open_counter, shop, client, cashier, make_staff,
                                manager, screenshots) -> None:
    tony = make_staff(Role.CASHIER, "tony")
    amy = make_staff(Role.CASHIER, "amy")
    r = client.patch(f"{API}/products/{shop['haircut']['id']}", headers=manager.write_headers(),
                     json={"commission_kind": "percent", "commission_value": 2000})
    assert r.status_code == 200, r.get_json()
    sale = _post(client, cashier, API + "/sales", {
        "id": str(uuid.uuid4()),
        "lines": [{"product_id": shop["haircut"]["id"], "qty": 1,
                   "staff": [{"staff_id": tony.id, "share_bp": 7000},
                             {"staff_id": amy.id, "share_bp": 3000}]}],
        "payments": [{"method": "cash", "amount": 3000}]})
    win = open_counter("tony")
    assert win.counter.acts["my_sales"].text() == "我的业绩…"
    dlg = dialog_of(qtbot, win, win.counter.acts["my_sales"].trigger, MySalesDialog)
    qtbot.wait_until(lambda: dlg.data is not None, timeout=10_000)
    today = dlg.data
    assert (today.served_amount, today.commission) == (2100, 420)
    assert dlg.commission.text() == "¥4.20"
    assert dlg.served.text() == "1 笔，¥21.00"
    assert dlg.cashier.text() == "0 单，¥0.00"
    assert dlg.table.rowCount() == 1
    assert [dlg.table.item(0, c).text() for c in (1, 2, 3, 4)] == [
        sale["number"], "精剪", "¥21.00", "¥4.20"]
    assert dlg.close_button.isDefault()
    save_shot(dlg, screenshots / "my_sales_today.png")
    with qtbot.wait_signal(dlg.loaded, timeout=10_000) as month:
        qtbot.keyClick(dlg, Qt.Key.Key_M)
    assert dlg.month_button.isChecked() and not dlg.today_button.isChecked()
    first_day = dt.date.today().replace(day=1)
    assert month.args[0].date_from == first_day and month.args[0].commission == 420
    english = [b.text() for b in dlg.findChildren(QtWidgets.QAbstractButton)
               if re.search(r"[A-Za-z]{2,}", b.text().split("(")[0])]
    assert english == []


def test_backoffice_report_by_serving_staff(qtbot, services, shop, client, cashier, manager,
                                            make_staff, screenshots) -> None:
    tony = make_staff(Role.CASHIER, "tony")
    r = client.patch(f"{API}/products/{shop['haircut']['id']}", headers=manager.write_headers(),
                     json={"commission_kind": "percent", "commission_value": 1000})
    assert r.status_code == 200, r.get_json()
    for _ in range(2):
        _post(client, cashier, API + "/sales", {
            "id": str(uuid.uuid4()), "payments": [{"method": "wechat", "amount": 3000}],
            "lines": [{"product_id": shop["haircut"]["id"], "qty": 1,
                       "staff": [{"staff_id": tony.id, "share_bp": 10000}]}]})
    win = open_window(qtbot, services, "mgr")
    screen = win.backoffice.reports
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT):
        win.acts["reports"].trigger()
    titles = [screen.list.item(i).text() for i in range(screen.list.count())]
    assert "收银员收款" in titles and "员工业绩与提成" in titles  # by cashier ≠ by who served
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT) as blocker:
        screen.choose("sales_serving")
    assert blocker.args[0].group == "serving"
    t = screen.table
    headers = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
    assert headers == ["员工", "单数", "服务金额", "退款", "净额", "提成"]
    assert [t.item(0, c).text() for c in range(t.columnCount())] == [
        "测试收银员", "2", "¥60.00", "¥0.00", "¥60.00", "¥6.00"]
    assert t.item(t.rowCount() - 1, 0).text() == "合计"
    assert "提成 ¥6.00" in screen.summary.text()
    save_shot(win, screenshots / "backoffice_report_serving_1024x768.png")


def test_member_ledger_shows_sale_numbers_not_uuids(qtbot, services, shop, client, cashier,
                                                    manager) -> None:
    mid = shop["member"]["id"]
    sale = _post(client, cashier, API + "/sales", {
        "id": str(uuid.uuid4()), "member_id": mid,
        "lines": [{"product_id": shop["cola"]["id"], "qty": 1}],
        "payments": [{"method": "stored_value", "amount": 300}]})
    win = open_window(qtbot, services, "mgr")
    screen = show(qtbot, win, "members")
    row = next(i for i, m in enumerate(screen.model.items) if m.id == mid)
    screen.list.table.selectRow(row)
    detail = screen.detail()
    qtbot.addWidget(detail)
    model = detail.ledgers["stored_value"]
    qtbot.wait_until(lambda: model.pages_loaded == 1 and model.rowCount() == 2, timeout=WAIT)
    cols = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    ref = cols.index("单号")
    texts = [[str(model.data(model.index(r, c)) or "") for c in range(model.columnCount())]
             for r in range(model.rowCount())]
    refs = [t[ref] for t in texts]
    assert refs[0] == sale["number"]  # newest first: the payment of the sale
    assert re.fullmatch(r"SV\d{8}", refs[1])  # the recharge: its slip's number
    assert not any(UUID_RE.search(c) for t in texts for c in t)
