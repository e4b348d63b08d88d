"""The counter's checkout flows end to end: the real client against the real server (live
waitress + MariaDB), devices at the wire (a TCP virtual printer, pseudo-terminal scanner and
pole display). Money, ledgers and receipts are checked where they end up: the database and
the printer's bytes."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from client.qt import Qt, QtWidgets
from server.db.catalog import Product
from server.db.members import Member, PointsLedger, StoredValueLedger
from server.db.models import AuditLog
from server.db.sales import HeldOrder, Refund, Sale, SalePayment, Shift
from tests.conftest import TEST_PASSWORD, open_shift
from tests.support.escpos_decoder import decode

from .conftest import save_shot

COLA, SHAMPOO, HAIRCUT = "6901234567892", "6900000000017", "S0001"


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


@pytest.fixture
def shop(client, owner, manager, cashier) -> dict:
    """Catalog, a gold member with ¥500 stored value and 1000 points, shop receipt texts."""
    cat = _post(client, manager, "/api/v1/categories", {"name": "日用"})
    cola = _post(client, manager, "/api/v1/products", {
        "name": "可口可乐 330ml", "price": 350, "member_price": 300, "category_id": cat["id"],
        "barcodes": [COLA], "track_stock": True, "opening_stock": 20})
    shampoo = _post(client, manager, "/api/v1/products", {
        "name": "洗发水", "price": 5800, "track_stock": True, "opening_stock": 5,
        "barcodes": [SHAMPOO]})
    level = _post(client, manager, "/api/v1/levels", {
        "name": "金卡", "rank": 2, "discount_bp": 9000, "points_per_yuan": 2})
    member = _post(client, cashier, "/api/v1/members", {
        "name": "张三", "phone": "13800001234", "level_id": level["id"]})
    _post(client, cashier, "/api/v1/members", {"name": "李四", "phone": "13900005678"})
    open_shift(client, cashier)  # counter 01 (the tests' counter) sells in a shift
    _post(client, cashier, f"/api/v1/members/{member['id']}/recharges",
          {"amount": 50000, "method": "cash"})
    _post(client, manager, f"/api/v1/members/{member['id']}/points",
          {"change": 1000, "reason": "开业赠送"})
    haircut = _post(client, manager, "/api/v1/products", {
        "name": "精剪", "kind": "service", "price": 3000, "barcodes": [HAIRCUT]})
    template = _post(client, manager, "/api/v1/count-card-templates", {
        "name": "精剪5次卡", "product_id": haircut["id"], "service_name": "精剪", "uses": 5,
        "validity_days": 365, "price": 12000})
    _post(client, cashier, "/api/v1/count-cards", {
        "member_id": member["id"], "template_id": template["id"], "method": "cash"})
    ctpl = _post(client, manager, "/api/v1/coupon-templates", {
        "name": "满50减10", "kind": "amount", "amount_fen": 1000, "threshold_fen": 5000})
    _post(client, manager, "/api/v1/coupons", {"template_id": ctpl["id"],
                                               "member_id": member["id"]})
    r = client.put("/api/v1/settings/shop", headers=owner.write_headers(), json={
        "name": "悦享生活馆", "receipt_header": ["地址：幸福路 8 号"],
        "receipt_footer": ["谢谢惠顾，欢迎再次光临！"]})
    assert r.status_code == 200, r.get_json()
    return {"cola": cola, "shampoo": shampoo, "member": member, "level": level,
            "haircut": haircut}


def wedge_scan(qtbot, screen, code: str) -> None:
    """A keyboard-wedge scanner: a fast key burst + Enter into the focused barcode entry."""
    rows = screen.cart_model.cart.item_count
    screen.entry.setFocus()
    qtbot.keyClicks(screen.entry, code)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: screen.cart_model.cart.item_count == rows + 1, timeout=10_000)
    assert screen.entry.text() == ""  # the scanner's characters did not stay in the entry


def attach_member(qtbot, win, text: str) -> None:
    panel = win.counter.member_panel
    qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F2)
    assert panel.search.hasFocus()
    with qtbot.wait_signal(panel.extras_loaded, timeout=10_000):
        qtbot.keyClicks(panel.search, text)
        qtbot.keyClick(panel.search, Qt.Key.Key_Return)


def dialog_of(qtbot, win, trigger, cls):
    dialogs: list = []
    win.counter.dialog_opened.connect(dialogs.append)
    trigger()
    qtbot.wait_until(lambda: bool(dialogs), timeout=5000)
    dlg = dialogs[-1]
    assert isinstance(dlg, cls)
    return dlg


def receipt_file(output_dir: Path, name: str, text: str) -> None:
    d = output_dir / "receipts"
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")


def test_member_sale_split_stored_value_and_cash(qtbot, open_counter, shop, printer, app,
                                                 dialogs, screenshots, output_dir,
                                                 assert_invariants) -> None:
    from client.counter.payment import PaymentDialog

    win = open_counter()
    screen = win.checkout
    wedge_scan(qtbot, screen, COLA)
    wedge_scan(qtbot, screen, COLA)
    wedge_scan(qtbot, screen, SHAMPOO)
    assert screen.totals.total.text() == "¥65.00"  # walk-in: 2 × 3.50 + 58.00
    # the member by the last 4 digits of the phone: level prices from the server
    attach_member(qtbot, win, "1234")
    panel = win.counter.member_panel
    assert panel.member is not None and panel.member.name == "张三"
    assert panel.stored_value.text() == "¥500.00" and panel.points.text() == "1000"
    assert "138****1234" in panel.phone.text()
    assert panel.cards_label.text().startswith("精剪5次卡 剩5次 至")
    assert panel.coupons_label.text().startswith("满50减10 满¥50.00可用")
    # cola: member price 3.00 beats 9折 3.15; shampoo 9折 52.20 → 58.20, priced by the server
    qtbot.wait_until(lambda: screen.totals.total.text() == "¥58.20", timeout=10_000)
    qtbot.wait_until(lambda: screen.totals.source.text() == "服务器计价", timeout=10_000)
    save_shot(win, screenshots / "counter_cart_member_1024x768.png")
    save_shot(panel, screenshots / "member_panel.png")

    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(lambda: dlg.server_quote is not None, timeout=10_000)
    assert dlg.total_label.text() == "¥58.20"
    qtbot.keyClicks(dlg.sv_amount, "30")
    assert dlg.remaining_label.text() == "¥28.20"
    qtbot.keyClicks(dlg.tendered, "30")
    assert dlg.remaining_label.text() == "¥0.00"
    assert dlg.change_label.text() == "¥1.80"
    assert dlg.change_label.font().pointSize() >= 36  # the change is shown LARGE
    assert dlg.confirm.isEnabled()
    save_shot(dlg, screenshots / "payment_dialog.png")
    sale_id = dlg.sale_id
    with qtbot.wait_signal(win.counter.devices_done, timeout=20_000) as done:
        qtbot.mouseClick(dlg.confirm, Qt.MouseButton.LeftButton)
    assert done.args[0].job.state == "printed" and done.args[0].drawer_error is None
    sale = win.counter.last_sale
    assert sale is not None and str(sale.id) == sale_id
    assert sale.total == 5820 and sale.change == 180
    # the counter is ready for the next customer
    assert screen.cart_model.rowCount() == 0 and panel.member is None
    assert "找零 ¥1.80" in screen.totals.last_sale.text()
    assert dialogs.errors == []

    # --- the database: sale, payments, ledgers
    factory = app.extensions["lanpos"].session_factory
    with factory() as db:
        row = db.scalars(select(Sale).where(Sale.uuid == sale_id)).one()
        assert (row.total, row.change, row.member_id, row.counter) == (
            5820, 180, shop["member"]["id"], "01")
        pays = {p.method: (p.amount, p.tendered, p.change) for p in
                db.scalars(select(SalePayment).where(SalePayment.sale_id == row.id))}
        assert pays == {"stored_value": (3000, None, 0), "cash": (2820, 3000, 180)}
        sv = db.scalars(select(StoredValueLedger).where(
            StoredValueLedger.member_id == shop["member"]["id"],
            StoredValueLedger.kind == "payment")).one()
        assert sv.principal_change == -3000 and sv.ref_id == sale_id
        m = db.get(Member, shop["member"]["id"])
        # 2 points per yuan on ¥58.20 → 116 points earned
        assert (m.sv_principal, m.points, m.total_spent) == (47000, 1116, 5820)
        earned = db.scalars(select(PointsLedger).where(
            PointsLedger.member_id == m.id, PointsLedger.kind == "earn")).one()
        assert earned.change == 116 and earned.ref_id == sale_id
        assert db.get(Product, shop["cola"]["id"]).stock == 18
        assert db.scalar(select(func.count()).select_from(Sale)) == 1
    assert_invariants()

    # --- the printer: a drawer kick (cash), then the receipt, GBK-decoded
    jobs = printer.wait_for_jobs(2)
    kicks = [decode(j, "gbk") for j in jobs if decode(j, "gbk").drawer_pins]
    assert len(kicks) == 1 and kicks[0].drawer_pins == [2]
    receipt = next(decode(j, "gbk") for j in jobs if decode(j, "gbk").lines)
    receipt_file(output_dir, "counter_sale_receipt.txt", receipt.text)
    # a GBK printer prints ¥ from its full-width glyph (A3A4), which decodes as ￥
    rows = [r.replace("￥", "¥") for r in receipt.texts]
    text = "\n".join(rows)
    assert "悦享生活馆" in text and "地址：幸福路 8 号" in text
    assert f"单号：{sale.number}" in rows
    cola = rows.index("可口可乐 330ml")  # a long name: the numbers on the next row
    assert rows[cola + 1].split() == ["2", "3.50", "6.00"]
    assert rows[cola + 2].split() == ["优惠", "-1.00"]
    assert rows[cola + 3].split() == ["洗发水", "1", "58.00", "52.20"]
    row_of = {r.split()[0]: r for r in rows if r.split()}
    assert row_of["合计"].endswith("¥58.20")
    assert row_of["储值"].endswith("¥30.00") and row_of["现金"].endswith("¥28.20")
    assert row_of["找零"].endswith("¥1.80")
    assert "会员：张三 138****1234" in rows and "13800001234" not in text
    assert row_of["储值余额"].endswith("¥470.00") and row_of["积分"].endswith("1116")
    assert "谢谢惠顾，欢迎再次光临！" in text
    assert [b.data for b in receipt.barcodes] == [sale.number]  # for refunds: scan it
    assert receipt.cuts and not receipt.drawer_pins


def test_serial_scanner_and_pole_display(qtbot, open_counter, shop, ptys) -> None:
    (scan_master, scan_port), (disp_master, disp_port) = ptys
    win = open_counter(scanner_port=scan_port, display_port=disp_port)
    devices = win.counter.devices
    qtbot.wait_until(lambda: devices.scanner is not None and devices.scanner.running,
                     timeout=5000)
    os.write(scan_master, COLA.encode() + b"\r")
    qtbot.wait_until(lambda: win.checkout.cart_model.rowCount() == 1, timeout=10_000)
    assert win.checkout.cart_model.cart.lines[0].name == "可口可乐 330ml"
    # the pole display shows the item (ASCII: pinyin) and its price
    seen = b""

    def shown(part: bytes) -> bool:
        nonlocal seen
        with contextlib.suppress(BlockingIOError):  # nothing written yet
            seen += os.read(disp_master, 4096)
        return part in seen

    os.set_blocking(disp_master, False)
    qtbot.wait_until(lambda: shown(b"KEKOUKELE 330ML"), timeout=5000)
    assert b"\\3.50" in seen  # ¥ is 0x5C in the display's Japan character set


def test_hold_and_resume(qtbot, open_counter, shop, app) -> None:
    from client.counter.held import HeldOrdersDialog

    win = open_counter()
    screen = win.checkout
    wedge_scan(qtbot, screen, COLA)
    wedge_scan(qtbot, screen, SHAMPOO)
    attach_member(qtbot, win, "zs")  # pinyin initials of 张三
    with qtbot.wait_signal(win.counter.held, timeout=10_000) as held:
        qtbot.keyClick(screen.entry, Qt.Key.Key_F4)
    assert screen.cart_model.rowCount() == 0 and win.counter.member_panel.member is None
    assert f"#{held.args[0].id}" in screen.status.text()
    with app.extensions["lanpos"].session_factory() as db:
        assert db.scalar(select(func.count()).select_from(HeldOrder)) == 1
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F5),
                    HeldOrdersDialog)
    qtbot.wait_until(lambda: dlg.table.rowCount() == 1, timeout=10_000)
    assert dlg.table.item(0, 3).text() == "张三"
    with qtbot.wait_signal(win.counter.resumed, timeout=10_000):
        qtbot.mouseClick(dlg.resume_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: screen.cart_model.rowCount() == 2, timeout=10_000)
    assert [ln.name for ln in screen.cart_model.cart.lines] == ["可口可乐 330ml", "洗发水"]
    qtbot.wait_until(lambda: win.counter.member_panel.member is not None, timeout=10_000)
    qtbot.wait_until(lambda: screen.totals.total.text() == "¥55.20", timeout=10_000)
    with app.extensions["lanpos"].session_factory() as db:
        assert db.scalar(select(func.count()).select_from(HeldOrder)) == 0


def test_refund_a_line_with_manager_approval(qtbot, open_counter, shop, client, cashier,
                                            manager, app, screenshots, dialogs) -> None:
    from client.counter.refund import RefundDialog
    from client.widgets.approval import ApprovalDialog

    sid = str(uuid.uuid4())
    r = client.post("/api/v1/sales", headers=cashier.write_headers(sid), json={
        "id": sid, "lines": [{"product_id": shop["cola"]["id"], "qty": 2},
                             {"product_id": shop["shampoo"]["id"], "qty": 1}],
        "payments": [{"method": "cash", "amount": 6500, "tendered": 10000}]})
    assert r.status_code == 201, r.get_json()
    number = r.get_json()["number"]
    win = open_counter()
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F6),
                    RefundDialog)
    # the receipt's barcode scanned into the open dialog (wedge burst) looks the sale up
    dlg.lookup.ref.setFocus()
    qtbot.wait_until(dlg.lookup.ref.hasFocus, timeout=5000)
    qtbot.keyClicks(dlg.lookup.ref, number)
    qtbot.keyClick(dlg.lookup.ref, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: dlg.sale is not None, timeout=10_000)
    assert win.checkout.cart_model.rowCount() == 0  # the scan did not go to the cart
    assert dlg.table.rowCount() == 2 and dlg.table.item(1, 0).text() == "洗发水"
    dlg.spins[1].setValue(1)
    assert dlg.amount.text() == "¥58.00"
    save_shot(dlg, screenshots / "refund_dialog.png")
    approvals: list = []
    dlg.finished.connect(lambda _r: None)
    qtbot.mouseClick(dlg.submit_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: isinstance(dlg.approval_dialog, ApprovalDialog), timeout=5000)
    appr = dlg.approval_dialog
    appr.approved.connect(approvals.append)
    qtbot.keyClicks(appr.username, "mgr")
    qtbot.keyClicks(appr.password, "wrong-password")
    qtbot.mouseClick(appr.ok, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(appr.error.text()) and appr.ok.isEnabled(), timeout=10_000)
    assert "密码" in appr.error.text() and not approvals  # the server's message
    qtbot.keyClicks(appr.password, TEST_PASSWORD)
    with qtbot.wait_signal(win.counter.refund_completed, timeout=10_000) as done:
        qtbot.mouseClick(appr.ok, Qt.MouseButton.LeftButton)
    res = done.args[0]
    assert res.total == 5800 and res.approved_by == "mgr"
    assert "已退款" in win.checkout.status.text()
    with app.extensions["lanpos"].session_factory() as db:
        rf = db.scalars(select(Refund)).one()
        assert rf.total == 5800 and rf.reason == "顾客退货"
        assert db.scalars(select(Sale)).one().refunded_total == 5800
        assert db.get(Product, shop["shampoo"]["id"]).stock == 5  # back on the shelf
    assert dialogs.errors == []


def test_server_error_shows_its_message(qtbot, open_counter, shop, client, manager, app,
                                        dialogs) -> None:
    from client.counter.payment import PaymentDialog

    win = open_counter()
    wedge_scan(qtbot, win.checkout, SHAMPOO)
    attach_member(qtbot, win, "1234")  # the panel shows ¥500.00 …
    # … then another counter spends it: the server has the last word
    _post(client, manager, f"/api/v1/members/{shop['member']['id']}/stored-value/adjustments",
          {"principal_change": -49000, "reason": "测试"})
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(lambda: dlg.server_quote is not None, timeout=10_000)
    qtbot.keyClicks(dlg.sv_amount, "52.20")
    qtbot.mouseClick(dlg.confirm, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(dialogs.errors), timeout=10_000)
    assert dialogs.errors[0].code == "insufficient_balance"
    assert "余额不足" in dialogs.error_texts[0] and "¥10.00" in dialogs.error_texts[0]
    assert "余额不足" in dlg.error.text() and dlg.isVisible()
    with app.extensions["lanpos"].session_factory() as db:
        assert db.scalar(select(func.count()).select_from(Sale)) == 0


def test_failed_print_is_kept_and_retried(qtbot, open_counter, shop, printer,
                                          screenshots) -> None:
    from client.counter.device_settings import PrintJobsDialog
    from client.counter.payment import PaymentDialog

    win = open_counter()
    printer.stop()  # the printer is switched off
    wedge_scan(qtbot, win.checkout, COLA)
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(lambda: dlg.confirm.isEnabled(), timeout=10_000)
    with qtbot.wait_signal(win.counter.devices_done, timeout=20_000) as done:
        qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)  # empty tendered = exact cash
    res = done.args[0]
    assert res.job.state == "failed" and "拒绝连接" in res.job.last_error
    assert res.drawer_error is not None  # the drawer hangs on the same printer
    status = win.checkout.status.text()
    assert "打印失败" in status and "打印任务" in status  # told, not blocked
    qtbot.wait_until(lambda: "失败 1" in win.counter.jobs_button.text(), timeout=5000)
    printer.start()  # back on (same port)
    jobs = dialog_of(qtbot, win, win.counter.jobs_button.click, PrintJobsDialog)
    qtbot.wait_until(lambda: jobs.table.rowCount() == 1, timeout=5000)
    assert jobs.table.item(0, 2).text() == "失败"
    save_shot(jobs, screenshots / "print_jobs.png")
    qtbot.mouseClick(jobs.retry_button, Qt.MouseButton.LeftButton)
    data = printer.wait_for_jobs(1, timeout=10)[0]
    assert win.counter.last_sale.number in decode(data, "gbk").text
    qtbot.wait_until(lambda: jobs.table.rowCount() == 0, timeout=5000)
    jobs.accept()
    qtbot.wait_until(lambda: "失败 0" in win.counter.jobs_button.text(), timeout=5000)
    assert win.counter.devices.jobs() == []


def test_shift_open_and_close_prints_the_report(qtbot, open_counter, shop, client, cashier,
                                                app, printer, screenshots,
                                                output_dir) -> None:
    from client.counter.shift import ShiftCloseDialog, ShiftOpenDialog

    # the shop fixture's shift (its ¥500 recharge and ¥120 card) is handed over first
    setup = client.get("/api/v1/shifts/current", headers=cashier.headers).get_json()
    _post(client, cashier, f"/api/v1/shifts/{setup['id']}/close",
          {"denominations": {10000: 6, 2000: 1}}, status=200)
    win = open_counter(focus=False)
    # no open shift at this counter: the cashier is asked for the float at login
    qtbot.wait_until(lambda: isinstance(win.counter.dialog, ShiftOpenDialog), timeout=10_000)
    opener = win.counter.dialog
    qtbot.wait_until(opener.float_amount.hasFocus, timeout=5000)
    qtbot.keyClicks(opener.float_amount, "200")
    qtbot.keyClick(opener.float_amount, Qt.Key.Key_Return)  # Enter opens the shift
    qtbot.wait_until(lambda: "备用金 ¥200.00" in win.counter.shift_label.text(), timeout=10_000)
    sid = str(uuid.uuid4())
    r = client.post("/api/v1/sales", headers=cashier.write_headers(sid), json={
        "id": sid, "lines": [{"product_id": shop["shampoo"]["id"], "qty": 1}],
        "payments": [{"method": "cash", "amount": 5800, "tendered": 10000}]})
    assert r.status_code == 201
    closer = dialog_of(qtbot, win, win.counter.acts["shift_close"].trigger, ShiftCloseDialog)
    qtbot.wait_until(lambda: closer.shift is not None, timeout=10_000)
    assert closer.expected.text() == "¥258.00"  # float 200 + cash 58
    closer.counts[10000].setValue(2)
    closer.counts[5000].setValue(1)
    closer.counts[500].setValue(1)
    closer.counts[100].setValue(2)
    assert closer.counted.text() == "¥257.00" and closer.difference.text() == "-¥1.00"
    save_shot(closer, screenshots / "shift_close.png")
    qtbot.mouseClick(closer.submit_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(printer.jobs), timeout=15_000)  # the event loop runs
    data = printer.wait_for_jobs(1)[0]
    report = decode(data, "gbk")
    receipt_file(output_dir, "shift_report.txt", report.text)
    assert "交班报表" in report.text and "悦享生活馆" in report.text
    row_of = {r.split()[0]: r.replace("￥", "¥") for r in report.texts if r.split()}
    assert row_of["应有现金"].endswith("¥258.00") and row_of["实点现金"].endswith("¥257.00")
    assert row_of["差额"].endswith("-¥1.00")
    with app.extensions["lanpos"].session_factory() as db:
        fixture_shift, shift = db.scalars(select(Shift).order_by(Shift.id)).all()
        assert fixture_shift.id == setup["id"] and fixture_shift.difference == 0
        assert shift.status == "closed" and shift.counted_cash == 25700
    assert "差额 -¥1.00" in win.checkout.status.text()


def test_drawer_button_is_for_managers_and_audited(qtbot, open_counter, shop, manager,
                                                   printer, app, dialogs) -> None:
    win = open_counter("cash")
    assert not win.counter.acts["drawer"].isEnabled()
    win.close()
    mwin = open_counter("mgr")
    assert mwin.counter.acts["drawer"].isEnabled()
    mwin.counter.acts["drawer"].trigger()
    qtbot.wait_until(lambda: bool(printer.jobs) or bool(dialogs.errors), timeout=10_000)
    assert dialogs.errors == []
    data = printer.wait_for_jobs(1, timeout=10)[0]
    assert decode(data, "gbk").drawer_pins == [2]
    qtbot.wait_until(lambda: "钱箱已打开" in mwin.checkout.status.text(), timeout=5000)
    with app.extensions["lanpos"].session_factory() as db:
        rows = db.scalars(select(AuditLog).where(AuditLog.action == "drawer.open")).all()
        assert [(r.username, r.counter) for r in rows] == [("mgr", "01")]


def test_device_settings_test_page_and_save(qtbot, open_counter, shop, printer) -> None:
    from client.counter.device_settings import DeviceSettingsDialog

    win = open_counter()
    saved: list = []
    win.counter.settings_changed.connect(saved.append)
    dlg = dialog_of(qtbot, win, win.counter.acts["devices"].trigger, DeviceSettingsDialog)
    assert dlg.host.text() == "127.0.0.1" and dlg.port.value() == printer.port
    dlg.width_combo.setCurrentIndex(dlg.width_combo.findData(48))
    qtbot.mouseClick(dlg.test_button, Qt.MouseButton.LeftButton)
    page = decode(printer.wait_for_jobs(1, timeout=10)[0], "gbk")
    assert "打印测试页 TEST" in page.text and "金额：￥123.45 ￥67.80" in page.text
    qtbot.wait_until(lambda: "已发送" in dlg.error.text(), timeout=5000)
    dlg.save()
    assert saved and saved[0].extra["devices"]["width"] == 48
    qtbot.wait_until(lambda: win.counter.devices.settings.width == 48, timeout=5000)


def test_english_and_full_hd(qtbot, open_counter, shop, screenshots) -> None:
    from client import i18n

    i18n.set_language(i18n.EN)
    win = open_counter(size=(1920, 1080))
    wedge_scan(qtbot, win.checkout, COLA)
    keys = [b.text() for b in win.checkout.findChildren(QtWidgets.QToolButton)
            if b.objectName().startswith("key_")]
    assert "F9 Pay" in keys and "F6 Refund" in keys and "F4 Hold" in keys
    assert win.counter.menu.title() == "&Operations"
    save_shot(win, screenshots / "counter_en_1920x1080.png")


def test_count_card_and_coupon_at_payment(qtbot, open_counter, shop, app) -> None:
    from client.counter.payment import PaymentDialog
    from server.db.members import Coupon, MemberCountCard

    win = open_counter()
    screen = win.checkout
    wedge_scan(qtbot, screen, SHAMPOO)
    screen.entry.setText(HAIRCUT)  # typed by hand (too short for a wedge burst)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: screen.cart_model.rowCount() == 2, timeout=10_000)
    attach_member(qtbot, win, "1234")
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(lambda: dlg.server_quote is not None, timeout=10_000)
    assert dlg.total_label.text() == "¥79.20"  # 9折: 52.20 + 27.00
    (row, box, card) = dlg.card_boxes[0]
    assert row == 1 and "精剪5次卡" in box.text()
    box.setChecked(True)  # the haircut paid by one use of the count card
    qtbot.wait_until(lambda: dlg.server_quote is not None
                     and dlg.total_label.text() == "¥52.20", timeout=10_000)
    dlg.coupon_combo.setCurrentIndex(1)  # 满50减10
    qtbot.wait_until(lambda: dlg.server_quote is not None
                     and dlg.total_label.text() == "¥42.20", timeout=10_000)
    with qtbot.wait_signal(win.counter.sale_completed, timeout=20_000) as done:
        qtbot.keyClicks(dlg.tendered, "50")
        assert dlg.change_label.text() == "¥7.80"
        qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)
    sale = done.args[0]
    assert sale.total == 4220 and sale.change == 780
    assert sale.member.count_cards[0]["remaining_uses"] == 4
    with app.extensions["lanpos"].session_factory() as db:
        assert db.get(MemberCountCard, card.id).remaining_uses == 4
        assert db.scalars(select(Coupon)).one().status == "redeemed"


def test_discount_above_limit_needs_manager_approval(qtbot, open_counter, shop, manager,
                                                     app) -> None:
    from client.counter.controller import DiscountDialog
    from client.counter.payment import PaymentDialog
    from client.widgets.approval import ApprovalDialog

    win = open_counter()
    screen = win.checkout
    wedge_scan(qtbot, screen, SHAMPOO)
    disc = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F3),
                     DiscountDialog)
    disc.percent.setValue(20)  # a cashier may give 10%
    disc.accept()
    assert screen.totals.total.text() == "¥46.40"  # local preview
    qtbot.wait_until(lambda: "店长" in screen.status.text(), timeout=10_000)  # server says no
    win.activateWindow()  # the discount dialog is gone: the counter has the keyboard again
    qtbot.wait_until(screen.entry.hasFocus, timeout=5000)
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(screen.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(lambda: isinstance(dlg.approval_dialog, ApprovalDialog), timeout=10_000)
    assert not dlg.confirm.isEnabled()
    appr = dlg.approval_dialog
    qtbot.keyClicks(appr.username, "mgr")
    qtbot.keyClicks(appr.password, TEST_PASSWORD)
    qtbot.mouseClick(appr.ok, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: dlg.confirm.isEnabled(), timeout=10_000)
    assert dlg.total_label.text() == "¥46.40"
    with qtbot.wait_signal(win.counter.sale_completed, timeout=20_000) as done:
        qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)
    assert done.args[0].approved_by == "mgr" and done.args[0].total == 4640


def test_stored_value_pin(qtbot, open_counter, shop, client, cashier, app) -> None:
    from client.counter.payment import PaymentDialog

    r = client.put(f"/api/v1/members/{shop['member']['id']}/pin", json={"pin": "2468"},
                   headers=cashier.write_headers())
    assert r.status_code == 200, r.get_json()
    win = open_counter()
    wedge_scan(qtbot, win.checkout, SHAMPOO)
    attach_member(qtbot, win, "1234")
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(lambda: dlg.server_quote is not None, timeout=10_000)
    assert dlg.pin.isHidden()
    qtbot.mouseClick(dlg.findChild(QtWidgets.QPushButton, "payAllStoredValue"),
                     Qt.MouseButton.LeftButton)
    assert dlg.sv_amount.fen() == 5220 and not dlg.pin.isHidden()  # above the threshold
    qtbot.keyClicks(dlg.pin, "1111")
    qtbot.mouseClick(dlg.confirm, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: "密码" in dlg.error.text() and not dlg.busy, timeout=10_000)
    assert dlg.isVisible() and dlg.pin.text() == ""  # cleared for another try
    qtbot.keyClicks(dlg.pin, "2468")
    with qtbot.wait_signal(win.counter.sale_completed, timeout=20_000) as done:
        qtbot.mouseClick(dlg.confirm, Qt.MouseButton.LeftButton)
    assert done.args[0].member.stored_value == 50000 - 5220
