"""The member panel of the checkout (F2): one search box (phone last 4 / card / name /
pinyin), pick a member, see level, stored value, points, count cards and coupons; quick new
member. The attached member goes into the cart (``member_changed``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from common.errors import ApiError
from common.money import format_fen
from common.schemas.members import CountCardOut, CouponOut, MemberOut
from common.text import mask_phone

from .. import i18n
from ..i18n import tr
from ..offline.member_ref import MemberRef, parse_member_ref
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal
from ..widgets.approval import error_label
from ..widgets.context import Services
from ..widgets.dialogs import name_buttons
from .receipts import local_time


def short_date(t: dt.datetime) -> str:
    return local_time(t).date().isoformat()


def member_title(m: MemberOut) -> str:
    level = f"（{m.level_name}）" if m.level_name else ""
    return f"{m.name}{level}"


def coupon_text(c: CouponOut) -> str:
    if c.kind == "amount":
        what = tr("member.coupon_amount", amount=format_fen(c.amount_fen))
    else:
        what = tr("member.coupon_percent", rate=f"{c.percent_bp / 1000:g}")
    cond = (tr("member.coupon_threshold", amount=format_fen(c.threshold_fen))
            if c.threshold_fen else "")
    until = tr("member.until", date=c.valid_to.isoformat()) if c.valid_to else ""
    return " ".join(x for x in (c.name or what, cond, until) if x)


def count_card_text(c: CountCardOut) -> str:
    until = tr("member.until", date=short_date(c.expires_at)) if c.expires_at else ""
    return tr("member.count_card_left", name=c.name, n=c.remaining_uses) + (
        f" {until}" if until else "")


class PickerList(QtWidgets.QListWidget):
    """The list of members an ambiguous search found: a bounded height (it scrolls, it never
    grows the window), Enter picks, Esc closes it (before the checkout's Esc = 返回).

    Signals:
        closed(): Esc was pressed.
    """

    closed = Signal()
    MAX_HEIGHT = 150

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMaximumHeight(self.MAX_HEIGHT)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                           QtWidgets.QSizePolicy.Policy.Maximum)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)

    def event(self, e: QtCore.QEvent | None) -> bool:
        if (e is not None and e.type() == QtCore.QEvent.Type.ShortcutOverride
                and isinstance(e, QtGui.QKeyEvent) and e.key() == Qt.Key.Key_Escape):
            e.accept()  # Esc is ours while the picker has the focus
            return True
        return super().event(e)

    def keyPressEvent(self, e: QtGui.QKeyEvent | None) -> None:
        if e is not None and e.key() == Qt.Key.Key_Escape:
            self.closed.emit()
            return
        super().keyPressEvent(e)


class MemberPanel(QtWidgets.QWidget):
    """See module doc.

    Signals:
        member_changed(object): the attached :class:`MemberOut`, or None when removed.
        extras_loaded(): count cards and coupons of the attached member arrived.
        recharge_requested(), cards_requested(), sell_card_requested(),
            activities_requested(): the buttons 充值 / 卡操作 / 售次卡 / 活动.
        offline_attached(object): offline, a member typed by full phone / card number was
            recorded (a :class:`~client.offline.member_ref.MemberRef`; the cart stays priced
            as a non-member, the server resolves the reference at replay).
        network_failed(object): a search got no answer at all (an :class:`ApiError`).
    """

    member_changed = Signal(object)
    extras_loaded = Signal()
    recharge_requested = Signal()
    cards_requested = Signal()
    sell_card_requested = Signal()  # 售次卡
    activities_requested = Signal()  # 活动报名 / 签到
    offline_attached = Signal(object)
    network_failed = Signal(object)

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("memberPanelWidget")
        self.services = services
        self.member: MemberOut | None = None
        self.count_cards: list[CountCardOut] = []
        self.coupons: list[CouponOut] = []
        #: offline now? (the counter's OfflineMode); offline a search is not sent
        self.is_offline: Callable[[], bool] = lambda: False
        #: a member typed offline (full phone / card number), journaled with the sale
        self.offline_ref: MemberRef | None = None
        self.offline_name = ""  # that member's name when looked up online this session
        self.known: dict[str, MemberOut] = {}  # phone / card / number → member seen online

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        self.search = QtWidgets.QLineEdit()
        self.search.setObjectName("memberSearch")
        self.search.setPlaceholderText(tr("member.search"))
        self.search.setMinimumHeight(36)
        self.search.returnPressed.connect(self.do_search)
        self.new_button = QtWidgets.QPushButton(tr("member.new"))
        self.new_button.setObjectName("newMember")
        self.new_button.clicked.connect(self.new_member)
        row.addWidget(self.search, 1)
        row.addWidget(self.new_button)
        lay.addLayout(row)

        self.results = PickerList()
        self.results.setObjectName("memberResults")
        self.results.closed.connect(self.close_picker)
        self.results.itemActivated.connect(self._picked)
        self.results.itemClicked.connect(self._picked)
        self.results.hide()
        lay.addWidget(self.results)
        self.message = QtWidgets.QLabel(tr("checkout.no_member"))
        self.message.setObjectName("memberMessage")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)

        self.details = QtWidgets.QWidget()
        grid = QtWidgets.QGridLayout(self.details)
        grid.setContentsMargins(0, 0, 0, 0)
        self.name = QtWidgets.QLabel()
        self.name.setObjectName("memberName")
        f = self.name.font()
        f.setPointSize(f.pointSize() + 3)
        f.setBold(True)
        self.name.setFont(f)
        self.phone = QtWidgets.QLabel()
        self.stored_value = QtWidgets.QLabel()
        self.stored_value.setObjectName("memberStoredValue")
        sf = self.stored_value.font()
        sf.setPointSize(sf.pointSize() + 3)
        sf.setBold(True)
        self.stored_value.setFont(sf)
        self.stored_value.setStyleSheet("color: #0d47a1;")
        self.points = QtWidgets.QLabel()
        self.points.setObjectName("memberPoints")
        self.cards_label = QtWidgets.QLabel()
        self.cards_label.setObjectName("memberCountCards")
        self.cards_label.setWordWrap(True)
        self.coupons_label = QtWidgets.QLabel()
        self.coupons_label.setObjectName("memberCoupons")
        self.coupons_label.setWordWrap(True)
        grid.addWidget(self.name, 0, 0, 1, 2)
        grid.addWidget(self.phone, 1, 0, 1, 2)
        grid.addWidget(QtWidgets.QLabel(tr("member.stored_value")), 2, 0)
        grid.addWidget(self.stored_value, 2, 1)
        grid.addWidget(QtWidgets.QLabel(tr("member.points")), 3, 0)
        grid.addWidget(self.points, 3, 1)
        grid.addWidget(QtWidgets.QLabel(tr("member.count_cards")), 4, 0,
                       Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.cards_label, 4, 1)
        grid.addWidget(QtWidgets.QLabel(tr("member.coupons")), 5, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.coupons_label, 5, 1)
        grid.setColumnStretch(1, 1)
        buttons = QtWidgets.QHBoxLayout()
        self.recharge_button = QtWidgets.QPushButton(tr("member.recharge"))
        self.recharge_button.setObjectName("memberRecharge")
        self.recharge_button.clicked.connect(self.recharge_requested)
        self.cards_button = QtWidgets.QPushButton(tr("member.cards"))
        self.cards_button.setObjectName("memberCards")
        self.cards_button.clicked.connect(self.cards_requested)
        self.sell_card_button = QtWidgets.QPushButton(tr("member.sell_card"))
        self.sell_card_button.setObjectName("memberSellCard")
        self.sell_card_button.clicked.connect(self.sell_card_requested)
        self.activities_button = QtWidgets.QPushButton(tr("member.activities"))
        self.activities_button.setObjectName("memberActivities")
        self.activities_button.clicked.connect(self.activities_requested)
        self.clear_button = QtWidgets.QPushButton(tr("member.clear"))
        self.clear_button.setObjectName("memberClear")
        self.clear_button.clicked.connect(lambda: self.attach(None))
        for b in (self.recharge_button, self.cards_button, self.sell_card_button,
                  self.activities_button, self.clear_button):
            buttons.addWidget(b)
        grid.addLayout(buttons, 6, 0, 1, 2)
        lay.addWidget(self.details)
        self.details.hide()

    # --- search ---------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def handle_scan(self, code: str) -> None:
        """A member card scanned while the search box has the focus."""
        self.search.setText(code)
        self.do_search()

    def do_search(self) -> None:
        q = self.search.text().strip()
        if not q:
            return
        if self.is_offline():
            self.attach_offline(q)
            return
        self.message.setText(tr("common.loading"))
        self.message.show()
        api = self.services.api
        self.services.runner.op(lambda: api.list_members(page_size=20, q=q),
                                lambda page: self._found(page, q),
                                lambda err: self._search_failed(q, err), owner=self)

    def _search_failed(self, q: str, err: ApiError) -> None:
        if err.status == 0:  # no answer at all: offline now, the typed reference is kept
            self.network_failed.emit(err)
            self.attach_offline(q)
            return
        self._failed(err)

    def attach_offline(self, q: str) -> None:
        """Offline: a full phone / card number is recorded for the sale (the server gives
        the points at replay); a name or the last digits of a phone are refused."""
        ref = parse_member_ref(q)
        self.results.hide()
        self.results.clear()
        if ref is None:
            self.message.setText(tr("offline.member_ref.refused"))
            self.message.setStyleSheet("color: #b00020;")
            self.message.show()
            self.focus_search()
            return
        self.member = None
        self.count_cards, self.coupons = [], []
        self.details.hide()
        self.offline_ref = ref
        known = self.known.get(ref.ref)
        self.offline_name = known.name if known is not None else ""
        text = tr("offline.member_ref.phone" if ref.kind == "phone"
                  else "offline.member_ref.card", ref=ref.ref)
        if self.offline_name:
            text += "\n" + tr("offline.member_ref.name", name=self.offline_name)
        self.message.setText(text)
        self.message.setStyleSheet("color: #0d47a1;")
        self.message.show()
        # the wrapped lines get their height (the checkout's box does not ask the label)
        self.message.setMinimumHeight(self.message.heightForWidth(max(self.width(), 200)))
        self.member_changed.emit(None)  # priced as a non-member until the server says
        self.offline_attached.emit(ref)

    def back_online(self) -> None:
        """The server answers again: a member typed offline is looked up for real."""
        ref = self.offline_ref
        if ref is not None and self.member is None:
            self.search.setText(ref.ref)
            self.do_search()

    def _remember(self, m: MemberOut, typed: str = "") -> None:
        """``typed``: the full phone the cashier searched by — a cashier's search answers
        with masked phones (``common.privacy``), so the number typed is the key."""
        for key in (m.phone, m.number, *(c.card_no for c in m.cards), typed):
            if key and "*" not in key:
                self.known[key] = m

    def _found(self, page: Any, q: str = "") -> None:
        items: list[MemberOut] = list(page.items)
        self.offline_ref, self.offline_name = None, ""  # the server answered
        typed = parse_member_ref(q) if len(items) == 1 else None
        for m in items:
            self._remember(m, typed.ref if typed is not None else "")
        self.results.clear()
        if not items:
            self.results.hide()
            self.message.setText(tr("member.none_found", q=self.search.text().strip()))
            return
        if len(items) == 1:
            self.results.hide()
            self.attach(items[0])
            return
        for m in items:
            it = QtWidgets.QListWidgetItem(
                f"{member_title(m)}  {mask_phone(m.phone)}  {m.number}  "
                f"{tr('member.stored_value')} {format_fen(m.stored_value)}")
            it.setData(Qt.ItemDataRole.UserRole, m)
            self.results.addItem(it)
        self.details.hide()  # the picker takes the details' place: the panel keeps its height
        self.results.show()
        self.results.setCurrentRow(0)
        self.results.setFocus()
        self.message.setText(tr("member.pick", n=len(items)))

    def close_picker(self) -> None:
        """Esc in the picker: nobody picked; the search box gets the focus back."""
        self.results.hide()
        self.results.clear()
        if self.member is None:
            self.message.setText(tr("checkout.no_member"))
        else:
            self.message.hide()
            self.details.show()
        self.focus_search()

    def _picked(self, item: QtWidgets.QListWidgetItem) -> None:
        m = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(m, MemberOut):
            self.results.hide()
            self.attach(m)

    def _failed(self, err: ApiError) -> None:
        self.message.setText(err.message(i18n.language()))
        self.message.setStyleSheet("color: #b00020;")
        self.message.show()

    # --- the attached member -------------------------------------------------------------
    def attach(self, member: MemberOut | None) -> None:
        same = (member is not None and self.member is not None and member.id == self.member.id)
        self.member = member
        self.offline_ref, self.offline_name = None, ""
        self.message.setMinimumHeight(0)
        if member is not None:
            self._remember(member)
        self.message.setStyleSheet("")
        if member is None:
            self.count_cards, self.coupons = [], []
            self.details.hide()
            self.message.setText(tr("checkout.no_member"))
            self.message.show()
            self.search.clear()
            self.member_changed.emit(None)
            return
        self.message.hide()
        self._show(member)
        self.details.show()
        if not same:
            self.count_cards, self.coupons = [], []
        self.member_changed.emit(member)
        self.load_extras()

    def _show(self, m: MemberOut) -> None:
        self.name.setText(member_title(m) + ("" if m.active else f" [{tr('staff.inactive')}]"))
        card = next((c.card_no for c in m.cards if c.status == "active"), "")
        self.phone.setText("  ".join(x for x in (mask_phone(m.phone), m.number,
                                                  tr("member.card", no=card) if card else "",
                                                  tr("appt.no_shows", n=m.no_show_count)
                                                  if m.no_show_count else "")
                                      if x))
        self.stored_value.setText(format_fen(m.stored_value))
        self.points.setText(str(m.points))

    def load_extras(self) -> None:
        m = self.member
        if m is None:
            return
        api, mid = self.services.api, m.id

        def fetch() -> tuple[list[CountCardOut], list[CouponOut]]:
            cards = api.member_count_cards(mid, usable_only=True).items
            coupons = api.list_coupons(page_size=50, member_id=mid, status="issued").items
            return list(cards), list(coupons)

        self.services.runner.op(fetch, lambda res: self._extras(mid, *res), self._failed,
                                owner=self)

    def _extras(self, mid: int, cards: list[CountCardOut], coupons: list[CouponOut]) -> None:
        if self.member is None or self.member.id != mid:
            return
        self.count_cards = [c for c in cards if not c.expired and c.remaining_uses > 0]
        self.coupons = coupons
        self.cards_label.setText("\n".join(count_card_text(c) for c in self.count_cards)
                                 or tr("member.none"))
        self.coupons_label.setText("\n".join(coupon_text(c) for c in self.coupons)
                                   or tr("member.none"))
        self.extras_loaded.emit()

    def refresh(self) -> None:
        """Reload the attached member (balances changed: sale, recharge, card operation)."""
        if self.member is None:
            return
        api, mid = self.services.api, self.member.id
        self.services.runner.op(lambda: api.get_member(mid), self._reloaded, self._failed,
                                owner=self)

    def _reloaded(self, m: MemberOut) -> None:
        if self.member is not None and self.member.id == m.id:
            self.member = m
            self._show(m)
            self.load_extras()

    # --- quick new member ----------------------------------------------------------------
    def new_member(self) -> None:
        dlg = NewMemberDialog(self.services, self.search.text().strip(), parent=self)
        dlg.created.connect(self.attach)
        dlg.open()
        self.new_dialog = dlg


class NewMemberDialog(QtWidgets.QDialog):
    """Quick new member at the counter: name, mobile, (card number).

    Signals:
        created(object): the new :class:`MemberOut`.
    """

    created = Signal(object)

    def __init__(self, services: Services, hint: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newMemberDialog")
        self.services = services
        self.setWindowTitle(tr("member.new_title"))
        self.setModal(True)
        form = QtWidgets.QFormLayout(self)
        self.name = QtWidgets.QLineEdit()
        self.name.setObjectName("newMemberName")
        self.phone = QtWidgets.QLineEdit()
        self.phone.setObjectName("newMemberPhone")
        self.card_no = QtWidgets.QLineEdit()
        self.card_no.setObjectName("newMemberCard")
        if hint.isdigit() and len(hint) == 11:
            self.phone.setText(hint)
        elif hint and not hint.isdigit():
            self.name.setText(hint)
        form.addRow(tr("member.name"), self.name)
        form.addRow(tr("member.phone"), self.phone)
        form.addRow(tr("member.card_no"), self.card_no)
        self.error = error_label()
        form.addRow(self.error)
        buttons = name_buttons(QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Save
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setMinimumWidth(380)

    def submit(self) -> None:
        body = {"name": self.name.text().strip(), "phone": self.phone.text().strip() or None}
        if self.card_no.text().strip():
            body["card_no"] = self.card_no.text().strip()
        if not body["name"]:
            self.error.setText(tr("member.name_required"))
            return
        api = self.services.api
        self.services.runner.op(lambda: api.create_member(body), self._done, self._failed,
                                owner=self)

    def _done(self, m: MemberOut) -> None:
        self.created.emit(m)
        self.accept()

    def _failed(self, err: ApiError) -> None:
        from ..widgets.dialogs import error_text

        self.error.setText(error_text(err))
