"""Issue 15 (helper F): a member attached at the counter while no server answers. The member
panel (F2) cannot search offline: a full mobile number or a card number is recorded as the
sale's member reference (the server resolves it at replay and gives the points), anything
else (a name, the last 4 digits) is refused with the reason. The real Qt client offscreen
against the real server behind the freezable proxy of test_offline_counter."""

from __future__ import annotations

from client.counter.member_panel import MemberPanel
from client.i18n import tr
from client.offline.journal import Journal
from client.offline.member_ref import parse_member_ref, receipt_member_text
from client.qt import Qt
from tests.client.test_offline_counter import (  # noqa: F401  (fixtures)
    SHAMPOO,
    _post,
    freeze,
    items,
    offline_counter,
    pay_cash,
    receipts,
    scan,
    shop,
)

from .conftest import save_shot

PHONE = "13900005678"


def type_member(qtbot, win, panel: MemberPanel, text: str, wedge) -> None:
    """F2 from the scan field, the text, Enter — as the cashier does it: a person's pace
    (the wedge fixture's clock says 200 ms per key, not a scanner's burst)."""
    clock = wedge._clock
    step, clock.step = clock.step, 200
    win.activateWindow()
    qtbot.wait_until(win.isActiveWindow, timeout=2000)
    win.checkout.entry.setFocus()
    qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F2)
    assert panel.search.hasFocus()
    panel.search.clear()
    qtbot.keyClicks(panel.search, text)
    qtbot.keyClick(panel.search, Qt.Key.Key_Return)
    clock.step = step


def test_what_may_be_typed_offline() -> None:
    """Pure: a full phone (also +86) or a card number is a reference; a name, the last 4
    digits, a short code are not. The receipt masks a phone, shows a card as it is."""
    assert parse_member_ref(" 139 0000 5678") == parse_member_ref("+8613900005678")
    assert parse_member_ref(PHONE).kind == "phone"
    assert parse_member_ref("VIP-00017").ref == "VIP-00017"
    assert parse_member_ref("88001234").kind == "card"
    for bad in ("1234", "张三", "zs", "139", ""):
        assert parse_member_ref(bad) is None, bad
    assert receipt_member_text(PHONE) == "139****5678"
    assert receipt_member_text("VIP-00017", "李四") == "李四 VIP-00017"


def test_offline_member_by_phone_is_journaled_and_gets_the_points_at_replay(
        qtbot, client, manager, shop, freeze, offline_counter, printer, tmp_path,  # noqa: F811
        screenshots, wedge) -> None:
    level = _post(client, manager, "/api/v1/levels", {"name": "银卡", "rank": 1,
                                                      "discount_bp": 9000,
                                                      "points_per_yuan": 1})
    win = offline_counter()
    api, off, panel = win.services.api, win.offline, win.counter.member_panel
    member = api.create_member({"name": "李四", "phone": PHONE, "level_id": level["id"]})
    qtbot.wait_until(lambda: off.catalogue is not None and off.catalogue.version > 0,
                     timeout=15_000)
    # online: found by the server, then taken off again (the counter remembers the name)
    type_member(qtbot, win, panel, PHONE, wedge)
    qtbot.wait_until(lambda: panel.member is not None, timeout=5000)
    assert panel.member.id == member.id
    panel.clear_button.click()
    assert panel.member is None and win.checkout.cart_model.cart.member_info is None

    # --- the server freezes: the counter goes offline
    freeze.frozen.set()
    scan(qtbot, win, SHAMPOO)  # from the local catalogue
    qtbot.wait_until(lambda: items(win) == 1, timeout=2000)
    qtbot.wait_until(lambda: off.active, timeout=12_000)

    # the last 4 digits need the server's search: refused with the reason, nothing attached
    type_member(qtbot, win, panel, "5678", wedge)
    assert panel.message.text() == tr("offline.member_ref.refused")
    assert "完整手机号或卡号" in panel.message.text()
    assert panel.offline_ref is None and panel.member is None
    assert panel.search.hasFocus()
    # the full phone: recorded as the member reference, the cart stays a non-member's
    type_member(qtbot, win, panel, PHONE, wedge)
    assert panel.offline_ref is not None and panel.offline_ref.ref == PHONE
    assert panel.message.text() == "\n".join([
        tr("offline.member_ref.phone", ref=PHONE), tr("offline.member_ref.name", name="李四")])
    assert panel.message.text().startswith(f"离线：已按手机号 {PHONE} 记录会员，联网后补积分")
    assert panel.member is None and win.checkout.cart_model.cart.member_info is None
    assert win.checkout.entry.hasFocus()  # back to scanning
    win.resize(1024, 768)
    qtbot.wait(300)  # the checkout lays the taller member box out
    assert panel.message.height() >= panel.message.heightForWidth(panel.message.width())
    save_shot(win, screenshots / "offline_member_panel_1024.png")

    # --- a cash sale: priced as a non-member (the server prices the member at replay)
    dlg = pay_cash(qtbot, win, 10_000)
    assert dlg.offline_sale and dlg.total == 5800 and dlg.member_ref == PHONE
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: win.counter.last_sale is not None, timeout=3000)
    sale = win.counter.last_sale
    assert sale.number == "01-L000001" and sale.total == 5800
    assert sale.member is not None and sale.member.name == "李四 139****5678"
    receipt = receipts(printer, 1)[0]
    assert "139****5678" in receipt and PHONE not in receipt and "离线单" in receipt
    assert panel.offline_ref is None  # the next customer starts without a member
    with Journal(tmp_path / "offline" / "journal.sqlite3") as j:
        [rec] = j.pending()
        assert rec.entry.member_ref == PHONE and rec.entry.sale.member_id is None

    # --- the server comes back: the sale goes up with that member, who gets the points
    freeze.frozen.clear()
    qtbot.wait_until(lambda: off.pending == 0 and not off.active, timeout=30_000)
    on_server = api.get_sale(str(sale.id))
    assert on_server.origin == "offline" and on_server.offline_number == "01-L000001"
    assert on_server.member is not None and on_server.member.id == member.id
    after = api.get_member(member.id)
    assert after.points == member.points + 58 == on_server.member.points_earned
    assert after.visit_count == member.visit_count + 1
