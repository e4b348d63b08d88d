"""退款 (F6): find the sale by its number (typed, or the receipt barcode scanned), choose
lines and quantities, give a reason; a cashier needs a manager's approval (店长授权). Money
goes back the way it came (the server decides). Also the reprint prompt (重打小票, F7)."""

from __future__ import annotations

import uuid
from typing import Any

from common.errors import ApiError
from common.money import format_fen
from common.schemas.sales import RefundOut, SaleOut

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtWidgets, Signal
from ..widgets.approval import ApprovalDialog, error_label
from ..widgets.context import Services
from .receipts import local_time

REASONS = ("refund.reason.return", "refund.reason.quality", "refund.reason.mistake")


class SaleLookup(QtWidgets.QWidget):
    """Sale number entry + 查找; a scanned receipt barcode looks the sale up at once.

    Signals:
        found(object): the :class:`SaleOut`.
    """

    found = Signal(object)
    failed = Signal(str)

    def __init__(self, services: Services, initial: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QtWidgets.QLabel(tr("refund.sale_no")))
        self.ref = QtWidgets.QLineEdit(initial)
        self.ref.setObjectName("saleRef")
        self.ref.setPlaceholderText(tr("refund.sale_no_hint"))
        self.ref.setMinimumHeight(36)
        self.ref.returnPressed.connect(self.lookup)
        row.addWidget(self.ref, 1)
        self.button = QtWidgets.QPushButton(tr("common.search"))
        self.button.setObjectName("saleLookup")
        self.button.clicked.connect(self.lookup)
        row.addWidget(self.button)

    def handle_scan(self, code: str) -> None:
        self.ref.setText(code)
        self.lookup()

    def lookup(self) -> None:
        ref = self.ref.text().strip()
        if not ref:
            return
        api = self.services.api
        self.services.runner.op(lambda: api.get_sale(ref), self.found.emit,
                                lambda e: self.failed.emit(e.message(i18n.language())),
                                owner=self)


class RefundDialog(QtWidgets.QDialog):
    """See module doc.

    Signals:
        refunded(object): the :class:`RefundOut`.
    """

    refunded = Signal(object)
    COLUMNS = ("refund.col.name", "refund.col.sold", "refund.col.refunded",
               "refund.col.price", "refund.col.qty")

    def __init__(self, services: Services, *, is_manager: bool, initial: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("refundDialog")
        self.services = services
        self.is_manager = is_manager
        self.sale: SaleOut | None = None
        self.refund_id = str(uuid.uuid4())  # kept for retries of this refund
        self.approval_token: str | None = None
        self.approval_dialog: ApprovalDialog | None = None
        self.spins: list[QtWidgets.QSpinBox] = []
        self.setWindowTitle(tr("refund.title"))
        self.setModal(True)
        lay = QtWidgets.QVBoxLayout(self)
        self.lookup = SaleLookup(services, initial)
        self.lookup.found.connect(self.show_sale)
        self.lookup.failed.connect(lambda msg: self.error.setText(msg))
        lay.addWidget(self.lookup)
        self.info = QtWidgets.QLabel(tr("refund.scan_hint"))
        self.info.setObjectName("refundSaleInfo")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.table = QtWidgets.QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("refundLines")
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(38)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(self.COLUMNS) - 1):
            header.setSectionResizeMode(c, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(self.COLUMNS) - 1, QtWidgets.QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(len(self.COLUMNS) - 1, 100)
        lay.addWidget(self.table, 1)
        form = QtWidgets.QFormLayout()
        self.reason = QtWidgets.QComboBox()
        self.reason.setObjectName("refundReason")
        self.reason.setEditable(True)
        self.reason.addItems([tr(r) for r in REASONS])
        form.addRow(tr("refund.reason"), self.reason)
        self.amount = QtWidgets.QLabel(format_fen(0))
        self.amount.setObjectName("refundAmount")
        f = self.amount.font()
        f.setPointSize(f.pointSize() + 8)
        f.setBold(True)
        self.amount.setFont(f)
        self.amount.setStyleSheet("color: #c62828;")
        form.addRow(tr("refund.amount_est"), self.amount)
        lay.addLayout(form)
        self.error = error_label()
        lay.addWidget(self.error)
        row = QtWidgets.QHBoxLayout()
        self.all_button = QtWidgets.QPushButton(tr("refund.all"))
        self.all_button.setObjectName("refundAll")
        self.all_button.clicked.connect(self.select_all)
        self.submit_button = QtWidgets.QPushButton(
            tr("refund.submit") if is_manager else tr("refund.submit_approval"))
        self.submit_button.setObjectName("refundSubmit")
        self.submit_button.setMinimumHeight(44)
        self.submit_button.setEnabled(False)
        self.submit_button.clicked.connect(self.submit)
        close = QtWidgets.QPushButton(tr("common.close"))
        close.clicked.connect(self.reject)
        row.addWidget(self.all_button)
        row.addStretch(1)
        row.addWidget(close)
        row.addWidget(self.submit_button)
        lay.addLayout(row)
        self.resize(760, 520)
        if initial:
            self.lookup.lookup()

    def handle_scan(self, code: str) -> None:
        """The receipt's barcode (the sale number) scanned while this dialog is open."""
        self.lookup.handle_scan(code)

    def show_sale(self, sale: SaleOut) -> None:
        self.sale = sale
        self.error.clear()
        self.refund_id = str(uuid.uuid4())
        member = f"  {tr('refund.member', name=sale.member.name)}" if sale.member else ""
        self.info.setText(tr("refund.sale_info", number=sale.number,
                             time=local_time(sale.created_at).strftime("%Y-%m-%d %H:%M"),
                             total=format_fen(sale.total),
                             refunded=format_fen(sale.refunded_total),
                             pay="、".join(f"{p.label} {format_fen(p.amount)}"
                                          for p in sale.payments)) + member)
        self.table.setRowCount(len(sale.lines))
        self.spins = []
        for r, ln in enumerate(sale.lines):
            left = ln.qty - ln.refunded_qty
            for c, text in enumerate((ln.name, str(ln.qty), str(ln.refunded_qty),
                                      format_fen(ln.amount // ln.qty if ln.qty else 0))):
                item = QtWidgets.QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
            spin = QtWidgets.QSpinBox()
            spin.setObjectName(f"refundQty{r}")
            spin.setRange(0, max(0, left))
            spin.setEnabled(left > 0 and not ln.count_card_id)
            spin.valueChanged.connect(lambda _v: self._recalc())
            self.table.setCellWidget(r, 4, spin)
            self.spins.append(spin)
        self._recalc()

    def select_all(self) -> None:
        for spin in self.spins:
            if spin.isEnabled():
                spin.setValue(spin.maximum())

    def chosen(self) -> list[dict[str, int]]:
        assert self.sale is not None
        return [{"line_id": ln.id, "qty": spin.value()}
                for ln, spin in zip(self.sale.lines, self.spins, strict=True) if spin.value()]

    def _recalc(self) -> None:
        est = 0
        if self.sale is not None:
            for ln, spin in zip(self.sale.lines, self.spins, strict=True):
                left_qty = ln.qty - ln.refunded_qty
                left_amt = ln.amount - ln.refunded_amount
                if spin.value() and left_qty:
                    est += left_amt if spin.value() == left_qty else \
                        left_amt * spin.value() // left_qty
        self.amount.setText(format_fen(est))
        self.submit_button.setEnabled(bool(self.sale is not None and self.chosen()))

    def submit(self) -> None:
        if self.sale is None or not self.chosen():
            return
        reason = self.reason.currentText().strip()
        if not reason:
            self.error.setText(tr("refund.reason_required"))
            return
        if not self.is_manager and self.approval_token is None:
            dlg = ApprovalDialog(self.services, "refund", parent=self)
            self.approval_dialog = dlg

            def approved(res: Any) -> None:
                self.approval_token = res.approval_token
                self.submit()

            dlg.approved.connect(approved)
            dlg.open()
            return
        body = {"id": self.refund_id, "lines": self.chosen(), "reason": reason,
                "approval_token": self.approval_token}
        self.submit_button.setEnabled(False)
        self.error.setText(tr("refund.submitting"))
        api, ref, key = self.services.api, self.sale.number, self.refund_id
        self.services.runner.op(lambda: api.refund_sale(ref, body, key=key), self._done,
                                self._failed, owner=self)

    def _done(self, res: RefundOut) -> None:
        self.refunded.emit(res)
        self.accept()

    def _failed(self, err: ApiError) -> None:
        if err.code in ("approval_invalid", "refund_needs_approval"):
            self.approval_token = None
        self.submit_button.setEnabled(True)
        self.error.setText(err.message(i18n.language()))
        self.services.dialogs.error(self, err)


class ReprintDialog(QtWidgets.QDialog):
    """重打小票: the sale number (default: the last sale at this counter) → ``sale``.

    Signals:
        chosen(object): the :class:`SaleOut` to reprint.
    """

    chosen = Signal(object)

    def __init__(self, services: Services, initial: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reprintDialog")
        self.setWindowTitle(tr("reprint.title"))
        self.setModal(True)
        lay = QtWidgets.QVBoxLayout(self)
        self.lookup = SaleLookup(services, initial)
        self.lookup.found.connect(self._found)
        lay.addWidget(self.lookup)
        self.error = error_label()
        self.lookup.failed.connect(self.error.setText)
        lay.addWidget(self.error)
        self.setMinimumWidth(460)

    def handle_scan(self, code: str) -> None:
        self.lookup.handle_scan(code)

    def _found(self, sale: SaleOut) -> None:
        self.chosen.emit(sale)
        self.accept()
