"""First-run (and later) counter setup: server addresses, counter name, language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from common.errors import ApiError
from common.schemas.system import HealthOut

from ..api import ApiClient, display_server
from ..i18n import EN, ZH, tr
from ..qt import QtWidgets
from ..settings import ClientSettings
from ..tasks import TaskRunner
from ..widgets.dialogs import error_text

ApiFactory = Callable[[Sequence[str]], ApiClient]


def _probe_client(servers: Sequence[str]) -> ApiClient:
    return ApiClient(servers, max_attempts=1, read_timeout=5)


class SetupDialog(QtWidgets.QDialog):
    """Edits :class:`ClientSettings`; ``result_settings`` holds them after ``accept()``.

    "测试连接" calls ``/health`` on each address through the task runner.
    """

    def __init__(self, settings: ClientSettings, runner: TaskRunner,
                 api_factory: ApiFactory = _probe_client,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("setupDialog")
        self.setWindowTitle(tr("setup.title"))
        self._runner = runner
        self._api_factory = api_factory
        self._base = settings
        self.result_settings: ClientSettings | None = None

        intro = QtWidgets.QLabel(tr("setup.intro"))
        intro.setWordWrap(True)
        self.primary = QtWidgets.QLineEdit(_short(settings.primary))
        self.primary.setObjectName("primary")
        self.primary.setPlaceholderText("192.168.1.10:8600")
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
            self.result_settings = s
            self.accept()

    def test_connection(self) -> None:
        s = self._collect()
        if s is None:
            return
        self.status.setStyleSheet("")
        self.status.setText(tr("setup.testing"))
        self.test_button.setEnabled(False)
        api = self._api_factory(s.servers)

        def probe() -> tuple[str, HealthOut]:
            try:
                h = api.health()
                return display_server(api.active_server or ""), h
            finally:
                api.close()

        self._runner.op(probe, self._tested, self._test_failed, owner=self)

    def _tested(self, value: tuple[str, HealthOut]) -> None:
        server, h = value
        self.test_button.setEnabled(True)
        self.status.setStyleSheet("color: #1b5e20;")
        self.status.setText(tr("setup.test_ok", shop=h.shop_name or server,
                               role=tr(f"server.{h.role}") if h.role in ("primary", "standby")
                               else h.role, version=h.version))

    def _test_failed(self, err: ApiError) -> None:
        self.test_button.setEnabled(True)
        self._fail(error_text(err))


def _short(url: str) -> str:
    return display_server(url) if url else ""


def _ok(address: str) -> bool:
    from ..api import normalize_server

    try:
        normalize_server(address)
    except ValueError:
        return False
    return True
