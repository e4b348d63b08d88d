"""The payment dialog (F9 结账): split payments — stored value (PIN when required), points,
bank card, WeChat, Alipay and cash (change shown LARGE) — coupon choice and count-card use
per line; the sale goes to ``POST /sales`` with its own UUID as the Idempotency-Key, so a
retry never makes a second sale.

The total is the SERVER's quote (fetched when the dialog opens and after every coupon /
count-card change): payments must match it exactly.
"""

from __future__ import annotations

from typing import Any

from common.errors import ApiError
from common.money import format_fen
from common.pricing import max_redeemable_points, points_value_fen
from common.schemas.members import CountCardOut, CouponOut, MembershipSettings
from common.schemas.sales import QuoteOut, SaleOut

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtGui, QtWidgets, Signal
from ..widgets.approval import ApprovalDialog, MoneyEdit, big_label, error_label
from ..widgets.context import Services
from .checkout import CartModel
from .member_panel import coupon_text

PIN_ERRORS = ("pin_required", "pin_wrong", "pin_locked")
ALREADY_DONE = ("sale_exists", "idempotency_mismatch")
REF_METHODS = ("card", "wechat", "alipay")


class PaymentDialog(QtWidgets.QDialog):
    """See module doc.

    Signals:
        completed(object): the :class:`SaleOut` of the completed sale.
        total_known(int): the server's total (fen) — e.g. for the customer display.
    """

    completed = Signal(object)
    total_known = Signal(int)

    def __init__(self, services: Services, model: CartModel, sale_id: str, *,
                 settings: MembershipSettings | None = None,
                 count_cards: list[CountCardOut] | None = None,
                 coupons: list[CouponOut] | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paymentDialog")
        self.services = services
        self.model = model
        self.sale_id = sale_id
        self.msettings = settings or MembershipSettings()
        self.count_cards = count_cards or []
        self.coupons = coupons or []
        self.server_quote: QuoteOut | None = None
        self.busy = False
        self.approval_dialog: ApprovalDialog | None = None
        self.setWindowTitle(tr("pay.title"))
        self.setModal(True)
        cart = model.cart
        member = cart.member_info

        outer = QtWidgets.QVBoxLayout(self)
        # --- big figures
        figures = QtWidgets.QGridLayout()
        self.total_label = big_label(format_fen(model.quote.total), 30, "#c62828", "payTotal")
        self.remaining_label = big_label("", 30, "#e65100", "payRemaining")
        self.change_label = big_label(format_fen(0), 40, "#1b5e20", "payChange")
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
        outer.addWidget(self.quote_note)

        # --- member: coupon and count cards
        self.coupon_combo: QtWidgets.QComboBox | None = None
        self.card_boxes: list[tuple[int, QtWidgets.QCheckBox, CountCardOut]] = []
        if member is not None:
            mbox = QtWidgets.QGroupBox(tr("pay.member", name=member.name,
                                          level=member.level_name or tr("pay.no_level")))
            mlay = QtWidgets.QFormLayout(mbox)
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
                mlay.addRow(tr("pay.coupon"), self.coupon_combo)
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
            outer.addWidget(mbox)

        # --- tenders
        grid = QtWidgets.QGridLayout()
        grid.setHorizontalSpacing(10)
        r = 0
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
            grid.addWidget(QtWidgets.QLabel(tr("pay.stored_value",
                                               balance=format_fen(member.stored_value))), r, 0)
            grid.addWidget(self.sv_amount, r, 1)
            pin_row = QtWidgets.QHBoxLayout()
            pin_row.addWidget(self.pin)
            sv_all = QtWidgets.QPushButton(tr("pay.all_stored_value"))
            sv_all.setObjectName("payAllStoredValue")
            sv_all.clicked.connect(self._all_stored_value)
            pin_row.addWidget(sv_all)
            grid.addLayout(pin_row, r, 2)
            r += 1
            rate = self.msettings.points_per_yuan_redeem
            grid.addWidget(QtWidgets.QLabel(tr("pay.points", balance=member.points, rate=rate)),
                           r, 0)
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
            self.amounts[method], self.refs[method] = edit, ref
            grid.addWidget(QtWidgets.QLabel(tr(f"pay.method.{method}")), r, 0)
            grid.addWidget(edit, r, 1)
            grid.addWidget(ref, r, 2)
            r += 1
        self.tendered = MoneyEdit(big=True, placeholder=tr("pay.tendered_hint"))
        self.tendered.setObjectName("payTendered")
        cash_caption = QtWidgets.QLabel(tr("pay.cash_tendered"))
        cf = cash_caption.font()
        cf.setPointSize(cf.pointSize() + 3)
        cf.setBold(True)
        cash_caption.setFont(cf)
        grid.addWidget(cash_caption, r, 0)
        grid.addWidget(self.tendered, r, 1)
        quick = QtWidgets.QHBoxLayout()
        for fen in (5000, 10000):
            b = QtWidgets.QPushButton(format_fen(fen))
            b.setObjectName(f"payQuick{fen}")
            b.clicked.connect(lambda _c=False, v=fen: self.tendered.set_fen(v))
            quick.addWidget(b)
        grid.addLayout(quick, r, 2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        outer.addLayout(grid)

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
        self.confirm.clicked.connect(self.submit)
        cancel = QtWidgets.QPushButton(tr("pay.cancel"))
        cancel.setObjectName("payCancel")
        cancel.setMinimumHeight(52)
        cancel.clicked.connect(self.reject)
        buttons.addWidget(cancel, 1)
        buttons.addWidget(self.confirm, 2)
        outer.addLayout(buttons)
        keys = QtWidgets.QLabel(tr("pay.keys"))
        keys.setStyleSheet("color: #666;")
        outer.addWidget(keys)
        QtGui.QShortcut(QtGui.QKeySequence("F9"), self, activated=self.submit)

        for w in (self.sv_amount, *self.amounts.values(), self.tendered):
            w.fen_changed.connect(self.recalc)
        self.points.valueChanged.connect(lambda _v: self.recalc())
        self.setMinimumWidth(720)
        self.recalc()
        self.refresh_quote()
        self.tendered.setFocus()

    # --- figures --------------------------------------------------------------------------
    @property
    def total(self) -> int:
        return self.server_quote.total if self.server_quote else self.model.quote.total

    def points_fen(self) -> int:
        pts = self.points.value()
        return points_value_fen(pts, self.msettings.points_per_yuan_redeem) if pts else 0

    def noncash(self) -> int:
        return ((self.sv_amount.fen() or 0) + self.points_fen()
                + sum(e.fen() or 0 for e in self.amounts.values()))

    def figures(self) -> tuple[int, int, int]:
        """(cash due, still to pay, change)."""
        cash_due = self.total - self.noncash()
        tendered = self.tendered.fen()
        if cash_due < 0:
            return cash_due, 0, 0
        if tendered is None:
            return cash_due, cash_due, 0
        return cash_due, max(0, cash_due - tendered), max(0, tendered - cash_due)

    def recalc(self) -> None:
        member = self.model.cart.member_info
        sv = self.sv_amount.fen() or 0
        need_pin = (member is not None and member.has_pin
                    and sv > self.msettings.pin_threshold)
        if need_pin:
            self.pin.show()
        self.points_value.setText(tr("pay.points_value", amount=format_fen(self.points_fen()))
                                  if self.points.value() else "")
        _due, remaining, change = self.figures()
        self.total_label.setText(format_fen(self.total))
        self.remaining_label.setText(format_fen(remaining))
        self.change_label.setText(format_fen(change))
        problem = self.problem()
        if problem and not self.busy:
            self.error.setText(problem)
        elif not self.busy:
            self.error.clear()
        self.confirm.setEnabled(self.server_quote is not None and not problem and not self.busy)

    def problem(self) -> str | None:
        member = self.model.cart.member_info
        cash_due, _, _ = self.figures()
        if cash_due < 0:
            return tr("pay.too_much", amount=format_fen(-cash_due))
        if member is not None and (self.sv_amount.fen() or 0) > member.stored_value:
            return tr("pay.sv_short", balance=format_fen(member.stored_value))
        tendered = self.tendered.fen()
        if tendered is not None and cash_due > 0 and tendered < cash_due:
            return tr("pay.tendered_short", amount=format_fen(cash_due))
        return None

    def _all_stored_value(self) -> None:
        member = self.model.cart.member_info
        if member is None:
            return
        rest = self.total - self.noncash() + (self.sv_amount.fen() or 0)
        self.sv_amount.set_fen(max(0, min(rest, member.stored_value)))
        if not self.pin.isHidden():
            self.pin.setFocus()

    def max_points(self) -> int:
        member = self.model.cart.member_info
        if member is None:
            return 0
        return max_redeemable_points(max(self.total, 0), member.points,
                                     self.msettings.points_per_yuan_redeem)

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

    def refresh_quote(self) -> None:
        """The server's total for the cart as it is now (payments must match it)."""
        self.server_quote = None
        self.quote_note.setText(tr("pay.quoting"))
        self.recalc()
        body, version = self.model.cart.to_cart_in(), self.model.version
        api = self.services.api
        self.services.runner.op(lambda: api.quote_cart(body),
                                lambda q: self._quoted(q, version), self._quote_failed,
                                owner=self)

    def _quoted(self, q: QuoteOut, version: int) -> None:
        if version != self.model.version:
            return
        self.server_quote = q
        self.model.apply_server_quote(q, version)
        self.quote_note.setText(tr("pay.quoted", discount=format_fen(
            q.list_total - q.total)) if q.list_total != q.total else "")
        self.total_known.emit(q.total)
        self.recalc()

    def _quote_failed(self, err: ApiError) -> None:
        if err.code == "discount_needs_approval":
            self.quote_note.setText(err.message(i18n.language()))
            self.ask_approval(self.refresh_quote)
            return
        if self.coupon_combo is not None and self.coupon_combo.currentIndex() > 0 and \
                err.status in (404, 409, 422):
            self.coupon_combo.setCurrentIndex(0)  # the coupon does not fit: take it off
        self.quote_note.setText(err.message(i18n.language()))
        self.error.setText(err.message(i18n.language()))

    # --- submit ---------------------------------------------------------------------------
    def payments(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        sv = self.sv_amount.fen() or 0
        if sv:
            out.append({"method": "stored_value", "amount": sv,
                        "pin": self.pin.text().strip() or None})
        if self.points.value() and self.points_fen():
            out.append({"method": "points", "amount": self.points_fen(),
                        "points": self.points.value()})
        for method in REF_METHODS:
            amount = self.amounts[method].fen() or 0
            if amount:
                out.append({"method": method, "amount": amount,
                            "reference": self.refs[method].text().strip() or None})
        cash_due, _, _ = self.figures()
        if cash_due > 0:
            out.append({"method": "cash", "amount": cash_due,
                        "tendered": self.tendered.fen() or cash_due})
        return out

    def sale_body(self) -> dict[str, Any]:
        return {"id": self.sale_id, **self.model.cart.to_cart_in(),
                "payments": self.payments()}

    def submit(self) -> None:
        if self.busy or not self.confirm.isEnabled():
            return
        self.busy = True
        self.confirm.setEnabled(False)
        self.error.setText(tr("pay.submitting"))
        body, key = self.sale_body(), self.sale_id
        api = self.services.api
        self.services.runner.op(lambda: api.create_sale(body, key=key), self._done,
                                self._failed, owner=self)

    def _done(self, sale: SaleOut) -> None:
        self.busy = False
        self.completed.emit(sale)
        self.accept()

    def _failed(self, err: ApiError) -> None:
        self.busy = False
        msg = err.message(i18n.language())
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
            self.pin.show()
            self.pin.clear()
            self.pin.setFocus()
        elif err.code == "payment_mismatch":
            self.refresh_quote()  # a price changed on the server: take its total
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

    def keyPressEvent(self, event: QtGui.QKeyEvent | None) -> None:
        if event is not None and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
            return
        super().keyPressEvent(event)
