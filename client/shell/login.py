"""The login window: username + password, counter and server shown."""

from __future__ import annotations

from common.errors import ApiError
from common.schemas.auth import LoginResponse

from .. import i18n
from ..api import display_server
from ..i18n import tr
from ..qt import Qt, QtGui, QtWidgets, Signal
from ..widgets.context import Services


class LoginWindow(QtWidgets.QWidget):
    """Logs a staff member in through ``services.api.login`` (in the background).

    Signals:
        logged_in(object): a :class:`LoginResponse` after a successful login.
        settings_requested(): the "设置…" button was pressed.
    """

    logged_in = Signal(object)
    settings_requested = Signal()

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loginWindow")
        self.services = services
        self.setWindowTitle(tr("login.title"))

        title = QtWidgets.QLabel(tr("app.title"))
        title.setObjectName("title")
        f = title.font()
        f.setPointSize(f.pointSize() + 10)
        f.setBold(True)
        title.setFont(f)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        heading = QtWidgets.QLabel(tr("login.heading"))
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.username = QtWidgets.QLineEdit()
        self.username.setObjectName("username")
        self.username.setPlaceholderText(tr("login.username"))
        self.password = QtWidgets.QLineEdit()
        self.password.setObjectName("password")
        self.password.setPlaceholderText(tr("login.password"))
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        for w in (self.username, self.password):
            w.setMinimumHeight(40)
            w.setMaxLength(128)
        self.username.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.submit)

        self.button = QtWidgets.QPushButton(tr("login.submit"))
        self.button.setObjectName("loginButton")
        self.button.setMinimumHeight(44)
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")

        settings = services.settings
        self.counter_label = QtWidgets.QLabel(tr("login.counter", counter=settings.counter))
        self.counter_label.setObjectName("counterLabel")
        self.server_label = QtWidgets.QLabel(tr("login.server", server=" / ".join(
            display_server(s) for s in settings.servers) or "—"))
        self.server_label.setObjectName("serverLabel")
        self.server_label.setWordWrap(True)
        self.settings_button = QtWidgets.QPushButton(tr("login.settings"))
        self.settings_button.setObjectName("settingsButton")
        self.settings_button.setFlat(True)
        self.settings_button.clicked.connect(self.settings_requested)

        form = QtWidgets.QFormLayout()
        form.addRow(tr("login.username"), self.username)
        form.addRow(tr("login.password"), self.password)

        box = QtWidgets.QFrame()
        box.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        inner = QtWidgets.QVBoxLayout(box)
        inner.setContentsMargins(32, 24, 32, 24)
        inner.setSpacing(12)
        inner.addWidget(title)
        inner.addWidget(heading)
        inner.addLayout(form)
        inner.addWidget(self.message)
        inner.addWidget(self.button)
        foot = QtWidgets.QHBoxLayout()
        foot.addWidget(self.counter_label)
        foot.addStretch(1)
        foot.addWidget(self.settings_button)
        inner.addLayout(foot)
        inner.addWidget(self.server_label)
        box.setMinimumWidth(420)
        box.setMaximumWidth(560)

        outer = QtWidgets.QGridLayout(self)
        outer.addWidget(box, 1, 1)
        outer.setRowStretch(0, 1)
        outer.setRowStretch(2, 1)
        outer.setColumnStretch(0, 1)
        outer.setColumnStretch(2, 1)
        self.resize(640, 520)
        QtGui.QShortcut(QtGui.QKeySequence("Esc"), self, self.password.clear)

    def showEvent(self, event: QtGui.QShowEvent | None) -> None:
        super().showEvent(event)
        (self.password if self.username.text() else self.username).setFocus()

    def reset(self, keep_username: bool = False) -> None:
        if not keep_username:
            self.username.clear()
        self.password.clear()
        self.message.clear()
        self._busy(False)

    def _busy(self, busy: bool) -> None:
        self.button.setEnabled(not busy)
        self.username.setEnabled(not busy)
        self.password.setEnabled(not busy)
        self.button.setText(tr("login.busy") if busy else tr("login.submit"))

    def submit(self) -> None:
        if not self.button.isEnabled():
            return
        user, pw = self.username.text().strip(), self.password.text()
        if not user or not pw:
            self.message.setText(tr("login.fill_in"))
            return
        self.message.clear()
        self._busy(True)
        api = self.services.api
        self.services.runner.op(lambda: api.login(user, pw), self._ok, self._failed, owner=self)

    def _ok(self, res: LoginResponse) -> None:
        self._busy(False)
        self.password.clear()
        self.logged_in.emit(res)

    def _failed(self, err: ApiError) -> None:
        self._busy(False)
        self.password.clear()
        self.password.setFocus()
        self.message.setText(err.message(i18n.language()))
