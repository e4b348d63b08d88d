"""The payment dialog (F9 结账): split payments — stored value (PIN when the rule says so),
points, bank card, WeChat, Alipay and cash (change shown LARGE) — quick-cash amounts that fit
the bill, a whole-order discount in 折, 抹零 by the shop's rule, coupon choice and count-card
use per line. The sale goes to ``POST /sales`` with its own UUID as the Idempotency-Key, so a
retry never makes a second sale.

Every figure comes from :mod:`common.payment` (``settle``, ``quick_cash``, ``parse_zhe``,
``rounding_choices``): the widget holds no payment arithmetic. The total is the SERVER's quote
(fetched when the dialog opens and after every coupon / count-card / 折 / 抹零 change):
payments must match it exactly.

Keys (shown in the labels; the dialog is a window of its own, so the main window's F-keys do
not fire while it is open): F2 储值, F3 现金, F4 积分, F5 银行卡, F6 折扣, F7 微信, F8 支付宝,
F10 抹零, F11 优惠券, Ctrl+1…4 quick cash, F9 / Enter 确认收款 (whenever the bill is
covered; a click on a quick-cash button leaves the keyboard on the cash field, so Enter
confirms), Esc 返回.

Scan-to-pay: a WeChat / Alipay payment code scanned while the dialog is open (keyboard wedge
or serial scanner: the checkout hands scans to the modal dialog's :meth:`PaymentDialog.
handle_scan`) selects that method for what is still due and puts the code into its reference.
**Provider seam**: ``code_payment`` (a :data:`common.payment.CodePayment`: method, code,
amount → transaction reference), run in the background; a WeChat Pay / Alipay integration is
plugged in there. The default, :func:`common.payment.manual_code_payment`, records the code
itself (the cashier takes the money on the merchant app).
"""

from __future__ import annotations

from typing import Any

from common import payment as pay
from common.errors import ApiError
from common.money import format_fen
from common.pricing import max_redeemable_points
from common.schemas.members import CountCardOut, CouponOut, MembershipSettings
from common.schemas.sales import QuoteOut, SaleOut
from common.schemas.shop import ShopSettingsOut

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtGui, QtWidgets, Signal
from ..widgets.approval import ApprovalDialog, MoneyEdit, big_label, error_label
from ..widgets.context import Services
from ..widgets.dialogs import EnterDialog
from ..widgets.numpad import Numpad
from .checkout import CartModel
from .member_panel import coupon_text
from .offline_mode import OfflineMode, offline_refusal, strip_for_offline

PIN_ERRORS = ("pin_required", "pin_wrong", "pin_locked")
ALREADY_DONE = ("sale_exists", "idempotency_mismatch")
REF_METHODS = pay.REF_METHODS
FIELD_KEYS = {"stored_value": "F2", "cash": "F3", "points": "F4", "card": "F5",
              "discount": "F6", "wechat": "F7", "alipay": "F8", "rounding": "F10",
              "coupon": "F11"}


def _no_focus(button: QtWidgets.QPushButton) -> QtWidgets.QPushButton:
    """A button that never keeps the keyboard (Enter must not click it again)."""
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setAutoDefault(False)
    button.setMinimumHeight(48)
    return button


class PaymentDialog(EnterDialog):
    """See module doc.

    Signals:
        completed(object): the :class:`SaleOut` of the completed sale.
        total_known(int): the server's total (fen) — e.g. for the customer display.
        shift_needed(): the server refused the sale: this counter has no open shift
            (``shift_not_open``); the dialog stays, the controller opens the shift dialog.

    Offline (``offline.active`` when the dialog opens, or no answer to its quote or its
    submit): priced by the local engine, only cash / card / WeChat / Alipay, and the sale
    goes into the journal (:meth:`OfflineMode.record_sale`) before ``completed`` — so before
    the receipt prints. While a submit is in flight the dialog cannot be dismissed.
    """

    completed = Signal(object)
    total_known = Signal(int)
    shift_needed = Signal()

    def __init__(self, services: Services, model: CartModel, sale_id: str, *,
                 settings: MembershipSettings | None = None,
                 shop: ShopSettingsOut | None = None,
                 count_cards: list[CountCardOut] | None = None,
                 coupons: list[CouponOut] | None = None,
                 code_payment: pay.CodePayment | None = None,
                 offline: OfflineMode | None = None,
                 member_ref: str | None = None, member_name: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paymentDialog")
        self.offline = offline
        #: a member typed offline (full phone / card number): journaled with the sale
        self.member_ref, self.member_name = member_ref, member_name
        self.offline_sale = False  # this sale is priced and recorded at the counter
        self.services = services
        self.model = model
        self.sale_id = sale_id
        self.msettings = settings or MembershipSettings()
        self.shop = shop or ShopSettingsOut()
        self.count_cards = count_cards or []
        self.coupons = coupons or []
        self.code_payment: pay.CodePayment = code_payment or pay.manual_code_payment
        self.server_quote: QuoteOut | None = None
        self.busy = False
        self.pin_asked = False  # the server asked for the PIN (whatever the local rule says)
        self.approval_dialog: ApprovalDialog | None = None
        self.settlement: pay.Settlement | None = None
        self.quick_values: list[int] = []
        self.setWindowTitle(tr("pay.title"))
        self.setModal(True)
        cart = model.cart
        member = cart.member_info

        outer = QtWidgets.QVBoxLayout(self)
        outer.setSpacing(6)
        # --- big figures: 应收, 还需支付, 找零
        figures = QtWidgets.QGridLayout()
        self.total_label = big_label(format_fen(model.quote.total), 28, "#c62828", "payTotal")
        self.remaining_label = big_label("", 28, "#e65100", "payRemaining")
        self.change_label = big_label(format_fen(0), 36, "#1b5e20", "payChange")
        for col, (key, w) in enumerate((("pay.total", self.total_label),
                                        ("pay.remaining", self.remaining_label),
                                        ("pay.change", self.change_label))):
            cap = QtWidgets.QLabel(tr(key))
            f = cap.font()
            f.setPointSize(f.pointSize() + 3)
            cap.setFont(f)
            figures.addWidget(cap, 0, col)
            figures.addWidget(w, 1, col)
        outer.addLayout(figures)
        self.quote_note = QtWidgets.QLabel(tr("pay.quoting"))
        self.quote_note.setObjectName("quoteNote")
        self.quote_note.setStyleSheet("color: #666;")
        self.quote_note.setWordWrap(True)
        outer.addWidget(self.quote_note)

        body = QtWidgets.QHBoxLayout()
        left = QtWidgets.QVBoxLayout()
        body.addLayout(left, 3)
        outer.addLayout(body)

        # --- member: coupon and count cards
        self.coupon_combo: QtWidgets.QComboBox | None = None
        self.card_boxes: list[tuple[int, QtWidgets.QCheckBox, CountCardOut]] = []
        if member is not None:
            mbox = QtWidgets.QGroupBox(tr("pay.member", name=member.name,
                                          level=member.level_name or tr("pay.no_level")))
            mlay = QtWidgets.QFormLayout(mbox)
            mlay.setContentsMargins(6, 4, 6, 4)
            if self.coupons:
                self.coupon_combo = QtWidgets.QComboBox()
                self.coupon_combo.setObjectName("couponCombo")
                self.coupon_combo.addItem(tr("pay.no_coupon"), None)
                for c in self.coupons:
                    self.coupon_combo.addItem(coupon_text(c), c.id)
                if cart.coupon is not None:
                    idx = self.coupon_combo.findData(cart.coupon.id)
                    self.coupon_combo.setCurrentIndex(max(idx, 0))
                self.coupon_combo.currentIndexChanged.connect(self._coupon_changed)
                mlay.addRow(self._caption("payment.coupon", "coupon"), self.coupon_combo)
            for row, line in enumerate(cart.lines):
                card = next((c for c in self.count_cards
                             if c.remaining_uses >= line.qty
                             and c.product_id == line.product_id), None)
                if card is None:
                    continue
                box = QtWidgets.QCheckBox(tr("pay.use_card", line=line.name, card=card.name,
                                             n=card.remaining_uses))
                box.setObjectName(f"useCard{row}")
                box.setChecked(line.count_card_id == card.id)
                box.toggled.connect(lambda on, r=row, c=card: self._card_toggled(r, c, on))
                self.card_boxes.append((row, box, card))
                mlay.addRow(box)
            if mlay.rowCount() == 0:
                mlay.addRow(QtWidgets.QLabel(tr("pay.no_coupon_card")))
            left.addWidget(mbox)

        # --- tenders
        grid = QtWidgets.QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        r = 0
        # whole-order discount in 折 and 抹零
        self.discount = QtWidgets.QLineEdit()
        self.discount.setObjectName("payDiscount")
        self.discount.setPlaceholderText(tr("payment.discount_hint"))
        self.discount.setMinimumHeight(36)
        self.discount.setMaxLength(6)
        if cart.order_discount_bp:
            self.discount.setText(pay.format_zhe(cart.order_discount_bp).removesuffix("折"))
        self.discount.editingFinished.connect(self._discount_entered)
        self.rounding_button = _no_focus(QtWidgets.QPushButton())
        self.rounding_button.setObjectName("payRounding")
        self.rounding_button.clicked.connect(self.next_rounding)
        self.rounding_choices = pay.rounding_choices(self.shop.max_rounding)
        if cart.rounding not in self.rounding_choices:
            cart.set_rounding("none")
        self.rounding_button.setVisible(len(self.rounding_choices) > 1)
        disc_row = QtWidgets.QHBoxLayout()
        disc_row.addWidget(self.discount, 1)
        disc_row.addWidget(self.rounding_button, 1)
        grid.addWidget(self._caption("payment.discount", "discount"), r, 0)
        grid.addLayout(disc_row, r, 1, 1, 2)
        r += 1
        self.sv_amount = MoneyEdit()
        self.sv_amount.setObjectName("payStoredValue")
        self.pin = QtWidgets.QLineEdit()
        self.pin.setObjectName("payPin")
        self.pin.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText(tr("pay.pin"))
        self.pin.setMaxLength(6)
        self.pin.setMinimumHeight(36)
        self.pin.hide()
        self.points = QtWidgets.QSpinBox()
        self.points.setObjectName("payPoints")
        self.points.setMinimumHeight(36)
        self.points_value = QtWidgets.QLabel()
        if member is not None:
            grid.addWidget(self._caption("payment.stored_value", "stored_value",
                                         balance=format_fen(member.stored_value)), r, 0)
            grid.addWidget(self.sv_amount, r, 1)
            pin_row = QtWidgets.QHBoxLayout()
            pin_row.addWidget(self.pin)
            sv_all = _no_focus(QtWidgets.QPushButton(tr("pay.all_stored_value")))
            sv_all.setObjectName("payAllStoredValue")
            sv_all.setMinimumHeight(36)
            sv_all.clicked.connect(self._all_stored_value)
            pin_row.addWidget(sv_all)
            grid.addLayout(pin_row, r, 2)
            r += 1
            rate = self.msettings.points_per_yuan_redeem
            grid.addWidget(self._caption("payment.points", "points", balance=member.points,
                                         rate=rate), r, 0)
            self.points.setRange(0, max(0, member.points))
            self.points.setSingleStep(rate)
            grid.addWidget(self.points, r, 1)
            grid.addWidget(self.points_value, r, 2)
            r += 1
        self.amounts: dict[str, MoneyEdit] = {}
        self.refs: dict[str, QtWidgets.QLineEdit] = {}
        for method in REF_METHODS:
            edit = MoneyEdit()
            edit.setObjectName(f"pay_{method}")
            ref = QtWidgets.QLineEdit()
            ref.setObjectName(f"ref_{method}")
            ref.setPlaceholderText(tr("pay.reference"))
            ref.setMinimumHeight(36)
            ref.setMaxLength(64)
            self.amounts[method], self.refs[method] = edit, ref
            grid.addWidget(self._caption(f"payment.method.{method}", method), r, 0)
            grid.addWidget(edit, r, 1)
            grid.addWidget(ref, r, 2)
            r += 1
        self.tendered = MoneyEdit(big=True, placeholder=tr("pay.tendered_hint"))
        self.tendered.setObjectName("payTendered")
        self.tendered.setMinimumWidth(120)  # the big figure and its hint stay readable
        cash_caption = self._caption("payment.cash", "cash")
        cf = cash_caption.font()
        cf.setPointSize(cf.pointSize() + 3)
        cf.setBold(True)
        cash_caption.setFont(cf)
        grid.addWidget(cash_caption, r, 0)
        grid.addWidget(self.tendered, r, 1)
        quick = QtWidgets.QHBoxLayout()
        quick.setSpacing(4)
        self.quick_buttons: list[QtWidgets.QPushButton] = []
        for i in range(pay.QUICK_COUNT):
            b = _no_focus(QtWidgets.QPushButton())
            b.setObjectName(f"payQuick{i + 1}")
            b.clicked.connect(lambda _c=False, n=i: self.quick(n))
            quick.addWidget(b)
            self.quick_buttons.append(b)
        grid.addLayout(quick, r, 2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        left.addLayout(grid)

        # --- the on-screen numpad (touch): types into the amount field last focused
        self.numpad = Numpad()
        for w in (self.tendered, self.sv_amount, *self.amounts.values(), self.discount):
            self.numpad.attach(w)
        self.numpad.setMaximumWidth(260)
        body.addWidget(self.numpad, 1, Qt.AlignmentFlag.AlignTop)

        self.error = error_label()
        outer.addWidget(self.error)
        buttons = QtWidgets.QHBoxLayout()
        self.confirm = QtWidgets.QPushButton(tr("pay.confirm"))
        self.confirm.setObjectName("payConfirm")
        self.confirm.setMinimumHeight(52)
        bf = self.confirm.font()
        bf.setPointSize(bf.pointSize() + 4)
        bf.setBold(True)
        self.confirm.setFont(bf)
        self.confirm.setDefault(True)
        self.confirm.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.confirm.clicked.connect(self.submit)
        cancel = _no_focus(QtWidgets.QPushButton(tr("pay.cancel")))
        cancel.setObjectName("payCancel")
        cancel.setMinimumHeight(52)
        cancel.clicked.connect(self.reject)
        buttons.addWidget(cancel, 1)
        buttons.addWidget(self.confirm, 2)
        outer.addLayout(buttons)
        keys = QtWidgets.QLabel(tr("payment.keys"))
        keys.setObjectName("payKeys")
        keys.setWordWrap(True)
        keys.setStyleSheet("color: #666;")
        outer.addWidget(keys)

        # --- keys
        self.field_of_key: dict[str, QtWidgets.QWidget] = {
            "stored_value": self.sv_amount, "points": self.points, "cash": self.tendered,
            "discount": self.discount, **self.amounts}
        if member is None:
            self.field_of_key.pop("stored_value")
            self.field_of_key.pop("points")
        for name, w in self.field_of_key.items():
            QtGui.QShortcut(QtGui.QKeySequence(FIELD_KEYS[name]), self,
                            activated=lambda w=w: self._focus(w))
        if self.coupon_combo is not None:
            combo = self.coupon_combo
            QtGui.QShortcut(QtGui.QKeySequence(FIELD_KEYS["coupon"]), self,
                            activated=lambda: (combo.setFocus(), combo.showPopup()))
        QtGui.QShortcut(QtGui.QKeySequence(FIELD_KEYS["rounding"]), self,
                        activated=self.next_rounding)
        QtGui.QShortcut(QtGui.QKeySequence("F9"), self, activated=self.submit)
        for i in range(pay.QUICK_COUNT):
            QtGui.QShortcut(QtGui.QKeySequence(f"Ctrl+{i + 1}"), self,
                            activated=lambda n=i: self.quick(n))

        for w in (self.sv_amount, *self.amounts.values(), self.tendered):
            w.fen_changed.connect(self.recalc)
        self.pin.textChanged.connect(lambda _t: self.recalc())
        self.points.valueChanged.connect(lambda _v: self.recalc())
        self.setMinimumWidth(900)
        self._show_rounding()
        self.recalc()
        if offline is not None and offline.active:
            self.go_offline()
        else:
            self.refresh_quote()
        self.tendered.setFocus()

    def _caption(self, key: str, field: str, **params: Any) -> QtWidgets.QLabel:
        """A field's label with its key: "储值 (F2)"."""
        return QtWidgets.QLabel(tr(key, k=FIELD_KEYS[field], **params))

    def _focus(self, w: QtWidgets.QWidget) -> None:
        w.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if isinstance(w, QtWidgets.QLineEdit | QtWidgets.QSpinBox):
            w.selectAll()

    # --- figures (all from common.payment) ------------------------------------------------
    @property
    def total(self) -> int:
        return self.server_quote.total if self.server_quote else self.model.quote.total

    def wallet(self) -> pay.Wallet | None:
        m = self.model.cart.member_info
        if m is None:
            return None
        return pay.Wallet(stored_value=m.stored_value, points=m.points, has_pin=m.has_pin,
                          pin_threshold=self.msettings.pin_threshold,
                          points_per_yuan_redeem=self.msettings.points_per_yuan_redeem)

    def tenders(self) -> pay.Tenders:
        return pay.Tenders(
            stored_value=self.sv_amount.fen() or 0, points=self.points.value(),
            **{m: self.amounts[m].fen() or 0 for m in REF_METHODS},
            cash_tendered=self.tendered.fen(),
            references={m: self.refs[m].text() for m in REF_METHODS},
            pin=self.pin.text())

    def settle(self) -> pay.Settlement:
        return pay.settle(self.total, self.tenders(), self.wallet())

    def points_fen(self) -> int:
        return self.settle().points_fen

    def recalc(self) -> None:
        s = self.settle()
        self.settlement = s
        self.pin.setVisible(s.pin_needed or self.pin_asked)
        self.points_value.setText(tr("pay.points_value", amount=format_fen(s.points_fen))
                                  if self.points.value() else "")
        self.total_label.setText(format_fen(self.total))
        self.remaining_label.setText(format_fen(s.remaining))
        self.change_label.setText(format_fen(s.change))
        values = pay.quick_cash(s.cash_part)
        self.quick_values = values
        for i, b in enumerate(self.quick_buttons):
            if i < len(values):
                b.setText(f"{format_fen(values[i])}\nCtrl+{i + 1}")
                b.setVisible(True)
            else:
                b.setVisible(False)
        problem = self.problem()
        if problem and not self.busy:
            self.error.setText(problem)
        elif not self.busy:
            self.error.clear()
        self.confirm.setEnabled(self.quote_ready and not problem and not self.busy)

    def problem(self) -> str | None:
        """The first problem of the settlement, in the interface language."""
        if self.offline_sale:
            refused = self.offline_problem()
            if refused is not None:
                return refused
        p = self.settle().problem
        if p is None:
            return None
        return tr(f"payment.problem.{p.code}", **p.params)

    def offline_problem(self) -> str | None:
        """Offline: what this sale cannot use (stored value, points, an approval)."""
        key = offline_refusal(self.model.cart, self.payments())
        if key is None and self.model.quote.needs_approval:
            key = "offline.refused.approval"
        return tr(key) if key is not None else None

    @property
    def quote_ready(self) -> bool:
        """The total to pay is known: the server's quote, or offline the local one."""
        return self.server_quote is not None or self.offline_sale

    @property
    def covered(self) -> bool:
        return self.quote_ready and not self.busy and self.settle().covered

    def quick(self, n: int) -> None:
        """Quick cash ``n`` (0 = exact): the cash field gets it and keeps the keyboard, so
        Enter confirms right away."""
        if n >= len(self.quick_values):
            return
        self.tendered.set_fen(self.quick_values[n])
        self.tendered.setFocus(Qt.FocusReason.OtherFocusReason)

    def _all_stored_value(self) -> None:
        member = self.model.cart.member_info
        if member is None:
            return
        others = self.settle().noncash - (self.sv_amount.fen() or 0)
        self.sv_amount.set_fen(max(0, min(self.total - others, member.stored_value)))
        if not self.pin.isHidden():
            self.pin.setFocus()
        else:
            self.tendered.setFocus()

    def max_points(self) -> int:
        member = self.model.cart.member_info
        if member is None:
            return 0
        return max_redeemable_points(max(self.total, 0), member.points,
                                     self.msettings.points_per_yuan_redeem)

    # --- whole-order discount (折) and 抹零 ------------------------------------------------
    def _discount_entered(self) -> None:
        try:
            off = pay.parse_zhe(self.discount.text())
        except pay.PaymentModelError:
            self.error.setText(tr("payment.discount_invalid"))
            return
        cart = self.model.cart
        if off == cart.order_discount_bp:
            return
        cart.set_order_discount(off)
        self.model.changed()
        self.refresh_quote()
        if self.discount.hasFocus():  # Enter: on to the cash, where the next Enter confirms
            self.tendered.setFocus(Qt.FocusReason.OtherFocusReason)

    def next_rounding(self) -> None:
        """抹零: the next rounding the shop allows (none → 角 → 元 → none)."""
        if len(self.rounding_choices) < 2:
            self.error.setText(tr("payment.rounding_off"))
            return
        cart = self.model.cart
        i = self.rounding_choices.index(cart.rounding) if cart.rounding in \
            self.rounding_choices else 0
        cart.set_rounding(self.rounding_choices[(i + 1) % len(self.rounding_choices)])
        self._show_rounding()
        self.model.changed()
        self.refresh_quote()

    def _show_rounding(self) -> None:
        self.rounding_button.setText(tr("payment.rounding", k=FIELD_KEYS["rounding"],
                                        mode=tr(f"payment.rounding.{self.model.cart.rounding}")))

    # --- coupon and count cards ----------------------------------------------------------
    def _coupon_changed(self, _idx: int) -> None:
        assert self.coupon_combo is not None
        cid = self.coupon_combo.currentData()
        self.model.cart.set_coupon(next((c for c in self.coupons if c.id == cid), None))
        self.model.changed()
        self.refresh_quote()

    def _card_toggled(self, row: int, card: CountCardOut, on: bool) -> None:
        self.model.cart.set_count_card(row, card.id if on else None, card.name)
        self.model.changed()
        self.refresh_quote()

    def go_offline(self) -> None:
        """Sell this cart offline: the local total; what needs the server is taken off or
        disabled, and the cashier reads why."""
        self.offline_sale = True
        self.server_quote = None
        said = strip_for_offline(self.model.cart)
        self.model.changed()
        if self.coupon_combo is not None:
            self.coupon_combo.blockSignals(True)
            self.coupon_combo.setCurrentIndex(0)
            self.coupon_combo.blockSignals(False)
            self.coupon_combo.setEnabled(False)
        for _row, box, _card in self.card_boxes:
            box.blockSignals(True)
            box.setChecked(False)
            box.blockSignals(False)
            box.setEnabled(False)
        for w, key in ((self.sv_amount, "offline.refused.stored_value"),
                       (self.points, "offline.refused.points")):
            if isinstance(w, MoneyEdit):
                w.clear()
            else:
                w.setValue(0)
            w.setEnabled(False)
            w.setToolTip(tr(key))
        sv_all = self.findChild(QtWidgets.QPushButton, "payAllStoredValue")
        if sv_all is not None:
            sv_all.setEnabled(False)
            sv_all.setToolTip(tr("offline.refused.stored_value"))
        self.pin.hide()
        self.quote_note.setText(" · ".join([tr("offline.pay_note"), *map(tr, said)]))
        self.quote_note.setStyleSheet("color: #b00020; font-weight: bold;")
        self.total_known.emit(self.model.quote.total)
        self.recalc()

    def refresh_quote(self) -> None:
        """The server's total for the cart as it is now (payments must match it)."""
        if self.offline_sale:  # offline: the local engine's figures (already repriced)
            self.recalc()
            return
        self.server_quote = None
        self.quote_note.setText(tr("pay.quoting"))
        self.recalc()
        body, version = self.model.cart.to_cart_in(), self.model.version
        api = self.services.api
        self.services.runner.op(lambda: api.quote_cart(body),
                                lambda q: self._quoted(q, version), self._quote_failed,
                                owner=self)

    def _quoted(self, q: QuoteOut, version: int) -> None:
        if version != self.model.version:  # the cart changed meanwhile: quote it as it is now
            if not self.offline_sale and self.server_quote is None:
                self.refresh_quote()
            return
        self.server_quote = q
        self.model.apply_server_quote(q, version)
        notes = []
        if q.list_total != q.total:
            notes.append(tr("pay.quoted", discount=format_fen(q.list_total - q.total)))
        if q.order_discount:
            notes.append(tr("payment.order_discount_note",
                            zhe=pay.format_zhe(self.model.cart.order_discount_bp),
                            amount=format_fen(q.order_discount)))
        if q.rounding_discount:
            notes.append(tr("payment.rounding_note", amount=format_fen(q.rounding_discount)))
        self.quote_note.setText(" · ".join(notes))
        self.total_known.emit(q.total)
        self.recalc()

    def _quote_failed(self, err: ApiError) -> None:
        if err.status == 0 and self.offline is not None:  # no answer at all: sell offline
            self.offline.network_failed(err)
            self.go_offline()
            return
        if err.code == "discount_needs_approval":
            self.quote_note.setText(err.message(i18n.language()))
            self.ask_approval(self.refresh_quote)
            return
        if self.coupon_combo is not None and self.coupon_combo.currentIndex() > 0 and \
                err.status in (404, 409, 422) and err.code.startswith("coupon"):
            self.coupon_combo.setCurrentIndex(0)  # the coupon does not fit: take it off
        self.quote_note.setText(err.message(i18n.language()))
        self.error.setText(err.message(i18n.language()))

    # --- scan-to-pay ----------------------------------------------------------------------
    def handle_scan(self, code: str) -> None:
        """A code scanned while the dialog is open: a WeChat / Alipay payment code selects
        that method for what is still due; its reference comes from ``code_payment``."""
        code = code.strip()
        self._unwedge(code)
        method = pay.payment_code_method(code)
        if method is None:
            self.error.setText(tr("payment.not_a_pay_code"))
            return
        if not self.quote_ready:
            self.error.setText(tr("pay.quoting"))
            return
        edit = self.amounts[method]
        others = self.settle().noncash - (edit.fen() or 0)
        rest = self.total - others
        if rest <= 0:
            self.error.setText(tr("payment.nothing_due"))
            return
        self.tendered.clear()  # what is still due goes to the wallet, not to cash
        edit.set_fen(rest)
        self.refs[method].setText(code)
        self.error.setText(tr("payment.code_scanned", method=tr(f"pay.method.{method}"),
                              amount=format_fen(rest)))
        edit.setFocus(Qt.FocusReason.OtherFocusReason)
        provider = self.code_payment
        self.services.runner.op(lambda: provider(method, code, rest),
                                lambda ref: self._code_paid(method, code, ref),
                                self._code_failed, owner=self)

    def _code_paid(self, method: str, code: str, reference: str) -> None:
        if self.refs[method].text() == code:  # not replaced by another scan meanwhile
            self.refs[method].setText(reference)

    def _code_failed(self, err: ApiError) -> None:
        self.error.setText(err.message(i18n.language()))

    def _unwedge(self, code: str) -> None:
        """A keyboard-wedge scanner typed the code into the focused field before it was
        recognised (a money field's validator keeps only the first digits): take it out."""
        w = QtWidgets.QApplication.focusWidget()
        if not isinstance(w, QtWidgets.QLineEdit) or w.window() is not self:
            return
        text = w.text()
        for n in range(min(len(text), len(code)), 0, -1):
            if text.endswith(code[:n]):
                w.setText(text[:-n])
                return

    # --- submit ---------------------------------------------------------------------------
    def payments(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.settle().payments]

    def sale_body(self) -> dict[str, Any]:
        return {"id": self.sale_id, **self.model.cart.to_cart_in(),
                "payments": self.payments()}

    def submit(self) -> None:
        if self.busy or not self.confirm.isEnabled():
            return
        self.busy = True
        self.confirm.setEnabled(False)
        self.error.setText(tr("pay.submitting"))
        if self.offline_sale:
            self._journal()
            return
        body, key = self.sale_body(), self.sale_id
        api = self.services.api
        self.services.runner.op(lambda: api.create_sale(body, key=key), self._done,
                                self._failed, owner=self)

    def _done(self, sale: SaleOut) -> None:
        self.busy = False
        self.completed.emit(sale)
        self.accept()

    def _journal(self) -> None:
        """Commit the sale to the offline journal (on disk before this returns), then the
        receipt; a journal that cannot take it keeps the dialog open with the reason."""
        assert self.offline is not None
        try:
            sale = self.offline.record_sale(self.sale_body(), self.model.cart,
                                            self.model.quote, self.settle().change,
                                            zone=self.shop.timezone,
                                            member_ref=self.member_ref,
                                            member_name=self.member_name)
        except (ApiError, ValueError) as e:
            self.busy = False
            self.recalc()
            self.error.setText(e.message(i18n.language()) if isinstance(e, ApiError)
                               else str(e))
            return
        self._done(sale)

    def reject(self) -> None:
        """Esc / 返回 / the window's close: ignored while a submit is in flight (its answer
        decides; the cart must not be sold twice)."""
        if self.busy:
            return
        super().reject()

    def closeEvent(self, event: QtGui.QCloseEvent | None) -> None:
        if self.busy and event is not None:
            event.ignore()
            return
        super().closeEvent(event)

    def _failed(self, err: ApiError) -> None:
        self.busy = False
        msg = err.message(i18n.language())
        if err.status == 0 and self.offline is not None:
            # sent, not answered (the client already resent it with the same key): into the
            # journal with the same id — the replay's key settles whether it landed
            self.offline.network_failed(err)
            if offline_refusal(self.model.cart, self.payments()) is None \
                    and self.offline.can_journal:
                self.offline_sale = True
                self.busy = True
                self._journal()
                return
        if err.code in ALREADY_DONE:
            # a lost answer, then the cart was changed: the sale with this id exists
            api, sid = self.services.api, self.sale_id
            self.busy = True
            self.services.runner.op(lambda: api.get_sale(sid), self._done, self._failed,
                                    owner=self)
            return
        if err.code == "discount_needs_approval":
            self.error.setText(msg)
            self.ask_approval(self.submit)
            return
        if err.code in PIN_ERRORS:
            self.pin_asked = True
            self.pin.show()
            self.pin.clear()
            self.pin.setFocus()
        elif err.code == "payment_mismatch":
            self.refresh_quote()  # a price changed on the server: take its total
        elif err.code == "shift_not_open":
            self.shift_needed.emit()
        else:
            self.services.dialogs.error(self, err)
        self.recalc()
        self.error.setText(msg)

    def ask_approval(self, then: Any) -> None:
        dlg = ApprovalDialog(self.services, "discount", parent=self)
        self.approval_dialog = dlg

        def approved(res: Any) -> None:
            self.model.cart.approval_token = res.approval_token
            self.model.changed()
            then()

        dlg.approved.connect(approved)
        dlg.open()

    def enter(self) -> None:
        """Enter: confirm whenever the bill is covered; otherwise go where input is
        missing (the PIN). Enter in the 折 field applies the discount (a new quote)."""
        if QtWidgets.QApplication.focusWidget() is self.discount:
            return  # editingFinished has applied it; the new quote is on its way
        if self.covered:
            self.submit()
            return
        p = self.settle().problem
        if p is not None and p.code == pay.PIN_MISSING:
            self.pin.setFocus()
