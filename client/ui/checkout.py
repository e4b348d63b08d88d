"""The checkout (收银) screen: barcode entry, cart table, member panel, live totals and the
function-key legend.

Plug-in points for later issues (no rework needed):

* ``CheckoutScreen.actions[name]`` — QActions ``member`` (F2), ``hold`` (F4), ``resume``
  (F5), ``pay`` (F9), ``back`` (Esc). Each emits the matching ``*_requested`` signal. Actions
  whose screen does not exist yet are disabled (greyed, tooltip "将在后续版本开放"); a later
  screen connects to the signal and calls ``set_feature_available(name, True)``.
* ``member_panel`` — a QGroupBox whose content the member issue replaces
  (``set_member_widget``); ``cart.member`` feeds the pricing engine.
* ``cart_model.cart`` — the :class:`client.cart.Cart` to turn into a sale request.
"""

from __future__ import annotations

from common.errors import ApiError
from common.money import format_fen, format_plain
from common.pricing import PricingError, Quote
from common.schemas.catalog import ProductOut

from .. import i18n
from ..cart import Cart, CartError
from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal
from .context import Services

LATER_FEATURES = ("member", "hold", "resume", "pay")


class BarcodeEntry(QtWidgets.QLineEdit):
    """A line edit for typed (or wedge-scanned) codes.

    Signals:
        scanned(str): Enter was pressed on a non-empty code (the text is then cleared).
        adjust_qty(int): ``+`` / ``-`` pressed while empty (quantity of the selected line).
        remove_line(): ``Del`` pressed while empty.
    """

    scanned = Signal(str)
    adjust_qty = Signal(int)
    remove_line = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("barcodeEntry")
        self.setPlaceholderText(tr("checkout.scan"))
        self.setMaxLength(64)
        self.setMinimumHeight(44)
        f = self.font()
        f.setPointSize(f.pointSize() + 4)
        self.setFont(f)
        self.returnPressed.connect(self._emit)

    def keyPressEvent(self, event: QtGui.QKeyEvent | None) -> None:
        if event is not None and not self.text():
            key = event.key()
            if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
                self.adjust_qty.emit(1)
                return
            if key == Qt.Key.Key_Minus:
                self.adjust_qty.emit(-1)
                return
            if key == Qt.Key.Key_Delete:
                self.remove_line.emit()
                return
        super().keyPressEvent(event)

    def _emit(self) -> None:
        code = self.text().strip()
        self.clear()
        if code:
            self.scanned.emit(code)


class CartModel(QtCore.QAbstractTableModel):
    """Table model over a :class:`Cart`, priced by ``Cart.quote()`` after every change.

    Signals:
        totals_changed(object): the new :class:`common.pricing.Quote`.
        pricing_failed(str): the engine refused the cart (message for the cashier).
    """

    totals_changed = Signal(object)
    pricing_failed = Signal(str)

    COLUMNS = ("name", "qty", "price", "discount", "amount")

    def __init__(self, cart: Cart | None = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.cart = cart or Cart()
        self.quote: Quote = self.cart.quote()

    def rowCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.cart.lines)

    def columnCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return tr(f"checkout.col.{self.COLUMNS[section]}")
        return None

    def data(self, index: QtCore.QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        line = self.cart.lines[index.row()]
        col = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            lq = next((q for q in self.quote.lines if q.line_id == line.line_id), None)
            if col == "name":
                return line.name
            if col == "qty":
                return f"{line.qty} {line.unit}"
            if col == "price":
                return format_plain(line.list_price)
            if col == "discount":
                return format_plain(lq.discount_total) if lq and lq.discount_total else ""
            if col == "amount":
                return format_plain(lq.amount) if lq else ""
        if role == Qt.ItemDataRole.TextAlignmentRole and col != "name":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _reprice(self) -> None:
        try:
            self.quote = self.cart.quote()
        except PricingError as e:
            self.pricing_failed.emit(str(e))
            return
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self.columnCount() - 1))
        self.totals_changed.emit(self.quote)

    def add_product(self, product: ProductOut, barcode: str = "") -> int:
        before = len(self.cart.lines)
        if any(line.product_id == product.id for line in self.cart.lines):
            row = self.cart.add_product(product, barcode)
        else:
            self.beginInsertRows(QtCore.QModelIndex(), before, before)
            try:
                row = self.cart.add_product(product, barcode)
            finally:
                self.endInsertRows()
        self._reprice()
        return row

    def change_qty(self, row: int, delta: int) -> None:
        line = self.cart.lines[row]
        self.cart.set_qty(row, line.qty + delta)
        self._reprice()

    def remove(self, row: int) -> None:
        self.beginRemoveRows(QtCore.QModelIndex(), row, row)
        self.cart.remove(row)
        self.endRemoveRows()
        self._reprice()

    def clear(self) -> None:
        self.beginResetModel()
        self.cart.clear()
        self.endResetModel()
        self._reprice()


class TotalsPanel(QtWidgets.QGroupBox):
    """Item count, list total, discount and the large amount to pay."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(tr("checkout.totals"), parent)
        self.setObjectName("totalsPanel")
        grid = QtWidgets.QGridLayout(self)
        self.items = self._row(grid, 0, tr("checkout.items"))
        self.list_total = self._row(grid, 1, tr("checkout.list_total"))
        self.discount = self._row(grid, 2, tr("checkout.discount"))
        caption = QtWidgets.QLabel(tr("checkout.total"))
        f = caption.font()
        f.setPointSize(f.pointSize() + 6)
        caption.setFont(f)
        self.total = QtWidgets.QLabel(format_fen(0))
        self.total.setObjectName("totalLabel")
        big = self.total.font()
        big.setPointSize(36)
        big.setBold(True)
        self.total.setFont(big)
        self.total.setStyleSheet("color: #c62828;")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(caption, 3, 0)
        grid.addWidget(self.total, 4, 0, 1, 2)
        self.show_quote(None, 0)

    @staticmethod
    def _row(grid: QtWidgets.QGridLayout, r: int, text: str) -> QtWidgets.QLabel:
        grid.addWidget(QtWidgets.QLabel(text), r, 0)
        value = QtWidgets.QLabel()
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(value, r, 1)
        return value

    def show_quote(self, quote: Quote | None, item_count: int) -> None:
        self.items.setText(str(item_count))
        self.list_total.setText(format_fen(quote.list_total if quote else 0))
        self.discount.setText(format_fen(quote.discount_total if quote else 0))
        self.total.setText(format_fen(quote.total if quote else 0))


class CheckoutScreen(QtWidgets.QWidget):
    """The counter screen (see module doc for the plug-in points).

    Signals:
        scanned(str): a code was entered (typed + Enter, or a wedge scan).
        member_requested(), hold_requested(), resume_requested(), pay_requested(),
        back_requested(): the function keys F2, F4, F5, F9, Esc.
    """

    scanned = Signal(str)
    member_requested = Signal()
    hold_requested = Signal()
    resume_requested = Signal()
    pay_requested = Signal()
    back_requested = Signal()

    KEYS = (("member", "F2"), ("hold", "F4"), ("resume", "F5"), ("pay", "F9"),
            ("back", "Esc"))

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None,
                 scan_source: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkoutScreen")
        self.services = services

        self.entry = BarcodeEntry()
        self.entry.scanned.connect(self.scanned)
        self.scanned.connect(self.handle_scan)
        if scan_source is not None:  # e.g. client.devices.wedge.WedgeScanFilter
            scan_source.scanned.connect(self._wedge_scanned)  # type: ignore[attr-defined]

        self.cart_model = CartModel(parent=self)
        self.table = QtWidgets.QTableView()
        self.table.setObjectName("cartTable")
        self.table.setModel(self.cart_model)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the entry keeps the keyboard
        self.table.verticalHeader().setDefaultSectionSize(36)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for c in range(1, CartModel.COLUMNS.__len__()):
            header.setSectionResizeMode(c, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)

        self.status = QtWidgets.QLabel()
        self.status.setObjectName("scanStatus")
        self.status.setMinimumHeight(28)

        self.member_panel = QtWidgets.QGroupBox(tr("checkout.member"))
        self.member_panel.setObjectName("memberPanel")
        mp = QtWidgets.QVBoxLayout(self.member_panel)
        self.member_label = QtWidgets.QLabel(tr("checkout.no_member"))
        self.member_label.setWordWrap(True)
        mp.addWidget(self.member_label)

        self.totals = TotalsPanel()
        self.cart_model.totals_changed.connect(
            lambda q: self.totals.show_quote(q, self.cart_model.cart.item_count))
        self.cart_model.pricing_failed.connect(lambda msg: self._say(msg, error=True))

        self.actions: dict[str, QtGui.QAction] = {}
        signals = {"member": self.member_requested, "hold": self.hold_requested,
                   "resume": self.resume_requested, "pay": self.pay_requested,
                   "back": self.back_requested}
        legend = QtWidgets.QHBoxLayout()
        legend.setSpacing(6)
        for name, key in self.KEYS:
            act = QtGui.QAction(f"{key} {tr('key.' + name)}", self)
            act.setObjectName(f"action_{name}")
            act.setShortcut(QtGui.QKeySequence(key))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(signals[name])
            self.addAction(act)
            self.actions[name] = act
            button = QtWidgets.QToolButton()
            button.setObjectName(f"key_{name}")
            button.setDefaultAction(act)
            button.setMinimumHeight(48)
            button.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                 QtWidgets.QSizePolicy.Policy.Fixed)
            legend.addWidget(button)
        for name in LATER_FEATURES:
            self.set_feature_available(name, False)
        self.back_requested.connect(self._back)

        # row editing from the entry: + / - / Del while it is empty
        self.entry.adjust_qty.connect(self._qty)
        self.entry.remove_line.connect(self._remove)

        left = QtWidgets.QVBoxLayout()
        scan_row = QtWidgets.QHBoxLayout()
        scan_row.addWidget(QtWidgets.QLabel(tr("checkout.scan_label")))
        scan_row.addWidget(self.entry, 1)
        left.addLayout(scan_row)
        left.addWidget(self.table, 1)
        left.addWidget(self.status)

        right = QtWidgets.QVBoxLayout()
        right.addWidget(self.member_panel)
        right.addStretch(1)
        right.addWidget(self.totals)
        right_box = QtWidgets.QWidget()
        right_box.setLayout(right)
        right_box.setMinimumWidth(300)
        right_box.setMaximumWidth(460)

        top = QtWidgets.QHBoxLayout()
        top.addLayout(left, 3)
        top.addWidget(right_box, 2)
        outer = QtWidgets.QVBoxLayout(self)
        outer.addLayout(top, 1)
        outer.addLayout(legend)

    # --- plug-in API ---------------------------------------------------------------------

    def set_feature_available(self, name: str, available: bool) -> None:
        act = self.actions[name]
        act.setEnabled(available)
        act.setToolTip(act.text() if available else f"{act.text()}：{tr('common.not_yet')}")

    def set_member_widget(self, widget: QtWidgets.QWidget) -> None:
        layout = self.member_panel.layout()
        assert layout is not None
        while layout.count():
            item = layout.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().setParent(None)  # type: ignore[union-attr]
        layout.addWidget(widget)

    # --- behaviour ------------------------------------------------------------------------

    def showEvent(self, event: QtGui.QShowEvent | None) -> None:
        super().showEvent(event)
        self.entry.setFocus()

    def _wedge_scanned(self, code: str) -> None:
        if not self.isVisible():
            return
        text = self.entry.text()
        if text.endswith(code):  # the wedge typed into the entry before it was recognised
            self.entry.setText(text[: -len(code)])
        self.scanned.emit(code)

    def handle_scan(self, code: str) -> None:
        """Look the code up on the server and add the product to the cart."""
        self._say(tr("checkout.looking_up", code=code))
        api = self.services.api
        self.services.runner.op(lambda: api.product_by_barcode(code),
                                lambda p: self._add(p, code), self._scan_failed, owner=self)

    def _add(self, product: ProductOut, code: str) -> None:
        try:
            row = self.cart_model.add_product(product, code)
        except CartError as e:
            self._say(str(e), error=True)
            return
        self.table.selectRow(row)
        self._say(tr("checkout.added", name=product.name))

    def _scan_failed(self, err: ApiError) -> None:
        QtWidgets.QApplication.beep()
        self._say(err.message(i18n.language()), error=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020; font-weight: bold;" if error else "")
        self.status.setText(text)

    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            return rows[0].row()
        return self.cart_model.rowCount() - 1 if self.cart_model.rowCount() else None

    def _qty(self, delta: int) -> None:
        row = self._selected_row()
        if row is None:
            return
        try:
            self.cart_model.change_qty(row, delta)
        except CartError as e:
            self._say(str(e), error=True)

    def _remove(self) -> None:
        row = self._selected_row()
        if row is not None:
            self.cart_model.remove(row)

    def _back(self) -> None:
        self.entry.clear()
        self.status.clear()
        self.table.clearSelection()
        self.entry.setFocus()
