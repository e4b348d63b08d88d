"""Back office against the real server: member levels (9折 display, level prices), recharge
rules, count-card templates, coupons (templates, issue to a member or a level, void with a
reason), shop settings (owner only: a manager sees the server's 403 message) and who sees the
back office at all."""

from __future__ import annotations

from sqlalchemy import select

from client.backoffice.common import parse_zhe, zhe
from client.qt import Qt
from client.shell.main_window import MainWindow
from client.widgets.context import SessionInfo
from server.db.members import (
    CountCardTemplate,
    Coupon,
    LevelPrice,
    MemberLevel,
    RechargeRuleRow,
)
from server.db.models import AuditLog
from tests.conftest import TEST_PASSWORD

from .bo_helpers import WAIT, dialog_shot, open_window, show
from .conftest import save_shot

BO_SCREENS = ("products", "members", "levels", "recharge_rules", "count_cards", "coupons",
              "shop", "reports")


def click(qtbot, w) -> None:
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton)


def test_discount_text_and_parsing() -> None:
    assert [zhe(bp) for bp in (9000, 8500, 8750, 10_000)] == ["9折", "8.5折", "8.75折", "不打折"]
    assert [parse_zhe(t) for t in ("9", "9折", "8.5", "85", "95", "10", "")] == [
        9000, 9000, 8500, 8500, 9500, 10_000, 10_000]
    for bad in ("0", "abc", "8.555", "100", "-9"):
        try:
            parse_zhe(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


def test_levels_with_discount_and_level_prices(qtbot, services, manager, db_session,
                                               screenshots) -> None:
    api = services.api
    win = open_window(qtbot, services, "mgr")
    api.create_level({"name": "普通会员", "rank": 0})
    screen = show(qtbot, win, "levels")
    dlg = screen.new()
    qtbot.addWidget(dlg)
    dlg.name.setText("金卡会员")
    dlg.rank.setText("2")
    dlg.discount.setText("8.5")
    assert dlg.discount_hint.text() == "= 8.5折"
    dlg.points.setText("2")
    qtbot.keyClicks(dlg.threshold, "5000")
    dialog_shot(dlg, screenshots / "backoffice_level_dialog.png")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT) as blocker:
        click(qtbot, dlg.save_button)
    gold = blocker.args[0]
    db_session.rollback()
    row = db_session.get(MemberLevel, gold.id)
    assert (row.discount_bp, row.points_per_yuan, row.upgrade_threshold) == (8500, 2, 500_000)
    qtbot.wait_until(lambda: screen.model.rowCount() == 2, timeout=WAIT)
    m = screen.model
    r = next(i for i, lv in enumerate(m.items) if lv.id == gold.id)
    assert [m.data(m.index(r, c)) for c in (2, 3, 4)] == ["8.5折", "2", "¥5000.00"]
    assert m.data(m.index(1 - r, 2)) == "不打折" and m.data(m.index(1 - r, 4)) == "仅手动调整"
    # a bad discount is refused next to the field
    edit = screen.edit(m.items[r])
    qtbot.addWidget(edit)
    edit.discount.setText("abc")
    click(qtbot, edit.save_button)
    assert not edit.field_errors["discount_bp"].isHidden()
    edit.reject()

    p = api.create_product({"name": "精油按摩", "kind": "service", "price": 19800})
    prices = screen.prices(m.items[r])
    qtbot.addWidget(prices)
    qtbot.wait_until(lambda: prices.save_button.isEnabled(), timeout=WAIT)  # loaded
    qtbot.keyClicks(prices.picker.edit, "jyam")  # pinyin initials, searched on the server
    with qtbot.wait_signal(prices.picker.results, timeout=WAIT):
        prices.picker.search("jyam")
    assert prices.picker.current().id == p.id
    prices.price.setText("158")
    prices.add_price()
    assert prices.table.item(0, 2).text() == "¥158.00"
    save_shot(prices, screenshots / "backoffice_level_prices_dialog.png")
    with qtbot.wait_signal(prices.saved, timeout=WAIT):
        click(qtbot, prices.save_button)
    db_session.rollback()
    assert [(x.product_id, x.price) for x in db_session.scalars(
        select(LevelPrice).where(LevelPrice.level_id == gold.id))] == [(p.id, 15800)]
    # shown again when reopened (names fetched from the server)
    again = screen.prices(m.items[r])
    qtbot.addWidget(again)
    qtbot.wait_until(lambda: again.table.rowCount() == 1, timeout=WAIT)
    assert again.table.item(0, 0).text() == "精油按摩"
    save_shot(win, screenshots / "backoffice_levels_1024x768.png")


def test_recharge_rules_and_count_card_templates(qtbot, services, manager, db_session,
                                                 screenshots) -> None:
    api = services.api
    win = open_window(qtbot, services, "mgr")
    rules = show(qtbot, win, "recharge_rules")
    dlg = rules.new()
    qtbot.addWidget(dlg)
    dlg.name.setText("充500送80")
    qtbot.keyClicks(dlg.threshold, "500")
    qtbot.keyClicks(dlg.bonus, "0")  # the server refuses a zero bonus: message by the field
    click(qtbot, dlg.save_button)
    qtbot.wait_until(lambda: len(services.dialogs.errors) == 1, timeout=WAIT)
    assert not dlg.field_errors["bonus"].isHidden()
    dlg.bonus.setText("80")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT):
        click(qtbot, dlg.save_button)
    db_session.rollback()
    rule = db_session.scalars(select(RechargeRuleRow)).one()
    assert (rule.threshold, rule.bonus) == (50_000, 8_000)
    qtbot.wait_until(lambda: rules.model.rowCount() == 1, timeout=WAIT)
    assert rules.model.data(rules.model.index(0, 3)) == "充 ¥500.00 送 ¥80.00"
    api.create_recharge_rule({"name": "充1000送200", "threshold": 100_000, "bonus": 20_000})
    rules.model.reload()
    qtbot.wait_until(lambda: rules.model.rowCount() == 2, timeout=WAIT)
    save_shot(win, screenshots / "backoffice_recharge_rules_1024x768.png")

    svc = api.create_product({"name": "洗剪吹", "kind": "service", "price": 3800})
    cards = show(qtbot, win, "count_cards")
    dlg = cards.new()
    qtbot.addWidget(dlg)
    dlg.name.setText("洗剪吹10次卡")
    with qtbot.wait_signal(dlg.picker.results, timeout=WAIT):
        dlg.picker.search("洗剪吹")
    assert dlg.service_name.text() == "洗剪吹"  # taken from the chosen service
    dlg.uses.setText("10")
    dlg.validity.setText("365")
    qtbot.keyClicks(dlg.price, "300")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT):
        click(qtbot, dlg.save_button)
    db_session.rollback()  # a new snapshot (REPEATABLE READ)
    t = db_session.scalars(select(CountCardTemplate)).one()
    assert (t.product_id, t.uses, t.validity_days, t.price) == (svc.id, 10, 365, 30_000)
    qtbot.wait_until(lambda: cards.model.rowCount() == 1, timeout=WAIT)
    assert [cards.model.data(cards.model.index(0, c)) for c in (2, 3, 4)] == [
        "10", "365 天", "¥300.00"]
    save_shot(win, screenshots / "backoffice_count_cards_1024x768.png")


def test_coupons_issue_to_member_and_level_then_void(qtbot, services, manager, db_session,
                                                     screenshots) -> None:
    api = services.api
    win = open_window(qtbot, services, "mgr")
    a = api.create_member({"name": "周一", "phone": "13500000001"})  # no level yet
    vip = api.create_level({"name": "VIP", "rank": 1, "discount_bp": 9500})
    for i in range(3):
        api.create_member({"name": f"VIP{i}", "phone": f"1350000010{i}", "level_id": vip.id})
    screen = show(qtbot, win, "coupons")
    dlg = screen.new()
    qtbot.addWidget(dlg)
    dlg.name.setText("满100减20")
    qtbot.keyClicks(dlg.amount, "20")
    dlg.threshold.setText("100")
    dlg.valid_from.setText("2025-01-01")
    dlg.valid_to.setText("2024-12-31")
    click(qtbot, dlg.save_button)  # the server's rule: the end before the start
    qtbot.wait_until(lambda: len(services.dialogs.errors) == 1, timeout=WAIT)
    assert "结束日期不能早于开始日期" in services.dialogs.error_texts[0]
    dlg.valid_to.setText("2099-12-31")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT) as blocker:
        click(qtbot, dlg.save_button)
    tpl = blocker.args[0]
    qtbot.wait_until(lambda: screen.model.rowCount() == 1, timeout=WAIT)
    assert screen.model.data(screen.model.index(0, 2)) == "满 ¥100.00 减 ¥20.00"

    issue = screen.issue(tpl)
    qtbot.addWidget(issue)
    click(qtbot, issue.save_button)  # no member chosen yet
    assert issue.field_errors["member_id"].text() == "请先查找并选择会员"
    with qtbot.wait_signal(issue.picker.results, timeout=WAIT):
        issue.picker.search("0001")
    assert issue.picker.current().id == a.id
    with qtbot.wait_signal(issue.saved, timeout=WAIT) as blocker:
        click(qtbot, issue.save_button)
    assert blocker.args[0].issued == 1
    qtbot.wait_until(lambda: len(screen.levels) == 1, timeout=WAIT)
    issue = screen.issue(tpl)
    qtbot.addWidget(issue)
    issue.to_level.setChecked(True)
    assert issue.level.currentData() == vip.id
    with qtbot.wait_signal(issue.saved, timeout=WAIT) as blocker:
        click(qtbot, issue.save_button)
    assert blocker.args[0].issued == 3
    db_session.rollback()
    assert len(db_session.scalars(select(Coupon)).all()) == 4
    qtbot.wait_until(lambda: screen.coupons.rowCount() == 4, timeout=WAIT)

    target = next(c for c in screen.coupons.items if c.member_id == a.id)
    void = screen.void(target)
    qtbot.addWidget(void)
    click(qtbot, void.save_button)
    assert void.field_errors["reason"].text() == "必填"
    void.reason.setText("发错了")
    with qtbot.wait_signal(void.saved, timeout=WAIT):
        click(qtbot, void.save_button)
    db_session.rollback()
    row = db_session.get(Coupon, target.id)
    assert (row.status, row.void_reason) == ("voided", "发错了")
    assert db_session.scalars(select(AuditLog).where(
        AuditLog.entity_id == str(target.id), AuditLog.action.like("coupon%void%"))).one()
    qtbot.wait_until(lambda: any(c.status == "voided" for c in screen.coupons.items),
                     timeout=WAIT)
    with qtbot.wait_signal(screen.coupons.page_loaded, timeout=WAIT):
        screen.status.setCurrentIndex(screen.status.findData("voided"))
    assert [c.id for c in screen.coupons.items] == [target.id]
    with qtbot.wait_signal(screen.coupons.page_loaded, timeout=WAIT):
        screen.status.setCurrentIndex(0)
    save_shot(win, screenshots / "backoffice_coupons_1024x768.png")


def test_manager_gets_the_servers_403_on_shop_settings(qtbot, services, manager,
                                                       screenshots) -> None:
    win = open_window(qtbot, services, "mgr")
    screen = win.backoffice.shop
    with qtbot.wait_signal(screen.shop.loaded, timeout=WAIT):
        win.acts["shop"].trigger()
    assert win.backoffice.currentWidget() is screen
    screen.shop.name.setText("店长改的名字")
    click(qtbot, screen.shop.save_button)
    qtbot.wait_until(lambda: len(services.dialogs.errors) == 1, timeout=WAIT)
    err = services.dialogs.errors[0]
    assert err.status == 403
    assert services.dialogs.error_texts[0] == "您没有权限执行此操作"  # the server's message
    assert screen.shop.status.text() == "您没有权限执行此操作"
    assert services.api.shop_settings().name != "店长改的名字"
    # membership settings are a manager's
    qtbot.wait_until(lambda: screen.membership.save_button.isEnabled(), timeout=WAIT)
    screen.membership.ints["points_per_yuan_redeem"].setText("50")
    with qtbot.wait_signal(screen.membership.saved, timeout=WAIT):
        click(qtbot, screen.membership.save_button)
    assert services.api.membership_settings().points_per_yuan_redeem == 50


def test_owner_edits_shop_settings(qtbot, services, owner, db_session, screenshots) -> None:
    win = open_window(qtbot, services, "boss")
    screen = win.backoffice.shop
    with qtbot.wait_signal(screen.membership.loaded, timeout=WAIT):
        win.acts["shop"].trigger()
    qtbot.wait_until(lambda: screen.shop.save_button.isEnabled(), timeout=WAIT)
    screen.shop.name.setText("美发沙龙（人民路店）")
    screen.shop.address.setText("人民路 88 号")
    qtbot.keyClicks(screen.shop.phone, "0571-88888888")
    screen.shop.header.setPlainText("会员日每周三\n欢迎光临")
    screen.shop.footer.setPlainText("谢谢惠顾\n1\n2\n3\n4\n5")
    click(qtbot, screen.shop.save_button)  # six footer lines: refused by the field
    assert screen.shop.field_errors["receipt_footer"].text() == "最多 5 行"
    screen.shop.footer.setPlainText("谢谢惠顾，欢迎再次光临！")
    screen.membership.pin_threshold.setText("abc")
    click(qtbot, screen.membership.save_button)
    assert not screen.membership.field_errors["pin_threshold"].isHidden()
    screen.membership.pin_threshold.setText("200")
    with qtbot.wait_signal(screen.shop.saved, timeout=WAIT):
        click(qtbot, screen.shop.save_button)
    with qtbot.wait_signal(screen.membership.saved, timeout=WAIT):
        click(qtbot, screen.membership.save_button)
    assert services.dialogs.errors == []
    s = services.api.shop_settings()
    assert (s.name, s.address, s.phone) == ("美发沙龙（人民路店）", "人民路 88 号", "0571-88888888")
    assert s.receipt_header == ["会员日每周三", "欢迎光临"]
    assert services.api.membership_settings().pin_threshold == 20_000
    db_session.rollback()
    assert db_session.scalars(select(AuditLog).where(
        AuditLog.entity == "setting", AuditLog.entity_id == "shop",
        AuditLog.username == "boss")).first()
    assert screen.shop.status.text() == "门店设置已保存"
    save_shot(win, screenshots / "backoffice_shop_settings_1024x768.png")


def test_who_sees_the_back_office(qtbot, services, owner, manager, cashier) -> None:
    res = services.api.login("cash", TEST_PASSWORD)
    win = MainWindow(services, SessionInfo(res.staff, res.counter))
    qtbot.addWidget(win)
    assert win.backoffice is None and "backoffice" not in win.menus
    assert not any(name in win.acts for name in BO_SCREENS)
    for username in ("mgr", "boss"):
        res = services.api.login(username, TEST_PASSWORD)
        w = MainWindow(services, SessionInfo(res.staff, res.counter))
        qtbot.addWidget(w)
        assert w.backoffice is not None
        titles = [w.backoffice.tabText(i) for i in range(w.backoffice.count())]
        assert titles[:8] == ["商品与服务", "会员", "会员等级", "充值规则", "次卡模板", "优惠券",
                              "门店设置", "报表"]
        assert all(name in w.acts for name in BO_SCREENS)
        assert ("数据备份" in titles) == (username == "boss")


def test_back_office_in_english(qtbot, services, owner) -> None:
    from client import i18n

    i18n.set_language(i18n.EN)  # the fixture sets Chinese back afterwards
    win = open_window(qtbot, services, "boss")
    titles = [win.backoffice.tabText(i) for i in range(7)]
    assert titles == ["Products & services", "Members", "Member levels", "Recharge rules",
                      "Count-card templates", "Coupons", "Shop settings"]
    services.api.create_level({"name": "Gold", "discount_bp": 8500})
    screen = show(qtbot, win, "levels")
    m = screen.model
    assert m.headerData(2, Qt.Orientation.Horizontal) == "Discount"
    assert m.data(m.index(0, 2)) == "85% of price"
    dlg = win.backoffice.products.new()
    qtbot.addWidget(dlg)
    assert dlg.save_button.text() == "Save" and dlg.windowTitle() == "New product or service"
