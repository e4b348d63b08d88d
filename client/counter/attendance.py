"""考勤打卡 at the counter (收银操作 → 考勤打卡): a staff member picks or types their username,
types their **own** password or PIN and presses 上班 / 开始休息 / 结束休息 / 下班. The server
checks the secret like a login (the cashier logged in here cannot clock anyone else in) and
says what happened; the dialog stays open for the next person.

Keyboard: Enter in the secret field = the action the person's state suggests (上班 when off,
下班 when working, 结束休息 on a break); Esc closes.
"""

from __future__ import annotations

import uuid

from common.errors import ApiError
from common.schemas.attendance import CLOCK_ACTIONS, ClockOut, ClockStaffOut

from .. import i18n
from ..i18n import tr
from ..qt import QtWidgets, Signal
from ..widgets.approval import error_label
from ..widgets.context import Services

#: the action Enter does for a person in this state
NEXT_ACTION = {"off": "in", "working": "out", "break": "break_end"}


def staff_label(s: ClockStaffOut) -> str:
    state = tr(f"att.state.{s.state}")
    return tr("att.staff_row", name=s.display_name, username=s.username, state=state)


class ClockDialog(QtWidgets.QDialog):
    """Signals:
        clocked(object): the :class:`ClockOut` of a successful action.
        staff_loaded(object): the staff list arrived (list of :class:`ClockStaffOut`).
    """

    clocked = Signal(object)
    staff_loaded = Signal(object)

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clockDialog")
        self.services = services
        self.staff: list[ClockStaffOut] = []
        self._last: tuple[tuple[str, str, str], str] | None = None
        self.setWindowTitle(tr("att.title"))
        self.setModal(True)
        lay = QtWidgets.QVBoxLayout(self)
        intro = QtWidgets.QLabel(tr("att.intro"))
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QtWidgets.QFormLayout()
        self.username = QtWidgets.QComboBox()
        self.username.setObjectName("clockUser")
        self.username.setEditable(True)
        self.username.setMinimumWidth(280)
        self.username.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        self.secret = QtWidgets.QLineEdit()
        self.secret.setObjectName("clockSecret")
        self.secret.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText(tr("att.secret_hint"))
        self.secret.returnPressed.connect(self.suggested)
        form.addRow(tr("att.username"), self.username)
        form.addRow(tr("att.secret"), self.secret)
        lay.addLayout(form)
        row = QtWidgets.QHBoxLayout()
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for action in CLOCK_ACTIONS:
            b = QtWidgets.QPushButton(tr(f"att.action.{action}"))
            b.setObjectName(f"clock_{action}")
            b.setMinimumHeight(56)
            b.setAutoDefault(False)
            f = b.font()
            f.setPointSize(f.pointSize() + 3)
            f.setBold(True)
            b.setFont(f)
            b.clicked.connect(lambda _c=False, a=action: self.submit(a))
            row.addWidget(b)
            self.buttons[action] = b
        lay.addLayout(row)
        self.result = QtWidgets.QLabel()
        self.result.setObjectName("clockResult")
        self.result.setWordWrap(True)
        f = self.result.font()
        f.setPointSize(f.pointSize() + 4)
        f.setBold(True)
        self.result.setFont(f)
        self.result.setStyleSheet("color: #1b5e20;")
        lay.addWidget(self.result)
        self.error = error_label()
        lay.addWidget(self.error)
        close = QtWidgets.QPushButton(tr("att.close"))
        close.setObjectName("clockClose")
        close.setAutoDefault(False)
        close.clicked.connect(self.accept)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        lay.addLayout(bottom)
        self.setMinimumWidth(560)
        self.load_staff()

    # --- the staff list ---------------------------------------------------------------------
    def load_staff(self) -> None:
        api = self.services.api
        self.services.runner.op(api.clock_staff, self._staff, self._failed, owner=self)

    def _staff(self, staff: list[ClockStaffOut]) -> None:
        typed = self.chosen_username()
        self.staff = staff
        self.username.blockSignals(True)
        self.username.clear()
        for s in staff:
            self.username.addItem(staff_label(s), s.username)
        self.username.setCurrentIndex(-1)
        self.username.setEditText(typed)
        self.username.blockSignals(False)
        self.staff_loaded.emit(staff)

    def chosen_username(self) -> str:
        """The username picked from the list, or as typed (a name from the list also works)."""
        text = self.username.currentText().strip()
        i = self.username.findText(text)
        if i >= 0:
            return str(self.username.itemData(i))
        return text

    def choose(self, username: str) -> None:
        i = self.username.findData(username)
        if i >= 0:
            self.username.setCurrentIndex(i)
        else:
            self.username.setEditText(username)
        self.secret.setFocus()

    def state_of(self, username: str) -> str:
        return next((s.state for s in self.staff if s.username == username), "off")

    # --- clocking --------------------------------------------------------------------------
    def suggested(self) -> None:
        self.submit(NEXT_ACTION[self.state_of(self.chosen_username())])

    def submit(self, action: str) -> None:
        user, secret = self.chosen_username(), self.secret.text()
        self.result.setText("")
        if not user or not secret:
            self.error.setText(tr("att.fill_in"))
            return
        content = (user, secret, action)
        key = self._last[1] if self._last and self._last[0] == content else str(uuid.uuid4())
        self._last = (content, key)
        self.error.setText(tr("common.loading"))
        for b in self.buttons.values():
            b.setEnabled(False)
        api = self.services.api
        self.services.runner.op(lambda: api.clock(user, secret, action, key=key), self._done,
                                self._failed, owner=self)

    def _enable(self) -> None:
        for b in self.buttons.values():
            b.setEnabled(True)

    def _done(self, res: ClockOut) -> None:
        self._enable()
        self._last = None
        self.error.setText("")
        self.secret.clear()
        text = tr("att.done", name=res.display_name, action=tr(f"att.action.{res.action}"),
                  time=res.local_time.strftime("%H:%M"))
        if res.session_minutes is not None:
            h, m = divmod(res.session_minutes, 60)
            text += tr("att.done_worked", h=h, m=m)
        self.result.setText(text)
        self.username.setCurrentIndex(-1)
        self.username.setEditText("")
        self.username.setFocus()
        self.clocked.emit(res)
        self.load_staff()

    def _failed(self, err: ApiError) -> None:
        self._enable()
        self.secret.clear()
        self.secret.setFocus()
        self.error.setText(err.message(i18n.language()))


__all__ = ["NEXT_ACTION", "ClockDialog", "staff_label"]
