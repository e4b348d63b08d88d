"""退款 (F6): find the sale by its number (typed, or the receipt barcode scanned) or pick it
from the list of sales (by day — today —, member, amount and counter — this one —; arrows and
Enter), choose lines and quantities, give a reason; a cashier needs a manager's approval
(店长授权). Money goes back the way it came (the server decides); the controller prints the
refund slip. Also the reprint prompt (重打小票, F7).

No button of these dialogs is a default button: Enter in the number field looks the sale up
once (a default button would take the same Enter a second time: F7 + Enter printed two
copies), Enter in the list opens the chosen sale, Enter in a quantity does not refund."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from common.errors import ApiError
from common.money import MoneyError, format_fen, parse_yuan
from common.schemas.members import MemberOut
from common.schemas.sales import RefundOut, SaleOut, SaleSummaryOut
from common.text import mask_phone

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal
from ..widgets.approval import ApprovalDialog, error_label
from ..widgets.context import Services
from ..widgets.paged import Column, PagedTableModel
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
        self.button.setAutoDefault(False)  # Enter in the field already looked it up
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


def sale_columns(zone: str = "") -> tuple[Column, ...]:
    """The list's columns; times in the shop's time zone ``zone``."""
    return (
        Column("number", "refund.list.col.number", lambda s: s.number),
        Column("time", "refund.list.col.time",
               lambda s: local_time(s.created_at, zone).strftime("%m-%d %H:%M")),
        Column("member", "refund.list.col.member", lambda s: s.member_name or "—"),
        Column("total", "refund.list.col.total", lambda s: format_fen(s.total),
               align_right=True),
        Column("refunded", "refund.list.col.refunded",
               lambda s: format_fen(s.refunded_total) if s.refunded_total else "",
               align_right=True),
        Column("cashier", "refund.list.col.cashier", lambda s: s.cashier_name),
        Column("counter", "refund.list.col.counter", lambda s: s.counter),
    )


def shop_today(zone: str = "") -> dt.date:
    """Today's shop day (the server's business date) in the shop's time zone."""
    return local_time(dt.datetime.now(dt.UTC), zone).date()

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class SaleFinder(QtWidgets.QWidget):
    """The list of sales to refund from: filters by shop day (today), member (phone's last
    4 digits or name, through the member search), amount (the sale's total in yuan) and
    counter (this one, or every counter); newest first, paged on the server.

    Keyboard: type in a filter (the list follows), ↓ into the list, ↑/↓ to choose, Enter
    opens the sale.

    Signals:
        chosen(object): the :class:`SaleSummaryOut` picked (Enter / double-click).
        failed(str): a message for the cashier (no such member, an amount that is no amount).
    """

    chosen = Signal(object)
    failed = Signal(str)

    def __init__(self, services: Services, counter: str = "", page_size: int = 30,
                 zone: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("saleFinder")
        self.services = services
        self.counter = counter
        self.member: MemberOut | None = None
        api = services.api
        self.model = PagedTableModel(
            services.runner, lambda page, size, f: api.list_sales(page, size, **f),
            sale_columns(zone), page_size=page_size, parent=self)

        self.day = QtWidgets.QDateEdit(shop_today(zone))
        self.day.setObjectName("saleDay")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.dateChanged.connect(lambda _d: self.apply())
        self.member_edit = QtWidgets.QLineEdit()
        self.member_edit.setObjectName("saleMember")
        self.member_edit.setPlaceholderText(tr("refund.list.member_hint"))
        self.member_edit.setClearButtonEnabled(True)
        self.member_pick = QtWidgets.QComboBox()
        self.member_pick.setObjectName("saleMemberPick")
        self.member_pick.setVisible(False)
        self.member_pick.activated.connect(self._member_picked)
        self.member_pick.installEventFilter(self)
        self.amount = QtWidgets.QLineEdit()
        self.amount.setObjectName("saleAmount")
        self.amount.setPlaceholderText(tr("refund.list.amount_hint"))
        self.amount.setMaximumWidth(110)
        self.counter_box = QtWidgets.QComboBox()
        self.counter_box.setObjectName("saleCounter")
        if counter:
            self.counter_box.addItem(tr("refund.list.this_counter", counter=counter), counter)
        self.counter_box.addItem(tr("refund.list.all_counters"), "")
        self.counter_box.currentIndexChanged.connect(lambda _i: self.apply())

        # typing pauses → the list follows (the member is looked up first)
        self.timer = QtCore.QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(350)
        self.timer.timeout.connect(self._typed)
        for edit in (self.member_edit, self.amount):
            edit.textChanged.connect(lambda _t: self.timer.start())
            edit.returnPressed.connect(self._typed_now)
            edit.installEventFilter(self)
        self.day.installEventFilter(self)

        self.table = QtWidgets.QTableView()
        self.table.setObjectName("saleList")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(32)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda ix: self._choose(ix.row()))
        self.table.installEventFilter(self)
        self.model.page_loaded.connect(self._loaded)
        self.model.load_failed.connect(lambda e: self.failed.emit(e.message(i18n.language())))
        self.empty = QtWidgets.QLabel()
        self.empty.setObjectName("saleListInfo")
        self.empty.setStyleSheet("color: #666;")

        filters = QtWidgets.QHBoxLayout()
        filters.addWidget(QtWidgets.QLabel(tr("refund.list.day")))
        filters.addWidget(self.day)
        filters.addWidget(QtWidgets.QLabel(tr("refund.list.member")))
        filters.addWidget(self.member_edit, 1)
        filters.addWidget(self.member_pick)
        filters.addWidget(QtWidgets.QLabel(tr("refund.list.amount")))
        filters.addWidget(self.amount)
        filters.addWidget(self.counter_box)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(filters)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.empty)

    # --- filters ----------------------------------------------------------------------------
    def filters(self) -> dict[str, Any] | None:
        """The query for the list, or None when the amount is not an amount."""
        day = self.day.date().toPyDate()
        f: dict[str, Any] = {"date_from": day, "date_to": day,
                             "counter": self.counter_box.currentData() or None}
        if self.member is not None:
            f["member_id"] = self.member.id
        text = self.amount.text().strip()
        if text:
            try:
                fen = parse_yuan(text)
            except (MoneyError, ValueError):
                return None
            f["total_min"] = f["total_max"] = fen
        return f

    def apply(self) -> None:
        f = self.filters()
        if f is None:
            self.failed.emit(tr("refund.list.bad_amount", text=self.amount.text().strip()))
            return
        self.model.set_filters(**f)

    def _typed_now(self) -> None:
        self.timer.stop()
        self._typed()

    def _typed(self) -> None:
        q = self.member_edit.text().strip()
        shown = self.member
        if not q:
            self.member = None
            self.member_pick.setVisible(False)
            self.apply()
            return
        if shown is not None and q in (shown.name, shown.phone or "", self._member_text(shown)):
            self.apply()
            return
        api = self.services.api
        self.services.runner.op(lambda: api.list_members(page_size=20, q=q),
                                lambda page: self._members(q, list(page.items)),
                                lambda e: self.failed.emit(e.message(i18n.language())),
                                owner=self)

    @staticmethod
    def _member_text(m: MemberOut) -> str:
        return f"{m.name} {mask_phone(m.phone)}" if m.phone else m.name

    def _members(self, q: str, found: list[MemberOut]) -> None:
        if q != self.member_edit.text().strip():
            return  # typed on meanwhile
        self.member_pick.clear()
        if not found:
            self.member = None
            self.member_pick.setVisible(False)
            self.failed.emit(tr("member.none_found", q=q))
            return
        if len(found) == 1:
            self.member_pick.setVisible(False)
            self._set_member(found[0])
            return
        # several: the first is taken, ↑/↓ in the picker takes another, Enter → the list
        for m in found:
            self.member_pick.addItem(self._member_text(m), m)
        self.member_pick.setVisible(True)
        self.member_pick.setFocus()
        self._set_member(found[0])

    def _member_picked(self, index: int) -> None:
        m = self.member_pick.itemData(index)
        if isinstance(m, MemberOut):
            self._set_member(m)

    def _set_member(self, m: MemberOut) -> None:
        self.member = m
        self.apply()

    # --- the list ---------------------------------------------------------------------------
    def _loaded(self, page: int) -> None:
        n = self.model.rowCount()
        self.table.resizeColumnsToContents()
        # the member column takes the room left (a model reset forgets the section's mode)
        self.table.horizontalHeader().setSectionResizeMode(
            2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.empty.setText(tr("refund.list.none") if n == 0 else
                           tr("refund.list.count_more" if self.model.has_more
                              else "refund.list.count", n=n))
        if page == 1 and n and not self.table.currentIndex().isValid():
            self.table.selectRow(0)

    def focus_list(self) -> None:
        self.table.setFocus()
        if self.model.rowCount() and not self.table.currentIndex().isValid():
            self.table.selectRow(0)

    def _choose(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.chosen.emit(self.model.item(row))

    def eventFilter(self, obj: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if event is not None and event.type() == QtCore.QEvent.Type.KeyPress:
            assert isinstance(event, QtGui.QKeyEvent)
            key = event.key()
            if obj is self.table and key in _ENTER:
                self._choose(self.table.currentIndex().row())
                return True  # not to the dialog
            if obj is self.member_pick:
                if key in _ENTER:
                    self.focus_list()
                    return True
                return False  # ↑/↓ choose the member
            if obj is not self.table and key == Qt.Key.Key_Down:
                self.focus_list()
                return True
        return super().eventFilter(obj, event)


class RefundDialog(QtWidgets.QDialog):
    """See module doc.

    Signals:
        refunded(object): the :class:`RefundOut`.
    """

    refunded = Signal(object)
    COLUMNS = ("refund.col.name", "refund.col.sold", "refund.col.refunded",
               "refund.col.price", "refund.col.qty")

    def __init__(self, services: Services, *, is_manager: bool, initial: str = "",
                 counter: str = "", zone: str = "",
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
        self.lookup.ref.installEventFilter(self)  # ↓ from the number into the list
        lay.addWidget(self.lookup)
        self.finder = SaleFinder(services, counter, zone=zone)
        self.finder.chosen.connect(self.open_summary)
        self.finder.failed.connect(lambda msg: self.error.setText(msg))
        lay.addWidget(self.finder, 3)
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
        lay.addWidget(self.table, 2)
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
        for b in (self.all_button, self.submit_button, close):
            b.setAutoDefault(False)  # Enter never refunds by itself (see module doc)
        row.addWidget(self.all_button)
        row.addStretch(1)
        row.addWidget(close)
        row.addWidget(self.submit_button)
        lay.addLayout(row)
        self.resize(900, 680)
        if initial:
            self.lookup.lookup()
        self.finder.apply()  # today's sales at this counter

    def eventFilter(self, obj: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if (obj is self.lookup.ref and event is not None
                and event.type() == QtCore.QEvent.Type.KeyPress):
            assert isinstance(event, QtGui.QKeyEvent)
            if event.key() == Qt.Key.Key_Down:
                self.finder.focus_list()
                return True
        return super().eventFilter(obj, event)

    def open_summary(self, summary: SaleSummaryOut) -> None:
        """A sale picked from the list: fetch it whole (lines, payments) and show it."""
        self.lookup.ref.setText(summary.number)
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
        first = next((sp for sp in self.spins if sp.isEnabled()), None)
        if first is not None:
            first.setFocus()
            first.selectAll()

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
        if self.result() == QtWidgets.QDialog.DialogCode.Accepted or not self.isVisible():
            return  # already chosen: one reprint per F7
        self.chosen.emit(sale)
        self.accept()
