"""Activities (活动) and promotions (促销) in the client against the real server: the counter's
活动报名 dialog signs the attached member up for a free activity, checks them in and puts a
priced one in the cart, paid with the sale; the back office publishes an activity, shows its
sign-ups and checks one in, creates a promotion that the counter's preview then applies; the
statistics as a report document."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from client.backoffice.activities import ActivityDialog, PromotionDialog
from client.counter.activities import ActivitySignupDialog
from client.qt import Qt
from client.reports.catalogue import Options, Period, make_doc, spec
from server.db.activities import ActivitySignup

from .bo_helpers import WAIT, dialog_shot, open_window, show
from .conftest import save_shot
from .test_counter_flows import attach_member, dialog_of

API = "/api/v1"


def _post(client, who, path, body):
    r = client.post(API + path, json=body, headers=who.write_headers())
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _activity(client, manager, title, price, days=1, capacity=10):
    start = (dt.datetime.now() + dt.timedelta(days=days)).replace(
        hour=14, minute=0, second=0, microsecond=0)
    return _post(client, manager, "/activities", {
        "title": title, "kind": "class", "place": "二楼", "capacity": capacity,
        "price": price, "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=2)).isoformat()})


def _signups(app, member_id):
    with app.extensions["lanpos"].session_factory() as db:
        return [(s.activity_id, s.status, s.price) for s in db.scalars(
            select(ActivitySignup).where(ActivitySignup.member_id == member_id)
            .order_by(ActivitySignup.activity_id))]


def test_counter_signs_up_checks_in_and_sells_a_seat(qtbot, app, client, manager, cashier,
                                                     open_counter, shift_open, dialogs,
                                                     screenshots):
    from client.counter.payment import PaymentDialog

    free = _activity(client, manager, "插花体验", 0)
    paid = _activity(client, manager, "烘焙课", 8800, days=2)
    m = _post(client, cashier, "/members", {"name": "周敏", "phone": "13700004321"})
    win = open_counter("cash")
    # without a member: asked to choose one first
    win.counter.acts["activities"].trigger()
    assert win.checkout.status.text() == "请先选择会员（F2）"
    attach_member(qtbot, win, "4321")
    # the member panel's 活动 button opens it for the attached member
    button = win.counter.member_panel.activities_button
    dlg = dialog_of(qtbot, win, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton),
                    ActivitySignupDialog)
    qtbot.wait_until(lambda: dlg.table.rowCount() == 2, timeout=WAIT)
    assert dlg.windowTitle() == "活动报名 / 签到" and "周敏" in dlg.findChild(
        type(dlg.result), "activityMember").text()
    assert dlg.table.item(0, 0).text() == "插花体验" and dlg.table.item(0, 4).text() == "免费"
    assert dlg.table.item(1, 4).text() == "¥88.00" and "余 10 / 10" in dlg.table.item(1, 3).text()
    dialog_shot(dlg, screenshots / "activity_signup_dialog.png")
    # Enter signs up for the free one at once
    dlg.select(free["id"])
    with qtbot.wait_signal(dlg.signed_up, timeout=WAIT):
        qtbot.keyClick(dlg, Qt.Key.Key_Return)
    assert "报名" in dlg.result.text() and "成功" in dlg.result.text()
    assert _signups(app, m["id"]) == [(free["id"], "signed_up", 0)]
    qtbot.wait_until(lambda: dlg.table.item(0, 5) is not None
                     and dlg.table.item(0, 5).text() == "已报名", timeout=WAIT)
    # again: the server's message, shown as it is
    dlg.sign_up()
    qtbot.wait_until(lambda: "已经报名" in dlg.error.text(), timeout=WAIT)
    # F2 checks in
    with qtbot.wait_signal(dlg.checked_in, timeout=WAIT):
        qtbot.keyClick(dlg, Qt.Key.Key_F2)
    assert _signups(app, m["id"]) == [(free["id"], "checked_in", 0)]
    # cancelling a checked-in sign-up is refused by the server; a reason is needed first
    qtbot.wait_until(lambda: free["id"] in dlg.mine
                     and dlg.mine[free["id"]].status == "checked_in", timeout=WAIT)
    dlg.select(free["id"])
    dlg.cancel_signup()
    assert "原因" in dlg.error.text()
    dlg.reason.setText("临时有事")
    dlg.cancel_signup()
    qtbot.wait_until(lambda: "签到" in dlg.error.text(), timeout=WAIT)
    # the paid one goes into the cart (Enter in the list: 报名)
    dlg.table.setFocus()
    dlg.select(paid["id"])
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    model = win.checkout.cart_model
    assert [ln.activity_id for ln in model.cart.lines] == [paid["id"]]
    assert model.cart.lines[0].name == "活动报名：烘焙课"
    qtbot.wait_until(lambda: win.checkout.totals.total.text() == "¥88.00", timeout=WAIT)
    assert _signups(app, m["id"]) == [(free["id"], "checked_in", 0)]  # not before the sale
    save_shot(win, screenshots / "counter_activity_in_cart.png")
    # held (挂单) and resumed: the seat comes back as it was
    with qtbot.wait_signal(win.counter.held, timeout=WAIT) as held:
        win.counter.hold()
    assert model.rowCount() == 0
    order = win.counter.services.api.resume_held_order(held.args[0].id)
    with qtbot.wait_signal(win.counter.resumed, timeout=WAIT):
        win.counter._resumed(order)
    qtbot.wait_until(lambda: model.rowCount() == 1, timeout=WAIT)
    assert (model.cart.lines[0].activity_id, model.cart.lines[0].name) == (
        paid["id"], "活动报名：烘焙课")
    qtbot.wait_until(lambda: win.counter.member_panel.member is not None, timeout=WAIT)
    qtbot.wait_until(lambda: win.checkout.totals.total.text() == "¥88.00", timeout=WAIT)
    win.activateWindow()  # the dialog closed: the counter's window has the keyboard again
    win.checkout.entry.setFocus()
    qtbot.wait_until(win.checkout.entry.hasFocus, timeout=5000)
    pay = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F9),
                    PaymentDialog)
    qtbot.wait_until(lambda: pay.server_quote is not None, timeout=WAIT)
    qtbot.keyClicks(pay.tendered, "100")
    with qtbot.wait_signal(win.counter.devices_done, timeout=20_000):
        qtbot.mouseClick(pay.confirm, Qt.MouseButton.LeftButton)
    sale = win.counter.last_sale
    assert sale is not None and sale.total == 8800 and sale.lines[0].activity_id == paid["id"]
    assert _signups(app, m["id"]) == [(free["id"], "checked_in", 0),
                                      (paid["id"], "signed_up", 8800)]
    assert dialogs.errors == []


def test_back_office_publishes_shows_sign_ups_and_checks_in(qtbot, services, client, owner,
                                                            cashier, screenshots):
    win = open_window(qtbot, services, "boss")
    screen = show(qtbot, win, "activities")
    dlg = screen.new()
    assert isinstance(dlg, ActivityDialog) and dlg.windowTitle() == "发布活动"
    dlg.title.setText("会员日沙龙")
    dlg.kind.setCurrentIndex(dlg.kind.findData("members_day"))
    start = (dt.datetime.now() + dt.timedelta(days=3)).replace(hour=10, minute=0)
    dlg.starts.setText(start.strftime("%Y-%m-%d %H:%M"))
    dlg.ends.setText("明天")
    dlg.capacity.setText("2")
    dlg.submit()  # a time that is no time: the message under the field
    assert dlg.field_errors["ends_at"].isVisibleTo(dlg)
    dlg.ends.setText((start - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"))
    dlg.submit()  # ends before it starts: the server's message
    qtbot.wait_until(lambda: bool(services.dialogs.errors), timeout=WAIT)
    dlg.ends.setText((start + dt.timedelta(hours=3)).strftime("%Y-%m-%d %H:%M"))
    with qtbot.wait_signal(screen.model.page_loaded, timeout=WAIT):
        dlg.submit()
    dialog_shot(dlg, screenshots / "activity_dialog.png")
    (a,) = [x for x in screen.model.items if x.title == "会员日沙龙"]
    assert (a.kind, a.capacity, a.price, a.starts_at) == ("members_day", 2, 0, start.replace(
        second=0, microsecond=0))
    m = _post(client, cashier, "/members", {"name": "吴桐", "phone": "13600001111"})
    services.api.sign_up(a.id, m["id"], key=str(uuid.uuid4()))
    screen.list.table.selectRow(screen.model.items.index(a))
    qtbot.wait_until(lambda: len(screen.signups.items) == 1, timeout=WAIT)
    assert "会员日沙龙" in screen.signup_title.text()
    row = screen.signups.items[0]
    assert row.member_name == "吴桐" and row.status == "signed_up"
    screen.signup_list.table.selectRow(0)
    screen.check_in()
    qtbot.wait_until(lambda: bool(screen.signups.items)
                     and screen.signups.items[0].status == "checked_in", timeout=WAIT)
    qtbot.wait_until(lambda: "（1/2）" in screen.signup_title.text(), timeout=WAIT)
    save_shot(win, screenshots / "backoffice_activities.png")
    # the statistics report: the server's figures as a document
    day = dt.date.today()
    period = Period(day, day + dt.timedelta(days=7))
    rs = spec("activities")
    data = rs.fetch(services.api, period, Options())
    doc = make_doc(rs, data, period, Options(), shop="丽人", printed_by="boss",
                   printed_at=dt.datetime(2026, 12, 1, 9, 0))
    assert doc.title == "活动统计"
    (table,) = doc.tables
    r = next(x for x in table.rows if x["activity"] == "会员日沙龙")
    assert (r["signups"], r["checked_in"], r["attendance_rate"], r["revenue"]) == (
        1, 1, "100%", 0)
    assert table.totals["signups"] == data.signups == 1
    assert ("报名", "1") in doc.headline


def test_back_office_promotion_then_the_counter_preview_applies_it(qtbot, services, client,
                                                                   owner, manager,
                                                                   screenshots):
    care = _post(client, manager, "/categories", {"name": "护理"})
    facial = _post(client, manager, "/products", {"name": "补水护理", "kind": "service",
                                                  "price": 12800, "category_id": care["id"]})
    win = open_window(qtbot, services, "boss")
    screen = show(qtbot, win, "promotions")
    qtbot.wait_until(lambda: bool(screen.categories), timeout=WAIT)
    dlg = screen.new()
    assert isinstance(dlg, PromotionDialog)
    dlg.name.setText("护理8折")
    dlg.rate.setText("8")
    dlg.categories.tick(care["id"])
    now = dt.datetime.now().replace(second=0, microsecond=0)
    dlg.starts.setText((now - dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M"))
    dlg.ends.setText((now + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M"))
    with qtbot.wait_signal(screen.model.page_loaded, timeout=WAIT):
        dlg.submit()
    dialog_shot(dlg, screenshots / "promotion_dialog.png")
    (p,) = screen.model.items
    assert (p.name, p.kind, p.rate_bp, p.category_ids, p.state) == (
        "护理8折", "discount", 8000, [care["id"]], "running")
    assert screen.list.table.model().index(0, 2).data() == "8折"
    save_shot(win, screenshots / "backoffice_promotions.png")
    # the counter's preview with the snapshot's promotions equals the server's quote
    from client.counter.cart import Cart, CartLine
    from common import pricing

    snap = services.api.catalog_snapshot()
    cart = Cart(promotions=[pricing.Promotion.from_dict(r.model_dump())
                            for r in snap.promotions], shop_zone=snap.shop.timezone or "")
    product = next(x for x in snap.products if x.id == facial["id"])
    cart.lines.append(CartLine.from_product(product))
    preview = cart.quote()
    server = services.api.quote_cart(cart.to_cart_in())
    assert preview.total == server.total == 10240
    assert preview.lines[0].promotion_name == server.lines[0].promotion_name == "护理8折"
    # stopped in the back office: gone from the next snapshot
    edit = screen.edit(p)
    assert isinstance(edit, PromotionDialog) and not edit.kind.isEnabled()
    edit.active.setChecked(False)
    with qtbot.wait_signal(edit.saved, timeout=WAIT):
        edit.submit()
    assert services.api.catalog_snapshot().promotions == []


def test_a_seat_in_the_cart_is_a_line_of_its_own_and_refused_offline():
    from client.counter.cart import Cart, CartLine
    from client.counter.offline_mode import offline_refusal
    from common.pricing import Member
    from common.schemas.activities import ActivityOut

    a = ActivityOut(id=5, title="烘焙课", kind="class", place="", capacity=8, price=8800,
                    status="open", taken=1, left=7,
                    starts_at=dt.datetime(2026, 12, 5, 14), ends_at=dt.datetime(2026, 12, 5, 16))
    cart = Cart(member=Member(level_id=1, level_discount_bp=8000, member_id=3))
    cart.lines.append(CartLine.for_activity(a, "活动报名：烘焙课", "位"))
    assert cart.to_cart_in()["lines"] == [{"activity_id": 5, "qty": 1}]
    q = cart.quote()
    # the seat's price: no member level discount (the server's activity kind)
    assert (q.lines[0].kind, q.lines[0].amount, q.total) == ("activity", 8800, 8800)
    assert offline_refusal(cart) == "offline.refused.activity"
