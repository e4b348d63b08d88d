"""Settings file, command-line overrides, i18n, first-run setup dialog."""

from __future__ import annotations

import json
from dataclasses import replace

from client import i18n
from client.qt import Qt
from client.settings import ClientSettings, SettingsStore, apply_args
from client.shell.setup_dialog import PinAnswer, PinRequest, SetupDialog
from common import tlspin
from server.ops.tls import ensure_certificates


def test_settings_round_trip_in_a_temp_file(tmp_path) -> None:
    store = SettingsStore(tmp_path / "cfg" / "client.json")
    assert store.load() == ClientSettings()  # missing file = defaults, not configured
    assert not store.load().configured
    ca = ensure_certificates(tmp_path / "tls").ca_pem()
    s = ClientSettings(counter="02", lang="en").with_servers("10.0.0.5", "10.0.0.6:9000")
    s = replace(s, pins={"https://10.0.0.5:8643/api/v1": ca})
    store.save(s)
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert data["servers"] == ["https://10.0.0.5:8643/api/v1", "https://10.0.0.6:9000/api/v1"]
    loaded = store.load()
    assert loaded == s and loaded.primary.startswith("https://10.0.0.5")
    assert loaded.standby == "https://10.0.0.6:9000/api/v1"
    assert loaded.pins == {"https://10.0.0.5:8643/api/v1": ca}
    # a pin that is no certificate is dropped (the server is then asked for again)
    data["pins"]["https://10.0.0.6:9000/api/v1"] = "not a certificate"
    store.path.write_text(json.dumps(data), encoding="utf-8")
    assert store.load().pins == {"https://10.0.0.5:8643/api/v1": ca}


def test_corrupt_file_gives_defaults(tmp_path) -> None:
    p = tmp_path / "client.json"
    p.write_text("{not json", encoding="utf-8")
    assert SettingsStore(p).load() == ClientSettings()


def test_args_override(tmp_path) -> None:
    base = ClientSettings(counter="01").with_servers("10.0.0.5")
    s = apply_args(base, ["192.168.1.2", "192.168.1.3"], "09", "en")
    assert s.servers == ("https://192.168.1.2:8643/api/v1", "https://192.168.1.3:8643/api/v1")
    assert (s.counter, s.lang) == ("09", "en")
    assert apply_args(base, None, None, None) == base


def test_i18n_switches_language() -> None:
    assert i18n.tr("key.pay") == "结账"
    i18n.set_language("en")
    assert i18n.tr("key.pay") == "Pay"
    assert i18n.tr("login.counter", counter="03") == "Counter: 03"
    i18n.set_language("zh")
    assert i18n.tr("login.counter", counter="03") == "收银台：03"
    for key, (zh, en) in i18n.STRINGS.items():
        assert zh and en, key


def test_first_run_dialog_saves_settings(qtbot, runner, tls_server) -> None:
    asked: list[PinRequest] = []

    def compare(request: PinRequest, _parent) -> PinAnswer:
        asked.append(request)
        return PinAnswer()

    dlg = SetupDialog(ClientSettings(), runner, confirm_pin=compare)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.buttons.accepted.emit()
    assert dlg.result_settings is None
    assert "主服务器" in dlg.status.text()
    qtbot.keyClicks(dlg.primary, tls_server.url)
    qtbot.keyClicks(dlg.standby, "bad address")
    dlg.buttons.accepted.emit()
    assert dlg.result_settings is None and "bad address" in dlg.status.text()
    dlg.standby.setText("192.0.2.11:8601")  # a standby that is off: pinned later
    dlg.counter.setText("05")
    dlg.language.setCurrentIndex(1)
    with qtbot.wait_signal(dlg.accepted, timeout=10_000):
        dlg.buttons.accepted.emit()
    s = dlg.result_settings
    assert s is not None
    assert s.servers == (tls_server.url, "https://192.0.2.11:8601/api/v1")
    assert (s.counter, s.lang) == ("05", "en")
    # the first setup: the person compared the fingerprint, no manager needed
    assert [(a.server, a.fingerprint, a.changed, a.needs_manager) for a in asked] == [
        (tls_server.url, tls_server.fingerprint, False, False)]
    assert list(s.pins) == [tls_server.url]
    assert tlspin.ca_fingerprint(s.pins[tls_server.url]) == tls_server.fingerprint


def test_setup_dialog_tests_the_connection(qtbot, runner, live_server) -> None:
    dlg = SetupDialog(ClientSettings().with_servers(live_server.url), runner)
    qtbot.addWidget(dlg)
    dlg.primary.setText(live_server.url)
    qtbot.mouseClick(dlg.test_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: dlg.test_button.isEnabled(), timeout=10_000)
    assert "连接成功" in dlg.status.text()
    assert "主服务器" in dlg.status.text()
