"""A counter's trust in its server (issue 16): the real client, the real server behind the real
TLS front (nginx). A changed certificate is refused with a clear message until a manager — not
a cashier — compares the new fingerprint and confirms it with their login; a counter that
already trusts a server needs a manager to trust a new one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from client.api import ApiClient
from client.qt import Qt
from client.settings import ClientSettings
from client.shell.setup_dialog import PinAnswer, PinDialog, PinRequest, SetupDialog
from common import tlspin
from common.errors import ApiError
from server.ops.tls import ensure_certificates
from tests.conftest import TEST_PASSWORD


class Compare:
    """The person at the counter: answers each fingerprint question with ``answer``."""

    def __init__(self, answer: PinAnswer | None) -> None:
        self.answer = answer
        self.asked: list[PinRequest] = []

    def __call__(self, request: PinRequest, _parent) -> PinAnswer | None:
        self.asked.append(request)
        return self.answer


def _save(qtbot, dlg: SetupDialog) -> None:
    dlg.buttons.accepted.emit()
    qtbot.wait_until(lambda: dlg.buttons.isEnabled(), timeout=15_000)


def test_a_changed_certificate_is_refused_until_a_manager_confirms_it(
        qtbot, runner, tls_server, cashier, manager, tmp_path, make_api) -> None:
    old = ensure_certificates(tmp_path / "old-server").ca_pem()  # what the counter trusted
    settings = replace(ClientSettings(counter="03").with_servers(tls_server.url),
                       pins={tls_server.url: old})
    api = make_api(settings.servers, pins=settings.pins, max_attempts=1)
    with pytest.raises(ApiError) as e:
        api.login(cashier.username, TEST_PASSWORD)
    assert e.value.code == "server_certificate_changed"
    assert "证书" in str(e.value) and "店长" in str(e.value)

    # nobody compares: nothing changes
    nobody = Compare(None)
    dlg = SetupDialog(settings, runner, confirm_pin=nobody)
    qtbot.addWidget(dlg)
    _save(qtbot, dlg)
    assert dlg.result_settings is None and "未信任" in dlg.status.text()
    assert [(r.changed, r.needs_manager) for r in nobody.asked] == [(True, True)]
    assert nobody.asked[0].fingerprint == tls_server.fingerprint

    # a cashier may not re-pin
    by_cashier = Compare(PinAnswer(cashier.username, TEST_PASSWORD))
    dlg = SetupDialog(settings, runner, confirm_pin=by_cashier)
    qtbot.addWidget(dlg)
    _save(qtbot, dlg)
    assert dlg.result_settings is None
    assert "不是店长" in dlg.status.text(), dlg.status.text()

    # a manager compared it and logs in, over the new certificate: trusted
    by_manager = Compare(PinAnswer(manager.username, TEST_PASSWORD))
    dlg = SetupDialog(settings, runner, confirm_pin=by_manager)
    qtbot.addWidget(dlg)
    with qtbot.wait_signal(dlg.accepted, timeout=15_000):
        dlg.buttons.accepted.emit()
    new = dlg.result_settings
    assert new is not None
    assert tlspin.ca_fingerprint(new.pins[tls_server.url]) == tls_server.fingerprint
    api = make_api(new.servers, pins=new.pins, max_attempts=1)
    assert api.login(cashier.username, TEST_PASSWORD).staff.username == cashier.username


def test_a_counter_already_set_up_needs_a_manager_for_a_new_server(
        qtbot, runner, tls_server, manager, tmp_path) -> None:
    elsewhere = "https://192.0.2.1:8643/api/v1"
    settings = replace(ClientSettings(counter="03").with_servers(elsewhere),
                       pins={elsewhere: ensure_certificates(tmp_path / "a").ca_pem()})
    compare = Compare(PinAnswer(manager.username, TEST_PASSWORD))
    dlg = SetupDialog(settings, runner, confirm_pin=compare)
    qtbot.addWidget(dlg)
    dlg.primary.setText(tls_server.url)
    with qtbot.wait_signal(dlg.accepted, timeout=15_000):
        dlg.buttons.accepted.emit()
    assert [(r.server, r.changed, r.needs_manager) for r in compare.asked] == [
        (tls_server.url, False, True)]
    assert dlg.result_settings is not None and tls_server.url in dlg.result_settings.pins


def test_unpinned_and_plain_addresses(tls_server, make_api, cashier) -> None:
    api = make_api([tls_server.url], max_attempts=1)  # never compared: nothing is sent
    with pytest.raises(ApiError) as e:
        api.login(cashier.username, TEST_PASSWORD)
    assert e.value.code == "server_not_pinned" and "指纹" in str(e.value)
    assert isinstance(api, ApiClient)


def test_the_fingerprint_dialog_shows_groups_and_asks_a_manager(qtbot, tls_server) -> None:
    dlg = PinDialog(PinRequest(tls_server.url, tls_server.fingerprint, changed=True,
                               needs_manager=True))
    qtbot.addWidget(dlg)
    dlg.show()
    shown = dlg.findChild(type(dlg.status), "fingerprint").text()
    assert shown.replace("\n", " ").split() == tls_server.fingerprint.split(":")
    assert len(shown.splitlines()) == 4  # 32 groups, 8 a line: easy to compare aloud
    assert dlg.findChild(type(dlg.status), "pinWarning").isVisible()
    # Enter alone never trusts: it is "not the same"
    assert dlg.reject_button.isDefault() and not dlg.trust.autoDefault()
    assert dlg.focusWidget() is dlg.username  # the manager's login comes first
    qtbot.keyClick(dlg.username, Qt.Key.Key_Return)
    assert not dlg.isVisible() and dlg.result() == 0  # Enter: "not the same"
    dlg.show()
    dlg.trust.click()  # no manager login yet: not accepted
    assert dlg.result() == 0 and dlg.isVisible() and "店长" in dlg.status.text()
    first = PinDialog(PinRequest(tls_server.url, tls_server.fingerprint, changed=False,
                                 needs_manager=False))
    qtbot.addWidget(first)
    first.show()
    first.activateWindow()
    qtbot.wait_until(lambda: first.focusWidget() is first.reject_button, timeout=5000)
    dlg.username.setText("boss")
    dlg.password.setText("pw")
    dlg.trust.click()
    assert dlg.answer() == PinAnswer("boss", "pw") and not dlg.isVisible()


@pytest.fixture
def services(tls_server, runner, dialogs, make_api, cashier):
    """The counter's services, set up over TLS with the server's certificate pinned."""
    from client.widgets.context import Services

    settings = replace(ClientSettings(counter="01").with_servers(tls_server.url),
                       pins={tls_server.url: tls_server.ca_pem})
    api = make_api(settings.servers, counter="01", pins=settings.pins)
    return Services(api=api, runner=runner, dialogs=dialogs, settings=settings)


def test_a_certificate_changed_under_a_running_counter_says_so(
        qtbot, services, open_counter, tls_server, tmp_path) -> None:
    win = open_counter("cash", focus=False)
    assert not win.offline_banner.isVisible()
    # the server's certificate is no longer the pinned one (here: the pin is another CA's)
    services.api.pin(tls_server.url, ensure_certificates(tmp_path / "other").ca_pem())
    with qtbot.wait_signal(win.server_watch.updated, timeout=10_000):
        win.server_watch.probe()
    qtbot.wait_until(win.offline_banner.isVisible, timeout=5000)
    text = win.offline_banner.text()
    assert "证书" in text and "店长" in text and "离线收银" in text, text
    # the counter sold on offline instead of talking to a server it does not trust
    assert win.offline.active and win.offline.certificate_refused
