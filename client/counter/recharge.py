"""会员充值 (F8) with a preview of the shop's bonus (赠送, ``pick_bonus_rule`` over the rules
from ``GET /recharge-rules``; the server decides), cash handed over and change, and a
confirmation step before anything is posted, and 会员卡操作: lost (挂失), reissue (补卡),
freeze / unfreeze (冻结, manager)."""

from __future__ import annotations

import uuid
from typing import Any

from common.errors import ApiError
from common.membership_rules import RechargeRule, pick_bonus_rule
from common.money import format_fen
from common.payment import cash_change
from common.schemas.members import CardOut, MemberOut, RechargeRuleOut, StoredValueResultOut

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtWidgets, Signal
from ..widgets.approval import MoneyEdit, big_label, error_label
from ..widgets.context import Services
from ..widgets.dialogs import EnterDialog

RECHARGE_METHODS = ("cash", "wechat", "alipay", "card")


class RechargeDialog(EnterDialog):
    """Two steps, so that Enter never posts money by accident: the cashier enters the amount
    (and, for cash, what the customer handed over — empty = exact); Enter (or 下一步) shows
    the confirmation step with amount, bonus, tendered and change; a second Enter (确认充值)
    posts it. 返回修改 goes back. Change comes from :func:`common.payment.cash_change`.

    Signals:
        recharged(object): the :class:`StoredValueResultOut`; ``method``, ``tendered_fen``
        and ``change_fen`` are kept on the dialog for the slip and the drawer.
        shift_needed(): the server refused: this counter has no open shift
            (``shift_not_open``); the dialog stays, the controller opens the shift dialog.
    """

    recharged = Signal(object)
    shift_needed = Signal()

    def __init__(self, services: Services, member: MemberOut,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rechargeDialog")
        self.services = services
        self.member = member
        self.rules: list[RechargeRuleOut] = []
        self.key = str(uuid.uuid4())
        self.method = "cash"
        self.reviewing = False
        self.busy = False
        self.tendered_fen: int | None = None
        self.change_fen = 0
        self.setWindowTitle(tr("recharge.title"))
        self.setModal(True)
        form = QtWidgets.QFormLayout(self)
        form.addRow(tr("recharge.member"), QtWidgets.QLabel(
            f"{member.name}  {tr('member.stored_value')} {format_fen(member.stored_value)}"))
        self.amount = MoneyEdit(big=True)
        self.amount.setObjectName("rechargeAmount")
        self.amount.fen_changed.connect(self._preview)
        form.addRow(tr("recharge.amount"), self.amount)
        self.methods = QtWidgets.QComboBox()
        self.methods.setObjectName("rechargeMethod")
        self.methods.setMinimumHeight(36)
        for m in RECHARGE_METHODS:
            self.methods.addItem(tr(f"pay.method.{m}"), m)
        self.methods.currentIndexChanged.connect(lambda _i: self._preview())
        form.addRow(tr("recharge.method"), self.methods)
        self.tendered = MoneyEdit(placeholder=tr("payment.recharge.tendered_hint"))
        self.tendered.setObjectName("rechargeTendered")
        self.tendered.fen_changed.connect(self._preview)
        self.tendered_caption = QtWidgets.QLabel(tr("payment.recharge.tendered"))
        form.addRow(self.tendered_caption, self.tendered)
        self.change = big_label(format_fen(0), 16, "#1b5e20", "rechargeChange")
        self.change_caption = QtWidgets.QLabel(tr("payment.recharge.change"))
        form.addRow(self.change_caption, self.change)
        self.reference = QtWidgets.QLineEdit()
        self.reference.setObjectName("rechargeReference")
        self.reference.setPlaceholderText(tr("pay.reference"))
        self.reference_caption = QtWidgets.QLabel(tr("pay.reference"))
        form.addRow(self.reference_caption, self.reference)
        self.bonus = big_label("", 16, "#1b5e20", "rechargeBonus")
        form.addRow(tr("recharge.bonus"), self.bonus)
        self.rules_label = QtWidgets.QLabel()
        self.rules_label.setObjectName("rechargeRules")
        self.rules_label.setWordWrap(True)
        self.rules_label.setStyleSheet("color: #666;")
        form.addRow(self.rules_label)
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("rechargeSummary")
        self.summary.setWordWrap(True)
        sf = self.summary.font()
        sf.setPointSize(sf.pointSize() + 3)
        sf.setBold(True)
        self.summary.setFont(sf)
        self.summary.hide()
        form.addRow(self.summary)
        self.error = error_label()
        form.addRow(self.error)
        row = QtWidgets.QHBoxLayout()
        self.cancel = QtWidgets.QPushButton(tr("payment.recharge.cancel"))
        self.cancel.setObjectName("rechargeCancel")
        self.cancel.clicked.connect(self.reject)
        self.back = QtWidgets.QPushButton(tr("payment.recharge.back"))
        self.back.setObjectName("rechargeBack")
        self.back.clicked.connect(self.edit)
        self.back.hide()
        self.ok = QtWidgets.QPushButton(tr("payment.recharge.next"))
        self.ok.setObjectName("rechargeSubmit")
        self.ok.clicked.connect(self.enter)
        for b in (self.cancel, self.back, self.ok):
            b.setAutoDefault(False)  # Enter is handled by the dialog (keyPressEvent)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setMinimumHeight(44)
            row.addWidget(b)
        form.addRow(row)
        self.setMinimumWidth(460)
        # cash is the default: Tab goes from the amount straight to the cash handed over
        for a, b in ((self.amount, self.tendered), (self.tendered, self.methods),
                     (self.methods, self.reference)):
            QtWidgets.QWidget.setTabOrder(a, b)
        api = services.api
        services.runner.op(api.list_recharge_rules, self._rules, self._failed, owner=self)
        self._preview()
        self.amount.setFocus()

    def _rules(self, rules: list[RechargeRuleOut]) -> None:
        self.rules = [r for r in rules if r.active]
        self.rules_label.setText("；".join(
            tr("recharge.rule", threshold=format_fen(r.threshold), bonus=format_fen(r.bonus))
            for r in sorted(self.rules, key=lambda r: r.threshold)))
        self._preview()

    def bonus_for(self, amount: int) -> int:
        rule = pick_bonus_rule(amount, [RechargeRule(r.id, r.threshold, r.bonus)
                                        for r in self.rules])
        return rule.bonus if rule else 0

    @property
    def is_cash(self) -> bool:
        return self.methods.currentData() == "cash"

    def problem(self) -> str | None:
        amount = self.amount.fen() or 0
        tendered = self.tendered.fen()
        if self.is_cash and amount > 0 and tendered is not None and tendered < amount:
            return tr("payment.recharge.tendered_short", amount=format_fen(amount))
        return None

    def _preview(self) -> None:
        amount = self.amount.fen() or 0
        cash = self.is_cash
        for w in (self.tendered, self.tendered_caption, self.change, self.change_caption):
            w.setVisible(cash)
        for w in (self.reference, self.reference_caption):
            w.setVisible(not cash)
        self.bonus.setText(format_fen(self.bonus_for(amount)))
        self.change.setText(format_fen(cash_change(amount, self.tendered.fen())))
        problem = self.problem()
        if not self.busy:
            self.error.setText(problem or "")
        self.ok.setEnabled(amount > 0 and problem is None and not self.busy)

    def enter(self) -> None:
        """First Enter: the confirmation step; second Enter: post the recharge."""
        if not self.ok.isEnabled():
            return
        if self.reviewing:
            self.submit()
        else:
            self.review()

    def review(self) -> None:
        amount = self.amount.fen() or 0
        if amount <= 0 or self.problem() is not None:
            return
        self.reviewing = True
        self.method = self.methods.currentData()
        bonus = format_fen(self.bonus_for(amount))
        if self.is_cash:
            self.tendered_fen = self.tendered.fen() if self.tendered.fen() is not None \
                else amount
            self.change_fen = cash_change(amount, self.tendered_fen)
            text = tr("payment.recharge.summary", amount=format_fen(amount), bonus=bonus,
                      tendered=format_fen(self.tendered_fen),
                      change=format_fen(self.change_fen))
        else:
            self.tendered_fen, self.change_fen = None, 0
            text = tr("payment.recharge.summary_other", amount=format_fen(amount),
                      bonus=bonus, method=self.methods.currentText())
        self.summary.setText(f"{text}\n{tr('payment.recharge.review')}")
        self.summary.show()
        self.error.clear()
        for w in (self.amount, self.tendered, self.reference):
            w.setReadOnly(True)
        self.methods.setEnabled(False)
        self.back.show()
        self.ok.setText(tr("payment.recharge.confirm"))
        self.setFocus()
        self.adjustSize()

    def edit(self) -> None:
        """Back from the confirmation step to the fields."""
        self.reviewing = False
        self.summary.hide()
        for w in (self.amount, self.tendered, self.reference):
            w.setReadOnly(False)
        self.methods.setEnabled(True)
        self.back.hide()
        self.ok.setText(tr("payment.recharge.next"))
        self._preview()
        self.amount.setFocus()

    def submit(self) -> None:
        amount = self.amount.fen() or 0
        if amount <= 0 or self.busy:
            return
        self.busy = True
        self.ok.setEnabled(False)
        self.back.setEnabled(False)
        api, mid, key, method = self.services.api, self.member.id, self.key, self.method
        ref = None if method == "cash" else self.reference.text().strip() or None
        self.services.runner.op(lambda: api.recharge(mid, amount, method, ref, key=key),
                                self._done, self._failed, owner=self)

    def _done(self, res: StoredValueResultOut) -> None:
        self.busy = False
        self.recharged.emit(res)
        self.accept()

    def _failed(self, err: ApiError) -> None:
        self.busy = False
        self.back.setEnabled(True)
        self.ok.setEnabled(True)
        self.error.setText(err.message(i18n.language()))
        if err.code == "shift_not_open":
            self.shift_needed.emit()


class CardOpsDialog(QtWidgets.QDialog):
    """The member's cards with their status: 挂失, 补卡 (new card number), 冻结 / 解冻.

    Signals:
        changed(): a card's status changed (reload the member).
    """

    changed = Signal()

    def __init__(self, services: Services, member: MemberOut, *, is_manager: bool,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cardOpsDialog")
        self.services = services
        self.member = member
        self.is_manager = is_manager
        self.setWindowTitle(tr("cards.title", name=member.name))
        self.setModal(True)
        lay = QtWidgets.QVBoxLayout(self)
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("cardList")
        lay.addWidget(self.list)
        form = QtWidgets.QFormLayout()
        self.new_no = QtWidgets.QLineEdit()
        self.new_no.setObjectName("newCardNo")
        self.new_no.setPlaceholderText(tr("cards.new_no_hint"))
        form.addRow(tr("cards.new_no"), self.new_no)
        lay.addLayout(form)
        self.error = error_label()
        lay.addWidget(self.error)
        row = QtWidgets.QHBoxLayout()
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for op in ("lost", "reissue", "freeze", "unfreeze"):
            b = QtWidgets.QPushButton(tr(f"cards.{op}"))
            b.setObjectName(f"card_{op}")
            b.clicked.connect(lambda _c=False, o=op: self.do(o))
            row.addWidget(b)
            self.buttons[op] = b
        if not is_manager:
            for op in ("freeze", "unfreeze"):
                self.buttons[op].setEnabled(False)
                self.buttons[op].setToolTip(tr("cards.manager_only"))
        lay.addLayout(row)
        self.setMinimumWidth(460)
        self.show_cards(member.cards)

    def show_cards(self, cards: list[CardOut]) -> None:
        self.cards = cards
        self.list.clear()
        for c in cards:
            self.list.addItem(f"{c.card_no}  {tr('cards.status.' + c.status)}")
        if cards:
            self.list.setCurrentRow(0)
        else:
            self.error.setText(tr("cards.none"))

    def selected(self) -> CardOut | None:
        row = self.list.currentRow()
        return self.cards[row] if 0 <= row < len(self.cards) else None

    def do(self, op: str) -> None:
        card = self.selected()
        if card is None:
            return
        api = self.services.api
        fn: Any
        if op == "reissue":
            new_no = self.new_no.text().strip()
            if not new_no:
                self.error.setText(tr("cards.new_no_required"))
                self.new_no.setFocus()
                return
            fn = lambda: api.reissue_card(card.id, new_no)  # noqa: E731
        else:
            method = {"lost": api.report_card_lost, "freeze": api.freeze_card,
                      "unfreeze": api.unfreeze_card}[op]
            fn = lambda: method(card.id)  # noqa: E731
        self.services.runner.op(fn, lambda _c: self._done(op), self._failed, owner=self)

    def _done(self, op: str) -> None:
        self.error.setStyleSheet("color: #1b5e20; font-weight: bold;")
        self.error.setText(tr("cards.done." + op))
        self.changed.emit()
        api, mid = self.services.api, self.member.id
        self.services.runner.op(lambda: api.get_member(mid),
                                lambda m: self.show_cards(m.cards), self._failed, owner=self)

    def _failed(self, err: ApiError) -> None:
        self.error.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error.setText(err.message(i18n.language()))
