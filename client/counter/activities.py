"""活动报名 at the counter (收银操作 → 活动报名 / 签到, or the member panel): the upcoming
activities with their seats left; for the member attached at the counter:

- **报名** (Enter): a free activity is signed up for at once; a priced one is put in the cart
  as a line of its own (``add_to_cart``) and paid with the sale like any item — the server
  signs the member up when the sale completes (and frees the seat when that line is refunded);
- **签到** (F2): checks the member in for the chosen activity;
- **取消报名** (F3, or Enter in the reason field): cancels a free sign-up with a reason (a paid
  one: refund its line).

The server decides everything (seats, one per member, ended, cancelled) and its message is
shown as it is; the dialog only shows and asks.
"""

from __future__ import annotations

import uuid

from common.errors import ApiError
from common.money import format_fen
from common.schemas.activities import ActivityOut, SignupOut
from common.schemas.members import MemberOut

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtGui, QtWidgets, Signal
from ..widgets.approval import error_label
from ..widgets.context import Services

COLUMNS = ("title", "time", "place", "left", "price", "mine")


def time_text(a: ActivityOut) -> str:
    same_day = a.starts_at.date() == a.ends_at.date()
    end = a.ends_at.strftime("%H:%M" if same_day else "%m-%d %H:%M")
    return f"{a.starts_at:%m-%d %H:%M}–{end}"


def price_text(price: int) -> str:
    return format_fen(price) if price else tr("act.free")


class ActivitySignupDialog(QtWidgets.QDialog):
    """Signals:
        add_to_cart(object): the :class:`ActivityOut` whose seat goes into the cart (paid).
        signed_up(object), checked_in(object), cancelled(object): the :class:`SignupOut`.
        loaded(object): the list of activities arrived.
    """

    add_to_cart = Signal(object)
    signed_up = Signal(object)
    checked_in = Signal(object)
    cancelled = Signal(object)
    loaded = Signal(object)

    def __init__(self, services: Services, member: MemberOut | None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activitySignupDialog")
        self.setWindowTitle(tr("act.counter.title"))
        self.setModal(True)
        self.services = services
        self.member = member
        self.activities: list[ActivityOut] = []
        self.mine: dict[int, SignupOut] = {}  # activity id → the member's sign-up
        self._keys: dict[tuple[str, int], str] = {}
        lay = QtWidgets.QVBoxLayout(self)
        who = QtWidgets.QLabel(tr("act.counter.member", name=member.name, number=member.number)
                               if member else tr("act.counter.no_member"))
        who.setObjectName("activityMember")
        who.setWordWrap(True)
        lay.addWidget(who)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("activityTable")
        self.table.setHorizontalHeaderLabels([tr(f"act.col.{c}") for c in COLUMNS])
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _i: self.sign_up())
        lay.addWidget(self.table, 1)
        self.result = QtWidgets.QLabel()
        self.result.setObjectName("activityResult")
        self.result.setWordWrap(True)
        self.result.setStyleSheet("color: #1b5e20; font-weight: bold;")
        lay.addWidget(self.result)
        self.error = error_label()
        lay.addWidget(self.error)
        self.reason = QtWidgets.QLineEdit()
        self.reason.setObjectName("activityCancelReason")
        self.reason.setMaxLength(255)
        self.reason.setPlaceholderText(tr("act.counter.reason"))
        form = QtWidgets.QFormLayout()
        form.addRow(tr("act.counter.reason_label"), self.reason)
        lay.addLayout(form)
        row = QtWidgets.QHBoxLayout()
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for name, slot in (("sign_up", self.sign_up), ("check_in", self.check_in),
                           ("cancel", self.cancel_signup)):
            b = QtWidgets.QPushButton(tr(f"act.counter.{name}"))
            b.setObjectName(f"activity_{name}")
            b.setMinimumHeight(44)
            b.setAutoDefault(False)
            b.setEnabled(member is not None)
            b.clicked.connect(lambda _c=False, s=slot: s())
            row.addWidget(b)
            self.buttons[name] = b
        row.addStretch(1)
        close = QtWidgets.QPushButton(tr("act.counter.close"))
        close.setObjectName("activityClose")
        close.setAutoDefault(False)
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)
        for seq, slot in (("Return", self._enter), ("Enter", self._enter),
                          ("F2", self.check_in), ("F3", self.cancel_signup)):
            sc = QtGui.QShortcut(QtGui.QKeySequence(seq), self)
            sc.activated.connect(slot)
        self.resize(860, 520)  # fits 1024×768
        self.load()

    # --- loading -----------------------------------------------------------------------------
    def load(self) -> None:
        api, member = self.services.api, self.member

        def fetch() -> tuple[list[ActivityOut], list[SignupOut]]:
            acts = api.list_activities(1, 100, upcoming=True, include_cancelled=False).items
            mine = api.member_signups(member.id) if member is not None else []
            return acts, mine

        self.services.runner.op(fetch, self._loaded, self._failed, owner=self)

    def _loaded(self, data: tuple[list[ActivityOut], list[SignupOut]]) -> None:
        acts, mine = data
        self.activities = acts
        self.mine = {s.activity_id: s for s in mine}
        self.table.setRowCount(len(acts))
        for r, a in enumerate(acts):
            s = self.mine.get(a.id)
            cells = (a.title, time_text(a), a.place,
                     tr("act.left", left=a.left, capacity=a.capacity), price_text(a.price),
                     tr(f"act.status.{s.status}") if s else "")
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if COLUMNS[c] in ("left", "price"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        if acts and self.table.currentRow() < 0:
            self.table.selectRow(0)
        if not acts:
            self.result.setText(tr("act.counter.none"))
        self.loaded.emit(acts)

    # --- actions -----------------------------------------------------------------------------
    def _enter(self) -> None:
        """Enter: 取消报名 when typing its reason, else 报名."""
        if self.reason.hasFocus():
            self.cancel_signup()
        else:
            self.sign_up()

    def current(self) -> ActivityOut | None:
        row = self.table.currentRow()
        if 0 <= row < len(self.activities):
            return self.activities[row]
        return None

    def select(self, activity_id: int) -> None:
        for r, a in enumerate(self.activities):
            if a.id == activity_id:
                self.table.selectRow(r)

    def _ready(self) -> tuple[ActivityOut, MemberOut] | None:
        self.result.setText("")
        if self.member is None:
            self.error.setText(tr("act.counter.no_member"))
            return None
        a = self.current()
        if a is None:
            self.error.setText(tr("act.counter.pick"))
            return None
        self.error.setText("")
        return a, self.member

    def _key(self, what: str, ident: int) -> str:
        """One key per action and target until it succeeds: a retry is done once."""
        return self._keys.setdefault((what, ident), str(uuid.uuid4()))

    def sign_up(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        a, m = ready
        if a.price:
            self.add_to_cart.emit(a)
            self.result.setText(tr("act.counter.in_cart", title=a.title,
                                   price=format_fen(a.price)))
            self.accept()
            return
        api, key = self.services.api, self._key("sign_up", a.id)
        self.services.runner.op(lambda: api.sign_up(a.id, m.id, key=key),
                                lambda s: self._done(s, "signed_up"), self._failed, owner=self)

    def check_in(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        a, _m = ready
        s = self.mine.get(a.id)
        if s is None:
            self.error.setText(tr("act.counter.not_signed_up"))
            return
        api, key = self.services.api, self._key("check_in", s.id)
        self.services.runner.op(lambda: api.check_in_signup(a.id, s.id, key=key),
                                lambda s2: self._done(s2, "checked_in"), self._failed,
                                owner=self)

    def cancel_signup(self, reason: str | None = None) -> None:
        ready = self._ready()
        if ready is None:
            return
        a, _m = ready
        s = self.mine.get(a.id)
        if s is None:
            self.error.setText(tr("act.counter.not_signed_up"))
            return
        reason = (reason if reason is not None else self.reason.text()).strip()
        if not reason:
            self.error.setText(tr("act.counter.reason_needed"))
            self.reason.setFocus()
            return
        api, key = self.services.api, self._key("cancel", s.id)
        self.services.runner.op(lambda: api.cancel_signup(a.id, s.id, reason, key=key),
                                lambda s2: self._done(s2, "cancelled"), self._failed,
                                owner=self)

    def _done(self, s: SignupOut, what: str) -> None:
        self._keys.clear()  # done: pressing again is a new request (a retry of a failed or
        # unanswered one keeps its key)
        self.error.setText("")
        if what == "cancelled":
            self.reason.clear()
        self.result.setText(tr(f"act.counter.done.{what}", title=s.activity_title,
                               name=self.member.name if self.member else ""))
        getattr(self, what).emit(s)
        self.load()

    def _failed(self, err: ApiError) -> None:
        self.error.setText(err.message(i18n.language()))


__all__ = ["ActivitySignupDialog", "price_text", "time_text"]
