"""Serving staff (技师 / 导购) on a cart line and count cards (次卡) sold at the counter: the real
client against the real server (live waitress + MariaDB), the printer at the wire. Checked
where things end up: the commission ledger, the held order's payload, the stored value, the
shift's expected cash and the printed slips."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from client.counter.cart import ServingShare
from client.counter.sell_card import SellCardDialog
from client.counter.serving_staff import ServingStaffDialog
from client.devices.facade import DeviceService
from client.qt import Qt, QtWidgets
from client.shell.main_window import MainWindow
from client.widgets.context import SessionInfo
from common.schemas.base import Role
from common.serving import equal_shares, parse_percent, percent_text, shares_complete
from server.db.members import CountCardLedger, Member, MemberCountCard
from server.db.sales import CommissionLedger, HeldOrder, Sale
from tests.conftest import TEST_PASSWORD, open_shift
from tests.support.escpos_decoder import decode

from .conftest import FakeClock, device_settings, save_shot
from .test_counter_flows import attach_member, dialog_of, receipt_file, wedge_scan

WASH, CONDITIONER = "S1001", "6900000000024"
HUMAN_MS = 150  # between a person's key presses (a scanner: under 50)


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


@pytest.fixture
def salon(client, owner, manager, cashier, make_staff) -> dict:
    """A salon: a service with a 20 % commission, a product with ¥2 per unit for the 导购, two
    stylists, a member with ¥500 stored value and a PIN, a count-card template; the counter's
    shift is open (float ¥100)."""
    wash = _post(client, manager, "/api/v1/products", {
        "name": "洗剪吹", "kind": "service", "price": 8800, "barcodes": [WASH],
        "commission_kind": "percent", "commission_value": 2000})
    conditioner = _post(client, manager, "/api/v1/products", {
        "name": "护发素", "price": 4500, "barcodes": [CONDITIONER], "track_stock": True,
        "opening_stock": 10, "commission_kind": "fixed", "commission_value": 200})
    staff = {}
    for username, name in (("amei", "阿美"), ("xiaobo", "小波")):
        s = make_staff(Role.CASHIER, username)
        r = client.patch(f"/api/v1/staff/{s.id}", json={"display_name": name},
                         headers=manager.write_headers())
        assert r.status_code == 200, r.get_json()
        staff[name] = s.id
    shift = open_shift(client, cashier, 10000)
    member = _post(client, cashier, "/api/v1/members", {"name": "张三", "phone": "13800001234"})
    _post(client, cashier, f"/api/v1/members/{member['id']}/recharges",
          {"amount": 50000, "method": "wechat"})
    r = client.put(f"/api/v1/members/{member['id']}/pin", json={"pin": "2468"},
                   headers=cashier.write_headers())
    assert r.status_code == 200, r.get_json()
    template = _post(client, manager, "/api/v1/count-card-templates", {
        "name": "洗剪吹10次卡", "product_id": wash["id"], "service_name": "洗剪吹", "uses": 10,
        "validity_days": 365, "price": 38000})
    _post(client, manager, "/api/v1/count-card-templates", {
        "name": "旧卡（停售）", "service_name": "洗剪吹", "uses": 3, "price": 100,
        "active": False})
    r = client.put("/api/v1/settings/shop", headers=owner.write_headers(), json={
        "name": "美发沙龙", "receipt_footer": ["谢谢光临"]})
    assert r.status_code == 200, r.get_json()
    return {"wash": wash, "conditioner": conditioner, "staff": staff, "member": member,
            "template": template, "shift": shift}


@pytest.fixture
def counter(qtbot, services, printer, tmp_path, qapp, salon):
    """The cashier's counter (``cash`` at counter 01), 1024×768, a network printer."""
    from client.devices.wedge import WedgeScanFilter

    clock = FakeClock(HUMAN_MS)  # a person types; ``scan`` makes a scanner's burst
    wedge = WedgeScanFilter(clock=clock)
    qapp.installEventFilter(wedge)
    res = services.api.login("cash", TEST_PASSWORD)
    services.devices = DeviceService(device_settings(printer), tmp_path / "spool")
    win = MainWindow(services, SessionInfo(res.staff, res.counter), scan_source=wedge)
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.wait_exposed(win)
    win.activateWindow()
    win.checkout.entry.setFocus()
    qtbot.wait_until(win.checkout.entry.hasFocus, timeout=5000)
    qtbot.wait_until(lambda: win.counter.shift is not None, timeout=10_000)
    win.test_clock = clock
    yield win
    win.counter.shutdown()
    qapp.removeEventFilter(wedge)


def scan(qtbot, win, code: str) -> None:
    """A wedge scanner's burst (4 ms a key) into the barcode entry."""
    win.test_clock.step = 4
    try:
        wedge_scan(qtbot, win.checkout, code)
    finally:
        win.test_clock.step = HUMAN_MS


def activate(qtbot, dlg) -> None:
    """A dialog opened after another one closed is not made the active window offscreen."""
    dlg.activateWindow()
    qtbot.wait_until(dlg.isActiveWindow, timeout=5000)


def refocus(qtbot, win) -> None:
    """The offscreen platform does not give the window back its activation when a dialog
    closes (a desktop does): the function keys need the focus in the checkout."""
    win.activateWindow()
    win.checkout.entry.setFocus()
    qtbot.wait_until(win.checkout.entry.hasFocus, timeout=5000)


def attach(qtbot, win, text: str) -> None:
    refocus(qtbot, win)
    attach_member(qtbot, win, text)


def press(qtbot, win, key) -> None:
    """A function key at the checkout (the focus back in it first)."""
    refocus(qtbot, win)
    qtbot.keyClick(win.checkout.entry, key)


def open_picker(qtbot, win) -> ServingStaffDialog:
    dlg = dialog_of(qtbot, win, lambda: press(qtbot, win, Qt.Key.Key_F10), ServingStaffDialog)
    qtbot.wait_until(lambda: bool(dlg.staff), timeout=10_000)
    activate(qtbot, dlg)
    assert dlg.filter.hasFocus()
    return dlg


def number_of(dlg: ServingStaffDialog, name: str) -> int:
    return next(i for i, s in enumerate(dlg.staff, start=1) if s.display_name == name)


def visible_names(dlg: ServingStaffDialog) -> list[str]:
    return [it.text().split(maxsplit=1)[1] for it in dlg._items() if not it.isHidden()]


# -- pure rules --------------------------------------------------------------------------------
def test_shares_split_equally_and_read_as_percentages() -> None:
    assert equal_shares(1) == [10000]
    assert equal_shares(2) == [5000, 5000]
    assert equal_shares(3) == [3334, 3333, 3333]  # the leftover to the first
    assert sum(equal_shares(7)) == 10000 and equal_shares(0) == []
    assert [percent_text(b) for b in (6000, 3334, 3330, 5)] == ["60%", "33.34%", "33.3%",
                                                                 "0.05%"]
    assert [parse_percent(t) for t in ("60", "60%", "33.34", " 0.5 ", "100")] == [
        6000, 6000, 3334, 50, 10000]
    assert [parse_percent(t) for t in ("", "abc", "101", "33.333", "-5", "1e2")] == [None] * 6
    assert shares_complete([6000, 4000]) and not shares_complete([6000, 3000])
    assert not shares_complete([10000, 0]) and not shares_complete([])


# -- serving staff ------------------------------------------------------------------------------
def test_two_stylists_on_a_line_earn_their_commission(qtbot, counter, salon, printer, app,
                                                      dialogs, screenshots, output_dir,
                                                      assert_invariants) -> None:
    from client.counter.payment import PaymentDialog

    win, screen = counter, counter.checkout
    a, b = salon["staff"]["阿美"], salon["staff"]["小波"]
    assert screen.actions["staff"].isEnabled() and screen.actions["staff"].text() == (
        "F10 服务人员")
    scan(qtbot, win, WASH)

    # F10: pinyin initials filter, Space ticks, a second name: shares split equally
    dlg = open_picker(qtbot, win)
    assert "洗剪吹" in dlg.findChild(QtWidgets.QLabel, "servingLine").text()
    qtbot.keyClicks(dlg.filter, "am")
    assert visible_names(dlg) == ["阿美"]
    qtbot.keyClick(dlg.filter, Qt.Key.Key_Space)
    assert dlg.picked == [a] and dlg.filter.text() == ""  # ready for the next name
    qtbot.keyClicks(dlg.filter, "xb")
    qtbot.keyClick(dlg.filter, Qt.Key.Key_Space)
    assert dlg.picked == [a, b]
    assert [e.text() for e in dlg.share_edits.values()] == ["50", "50"]
    assert dlg.total.text() == "合计 100%" and dlg.ok.isEnabled()
    # 60 / 40 typed; 60 / 50 is refused until it makes 100 %
    edit_a, edit_b = dlg.share_edits[a], dlg.share_edits[b]
    edit_a.selectAll()
    qtbot.keyClicks(edit_a, "60")
    assert dlg.total.text() == "合计 110%" and not dlg.ok.isEnabled()
    edit_b.selectAll()
    qtbot.keyClicks(edit_b, "40")
    assert dlg.total.text() == "合计 100%" and dlg.ok.isEnabled()
    save_shot(dlg, screenshots / "serving_staff_picker.png")
    with qtbot.wait_signal(dlg.chosen, timeout=5000) as chosen:
        qtbot.keyClick(edit_b, Qt.Key.Key_Return)
    assert chosen.args[0] == [ServingShare(a, "阿美", 6000), ServingShare(b, "小波", 4000)]
    model = screen.cart_model
    staff_col = model.COLUMNS.index("staff")
    assert model.headerData(staff_col, Qt.Orientation.Horizontal) == "服务人员"
    assert model.data(model.index(0, staff_col)) == "阿美 60%、小波 40%"

    # the product for the 导购: her number typed, Space, Enter (one name: 100 %)
    scan(qtbot, win, CONDITIONER)
    screen.table.selectRow(1)
    dlg = open_picker(qtbot, win)
    qtbot.keyClicks(dlg.filter, str(number_of(dlg, "小波")))
    assert visible_names(dlg) == ["小波"]
    qtbot.keyClick(dlg.filter, Qt.Key.Key_Space)
    with qtbot.wait_signal(dlg.chosen, timeout=5000):
        qtbot.keyClick(dlg.filter, Qt.Key.Key_Return)
    assert model.data(model.index(1, staff_col)) == "小波"
    assert model.cart.to_cart_in()["lines"] == [
        {"product_id": salon["wash"]["id"], "qty": 1,
         "staff": [{"staff_id": a, "share_bp": 6000}, {"staff_id": b, "share_bp": 4000}]},
        {"product_id": salon["conditioner"]["id"], "qty": 1,
         "staff": [{"staff_id": b, "share_bp": 10000}]}]
    save_shot(win, screenshots / "counter_serving_staff_1024x768.png")

    # pay cash; the server writes the commission from the products' rules
    pay = dialog_of(qtbot, win, lambda: press(qtbot, win, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(lambda: pay.server_quote is not None and pay.confirm.isEnabled(),
                     timeout=10_000)
    assert pay.server_quote.total == 13300
    with qtbot.wait_signal(win.counter.devices_done, timeout=20_000):
        qtbot.mouseClick(pay.confirm, Qt.MouseButton.LeftButton)
    sale = win.counter.last_sale
    assert sale is not None and dialogs.errors == []
    assert [[(s.staff_id, s.share_bp, s.name) for s in ln.staff] for ln in sale.lines] == [
        [(a, 6000, "阿美"), (b, 4000, "小波")], [(b, 10000, "小波")]]
    with app.extensions["lanpos"].session_factory() as db:
        row = db.scalars(select(Sale).where(Sale.uuid == str(sale.id))).one()
        ledger = sorted((c.staff_id, c.base_amount, c.amount) for c in db.scalars(
            select(CommissionLedger).where(CommissionLedger.sale_id == row.id)))
    # 20 % of ¥88.00 = ¥17.60: A ¥10.56, B ¥7.04; the conditioner ¥2.00 to B
    assert ledger == sorted([(a, 8800, 1056), (b, 8800, 704), (b, 4500, 200)])
    assert row.shift_id == salon["shift"]["id"]
    assert_invariants()

    # the receipt names who served each line
    jobs = printer.wait_for_jobs(2)
    receipt = next(decode(j, "gbk") for j in jobs if decode(j, "gbk").lines)
    receipt_file(output_dir, "serving_staff_receipt.txt", receipt.text)
    rows = receipt.texts
    assert "洗剪吹（服务：阿美、小波）" in rows and "护发素（服务：小波）" in rows


def test_picker_keys_clear_and_cancel(qtbot, counter, salon) -> None:
    win, screen = counter, counter.checkout
    a = salon["staff"]["阿美"]
    scan(qtbot, win, WASH)
    dlg = open_picker(qtbot, win)
    # ↓/↑ move, Space ticks the current name, a click ticks and unticks
    qtbot.keyClicks(dlg.filter, "am")
    qtbot.keyClick(dlg.filter, Qt.Key.Key_Space)
    assert dlg.picked == [a]
    other = next(it for it in dlg._items() if not it.text().endswith("阿美"))
    rect = dlg.list.visualItemRect(other)
    qtbot.mouseClick(dlg.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    oid = other.data(Qt.ItemDataRole.UserRole)
    assert dlg.picked == [a, oid] and other.checkState() == Qt.CheckState.Checked
    qtbot.mouseClick(dlg.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dlg.picked == [a] and other.checkState() == Qt.CheckState.Unchecked
    items = dlg._items()
    dlg.list.setCurrentItem(items[0])
    qtbot.keyClick(dlg.filter, Qt.Key.Key_Down)
    assert dlg.list.currentItem() is items[1]
    qtbot.keyClick(dlg.filter, Qt.Key.Key_Up)
    assert dlg.list.currentItem() is items[0]
    # a bad percentage is named, not guessed
    edit = dlg.share_edits[dlg.picked[0]]
    edit.selectAll()
    qtbot.keyClicks(edit, "abc")
    assert "百分比" in dlg.total.text() and not dlg.ok.isEnabled()
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # refused: the dialog stays
    assert dlg.isVisible()
    # Esc cancels: the line is unchanged
    qtbot.keyClick(dlg.filter, Qt.Key.Key_Escape)
    qtbot.wait_until(lambda: not dlg.isVisible(), timeout=5000)
    assert screen.cart_model.cart.lines[0].staff == ()
    # set one, then 不指定 takes it off again
    dlg = open_picker(qtbot, win)
    qtbot.keyClicks(dlg.filter, "am")
    qtbot.keyClick(dlg.filter, Qt.Key.Key_Space)
    qtbot.keyClick(dlg.filter, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: screen.cart_model.cart.lines[0].staff != (), timeout=5000)
    assert "洗剪吹：阿美" in screen.status.text()
    dlg = open_picker(qtbot, win)
    assert dlg.picked == [a]  # the line's staff come ticked
    qtbot.mouseClick(dlg.none_button, Qt.MouseButton.LeftButton)
    assert dlg.picked == [] and dlg.total.text() == "未指定服务人员"
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: screen.cart_model.cart.lines[0].staff == (), timeout=5000)


def test_touch_button_and_held_order_keep_the_staff(qtbot, counter, salon, app) -> None:
    from client.counter.held import HeldOrdersDialog

    win, screen = counter, counter.checkout
    a, b = salon["staff"]["阿美"], salon["staff"]["小波"]
    scan(qtbot, win, WASH)
    button = screen.findChild(QtWidgets.QToolButton, "key_staff")
    assert button is not None and button.height() >= 48 and "服务人员" in button.text()
    dlg = dialog_of(qtbot, win, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton),
                    ServingStaffDialog)
    qtbot.wait_until(lambda: bool(dlg.staff), timeout=10_000)
    for name in ("阿美", "小波"):
        item = next(it for it in dlg._items() if it.text().endswith(name))
        qtbot.mouseClick(dlg.list.viewport(), Qt.MouseButton.LeftButton,
                         pos=dlg.list.visualItemRect(item).center())
    assert dlg.picked == [a, b]
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: len(screen.cart_model.cart.lines[0].staff) == 2, timeout=5000)

    with qtbot.wait_signal(win.counter.held, timeout=10_000):
        press(qtbot, win, Qt.Key.Key_F4)
    with app.extensions["lanpos"].session_factory() as db:
        held = db.scalars(select(HeldOrder)).one()
        assert held.payload["lines"][0]["staff"] == [{"staff_id": a, "share_bp": 5000},
                                                     {"staff_id": b, "share_bp": 5000}]
    res = dialog_of(qtbot, win, lambda: press(qtbot, win, Qt.Key.Key_F5),
                    HeldOrdersDialog)
    qtbot.wait_until(lambda: res.table.rowCount() == 1, timeout=10_000)
    with qtbot.wait_signal(win.counter.resumed, timeout=10_000):
        qtbot.mouseClick(res.resume_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: screen.cart_model.rowCount() == 1, timeout=10_000)
    assert screen.cart_model.cart.lines[0].staff == (
        ServingShare(a, "阿美", 5000), ServingShare(b, "小波", 5000))
    model = screen.cart_model
    assert model.data(model.index(0, model.COLUMNS.index("staff"))) == "阿美 50%、小波 50%"


# -- count cards ---------------------------------------------------------------------------------
def open_sell_card(qtbot, win, trigger) -> SellCardDialog:
    dlg = dialog_of(qtbot, win, trigger, SellCardDialog)
    qtbot.wait_until(lambda: bool(dlg.templates), timeout=10_000)
    activate(qtbot, dlg)
    return dlg


def test_sell_a_count_card_by_stored_value_with_pin(qtbot, counter, salon, app, printer,
                                                    screenshots, output_dir,
                                                    assert_invariants) -> None:
    win = counter
    panel = win.counter.member_panel
    mid = salon["member"]["id"]
    attach(qtbot, win, "1234")
    assert panel.cards_label.text() == "无" or "次卡" not in panel.cards_label.text()
    dlg = open_sell_card(qtbot, win, lambda: qtbot.mouseClick(panel.sell_card_button,
                                                              Qt.MouseButton.LeftButton))
    # only the active template; its price and uses
    assert [t.name for t in dlg.templates] == ["洗剪吹10次卡"]
    assert dlg.list.item(0).text() == "洗剪吹10次卡　¥380.00　10 次　有效期 365 天"
    assert dlg.price.text() == "¥380.00" and dlg.uses.text() == "洗剪吹 10 次"
    assert dlg.submit_button.text() == "确认收款 ¥380.00（现金）"
    # 5 = stored value: the member has a PIN and the shop asks for it above ¥0
    dlg.list.setFocus()
    qtbot.keyClick(dlg.list, Qt.Key.Key_5)
    assert dlg.method == "stored_value" and dlg.pin.isVisible()
    assert not dlg.submit_button.isEnabled() and "支付密码" in dlg.error.text()
    save_shot(dlg, screenshots / "sell_count_card_dialog.png")
    qtbot.keyClicks(dlg.pin, "1111")  # wrong: the server says so, nothing is sold
    assert dlg.submit_button.isEnabled()
    qtbot.keyClick(dlg.pin, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: "密码" in dlg.error.text() and not dlg.busy, timeout=10_000)
    assert dlg.isVisible() and dlg.pin.text() == "" and dlg.pin.hasFocus()
    with app.extensions["lanpos"].session_factory() as db:
        assert db.scalars(select(MemberCountCard)).first() is None
    qtbot.keyClicks(dlg.pin, "2468")
    with qtbot.wait_signal(win.counter.card_sold, timeout=10_000) as sold:
        qtbot.keyClick(dlg.pin, Qt.Key.Key_Return)
    card = sold.args[0]
    assert (card.name, card.remaining_uses, card.price, card.method) == (
        "洗剪吹10次卡", 10, 38000, "stored_value")
    assert "已为 张三 售出“洗剪吹10次卡” ¥380.00，剩 10 次" in win.checkout.status.text()
    # the panel shows the new card and the stored value after it
    qtbot.wait_until(lambda: panel.stored_value.text() == "¥120.00", timeout=10_000)
    qtbot.wait_until(lambda: panel.cards_label.text().startswith("洗剪吹10次卡 剩10次"),
                     timeout=10_000)
    save_shot(panel, screenshots / "member_panel_count_card.png")
    with app.extensions["lanpos"].session_factory() as db:
        m = db.get(Member, mid)
        assert m.sv_principal == 12000
        cards = list(db.scalars(select(MemberCountCard).where(MemberCountCard.member_id == mid)))
        assert len(cards) == 1 and cards[0].remaining_uses == 10
    assert_invariants()
    # the slip: no drawer for stored value
    jobs = printer.wait_for_jobs(1)
    slip = decode(jobs[0], "gbk")
    receipt_file(output_dir, "count_card_slip_stored_value.txt", slip.text)
    rows = [r.replace("￥", "¥") for r in slip.texts]
    assert "次卡购买凭证" in rows and "次卡：洗剪吹10次卡" in rows
    assert "会员：张三 138****1234" in rows
    row_of = {r.split()[0]: r for r in rows if r.split()}
    assert row_of["次数"].endswith("10 次") and row_of["金额"].endswith("¥380.00")
    assert row_of["支付方式"].endswith("储值")
    assert not slip.drawer_pins


def test_sell_a_count_card_for_cash_goes_to_the_shift(qtbot, counter, salon, app, client,
                                                      cashier, printer, dialogs,
                                                      screenshots) -> None:
    win = counter
    attach(qtbot, win, "1234")
    # from the 收银操作 menu
    act = win.counter.acts["sell_card"]
    assert act.text() == "售次卡…"
    dlg = open_sell_card(qtbot, win, act.trigger)
    assert dlg.method == "cash" and dlg.cash.isVisible() and not dlg.pin.isVisible()
    # quick cash from the price: exact, then the next ¥10 / ¥50 / ¥100 above it
    assert [q.text() for q in dlg.quick if q.isVisible()] == [
        "¥380.00", "¥390.00", "¥400.00", "¥500.00"]
    qtbot.mouseClick(dlg.quick[2], Qt.MouseButton.LeftButton)
    assert dlg.cash.fen() == 40000 and dlg.change.text() == "¥20.00"
    dlg.cash.setText("300")
    assert not dlg.submit_button.isEnabled() and "不足" in dlg.error.text()
    dlg.cash.setText("400")
    save_shot(win, screenshots / "sell_count_card_1024x768.png")
    save_shot(dlg, screenshots / "sell_count_card_cash.png")
    assert dlg.width() <= 1024 and dlg.height() <= 768
    with qtbot.wait_signal(win.counter.card_sold, timeout=10_000):
        qtbot.keyClick(dlg.cash, Qt.Key.Key_Return)
    assert dialogs.errors == []
    # the shift counts the card's cash
    rep = client.get("/api/v1/shifts/current", headers=cashier.headers).get_json()
    assert rep["count_cards_by_method"] == {"cash": 38000} and rep["count_cards_count"] == 1
    assert rep["expected_cash"] == 10000 + 38000  # the float + the card (the top-up: WeChat)
    # the slip with tendered and change, and the drawer opens for cash
    jobs = printer.wait_for_jobs(2)
    decoded = [decode(j, "gbk") for j in jobs]
    assert any(d.drawer_pins == [2] for d in decoded)
    slip = next(d for d in decoded if d.lines)
    rows = [r.replace("￥", "¥") for r in slip.texts]
    row_of = {r.split()[0]: r for r in rows if r.split()}
    assert row_of["支付方式"].endswith("现金")
    assert row_of["实收现金"].endswith("¥400.00") and row_of["找零"].endswith("¥20.00")


def test_count_card_needs_a_member_and_is_used_at_payment(qtbot, counter, salon, app,
                                                        dialogs) -> None:
    from client.counter.payment import PaymentDialog

    win, screen = counter, counter.checkout
    panel = win.counter.member_panel
    act = win.counter.acts["sell_card"]
    act.trigger()  # nobody attached: the cashier is sent to the member search
    assert "会员" in screen.status.text() and panel.search.hasFocus()
    attach(qtbot, win, "1234")
    dlg = open_sell_card(qtbot, win, act.trigger)
    dlg.list.setFocus()
    qtbot.keyClick(dlg.list, Qt.Key.Key_3)  # WeChat: a reference
    assert dlg.method == "wechat" and dlg.reference.isVisible() and not dlg.cash.isVisible()
    qtbot.keyClicks(dlg.reference, "4200001234")
    assert dlg.submit_button.text() == "确认收款 ¥380.00（微信）"
    with qtbot.wait_signal(win.counter.card_sold, timeout=10_000):
        qtbot.mouseClick(dlg.submit_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(panel.count_cards), timeout=10_000)

    # the card pays a service at checkout (PaymentDialog's count-card box)
    scan(qtbot, win, WASH)
    pay = dialog_of(qtbot, win, lambda: press(qtbot, win, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(lambda: pay.server_quote is not None, timeout=10_000)
    box = pay.findChild(type(pay.card_boxes[0][1]), "useCard0")
    assert box is not None
    box.setChecked(True)
    qtbot.wait_until(lambda: pay.server_quote is not None and pay.server_quote.total == 0,
                     timeout=10_000)
    qtbot.wait_until(pay.confirm.isEnabled, timeout=10_000)
    with qtbot.wait_signal(win.counter.sale_completed, timeout=20_000):
        qtbot.mouseClick(pay.confirm, Qt.MouseButton.LeftButton)
    assert dialogs.errors == []
    # the member again: 9 uses left
    attach(qtbot, win, "1234")
    qtbot.wait_until(lambda: panel.cards_label.text().startswith("洗剪吹10次卡 剩9次"),
                     timeout=10_000)
    with app.extensions["lanpos"].session_factory() as db:
        uses = [e.change for e in db.scalars(select(CountCardLedger).order_by(
            CountCardLedger.id))]
        assert uses == [10, -1]
