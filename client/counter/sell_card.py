"""售次卡: sell a member a count card (次卡) at the counter, outside a sale.

Pick a template (``GET /count-card-templates``, active ones), see its price, uses and validity;
pay by cash (tendered and change shown), bank card, WeChat, Alipay (a reference) or the
member's stored value (the PIN when the shop's rule asks for it: ``common.payment``). The
card goes to ``POST /count-cards`` (``CountCardSellIn``) with an idempotency key: a retry of
the same sale never sells a second card; another choice after a refusal is a new key. The
server requires the counter's open shift, and the shift counts the card's takings.

Keys: ↑/↓ choose the card, 1–5 the payment method, Enter takes the payment (the button shows
the amount and the method), Esc closes.
"""

from __future__ import annotations

import uuid
from typing import Any

from common.errors import ApiError
from common.money import format_fen
from common.payment import cash_change, pin_required, quick_cash
from common.schemas.members import (
    CountCardOut,
    CountCardTemplateOut,
    MemberOut,
    MembershipSettings,
)

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtCore, QtWidgets, Signal
from ..widgets.approval import MoneyEdit, big_label, error_label
from ..widgets.context import Services
from ..widgets.dialogs import EnterDialog

SELL_METHODS = ("cash", "card", "wechat", "alipay", "stored_value")
REF_METHODS = ("card", "wechat", "alipay")
PIN_ERRORS = ("pin_required", "pin_wrong", "pin_locked")


def method_label(method: str) -> str:
    return tr("sellcard.stored_value") if method == "stored_value" else tr(f"pay.method.{method}")


def template_text(t: CountCardTemplateOut) -> str:
    valid = (tr("sellcard.valid_days", n=t.validity_days) if t.validity_days
             else tr("sellcard.no_expiry"))
    return tr("sellcard.template_row", name=t.name, price=format_fen(t.price), uses=t.uses,
              valid=valid)


class SellCardDialog(EnterDialog):
    """See module doc.

    Signals:
        sold(object): the new :class:`CountCardOut`; ``method`` and ``tendered`` (cash) stay
            on the dialog for the slip and the drawer.
        loaded(): the templates arrived (tests).
        shift_needed(): the server refused: this counter has no open shift
            (``shift_not_open``); the dialog stays, the controller opens the shift dialog.
    """

    sold = Signal(object)
    loaded = Signal()
    shift_needed = Signal()

    def __init__(self, services: Services, member: MemberOut, *,
                 settings: MembershipSettings | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sellCardDialog")
        self.services = services
        self.member = member
        self.msettings = settings or MembershipSettings()
        self.templates: list[CountCardTemplateOut] = []
        self.method = "cash"
        self.tendered: int | None = None
        self.busy = False
        self._key: tuple[str, dict[str, Any]] | None = None  # (key, body) of the last try
        self.setWindowTitle(tr("sellcard.title"))
        self.setModal(True)

        lay = QtWidgets.QVBoxLayout(self)
        who = QtWidgets.QLabel(tr("sellcard.member", name=member.name,
                                  balance=format_fen(member.stored_value)))
        who.setObjectName("sellCardMember")
        wf = who.font()
        wf.setPointSize(wf.pointSize() + 2)
        wf.setBold(True)
        who.setFont(wf)
        lay.addWidget(who)
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("sellCardTemplates")
        self.list.setStyleSheet("QListWidget::item { min-height: 44px; }")
        self.list.addItem(tr("common.loading"))
        self.list.currentRowChanged.connect(lambda _r: self.recalc())
        self.list.installEventFilter(self)
        lay.addWidget(self.list, 1)

        figures = QtWidgets.QHBoxLayout()
        self.price = big_label(format_fen(0), 28, "#c62828", "sellCardPrice")
        self.uses = big_label("", 16, "#0d47a1", "sellCardUses")
        figures.addWidget(QtWidgets.QLabel(tr("sellcard.price")))
        figures.addWidget(self.price)
        figures.addStretch(1)
        figures.addWidget(self.uses)
        lay.addLayout(figures)

        methods = QtWidgets.QHBoxLayout()
        self.method_group = QtWidgets.QButtonGroup(self)
        self.method_group.setExclusive(True)
        self.method_buttons: dict[str, QtWidgets.QPushButton] = {}
        for i, m in enumerate(SELL_METHODS, start=1):
            b = QtWidgets.QPushButton(f"{i} {method_label(m)}")
            b.setObjectName(f"sellCardMethod_{m}")
            b.setCheckable(True)
            b.setStyleSheet("QPushButton:checked { background: #1565c0; color: white; "
                            "font-weight: bold; }")
            b.setMinimumHeight(48)
            b.setAutoDefault(False)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _c=False, mm=m: self.set_method(mm))
            self.method_group.addButton(b)
            self.method_buttons[m] = b
            methods.addWidget(b)
        lay.addLayout(methods)

        form = QtWidgets.QFormLayout()
        self.reference = QtWidgets.QLineEdit()
        self.reference.setObjectName("sellCardReference")
        self.reference.setPlaceholderText(tr("pay.reference"))
        self.reference.setMinimumHeight(36)
        self.reference_label = QtWidgets.QLabel(tr("sellcard.reference"))
        form.addRow(self.reference_label, self.reference)
        cash_row = QtWidgets.QHBoxLayout()
        self.cash = MoneyEdit(big=True, placeholder=tr("sellcard.tendered_hint"))
        self.cash.setObjectName("sellCardTendered")
        self.cash.fen_changed.connect(self.recalc)
        cash_row.addWidget(self.cash, 1)
        self.quick: list[QtWidgets.QPushButton] = []
        for _ in range(4):
            q = QtWidgets.QPushButton()
            q.setMinimumHeight(48)
            q.setAutoDefault(False)
            q.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            q.clicked.connect(lambda _c=False, btn=q: self.cash.set_fen(btn.property("fen")))
            cash_row.addWidget(q)
            self.quick.append(q)
        self.cash_label = QtWidgets.QLabel(tr("sellcard.tendered"))
        form.addRow(self.cash_label, cash_row)
        self.change = big_label(format_fen(0), 22, "#1b5e20", "sellCardChange")
        self.change_label = QtWidgets.QLabel(tr("sellcard.change"))
        form.addRow(self.change_label, self.change)
        self.pin = QtWidgets.QLineEdit()
        self.pin.setObjectName("sellCardPin")
        self.pin.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(6)
        self.pin.setMinimumHeight(36)
        self.pin.setPlaceholderText(tr("pay.pin"))
        self.pin_label = QtWidgets.QLabel(tr("pay.pin"))
        self.pin.textChanged.connect(lambda _t: self.recalc())
        form.addRow(self.pin_label, self.pin)
        lay.addLayout(form)

        self.error = error_label()
        lay.addWidget(self.error)
        buttons = QtWidgets.QHBoxLayout()
        cancel = QtWidgets.QPushButton(tr("sellcard.cancel"))
        cancel.setObjectName("sellCardCancel")
        cancel.setMinimumHeight(52)
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        self.submit_button = QtWidgets.QPushButton()
        self.submit_button.setObjectName("sellCardSubmit")
        self.submit_button.setMinimumHeight(52)
        sf = self.submit_button.font()
        sf.setPointSize(sf.pointSize() + 3)
        sf.setBold(True)
        self.submit_button.setFont(sf)
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self.submit)
        buttons.addWidget(cancel, 1)
        buttons.addWidget(self.submit_button, 2)
        lay.addLayout(buttons)
        keys = QtWidgets.QLabel(tr("sellcard.keys"))
        keys.setStyleSheet("color: #666;")
        keys.setWordWrap(True)
        lay.addWidget(keys)
        self.setMinimumSize(640, 560)

        self.set_method("cash")
        api = services.api
        services.runner.op(api.list_count_card_templates, self._loaded, self._failed,
                           owner=self)
        self.list.setFocus()

    # --- data -----------------------------------------------------------------------------
    def _loaded(self, templates: list[CountCardTemplateOut]) -> None:
        self.templates = [t for t in templates if t.active]
        self.list.clear()
        for t in self.templates:
            self.list.addItem(template_text(t))
        if self.templates:
            self.list.setCurrentRow(0)
        else:
            self.error.setText(tr("sellcard.no_templates"))
        self.recalc()
        self.loaded.emit()

    def _failed(self, err: ApiError) -> None:
        self.busy = False
        self.error.setText(err.message(i18n.language()))
        self.recalc(keep_error=True)
        if err.code == "shift_not_open":
            self.shift_needed.emit()

    @property
    def template(self) -> CountCardTemplateOut | None:
        row = self.list.currentRow()
        return self.templates[row] if 0 <= row < len(self.templates) else None

    def select_template(self, template_id: int) -> None:
        for i, t in enumerate(self.templates):
            if t.id == template_id:
                self.list.setCurrentRow(i)

    # --- figures --------------------------------------------------------------------------
    def set_method(self, method: str) -> None:
        self.method = method
        self.method_buttons[method].setChecked(True)
        self.recalc()
        if method in REF_METHODS:
            self.reference.setFocus()
        elif method == "cash":
            self.cash.setFocus()
        elif not self.pin.isHidden():
            self.pin.setFocus()

    def needs_pin(self) -> bool:
        t = self.template
        return (self.method == "stored_value" and t is not None
                and pin_required(self.member.has_pin, t.price, self.msettings.pin_threshold))

    def problem(self) -> str | None:
        t = self.template
        if t is None:
            return tr("sellcard.pick")
        if self.method == "stored_value" and t.price > self.member.stored_value:
            return tr("sellcard.sv_short", balance=format_fen(self.member.stored_value))
        if self.method == "cash":
            tendered = self.cash.fen()
            if tendered is not None and tendered < t.price:
                return tr("sellcard.tendered_short", amount=format_fen(t.price))
        if self.needs_pin() and not self.pin.text().strip():
            return tr("sellcard.pin_needed")
        return None

    def recalc(self, keep_error: bool = False) -> None:
        t = self.template
        price = t.price if t else 0
        self.price.setText(format_fen(price))
        self.uses.setText(tr("sellcard.uses", n=t.uses, service=t.service_name) if t else "")
        cash, ref = self.method == "cash", self.method in REF_METHODS
        for w in (self.cash, self.cash_label, self.change, self.change_label, *self.quick):
            w.setVisible(cash)
        for w in (self.reference, self.reference_label):
            w.setVisible(ref)
        pin = self.needs_pin()
        for w in (self.pin, self.pin_label):
            w.setVisible(pin)
        amounts = quick_cash(price) if cash else []
        for q, fen in zip(self.quick, amounts + [0] * (4 - len(amounts)), strict=True):
            q.setProperty("fen", fen)
            q.setText(format_fen(fen) if fen else "")
            q.setVisible(cash and bool(fen))
        self.change.setText(format_fen(cash_change(price, self.cash.fen()) if cash else 0))
        self.submit_button.setText(tr("sellcard.submit", amount=format_fen(price),
                                      method=method_label(self.method)))
        problem = self.problem()
        if not keep_error and not self.busy:
            self.error.setText(problem or "")
        self.submit_button.setEnabled(problem is None and not self.busy)

    # --- submit ---------------------------------------------------------------------------
    def body(self) -> dict[str, Any]:
        t = self.template
        assert t is not None
        out: dict[str, Any] = {"member_id": self.member.id, "template_id": t.id,
                               "method": self.method}
        if self.method in REF_METHODS and self.reference.text().strip():
            out["reference"] = self.reference.text().strip()
        if self.method == "stored_value" and self.pin.text().strip():
            out["pin"] = self.pin.text().strip()
        return out

    def key_for(self, body: dict[str, Any]) -> str:
        """The same body again (a lost answer) keeps its key; another body gets a new one."""
        if self._key is None or self._key[1] != body:
            self._key = (str(uuid.uuid4()), body)
        return self._key[0]

    def enter(self) -> None:
        self.submit()

    def submit(self) -> None:
        if self.busy or not self.submit_button.isEnabled():
            return
        body = self.body()
        key = self.key_for(body)
        self.tendered = self.cash.fen() if self.method == "cash" else None
        self.busy = True
        self.submit_button.setEnabled(False)
        self.error.setText(tr("sellcard.submitting"))
        api = self.services.api
        self.services.runner.op(lambda: api.sell_count_card(body, key=key), self._done,
                                self._refused, owner=self)

    def _done(self, card: CountCardOut) -> None:
        self.busy = False
        self.sold.emit(card)
        self.accept()

    def _refused(self, err: ApiError) -> None:
        if err.code in PIN_ERRORS:
            for w in (self.pin, self.pin_label):
                w.show()
            self.pin.clear()
            self.pin.setFocus()
        self._failed(err)

    # --- keys -----------------------------------------------------------------------------
    def eventFilter(self, obj: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if obj is self.list and event is not None \
                and event.type() == QtCore.QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if Qt.Key.Key_1 <= key <= Qt.Key.Key_5:
                self.set_method(SELL_METHODS[key - Qt.Key.Key_1])
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.submit()
                return True
        return super().eventFilter(obj, event)


__all__ = ["SELL_METHODS", "SellCardDialog", "template_text"]
