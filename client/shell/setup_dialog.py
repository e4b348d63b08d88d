"""First-run (and later) counter setup: server addresses, counter name, language, and the
servers' certificates.

A server on another machine is https only (DESIGN §4 "Security on the LAN"): before anything
is sent to it, the counter reads its CA's fingerprint (``common.tlspin.fetch_ca``) and the
person at the counter compares it with the one the server's screen and back office show.
Only the first setup of a counter is trusted to anyone (there is nothing to protect yet); once
a counter trusts a server, a *changed* certificate — or a new server — is trusted only when a
manager or the owner logs in to confirm it, over the new certificate, after comparing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from common import tlspin
from common.errors import ApiError
from common.schemas.base import API_PREFIX, Role
from common.schemas.system import HealthOut

from ..api import NETWORK_STATUS, ApiClient, display_server, normalize_server
from ..i18n import EN, ZH, tr
from ..qt import Qt, QtGui, QtWidgets
from ..settings import ClientSettings
from ..tasks import TaskRunner
from ..widgets.dialogs import error_text, name_buttons

ApiFactory = Callable[..., ApiClient]
#: base URL → (CA PEM, fingerprint), read without checking (a person compares it)
FetchCa = Callable[[str], tuple[str, str]]
MANAGER_ROLES = frozenset({Role.MANAGER.value, Role.OWNER.value})


def _probe_client(servers: Sequence[str], pins: dict[str, str] | None = None) -> ApiClient:
    return ApiClient(servers, max_attempts=1, read_timeout=5, pins=pins)


def _fetch_ca(base: str) -> tuple[str, str]:
    try:
        return tlspin.fetch_ca(base)
    except tlspin.PinError as e:
        raise ApiError("pin_failed", status=NETWORK_STATUS,
                       message=tr("setup.pin_failed", server=display_server(base),
                                  detail=str(e))) from e


@dataclass(frozen=True)
class PinRequest:
    """A server whose certificate the person at the counter must compare."""

    server: str  # base URL
    fingerprint: str
    changed: bool  # this counter trusted another certificate for it
    needs_manager: bool  # a counter already set up: a manager or the owner confirms


@dataclass(frozen=True)
class PinAnswer:
    """"Same: trust it" (with the manager's login when one was asked for)."""

    username: str = ""
    password: str = ""


ConfirmPin = Callable[[PinRequest, QtWidgets.QWidget], PinAnswer | None]


class PinDialog(QtWidgets.QDialog):
    """Shows a server's fingerprint in groups to compare; asks for a manager's login when the
    counter is already set up."""

    def __init__(self, request: PinRequest, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pinDialog")
        self.setWindowTitle(tr("setup.pin_title"))
        layout = QtWidgets.QVBoxLayout(self)
        if request.changed or request.needs_manager:
            warn = QtWidgets.QLabel(tr("setup.pin_changed") if request.changed
                                    else tr("setup.pin_new_server"))
            warn.setObjectName("pinWarning")
            warn.setWordWrap(True)
            warn.setStyleSheet("color: #b00020; font-weight: bold;")
            layout.addWidget(warn)
        layout.addWidget(QtWidgets.QLabel(tr("setup.pin_ask",
                                             server=display_server(request.server))))
        fp = QtWidgets.QLabel(tlspin.fingerprint_lines(request.fingerprint))
        fp.setObjectName("fingerprint")
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(font.pointSize() + 3)
        fp.setFont(font)
        fp.setTextInteractionFlags(fp.textInteractionFlags()
                                   | Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(fp)
        hint = QtWidgets.QLabel(tr("setup.pin_compare"))
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.username = QtWidgets.QLineEdit()
        self.username.setObjectName("pinManager")
        self.password = QtWidgets.QLineEdit()
        self.password.setObjectName("pinPassword")
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self._needs_manager = request.needs_manager
        if request.needs_manager:
            form = QtWidgets.QFormLayout()
            form.addRow(tr("setup.pin_manager"), self.username)
            form.addRow(tr("setup.pin_password"), self.password)
            layout.addLayout(form)
        self.status = QtWidgets.QLabel()
        self.status.setStyleSheet("color: #b00020;")
        layout.addWidget(self.status)
        box = QtWidgets.QDialogButtonBox()
        self.trust = box.addButton(tr("setup.pin_trust"),
                                   QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        self.trust.setObjectName("pinTrust")
        reject = box.addButton(tr("setup.pin_reject"),
                               QtWidgets.QDialogButtonBox.ButtonRole.RejectRole)
        # Enter alone never trusts a certificate: "not the same" has the focus and is the
        # default; trusting takes a click (or Tab to it and Space)
        self.trust.setAutoDefault(False)
        reject.setDefault(True)
        self.reject_button = reject
        self._first_focus = self.username if request.needs_manager else reject
        box.accepted.connect(self._accept)
        box.rejected.connect(self.reject)
        layout.addWidget(name_buttons(box))
        self.setMinimumWidth(560)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self._first_focus.setFocus()

    def _accept(self) -> None:
        if self._needs_manager and not (self.username.text().strip() and self.password.text()):
            self.status.setText(tr("setup.pin_manager_required"))
            return
        self.accept()

    def answer(self) -> PinAnswer:
        return PinAnswer(self.username.text().strip(), self.password.text())


def ask_pin(request: PinRequest, parent: QtWidgets.QWidget) -> PinAnswer | None:
    dlg = PinDialog(request, parent)
    return dlg.answer() if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted else None


class SetupDialog(QtWidgets.QDialog):
    """Edits :class:`ClientSettings`; ``result_settings`` holds them after ``accept()``.

    "测试连接" calls ``/health`` on each address through the task runner.
    """

    def __init__(self, settings: ClientSettings, runner: TaskRunner,
                 api_factory: ApiFactory = _probe_client,
                 parent: QtWidgets.QWidget | None = None, *,
                 fetch_ca: FetchCa = _fetch_ca, confirm_pin: ConfirmPin = ask_pin) -> None:
        super().__init__(parent)
        self.setObjectName("setupDialog")
        self.setWindowTitle(tr("setup.title"))
        self._runner = runner
        self._api_factory = api_factory
        self._fetch_ca = fetch_ca
        self._confirm_pin = confirm_pin
        self._base = settings
        self.result_settings: ClientSettings | None = None

        intro = QtWidgets.QLabel(tr("setup.intro"))
        intro.setWordWrap(True)
        self.primary = QtWidgets.QLineEdit(_short(settings.primary))
        self.primary.setObjectName("primary")
        self.primary.setPlaceholderText("192.168.1.10")
        self.standby = QtWidgets.QLineEdit(_short(settings.standby))
        self.standby.setObjectName("standby")
        self.counter = QtWidgets.QLineEdit(settings.counter)
        self.counter.setObjectName("counter")
        self.counter.setMaxLength(32)
        self.language = QtWidgets.QComboBox()
        self.language.setObjectName("language")
        self.language.addItem("简体中文", ZH)
        self.language.addItem("English", EN)
        self.language.setCurrentIndex(1 if settings.lang == EN else 0)

        form = QtWidgets.QFormLayout()
        form.addRow(tr("setup.primary"), self.primary)
        form.addRow(tr("setup.standby"), self.standby)
        form.addRow(tr("setup.counter"), self.counter)
        form.addRow(tr("setup.language"), self.language)

        self.status = QtWidgets.QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.test_button = QtWidgets.QPushButton(tr("setup.test"))
        self.test_button.setObjectName("testButton")
        self.test_button.clicked.connect(self.test_connection)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Save
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Save).setText(tr("common.save"))
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel).setText(
            tr("common.cancel"))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.test_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout.addLayout(row)
        self.setMinimumWidth(520)

    def _collect(self) -> ClientSettings | None:
        if not self.primary.text().strip():
            self._fail(tr("setup.primary_required"))
            return None
        if not self.counter.text().strip():
            self._fail(tr("setup.counter_required"))
            return None
        try:
            s = self._base.with_servers(self.primary.text(), self.standby.text())
        except ValueError:
            bad = self.primary.text() if not _ok(self.primary.text()) else self.standby.text()
            self._fail(tr("setup.bad_address", address=bad.strip()))
            return None
        return replace(s, counter=self.counter.text().strip(),
                       lang=self.language.currentData())

    def _fail(self, text: str) -> None:
        self.status.setStyleSheet("color: #b00020;")
        self.status.setText(text)

    def save(self) -> None:
        s = self._collect()
        if s is not None:
            self._pinned(s, self._saved)

    def _saved(self, s: ClientSettings) -> None:
        self.result_settings = s
        self.accept()

    # -- certificates ------------------------------------------------------------------------
    def _pinned(self, s: ClientSettings, then: Callable[[ClientSettings], None]) -> None:
        """``then(settings with a pin for every https server)``: certificates read in the
        background, compared by the person at the counter, a manager's login checked over the
        new certificate where one is needed. Nothing happens when one is not trusted."""
        https = [u for u in s.servers if u.startswith("https://")]
        if not https:
            then(s)
            return
        self._busy(True)
        self.status.setText(tr("setup.testing"))
        fetch, primary = self._fetch_ca, s.servers[0]

        def read() -> list[tuple[str, str, str]]:
            found = []
            for url in https:
                try:
                    found.append((url, *fetch(url)))
                except ApiError:
                    # the primary must answer; a standby that is off is pinned later, as
                    # the primary tells it (GET /health/tls), or at the next setup
                    if url == primary or url in s.pins:
                        raise
            return found

        self._runner.op(read, lambda found: self._compare(s, found, then),
                        self._test_failed, owner=self)

    def _compare(self, s: ClientSettings, found: list[tuple[str, str, str]],
                 then: Callable[[ClientSettings], None]) -> None:
        pins = dict(s.pins)
        checks: list[tuple[str, str, PinAnswer]] = []  # (server, pem, manager login)
        set_up = bool(self._base.pins)  # a counter that already trusts a server
        for url, pem, fingerprint in found:
            old = pins.get(url)
            if old is not None and tlspin.same_fingerprint(tlspin.ca_fingerprint(old),
                                                           fingerprint):
                continue
            request = PinRequest(url, fingerprint, changed=old is not None,
                                 needs_manager=old is not None or set_up)
            answer = self._confirm_pin(request, self)
            if answer is None:
                self._busy(False)
                self._fail(tr("setup.pin_rejected", server=display_server(url)))
                return
            if request.needs_manager:
                checks.append((url, pem, answer))
            pins[url] = pem
        new = replace(s, pins=pins)
        if not checks:
            self._busy(False)
            then(new)
            return
        factory = self._api_factory

        def confirm_managers() -> None:
            for url, pem, who in checks:
                api = factory([url], {url: pem})
                try:
                    role = api.login(who.username, who.password).staff.role
                    api.logout()
                finally:
                    api.close()
                if str(getattr(role, "value", role)) not in MANAGER_ROLES:
                    raise ApiError("forbidden", status=403,
                                   message=tr("setup.pin_not_manager", username=who.username))

        def done(_none: None) -> None:
            self._busy(False)
            then(new)

        self._runner.op(confirm_managers, done, self._test_failed, owner=self)

    def _busy(self, busy: bool) -> None:
        self.test_button.setEnabled(not busy)
        self.buttons.setEnabled(not busy)

    def test_connection(self) -> None:
        s = self._collect()
        if s is not None:
            self._pinned(s, self._test_pinned)

    def _test_pinned(self, s: ClientSettings) -> None:
        self._base = replace(self._base, pins=s.pins)  # trusted now: saving keeps them
        self.status.setStyleSheet("")
        self.status.setText(tr("setup.testing"))
        self._busy(True)
        api = self._api_factory(s.servers, s.pins)

        def probe() -> tuple[str, HealthOut]:
            try:
                h = api.health()
                return display_server(api.active_server or ""), h
            finally:
                api.close()

        self._runner.op(probe, self._tested, self._test_failed, owner=self)

    def _tested(self, value: tuple[str, HealthOut]) -> None:
        server, h = value
        self._busy(False)
        self.status.setStyleSheet("color: #1b5e20;")
        self.status.setText(tr("setup.test_ok", shop=h.shop_name or server,
                               role=tr(f"server.{h.role}") if h.role in ("primary", "standby")
                               else h.role, version=h.version))

    def _test_failed(self, err: ApiError) -> None:
        self._busy(False)
        self._fail(error_text(err))


def _short(url: str) -> str:
    """'192.168.1.10:8643' — or the whole address where the short one would mean another
    (https to this machine itself, which the short form reads as its plain port)."""
    if not url:
        return ""
    short = display_server(url)
    return short if normalize_server(short) == url else url.removesuffix(API_PREFIX)


def _ok(address: str) -> bool:
    try:
        normalize_server(address)
    except ValueError:
        return False
    return True
