"""The layout holds (issue 14 §6): at 1024×768 and 1920×1080 the F-key bar, the totals and the
status bar stay fully inside the window in every main state, and no state grows the window.
The window opens maximised and remembers its geometry across re-logins."""

from __future__ import annotations

import pytest

from client.i18n import tr
from client.qt import Qt, QtCore, QtWidgets
from client.settings import ClientSettings, SettingsStore, window_geometry

from .conftest import save_shot
from .test_counter_flows import _post
from .test_login import log_in, make_controller

LONG_PRINTER_ERROR = ("无法连接打印机 192.168.100.200:9100：[Errno 113] No route to host；"
                      "请检查打印机电源、网线和 IP 地址设置，" * 6)
LONG_STATUS = "服务器切换：已改用备用服务器 http://192.168.100.201:8600/api/v1，" * 8




@pytest.fixture
def many_products(client, manager, cashier) -> list[str]:
    """30 products (codes L001…L030) and two members whose phones both contain 1380000."""
    codes = []
    for i in range(1, 31):
        code = f"L{i:03d}"
        _post(client, manager, "/api/v1/products", {
            "name": f"测试商品{i:02d} 超长名称的进口洗护套装礼盒", "price": 100 * i,
            "barcodes": [code]})
        codes.append(code)
    _post(client, cashier, "/api/v1/members", {"name": "张三", "phone": "13800001234"})
    _post(client, cashier, "/api/v1/members", {"name": "张三丰", "phone": "13800005678"})
    return codes


def _global_rect(w: QtWidgets.QWidget) -> QtCore.QRect:
    return QtCore.QRect(w.mapToGlobal(QtCore.QPoint(0, 0)), w.size())


def assert_holds(win, size: tuple[int, int], state: str) -> None:
    """The window kept its size; the F-key bar, the totals and the status bar are inside."""
    QtWidgets.QApplication.processEvents()
    assert (win.width(), win.height()) == size, (state, win.size())
    frame = _global_rect(win)
    screen = win.checkout
    parts: list[QtWidgets.QWidget] = [screen.totals, win.statusBar()]
    parts += [b for b in screen.findChildren(QtWidgets.QToolButton)
              if b.objectName().startswith("key_")]
    if win.stack.currentWidget() is not screen:
        parts = [win.statusBar(), win.stack.currentWidget()]
    for w in parts:
        assert w.isVisible(), (state, w.objectName())
        r = _global_rect(w)
        assert frame.contains(r), (state, w.objectName() or type(w).__name__, r, frame)
        assert w.height() >= min(w.minimumSizeHint().height(), 48), (state, w.objectName())
    for b in screen.findChildren(QtWidgets.QToolButton):
        if b.objectName().startswith("key_") and win.stack.currentWidget() is screen:
            assert b.height() >= 48, (state, b.objectName(), b.height())


@pytest.mark.parametrize("size", [(1024, 768), (1920, 1080)])
def test_every_main_state_fits_the_screen(qtbot, shift_open, open_counter, many_products,
                                          screenshots, size) -> None:
    win = open_counter("mgr", size=size)
    screen = win.checkout
    tag = f"{size[0]}x{size[1]}"

    def check(state: str) -> None:
        assert_holds(win, size, state)
        save_shot(win, screenshots / f"layout_{state}_{tag}.png")

    check("empty")
    for n, code in enumerate(many_products, 1):
        screen.handle_scan(code)
        qtbot.wait_until(lambda n=n: screen.cart_model.rowCount() == n, timeout=10_000)
    check("30_lines")

    panel = win.counter.member_panel
    panel.search.setText("1380000")  # two members match: the picker
    panel.do_search()
    qtbot.wait_until(lambda: panel.results.isVisible() and panel.results.count() == 2,
                     timeout=10_000)
    check("member_picker")
    assert panel.results.hasFocus()
    qtbot.keyClick(panel.results, Qt.Key.Key_Escape)  # Esc closes the picker
    assert not panel.results.isVisible()
    assert panel.member is None

    with qtbot.wait_signal(panel.extras_loaded, timeout=10_000):
        panel.search.setText("1234")
        panel.do_search()
    assert panel.member is not None and panel.member.name == "张三"
    check("member_attached")
    panel.search.setText("1380000")  # the picker again, below the attached member's details
    panel.do_search()
    qtbot.wait_until(lambda: panel.results.isVisible(), timeout=10_000)
    check("member_picker_with_member")
    qtbot.keyClick(panel.results, Qt.Key.Key_Escape)
    assert not panel.results.isVisible() and panel.member.name == "张三"
    assert panel.search.hasFocus()

    screen.say(tr("counter.print_failed", title="小票 S20240101-0001", reason=LONG_PRINTER_ERROR),
               error=True)
    check("printer_error")
    assert screen.status.toolTip()  # the whole message stays reachable

    win.statusBar().showMessage(LONG_STATUS)
    win.counter.shift_label.setText(LONG_STATUS)
    screen.say(LONG_STATUS)
    check("long_status")

    qtbot.mouseClick(screen.numpad_button, Qt.MouseButton.LeftButton)  # touch: the numpad
    assert screen.numpad.isVisible()
    check("numpad")
    assert all(b.height() >= 48 for b in screen.numpad.buttons.values())

    win.show_backoffice_screen("members")
    qtbot.wait_until(lambda: win.stack.currentWidget() is win.backoffice, timeout=5000)
    check("backoffice")
    win.show_checkout()
    check("back_to_checkout")


def test_window_opens_maximised_and_remembers_its_geometry(qtbot, live_server, cashier,
                                                          dialogs, runner, make_api,
                                                          tmp_path) -> None:
    store = SettingsStore(tmp_path / "client.json")
    settings = ClientSettings(counter="03").with_servers(live_server.url)
    c = make_controller(qtbot, live_server, dialogs, runner, make_api, settings=settings,
                        store=store)
    c.start()
    qtbot.addWidget(c.login_window)
    win = log_in(qtbot, c, "cash")  # (closed and deleted by the controller)
    assert win.isMaximized()  # never saved: maximised
    win.showNormal()
    win.setGeometry(20, 30, 760, 540)  # inside the offscreen screen (800×600)
    qtbot.wait_until(lambda: win.width() == 760, timeout=5000)
    with qtbot.wait_signal(c.login_shown, timeout=5000):
        win.acts["switch_staff"].trigger()  # 换班: the window closes
    saved = window_geometry(store.load())
    assert saved is not None  # written to the settings file
    win2 = log_in(qtbot, c, "cash")
    assert not win2.isMaximized()
    assert (win2.width(), win2.height()) == (760, 540)
    # a restart: a new controller from the same settings file
    win2.close()
    c2 = make_controller(qtbot, live_server, dialogs, runner, make_api, settings=store.load(),
                         store=store)
    c2.start()
    qtbot.addWidget(c2.login_window)
    win3 = log_in(qtbot, c2, "cash")
    qtbot.addWidget(win3)
    assert (win3.width(), win3.height()) == (760, 540)
