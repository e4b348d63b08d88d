"""会员充值 (F8) with a preview of the shop's bonus (赠送, ``pick_bonus_rule`` over the rules
from ``GET /recharge-rules``; the server decides), and 会员卡操作: lost (挂失), reissue (补卡),
freeze / unfreeze (冻结, manager)."""

from __future__ import annotations

import uuid
from typing import Any

from common.errors import ApiError
from common.membership_rules import RechargeRule, pick_bonus_rule
from common.money import format_fen
from common.schemas.members import CardOut, MemberOut, RechargeRuleOut, StoredValueResultOut

from .. import i18n
from ..i18n import tr
from ..qt import QtWidgets, Signal
from ..widgets.approval import MoneyEdit, big_label, error_label
from ..widgets.context import Services

RECHARGE_METHODS = ("cash", "wechat", "alipay", "card")


class RechargeDialog(QtWidgets.QDialog):
    """Signals:
        recharged(object): the :class:`StoredValueResultOut`; ``method`` is kept on the
        dialog (``self.method``) for the slip and the drawer.
    """

    recharged = Signal(object)

    def __init__(self, services: Services, member: MemberOut,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rechargeDialog")
        self.services = services
        self.member = member
        self.rules: list[RechargeRuleOut] = []
        self.key = str(uuid.uuid4())
        self.method = "cash"
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
        for m in RECHARGE_METHODS:
            self.methods.addItem(tr(f"pay.method.{m}"), m)
        form.addRow(tr("recharge.method"), self.methods)
        self.reference = QtWidgets.QLineEdit()
        self.reference.setPlaceholderText(tr("pay.reference"))
        form.addRow(tr("pay.reference"), self.reference)
        self.bonus = big_label("", 16, "#1b5e20", "rechargeBonus")
        form.addRow(tr("recharge.bonus"), self.bonus)
        self.rules_label = QtWidgets.QLabel()
        self.rules_label.setObjectName("rechargeRules")
        self.rules_label.setWordWrap(True)
        self.rules_label.setStyleSheet("color: #666;")
        form.addRow(self.rules_label)
        self.error = error_label()
        form.addRow(self.error)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        assert self.ok is not None
        self.ok.setText(tr("recharge.submit"))
        self.ok.setObjectName("rechargeSubmit")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setMinimumWidth(440)
        api = services.api
        services.runner.op(api.list_recharge_rules, self._rules, self._failed, owner=self)
        self._preview()

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

    def _preview(self) -> None:
        amount = self.amount.fen() or 0
        bonus = self.bonus_for(amount)
        self.bonus.setText(format_fen(bonus))
        self.ok.setEnabled(amount > 0)

    def submit(self) -> None:
        amount = self.amount.fen() or 0
        if amount <= 0:
            return
        self.method = self.methods.currentData()
        self.ok.setEnabled(False)
        api, mid, key, method = self.services.api, self.member.id, self.key, self.method
        ref = self.reference.text().strip() or None
        self.services.runner.op(lambda: api.recharge(mid, amount, method, ref, key=key),
                                self._done, self._failed, owner=self)

    def _done(self, res: StoredValueResultOut) -> None:
        self.recharged.emit(res)
        self.accept()

    def _failed(self, err: ApiError) -> None:
        self.ok.setEnabled(True)
        self.error.setText(err.message(i18n.language()))


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
