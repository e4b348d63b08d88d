"""Small pieces shared by the counter dialogs: money entry, big labels, and the manager
approval dialog (店长授权: username + password → ``POST /approvals`` → one-use token)."""

from __future__ import annotations

from common.errors import ApiError
from common.money import MoneyError, parse_yuan
from common.schemas.sales import ApprovalOut

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal
from .context import Services

MONEY_RE = QtCore.QRegularExpression(r"^\d{0,7}(\.\d{0,2})?$")


class MoneyEdit(QtWidgets.QLineEdit):
    """A yuan amount (``12.5``) typed by the cashier; :meth:`fen` is None when empty.

    Signals:
        fen_changed(): the amount changed.
    """

    fen_changed = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None, placeholder: str = "0.00",
                 big: bool = False) -> None:
        super().__init__(parent)
        self.setValidator(QtGui.QRegularExpressionValidator(MONEY_RE, self))
        self.setPlaceholderText(placeholder)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setMinimumHeight(36)
        if big:
            f = self.font()
            f.setPointSize(f.pointSize() + 6)
            f.setBold(True)
            self.setFont(f)
            self.setMinimumHeight(48)
        self.textChanged.connect(lambda _t: self.fen_changed.emit())

    def fen(self) -> int | None:
        text = self.text().strip()
        if not text or text == ".":
            return None
        try:
            return parse_yuan(text)
        except MoneyError:
            return None

    def set_fen(self, fen: int | None) -> None:
        self.setText("" if fen is None else f"{fen // 100}.{fen % 100:02d}")


def big_label(text: str = "", size: int = 28, color: str = "#c62828",
              name: str = "") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    if name:
        label.setObjectName(name)
    f = label.font()
    f.setPointSize(size)
    f.setBold(True)
    label.setFont(f)
    label.setStyleSheet(f"color: {color};")
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return label


def error_label() -> QtWidgets.QLabel:
    label = QtWidgets.QLabel()
    label.setObjectName("errorLabel")
    label.setWordWrap(True)
    label.setStyleSheet("color: #b00020; font-weight: bold;")
    return label


class ApprovalDialog(QtWidgets.QDialog):
    """A manager types their username and password at the counter.

    Signals:
        approved(object): the :class:`ApprovalOut` (token valid a few minutes, used once).
    """

    approved = Signal(object)

    def __init__(self, services: Services, purpose: str, reason: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("approvalDialog")
        self.services = services
        self.purpose = purpose
        self.result_approval: ApprovalOut | None = None
        self.setWindowTitle(tr("approval.title"))
        self.setModal(True)
        lay = QtWidgets.QVBoxLayout(self)
        intro = QtWidgets.QLabel(reason or tr(f"approval.why.{purpose}"))
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QtWidgets.QFormLayout()
        self.username = QtWidgets.QLineEdit()
        self.username.setObjectName("approvalUser")
        self.password = QtWidgets.QLineEdit()
        self.password.setObjectName("approvalPassword")
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        form.addRow(tr("approval.username"), self.username)
        form.addRow(tr("approval.password"), self.password)
        lay.addLayout(form)
        self.error = error_label()
        lay.addWidget(self.error)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        assert self.ok is not None
        self.ok.setText(tr("approval.submit"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.setMinimumWidth(380)

    def submit(self) -> None:
        user, pw = self.username.text().strip(), self.password.text()
        if not user or not pw:
            self.error.setText(tr("login.fill_in"))
            return
        self.ok.setEnabled(False)
        self.error.setText(tr("common.loading"))
        api, purpose = self.services.api, self.purpose
        self.services.runner.op(lambda: api.grant_approval(user, pw, purpose), self._done,
                                self._failed, owner=self)

    def _done(self, res: ApprovalOut) -> None:
        self.result_approval = res
        self.approved.emit(res)
        self.accept()

    def _failed(self, err: ApiError) -> None:
        self.ok.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self.error.setText(err.message(i18n.language()))
