"""The payment dialog and the cash recharge against the real server (live waitress +
MariaDB), in real Qt: quick cash that fits the bill, Enter after a quick-cash click, the
whole-order discount in 折 through the server's quote, 抹零 by the shop's rule, the PIN rule,
scan-to-pay codes, keys that do not reach the main window, and the recharge's two steps."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from client.counter.cart import Cart
from client.counter.checkout import CartModel
from client.counter.payment import PaymentDialog
from client.counter.receipts import sale_document
from client.counter.recharge import RechargeDialog
from client.devices.wedge import WedgeScanFilter
from client.qt import Qt, QtWidgets
from common.schemas.members import MembershipSettings
from common.schemas.shop import ShopSettingsOut
from server.db.members import StoredValueLedger
from server.db.sales import Sale, SalePayment
from tests.conftest import TEST_PASSWORD, open_shift

from .conftest import save_shot

BIG, SHAMPOO = "6900000038072", "6900000000017"
WECHAT_CODE = "134567890123456789"
ALIPAY_CODE = "284567890123456789"


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


class FakeClock:
    """Milliseconds advancing ``step`` per key: a keyboard-wedge scanner's burst."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 10_000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def shop(client, owner, manager, cashier) -> dict:
    """A ¥380.72 hamper, a ¥58.00 shampoo, a member with ¥500 stored value and 1000 points;
    the counter's shift is open."""
    open_shift(client, cashier)
    big = _post(client, manager, "/api/v1/products", {
        "name": "节日礼篮", "price": 38072, "barcodes": [BIG]})
    shampoo = _post(client, manager, "/api/v1/products", {
        "name": "洗发水", "price": 5800, "barcodes": [SHAMPOO]})
    member = _post(client, cashier, "/api/v1/members", {"name": "张三", "phone": "13800001234"})
    _post(client, cashier, f"/api/v1/members/{member['id']}/recharges",
          {"amount": 50000, "method": "cash"})
    _post(client, manager, f"/api/v1/members/{member['id']}/points",
          {"change": 1000, "reason": "开业赠送"})
    return {"big": big, "shampoo": shampoo, "member": member}


@pytest.fixture
def counter(services, shop):
    """The logged-in counter ("cash" at counter 01, whose shift is open)."""
    services.api.login("cash", TEST_PASSWORD)
    return services


def cart_of(services, *codes: str, member_id: int | None = None) -> CartModel:
    model = CartModel(Cart())
    for code in codes:
        model.add_product(services.api.product_by_barcode(code), code)
    if member_id is not None:
        model.cart.set_member(services.api.get_member(member_id))
        model.changed()
    return model


def open_dialog(qtbot, services, model: CartModel, **kw) -> PaymentDialog:
    dlg = PaymentDialog(services, model, str(uuid.uuid4()), **kw)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.wait_exposed(dlg)
    dlg.activateWindow()
    qtbot.wait_until(lambda: dlg.server_quote is not None, timeout=10_000)
    return dlg


def focused() -> QtWidgets.QWidget:
    w = QtWidgets.QApplication.focusWidget()
    assert w is not None
    return w


def test_quick_cash_fits_the_bill_and_enter_confirms(qtbot, counter, app, screenshots) -> None:
    model = cart_of(counter, BIG)
    dlg = open_dialog(qtbot, counter, model)
    assert dlg.total_label.text() == "¥380.72"
    texts = [b.text().split("\n")[0] for b in dlg.quick_buttons if b.isVisible()]
    assert texts == ["¥380.72", "¥390.00", "¥400.00", "¥500.00"]  # not a fixed ¥50 / ¥100
    dlg.resize(1024, 768)
    save_shot(dlg, screenshots / "payment_quick_cash_1024x768.png")
    qtbot.wait_until(dlg.tendered.hasFocus, timeout=5000)
    qtbot.mouseClick(dlg.quick_buttons[2], Qt.MouseButton.LeftButton)  # ¥400
    assert dlg.tendered.fen() == 40000 and dlg.change_label.text() == "¥19.28"
    assert focused() is dlg.tendered  # not the button: Enter must not click it again
    with qtbot.wait_signal(dlg.completed, timeout=20_000) as done:
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    sale = done.args[0]
    assert (sale.total, sale.change) == (38072, 1928)
    with app.extensions["lanpos"].session_factory() as db:
        row = db.scalars(select(Sale).where(Sale.uuid == dlg.sale_id)).one()
        pays = [(p.method, p.amount, p.tendered, p.change) for p in
                db.scalars(select(SalePayment).where(SalePayment.sale_id == row.id))]
        assert pays == [("cash", 38072, 40000, 1928)]


def test_quick_cash_by_key_then_enter(qtbot, counter) -> None:
    dlg = open_dialog(qtbot, counter, cart_of(counter, SHAMPOO))
    qtbot.keyClick(dlg, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # ¥60
    assert dlg.tendered.fen() == 6000 and dlg.change_label.text() == "¥2.00"
    with qtbot.wait_signal(dlg.completed, timeout=20_000) as done:
        qtbot.keyClick(focused(), Qt.Key.Key_Enter)
    assert done.args[0].change == 200


def test_enter_does_nothing_while_not_covered(qtbot, counter) -> None:
    dlg = open_dialog(qtbot, counter, cart_of(counter, SHAMPOO))
    qtbot.keyClicks(dlg.tendered, "50")
    assert dlg.error.text() == "现金实收不足，应收现金 ¥58.00"
    assert not dlg.confirm.isEnabled()
    qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)
    assert not dlg.busy and dlg.isVisible()


def test_order_discount_in_zhe_through_the_server_quote(qtbot, counter) -> None:
    model = cart_of(counter, SHAMPOO)
    dlg = open_dialog(qtbot, counter, model)
    assert dlg.total_label.text() == "¥58.00"
    qtbot.keyClick(dlg, Qt.Key.Key_F6)
    assert focused() is dlg.discount
    qtbot.keyClicks(dlg.discount, "9.5")
    qtbot.keyClick(dlg.discount, Qt.Key.Key_Return)  # applies it: a new quote, no sale
    assert not dlg.busy
    qtbot.wait_until(lambda: dlg.server_quote is not None, timeout=10_000)
    assert model.cart.order_discount_bp == 500
    assert dlg.server_quote.order_discount == 290 and dlg.total_label.text() == "¥55.10"
    assert "9.5折" in dlg.quote_note.text() and "¥2.90" in dlg.quote_note.text()
    assert focused() is dlg.tendered  # the next Enter confirms
    with qtbot.wait_signal(dlg.completed, timeout=20_000) as done:
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    sale = done.args[0]
    assert sale.total == 5510 and sum(ln.order_discount for ln in sale.lines) == 290


def test_order_discount_above_the_limit_asks_a_manager(qtbot, counter, manager) -> None:
    from client.widgets.approval import ApprovalDialog

    model = cart_of(counter, SHAMPOO)
    dlg = open_dialog(qtbot, counter, model)
    dlg.discount.setFocus()
    qtbot.keyClicks(dlg.discount, "8")  # 20% off; a cashier may give 10%
    qtbot.keyClick(dlg.discount, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: isinstance(dlg.approval_dialog, ApprovalDialog), timeout=10_000)
    assert not dlg.confirm.isEnabled()
    appr = dlg.approval_dialog
    qtbot.keyClicks(appr.username, "mgr")
    qtbot.keyClicks(appr.password, TEST_PASSWORD)
    qtbot.mouseClick(appr.ok, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: dlg.confirm.isEnabled(), timeout=10_000)
    assert dlg.total_label.text() == "¥46.40"
    with qtbot.wait_signal(dlg.completed, timeout=20_000) as done:
        qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)
    assert done.args[0].approved_by == "mgr" and done.args[0].total == 4640


def test_bad_zhe_is_explained(qtbot, counter) -> None:
    model = cart_of(counter, SHAMPOO)
    dlg = open_dialog(qtbot, counter, model)
    dlg.discount.setFocus()
    qtbot.keyClicks(dlg.discount, "12.5")
    qtbot.keyClick(dlg.discount, Qt.Key.Key_Return)
    assert "9.5" in dlg.error.text() and model.cart.order_discount_bp == 0


def test_rounding_by_the_shop_rule(qtbot, counter, client, owner, cashier) -> None:
    # the shop allows no 抹零: the button is not there, the server refuses one
    model = cart_of(counter, BIG)
    dlg = open_dialog(qtbot, counter, model)
    assert dlg.rounding_button.isHidden()
    body = {"lines": [{"product_id": model.cart.lines[0].product_id, "qty": 1}],
            "rounding": "jiao"}
    r = client.post("/api/v1/sales/quote", json=body, headers=cashier.headers)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "rounding_not_allowed"
    assert "不抹零" in r.get_json()["error"]["message"]
    dlg.close()
    # down to 角: allowed; 元 is refused by the server with a clear message
    r = client.put("/api/v1/settings/shop", json={"max_rounding": "jiao"},
                   headers=owner.write_headers())
    assert r.status_code == 200 and r.get_json()["max_rounding"] == "jiao"
    r = client.post("/api/v1/sales/quote", json={**body, "rounding": "yuan"},
                    headers=cashier.headers)
    assert r.status_code == 422 and "最多抹到角" in r.get_json()["error"]["message"]
    shop = counter.api.shop_settings()
    dlg = open_dialog(qtbot, counter, model, shop=shop)
    assert dlg.rounding_button.isVisible() and "(F10)" in dlg.rounding_button.text()
    qtbot.keyClick(dlg, Qt.Key.Key_F10)
    assert model.cart.rounding == "jiao" and "抹到角" in dlg.rounding_button.text()
    qtbot.wait_until(lambda: dlg.server_quote is not None, timeout=10_000)
    assert dlg.total_label.text() == "¥380.70" and dlg.server_quote.rounding_discount == 2
    qtbot.keyClick(dlg, Qt.Key.Key_F10)  # the shop allows no more: back to none
    assert model.cart.rounding == "none"
    qtbot.wait_until(lambda: dlg.server_quote is not None, timeout=10_000)
    assert dlg.total_label.text() == "¥380.72"
    qtbot.keyClick(dlg, Qt.Key.Key_F10)
    qtbot.wait_until(lambda: dlg.server_quote is not None
                     and dlg.server_quote.total == 38070, timeout=10_000)
    with qtbot.wait_signal(dlg.completed, timeout=20_000) as done:
        qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)
    sale = done.args[0]
    assert sale.total == 38070 and sum(ln.rounding_discount for ln in sale.lines) == 2


def test_pin_asked_when_the_rule_says_so(qtbot, counter, shop, client, cashier,
                                         screenshots) -> None:
    r = client.put(f"/api/v1/members/{shop['member']['id']}/pin", json={"pin": "2468"},
                   headers=cashier.write_headers())
    assert r.status_code == 200, r.get_json()
    model = cart_of(counter, SHAMPOO, member_id=shop["member"]["id"])
    settings = MembershipSettings(pin_threshold=3000)
    dlg = open_dialog(qtbot, counter, model, settings=settings)
    dlg.resize(1024, 768)
    save_shot(dlg, screenshots / "payment_member_1024x768.png")
    assert dlg.sizeHint().height() <= 700 and dlg.minimumSizeHint().width() <= 1000
    qtbot.keyClick(dlg, Qt.Key.Key_F2)
    assert focused() is dlg.sv_amount
    qtbot.keyClicks(dlg.sv_amount, "30")  # AT the threshold: no PIN
    assert dlg.pin.isHidden() and dlg.confirm.isEnabled()
    qtbot.keyClicks(dlg.sv_amount, ".01")  # ¥30.01: above it
    assert not dlg.pin.isHidden() and not dlg.confirm.isEnabled()
    assert dlg.error.text() == "请输入会员支付密码"
    dlg.tendered.setFocus()
    qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)  # not covered: Enter goes to the PIN
    assert focused() is dlg.pin and not dlg.busy
    qtbot.keyClicks(dlg.pin, "2468")
    assert dlg.confirm.isEnabled()
    with qtbot.wait_signal(dlg.completed, timeout=20_000) as done:
        qtbot.keyClick(dlg.pin, Qt.Key.Key_Return)
    sale = done.args[0]
    assert sale.member.stored_value == 50000 - 3001
    assert {p.method: p.amount for p in sale.payments} == {"stored_value": 3001, "cash": 2799}


def test_stored_value_short_and_overpaid_card(qtbot, counter, shop) -> None:
    model = cart_of(counter, BIG, SHAMPOO, member_id=shop["member"]["id"])
    dlg = open_dialog(qtbot, counter, model)
    qtbot.keyClicks(dlg.sv_amount, "501")
    assert dlg.error.text() == "储值余额不足（余额 ¥500.00）" and not dlg.confirm.isEnabled()
    dlg.sv_amount.clear()
    qtbot.keyClicks(dlg.amounts["card"], "500")
    assert "只有现金可以找零" in dlg.error.text() and not dlg.confirm.isEnabled()


def test_scanned_wechat_code_lands_in_the_reference(qtbot, counter, qapp, app) -> None:
    wedge = WedgeScanFilter(clock=FakeClock(4))
    qapp.installEventFilter(wedge)
    try:
        model = cart_of(counter, SHAMPOO)
        dlg = open_dialog(qtbot, counter, model)
        wedge.scanned.connect(dlg.handle_scan)  # what the checkout does for a modal dialog
        qtbot.wait_until(dlg.tendered.hasFocus, timeout=5000)
        qtbot.keyClicks(dlg.tendered, WECHAT_CODE)  # the scanner types into the cash field
        qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)
    finally:
        qapp.removeEventFilter(wedge)
    assert dlg.tendered.text() == ""  # its digits did not stay as cash
    assert dlg.amounts["wechat"].fen() == 5800
    qtbot.wait_until(lambda: dlg.refs["wechat"].text() == WECHAT_CODE, timeout=5000)
    assert focused() is dlg.amounts["wechat"]
    assert dlg.isVisible() and not dlg.busy  # the scanner's Enter did not confirm
    assert "微信" in dlg.error.text()
    with qtbot.wait_signal(dlg.completed, timeout=20_000) as done:
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert [(p.method, p.amount, p.reference) for p in done.args[0].payments] == [
        ("wechat", 5800, WECHAT_CODE)]


def test_alipay_code_with_a_provider_and_a_product_code(qtbot, counter, shop) -> None:
    calls = []

    def provider(method: str, code: str, amount: int) -> str:
        calls.append((method, code, amount))
        return f"ALI-{amount}"

    model = cart_of(counter, BIG, SHAMPOO, member_id=shop["member"]["id"])
    dlg = open_dialog(qtbot, counter, model, code_payment=provider)
    dlg.handle_scan(SHAMPOO)  # a product barcode: not a payment
    assert "不是微信或支付宝付款码" in dlg.error.text()
    qtbot.keyClicks(dlg.sv_amount, "100")
    dlg.handle_scan(ALIPAY_CODE)  # what is left after the stored value
    assert dlg.amounts["alipay"].fen() == 38072 + 5800 - 10000
    qtbot.wait_until(lambda: dlg.refs["alipay"].text() == "ALI-33872", timeout=5000)
    assert calls == [("alipay", ALIPAY_CODE, 33872)]
    assert dlg.change_label.text() == "¥0.00" and dlg.confirm.isEnabled()


def test_dialog_keys_do_not_reach_the_main_window(qtbot, services, shop, tmp_path,
                                                   screenshots) -> None:
    """F6 in the dialog is 折扣, on the main window 退款: only the dialog's fires."""
    from client.devices.facade import DeviceService, DeviceSettings
    from client.shell.main_window import MainWindow
    from client.widgets.context import SessionInfo

    res = services.api.login("cash", TEST_PASSWORD)
    services.devices = DeviceService(DeviceSettings(), tmp_path / "spool")
    win = MainWindow(services, SessionInfo(res.staff, res.counter))
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.wait_exposed(win)
    try:
        win.checkout.cart_model.add_product(services.api.product_by_barcode(BIG), BIG)
        opened: list = []
        win.counter.dialog_opened.connect(opened.append)
        win.activateWindow()
        win.checkout.entry.setFocus()
        qtbot.wait_until(win.checkout.entry.hasFocus, timeout=5000)
        qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F9)
        qtbot.wait_until(lambda: bool(opened), timeout=5000)
        dlg = opened[-1]
        assert isinstance(dlg, PaymentDialog)
        qtbot.wait_until(lambda: dlg.server_quote is not None, timeout=10_000)
        qtbot.wait_until(dlg.isActiveWindow, timeout=5000)
        for key in (Qt.Key.Key_F6, Qt.Key.Key_F7, Qt.Key.Key_F8, Qt.Key.Key_F5):
            qtbot.keyClick(focused(), key)
        assert opened == [dlg]  # no refund, reprint, recharge or resume dialog behind it
        assert focused() is dlg.amounts["card"]  # F5 = 银行卡 in the dialog
        # it fits the screen: every part of the dialog inside 1024 × 768
        geo = dlg.frameGeometry()
        assert geo.width() <= 1024 and geo.height() <= 768, geo
        save_shot(dlg, screenshots / "payment_dialog_in_window_1024x768.png")
        dlg.reject()
    finally:
        win.counter.shutdown()


def test_receipt_payment_words(qtbot, counter, shop) -> None:
    """实收 on the receipt is the cash handed over; no 实收 line without cash."""
    model = cart_of(counter, SHAMPOO, member_id=shop["member"]["id"])
    dlg = open_dialog(qtbot, counter, model)
    qtbot.keyClicks(dlg.sv_amount, "8")
    qtbot.keyClicks(dlg.tendered, "100")
    assert dlg.change_label.text() == "¥50.00"
    with qtbot.wait_signal(dlg.completed, timeout=20_000) as done:
        qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)
    rows = sale_document(done.args[0], ShopSettingsOut(), 32).text_lines()
    row = {r.split()[0]: r for r in rows if r.split()}
    assert row["储值"].endswith("¥8.00") and row["现金"].endswith("¥50.00")
    assert row["实收"].endswith("¥100.00") and row["找零"].endswith("¥50.00")

    model = cart_of(counter, SHAMPOO, member_id=shop["member"]["id"])
    dlg = open_dialog(qtbot, counter, model)
    qtbot.mouseClick(dlg.findChild(QtWidgets.QPushButton, "payAllStoredValue"),
                     Qt.MouseButton.LeftButton)
    with qtbot.wait_signal(dlg.completed, timeout=20_000) as done:
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    rows = sale_document(done.args[0], ShopSettingsOut(), 32).text_lines()
    assert not any(r.startswith(("实收", "找零")) for r in rows)


# --- recharge at the counter ----------------------------------------------------------
def test_cash_recharge_two_steps_with_change(qtbot, counter, shop, app, screenshots) -> None:
    member = counter.api.get_member(shop["member"]["id"])
    dlg = RechargeDialog(counter, member)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.wait_exposed(dlg)
    dlg.activateWindow()
    qtbot.wait_until(dlg.amount.hasFocus, timeout=5000)
    qtbot.keyClicks(dlg.amount, "500")
    qtbot.keyClick(dlg.amount, Qt.Key.Key_Return)  # first Enter: the confirmation step only
    assert dlg.reviewing and dlg.isVisible()
    assert dlg.summary.text().splitlines()[:2] == ["充值 ¥500.00 · 赠送 ¥0.00",
                                                   "实收 ¥500.00 · 找零 ¥0.00"]
    dlg.back.click()  # 返回修改: the customer hands over ¥600
    assert not dlg.reviewing and not dlg.amount.isReadOnly()
    dlg.tendered.setFocus()
    qtbot.keyClicks(dlg.tendered, "550")
    assert dlg.change.text() == "¥50.00"
    qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)
    assert dlg.summary.text().splitlines() == ["充值 ¥500.00 · 赠送 ¥0.00",
                                               "实收 ¥550.00 · 找零 ¥50.00",
                                               "请核对后再按 Enter 确认充值"]
    assert dlg.amount.isReadOnly() and "确认充值" in dlg.ok.text()
    save_shot(dlg, screenshots / "recharge_confirm.png")
    with app.extensions["lanpos"].session_factory() as db:
        before = len(db.scalars(select(StoredValueLedger)).all())
    with qtbot.wait_signal(dlg.recharged, timeout=20_000) as done:
        qtbot.keyClick(focused(), Qt.Key.Key_Return)  # second Enter posts it
    assert done.args[0].stored_value == 100_000
    assert (dlg.tendered_fen, dlg.change_fen) == (55000, 5000)
    with app.extensions["lanpos"].session_factory() as db:
        assert len(db.scalars(select(StoredValueLedger)).all()) == before + 1


def test_recharge_short_cash_is_refused(qtbot, counter, shop) -> None:
    member = counter.api.get_member(shop["member"]["id"])
    dlg = RechargeDialog(counter, member)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.keyClicks(dlg.amount, "500")
    qtbot.keyClicks(dlg.tendered, "200")
    assert dlg.error.text() == "实收现金不足，应收 ¥500.00" and not dlg.ok.isEnabled()
    qtbot.keyClick(dlg.tendered, Qt.Key.Key_Return)
    assert not dlg.reviewing
    dlg.methods.setCurrentIndex(dlg.methods.findData("wechat"))  # no cash: no tendered
    assert dlg.tendered.isHidden() and dlg.reference.isVisible() and dlg.ok.isEnabled()
    qtbot.keyClick(dlg.amount, Qt.Key.Key_Return)
    assert dlg.reviewing and dlg.summary.text().splitlines()[:2] == ["充值 ¥500.00 · 赠送 ¥0.00",
                                                                     "微信"]


def test_owner_sets_the_rounding_rule_in_the_back_office(qtbot, services, owner, cashier,
                                                        client) -> None:
    from .bo_helpers import WAIT, open_window

    win = open_window(qtbot, services, "boss")
    screen = win.backoffice.shop
    with qtbot.wait_signal(screen.shop.loaded, timeout=WAIT):
        win.acts["shop"].trigger()
    combo = screen.shop.max_rounding
    assert combo.currentData() == "none" and combo.currentText() == "不允许抹零"
    combo.setCurrentIndex(combo.findData("yuan"))
    with qtbot.wait_signal(screen.shop.saved, timeout=WAIT):
        qtbot.mouseClick(screen.shop.save_button, Qt.MouseButton.LeftButton)
    assert services.api.shop_settings().max_rounding == "yuan"
    # the server now takes a sale rounded to 元
    open_shift(client, cashier)
    p = _post(client, owner, "/api/v1/products", {"name": "礼盒", "price": 1999})
    sale = _post(client, cashier, "/api/v1/sales", {
        "id": str(uuid.uuid4()), "lines": [{"product_id": p["id"], "qty": 1}],
        "rounding": "yuan", "payments": [{"method": "cash", "amount": 1900}]})
    assert sale["total"] == 1900


def test_server_refuses_a_sale_rounded_beyond_the_rule(client, owner, cashier) -> None:
    open_shift(client, cashier)
    p = _post(client, owner, "/api/v1/products", {"name": "礼盒", "price": 1999})
    body = {"id": str(uuid.uuid4()), "lines": [{"product_id": p["id"], "qty": 1}],
            "rounding": "jiao", "payments": [{"method": "cash", "amount": 1990}]}
    r = client.post("/api/v1/sales", json=body, headers=cashier.write_headers())
    assert r.status_code == 422, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "rounding_not_allowed" and err["message"] == \
        "本店的抹零规则是“不抹零”，不能这样抹零"
    r = client.post("/api/v1/sales", json=body, headers={**cashier.write_headers(),
                                                          "Accept-Language": "en"})
    assert "no rounding" in r.get_json()["error"]["message"]
