"""The GUI stays responsive while the server is slow; login window screenshot."""

from __future__ import annotations

import itertools
import time

from client.qt import Qt, QtCore
from client.settings import ClientSettings
from client.shell.login import LoginWindow
from client.widgets.context import Services
from tests.conftest import TEST_PASSWORD

from .conftest import FaultProxy, save_shot


def test_event_loop_keeps_ticking_while_the_server_is_slow(qtbot, live_server, cashier,
                                                           runner, dialogs, make_api) -> None:
    slow = FaultProxy(live_server.port, delay=1.5)  # every request waits 1.5 s
    try:
        settings = ClientSettings(counter="01").with_servers(slow.url)
        services = Services(api=make_api(settings.servers, counter="01"), runner=runner,
                            dialogs=dialogs, settings=settings)
        w = LoginWindow(services)
        qtbot.addWidget(w)
        w.show()
        ticks: list[float] = []
        timer = QtCore.QTimer()
        timer.setInterval(20)
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start()
        qtbot.keyClicks(w.username, "cash")
        qtbot.keyClicks(w.password, TEST_PASSWORD)
        start = time.monotonic()
        with qtbot.wait_signal(w.logged_in, timeout=15_000):
            qtbot.mouseClick(w.button, Qt.MouseButton.LeftButton)
            assert not w.button.isEnabled() and w.button.text() == "正在登录…"
        elapsed = time.monotonic() - start
        timer.stop()
        assert elapsed >= 1.4  # the request really was slow …
        during = [t for t in ticks if t >= start]
        gaps = [b - a for a, b in itertools.pairwise(during)]
        assert len(during) >= 40, len(during)
        assert max(gaps) < 0.2, max(gaps)  # … and the event loop kept running
        assert services.api.token is not None
    finally:
        slow.close()


def test_login_window_screenshot(qtbot, services, screenshots) -> None:
    w = LoginWindow(services)
    qtbot.addWidget(w)
    w.resize(1024, 768)
    w.show()
    qtbot.keyClicks(w.username, "cashier")
    w.message.setText("用户名或密码错误（还可尝试 4 次）")
    path = save_shot(w, screenshots / "login_1024x768.png")
    assert path.exists()
    assert "收银台：01" in w.counter_label.text()
