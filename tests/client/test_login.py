"""The window flow: login, role-based menus, staff switch, first-run setup."""

from __future__ import annotations

from client.app import AppController
from client.qt import Qt
from client.settings import ClientSettings, SettingsStore
from common.schemas.base import Role
from tests.conftest import TEST_PASSWORD


def make_controller(qtbot, live_server, dialogs, runner, make_api, **kw) -> AppController:
    settings = kw.pop("settings", None) or ClientSettings(counter="03").with_servers(
        live_server.url)
    c = AppController(settings, dialogs=dialogs, runner=runner,
                      api_factory=lambda s: make_api(s.servers, counter=s.counter, lang=s.lang),
                      **kw)
    return c


def log_in(qtbot, controller: AppController, username: str, password: str = TEST_PASSWORD):
    w = controller.login_window
    assert w is not None and w.isVisible()
    w.username.clear()
    qtbot.keyClicks(w.username, username)
    qtbot.keyClicks(w.password, password)
    with qtbot.wait_signal(controller.main_window_shown, timeout=10_000) as blocker:
        qtbot.mouseClick(w.button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_login_window_logs_in_and_cashier_has_no_back_office(
        qtbot, live_server, cashier, dialogs, runner, make_api) -> None:
    c = make_controller(qtbot, live_server, dialogs, runner, make_api)
    c.start()
    login = c.login_window
    qtbot.addWidget(login)
    assert "03" in login.counter_label.text()
    win = log_in(qtbot, c, "cash")
    qtbot.addWidget(win)
    assert not login.isVisible() and win.isVisible()
    assert win.session.staff.username == "cash" and win.session.counter == "03"
    assert "backoffice" not in win.menus and win.backoffice is None
    assert "收银员" in win.windowTitle()
    assert c.services.api.token is not None
    titles = [a.text() for a in win.menuBar().actions()]
    assert not any("后台" in t for t in titles)


def test_wrong_password_shows_the_server_message(qtbot, live_server, cashier, dialogs, runner,
                                                 make_api) -> None:
    c = make_controller(qtbot, live_server, dialogs, runner, make_api)
    c.start()
    w = c.login_window
    qtbot.addWidget(w)
    qtbot.keyClicks(w.username, "cash")
    qtbot.keyClicks(w.password, "nope")
    qtbot.keyClick(w.password, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: "用户名或密码错误" in w.message.text(), timeout=10_000)
    assert c.main_window is None and w.button.isEnabled() and w.password.text() == ""


def test_manager_has_the_back_office_and_staff_switch_keeps_settings(
        qtbot, live_server, manager, cashier, dialogs, runner, make_api) -> None:
    c = make_controller(qtbot, live_server, dialogs, runner, make_api)
    c.start()
    qtbot.addWidget(c.login_window)
    win = log_in(qtbot, c, "mgr")
    assert "backoffice" in win.menus and win.backoffice is not None
    assert "后台管理" in win.menus["backoffice"].title()
    token = c.services.api.token
    # 换班 with an empty cart: no question asked
    with qtbot.wait_signal(c.login_shown, timeout=5000):
        win.acts["switch_staff"].trigger()
    assert dialogs.confirms == []
    assert c.main_window is None and c.login_window.isVisible()
    qtbot.wait_until(lambda: runner.pending == 0, timeout=10_000)
    assert c.services.api.token is None  # logged out on the server side too
    win2 = log_in(qtbot, c, "cash")
    qtbot.addWidget(win2)
    assert win2.session.staff.role == Role.CASHIER and win2.backoffice is None
    assert c.settings.counter == "03" and c.settings.servers == (live_server.url,)
    assert c.services.api.token not in (None, token)


def test_switch_with_items_in_the_cart_asks_first(qtbot, live_server, cashier, dialogs, runner,
                                                  make_api) -> None:
    from common.schemas.catalog import ProductOut

    c = make_controller(qtbot, live_server, dialogs, runner, make_api)
    c.start()
    qtbot.addWidget(c.login_window)
    win = log_in(qtbot, c, "cash")
    qtbot.addWidget(win)
    p = ProductOut(id=1, kind="product", sku=None, name="矿泉水", pinyin="kqs", unit="瓶",
                   category_id=None, price=200, member_price=None, cost=None, open_price=False,
                   discountable=True, track_stock=False, stock=0, low_stock=None,
                   commission_kind="none", commission_value=0, barcodes=[], active=True,
                   updated_at="2026-01-01T00:00:00+00:00")
    win.checkout.cart_model.add_product(p)
    dialogs.answer = False
    win.acts["switch_staff"].trigger()
    assert len(dialogs.confirms) == 1 and "1 件" in dialogs.confirms[0]
    assert c.main_window is win  # stayed


def test_first_run_shows_setup_then_login(qtbot, live_server, cashier, dialogs, runner,
                                          make_api, tmp_path) -> None:
    store = SettingsStore(tmp_path / "client.json")
    c = make_controller(qtbot, live_server, dialogs, runner, make_api,
                        settings=ClientSettings(), store=store)
    c.start()
    dlg = c.setup_dialog
    assert dlg is not None and dlg.isVisible() and c.login_window is None
    qtbot.addWidget(dlg)
    qtbot.keyClicks(dlg.primary, live_server.url)
    dlg.counter.setText("08")
    with qtbot.wait_signal(c.login_shown, timeout=5000):
        dlg.save()
    qtbot.addWidget(c.login_window)
    assert store.load().servers == (live_server.url,) and store.load().counter == "08"
    assert "08" in c.login_window.counter_label.text()
    win = log_in(qtbot, c, "cash")
    qtbot.addWidget(win)
    assert win.session.counter == "08"
