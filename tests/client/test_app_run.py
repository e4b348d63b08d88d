"""``lanpos-client`` end to end: arguments → settings → login window → quit."""

from __future__ import annotations

import json

from client.main import build_parser
from client.qt import QtCore, QtWidgets
from client.shell.login import LoginWindow


def test_run_with_arguments_shows_the_login_and_remembers_the_server(
        qtbot, qapp, live_server, tmp_path, monkeypatch) -> None:
    from client.app import run

    cfg = tmp_path / "client.json"
    monkeypatch.setenv("LANPOS_CLIENT_CONFIG", str(cfg))
    args = build_parser().parse_args(["--server", live_server.url, "--counter", "09",
                                      "--lang", "zh"])
    seen: dict = {}

    def look() -> None:
        wins = [w for w in QtWidgets.QApplication.topLevelWidgets()
                if isinstance(w, LoginWindow) and w.isVisible()]
        seen["login"] = [w.counter_label.text() for w in wins]
        seen["font"] = qapp.font().family()
        for w in wins:
            w.close()
            w.deleteLater()
        qapp.quit()

    QtCore.QTimer.singleShot(300, look)
    try:
        assert run(args) == 0
    finally:
        qapp.setQuitOnLastWindowClosed(True)
    assert seen["login"] == ["收银台：09"]
    assert "CJK" in seen["font"] or "Hei" in seen["font"]
    saved = json.loads(cfg.read_text(encoding="utf-8"))
    assert saved["servers"] == [live_server.url] and saved["counter"] == "09"
