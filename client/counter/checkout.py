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

from collections.abc import Callable
from dataclasses import replace

from common.errors import ApiError
from common.money import format_fen, format_plain
from common.pricing import LineQuote, PricingError, Quote
from common.schemas.catalog import ProductOut
from common.schemas.sales import QuoteOut

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal
from ..widgets.context import Services
from ..widgets.numpad import Numpad
from .cart import MAX_QTY, Cart, CartError, CartLine, check_qty, serving_text
from .favourites import FavouritesPanel
from .open_price import OpenPriceDialog
from .product_search import (
    EntryError,
    Lookup,
    ProductPicker,
    lookup,
    parse_entry,
    pending_prefix,
)

LATER_FEATURES = ("member", "discount", "hold", "resume", "refund", "reprint", "recharge",
                  "pay", "staff")
QUOTE_DEBOUNCE_MS = 250
#: an unknown code asked of the server by a counter with a local catalogue: one try, short
#: time-outs (connect, read) — a scan never waits longer than the offline threshold
SCAN_TIMEOUT = (1.0, 2.0)
STATUS_LINES = 3  # the message line's most lines (the whole text is in its tooltip)
ERROR_BANNER = ("background: #b00020; color: white; font-size: 15pt; font-weight: bold; "
                "border-radius: 4px; padding: 4px 10px;")


class BarcodeEntry(QtWidgets.QLineEdit):
    """A line edit for typed (or wedge-scanned) codes.

    Signals:
        scanned(str): Enter was pressed on a non-empty code (the text is then cleared).
        adjust_qty(int): ``+`` / ``-`` pressed while empty (quantity of the selected line).
        remove_line(): ``Del`` pressed while empty.
        undo_requested(): ``Ctrl+Z`` pressed while empty (put the removed line back).
    """

    scanned = Signal(str)
    adjust_qty = Signal(int)
    remove_line = Signal()
    undo_requested = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("barcodeEntry")
        self.setPlaceholderText(tr("find.placeholder"))
        self.setToolTip(tr("find.placeholder"))
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
            if event.matches(QtGui.QKeySequence.StandardKey.Undo):
                self.undo_requested.emit()
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
    cart_changed = Signal()
    edit_refused = Signal(str)  # a quantity typed into the cell was refused (the message)

    COLUMNS = ("name", "qty", "price", "discount", "amount", "staff")

    def __init__(self, cart: Cart | None = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.cart = cart or Cart()
        self.quote: Quote = self.cart.quote()
        self.version = 0  # +1 on every change: a late server quote of an old cart is dropped
        self.server_quoted = False  # True while ``quote`` is the server's answer

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
                if line.count_card_id is not None:
                    return f"{line.name}  [{tr('cart.count_card')}]"
                tags = [lq.promotion_name] if lq and lq.promotion_name else []  # 促销
                if line.manual_discount_bp:
                    tags.append(tr("cart.line_off", pct=f"{line.manual_discount_bp / 100:g}"))
                return f"{line.name}  [{'，'.join(tags)}]" if tags else line.name
            if col == "qty":
                return f"{line.qty} {line.unit}"
            if col == "price":
                if line.open_price is not None:
                    return f"{format_plain(line.open_price)} ({tr('open_price.tag')})"
                return format_plain(line.list_price)
            if col == "discount":
                return format_plain(lq.discount_total) if lq and lq.discount_total else ""
            if col == "amount":
                return format_plain(lq.amount) if lq else ""
            if col == "staff":  # serving staff (技师 / 导购), F10
                return serving_text(line.staff)
        if role == Qt.ItemDataRole.EditRole and col == "qty":
            return str(line.qty)
        if role == Qt.ItemDataRole.TextAlignmentRole and col not in ("name", "staff"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: QtCore.QModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and self.COLUMNS[index.column()] == "qty":
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: QtCore.QModelIndex, value: object,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """The quantity cell: a whole number 1–9999, else refused (``edit_refused``)."""
        if not index.isValid() or role != Qt.ItemDataRole.EditRole \
                or self.COLUMNS[index.column()] != "qty":
            return False
        text = str(value).strip()
        if not text.isdigit():
            self.edit_refused.emit(tr("find.bad_qty", max=MAX_QTY))
            return False
        try:
            self.set_qty(index.row(), int(text))
        except CartError:
            self.edit_refused.emit(tr("find.bad_qty", max=MAX_QTY))
            return False
        return True

    def _reprice(self) -> None:
        self.version += 1
        self.server_quoted = False
        self.cart_changed.emit()
        try:
            self.quote = self.cart.quote()
        except PricingError as e:
            self.pricing_failed.emit(str(e))
            return
        self._refresh()

    def _refresh(self) -> None:
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self.columnCount() - 1))
        self.totals_changed.emit(self.quote)

    def add_product(self, product: ProductOut, barcode: str = "", qty: int = 1,
                    open_price: int | None = None) -> int:
        before = len(self.cart.lines)
        if self.cart.merge_row(product) is not None:
            row = self.cart.add_product(product, barcode, qty, open_price)
        else:
            check_qty(qty)  # refused before the row is announced
            CartLine.from_product(product, barcode, qty, open_price)
            self.beginInsertRows(QtCore.QModelIndex(), before, before)
            try:
                row = self.cart.add_product(product, barcode, qty, open_price)
            finally:
                self.endInsertRows()
        self._reprice()
        return row

    def change_qty(self, row: int, delta: int) -> None:
        line = self.cart.lines[row]
        self.set_qty(row, line.qty + delta)

    def set_qty(self, row: int, qty: int) -> None:
        self.cart.set_qty(row, qty)
        self._reprice()

    def remove(self, row: int) -> CartLine:
        """Remove the line; returns it (``insert_line`` puts it back: undo)."""
        self.beginRemoveRows(QtCore.QModelIndex(), row, row)
        line = self.cart.remove(row)
        self.endRemoveRows()
        self._reprice()
        return line

    def insert_line(self, row: int, line: CartLine) -> int:
        row = max(0, min(row, len(self.cart.lines)))
        self.beginInsertRows(QtCore.QModelIndex(), row, row)
        try:
            row = self.cart.insert(row, line)
        finally:
            self.endInsertRows()
        self._reprice()
        return row

    def clear(self) -> None:
        self.beginResetModel()
        self.cart.clear()
        self.endResetModel()
        self._reprice()

    def load(self, cart: Cart) -> None:
        """Replace the whole cart (a resumed held order)."""
        self.beginResetModel()
        self.cart = cart
        self.endResetModel()
        self._reprice()

    def changed(self) -> None:
        """The cart was changed directly (member, coupon, discount, count card): reprice."""
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self.columnCount() - 1))
        self._reprice()

    def apply_server_quote(self, q: QuoteOut, version: int) -> bool:
        """Show the server's figures (authoritative) if the cart is still the one quoted."""
        if version != self.version or len(q.lines) != len(self.cart.lines):
            return False
        lines = tuple(
            LineQuote(line_id=ln.line_id, product_id=sq.product_id, kind=sq.kind, qty=sq.qty,
                      unit_price=sq.unit_price, price_source=sq.price_source,
                      list_amount=sq.list_amount, member_discount=sq.member_discount,
                      manual_discount=sq.manual_discount,
                      count_card_discount=sq.count_card_discount,
                      coupon_discount=sq.coupon_discount, order_discount=sq.order_discount,
                      rounding_discount=sq.rounding_discount, amount=sq.amount,
                      count_card_id=sq.count_card_id, promotion_discount=sq.promotion_discount,
                      promotion_id=sq.promotion_id, promotion_name=sq.promotion_name)
            for ln, sq in zip(self.cart.lines, q.lines, strict=True))
        self.quote = Quote(lines=lines, list_total=q.list_total,
                           member_discount=q.member_discount, manual_discount=q.manual_discount,
                           count_card_discount=q.count_card_discount,
                           coupon_discount=q.coupon_discount, order_discount=q.order_discount,
                           rounding_discount=q.rounding_discount, total=q.total,
                           coupon_id=q.coupon_id, rounding="none",
                           needs_approval=q.needs_approval,
                           promotion_discount=q.promotion_discount,
                           points_multiplier=q.points_multiplier)
        self.server_quoted = True
        self._refresh()
        return True


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
        self.source = QtWidgets.QLabel()  # 服务器计价 / 本机预览
        self.source.setObjectName("quoteSource")
        self.source.setStyleSheet("color: #666;")
        self.source.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.source, 3, 1)
        grid.addWidget(self.total, 4, 0, 1, 2)
        self.last_sale = QtWidgets.QLabel()  # after a sale: its number and the change, large
        self.last_sale.setObjectName("lastSale")
        self.last_sale.setWordWrap(True)
        f = self.last_sale.font()
        f.setPointSize(f.pointSize() + 4)
        f.setBold(True)
        self.last_sale.setFont(f)
        self.last_sale.setStyleSheet("color: #1b5e20;")
        grid.addWidget(self.last_sale, 5, 0, 1, 2)
        self.show_quote(None, 0)

    @staticmethod
    def _row(grid: QtWidgets.QGridLayout, r: int, text: str) -> QtWidgets.QLabel:
        grid.addWidget(QtWidgets.QLabel(text), r, 0)
        value = QtWidgets.QLabel()
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(value, r, 1)
        return value

    def show_quote(self, quote: Quote | None, item_count: int,
                   server: bool | None = None) -> None:
        if server is not None and item_count:
            self.source.setText(tr("checkout.quote_server" if server else "checkout.quote_local"))
        elif not item_count:
            self.source.clear()
        if item_count:
            self.last_sale.clear()
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
    discount_requested = Signal()
    hold_requested = Signal()
    resume_requested = Signal()
    refund_requested = Signal()
    reprint_requested = Signal()
    recharge_requested = Signal()
    pay_requested = Signal()
    staff_requested = Signal()  # F10: serving staff of the selected line
    qty_requested = Signal()  # F11: edit the selected line's quantity in its cell
    back_requested = Signal()
    dialog_opened = Signal(object)  # the product picker or the open-price dialog (tests)
    network_failed = Signal(object)  # a lookup got no answer at all (an ApiError, status 0)

    KEYS = (("member", "F2"), ("discount", "F3"), ("hold", "F4"), ("resume", "F5"),
            ("refund", "F6"), ("reprint", "F7"), ("recharge", "F8"), ("pay", "F9"),
            ("staff", "F10"), ("qty", "F11"), ("back", "Esc"))

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None,
                 scan_source: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkoutScreen")
        self.services = services
        #: the local catalogue (offline mode): code → Lookup, or None when it knows nothing
        self.local_lookup: Callable[[str], Lookup | None] | None = None
        self.is_offline: Callable[[], bool] = lambda: False

        self.entry = BarcodeEntry()
        self.entry.scanned.connect(self.scanned)
        self.scanned.connect(self.handle_scan)
        if scan_source is not None:  # e.g. client.devices.wedge.WedgeScanFilter
            self.add_scan_source(scan_source)

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

        # the message line: wraps (never widens the window), at most STATUS_LINES lines
        # (the whole text in its tooltip); an error is a large red banner until the next one
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("scanStatus")
        self.status.setMinimumHeight(28)
        banner_font = QtGui.QFont(self.font())
        banner_font.setPointSize(15)
        banner_font.setBold(True)
        banner_line = QtGui.QFontMetrics(banner_font).lineSpacing()
        self.status.setMaximumHeight(banner_line * STATUS_LINES + 10)  # three banner lines
        self.banner_height = banner_line + 16  # an error banner is at least one line high
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                  QtWidgets.QSizePolicy.Policy.Preferred)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # Delete with undo: the removed line, its row and the member it was removed under
        self.undo_button = QtWidgets.QPushButton(tr("cart.undo"))
        self.undo_button.setObjectName("undoButton")
        self.undo_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undo_button.setMinimumSize(72, 48)
        self.undo_button.clicked.connect(self.undo_remove)
        self.undo_button.hide()
        self.removed: tuple[int, CartLine, int | None] | None = None
        self.pending_qty: int | None = None  # "3*": the quantity of the next item added
        self.picker: ProductPicker | None = None
        self.price_dialog: OpenPriceDialog | None = None
        # the favourites grid (收银台常用), size-limited and collapsible, under the cart
        self.favourites = FavouritesPanel(services)
        self.favourites.chosen.connect(self.add_favourite)
        self._favourites_loaded = False
        # the on-screen numpad (touch): quantities and codes into the entry; 键盘 shows it
        self.numpad = Numpad()
        self.numpad.attach(self.entry)
        self.numpad.hide()
        self.numpad_button = QtWidgets.QPushButton(tr("numpad.toggle"))
        self.numpad_button.setObjectName("numpadToggle")
        self.numpad_button.setCheckable(True)
        self.numpad_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.numpad_button.setMinimumSize(72, 48)
        self.numpad_button.toggled.connect(self.show_numpad)

        self.member_panel = QtWidgets.QGroupBox(tr("checkout.member"))
        self.member_panel.setObjectName("memberPanel")
        mp = QtWidgets.QVBoxLayout(self.member_panel)
        self.member_label = QtWidgets.QLabel(tr("checkout.no_member"))
        self.member_label.setWordWrap(True)
        mp.addWidget(self.member_label)

        self.totals = TotalsPanel()
        self.cart_model.totals_changed.connect(
            lambda q: self.totals.show_quote(q, self.cart_model.cart.item_count,
                                             self.cart_model.server_quoted))
        self.cart_model.pricing_failed.connect(lambda msg: self._say(msg, error=True))
        # the server's quote (level prices, coupon rules, limits) follows every change
        self.quote_timer = QtCore.QTimer(self)
        self.quote_timer.setSingleShot(True)
        self.quote_timer.setInterval(QUOTE_DEBOUNCE_MS)
        self.quote_timer.timeout.connect(self.request_server_quote)
        self.cart_model.cart_changed.connect(self._cart_changed)

        self.actions: dict[str, QtGui.QAction] = {}
        signals = {"member": self.member_requested, "discount": self.discount_requested,
                   "hold": self.hold_requested, "resume": self.resume_requested,
                   "refund": self.refund_requested, "reprint": self.reprint_requested,
                   "recharge": self.recharge_requested, "pay": self.pay_requested,
                   "staff": self.staff_requested, "qty": self.qty_requested,
                   "back": self.back_requested}
        legend = QtWidgets.QHBoxLayout()
        legend.setSpacing(4)
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
            button.setMinimumWidth(60)
            button.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                 QtWidgets.QSizePolicy.Policy.Fixed)
            legend.addWidget(button)
        for name in LATER_FEATURES:
            self.set_feature_available(name, False)
        self.back_requested.connect(self._back)
        self.qty_requested.connect(self.edit_qty)
        undo = QtGui.QAction(tr("cart.undo"), self)
        undo.setObjectName("action_undo")
        undo.setShortcut(QtGui.QKeySequence(QtGui.QKeySequence.StandardKey.Undo))
        undo.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        undo.triggered.connect(self.undo_remove)
        self.addAction(undo)

        # row editing from the entry: + / - / Del while it is empty
        self.entry.adjust_qty.connect(self._qty)
        self.entry.remove_line.connect(self._remove)
        self.entry.undo_requested.connect(self.undo_remove)
        # the quantity cell: double-click, F11 or the edit key on it; bad input refused clearly
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.DoubleClicked
                                   | QtWidgets.QAbstractItemView.EditTrigger.EditKeyPressed)
        delegate = self.table.itemDelegate()
        assert delegate is not None
        delegate.closeEditor.connect(lambda *_a: self.entry.setFocus())
        self.cart_model.edit_refused.connect(lambda msg: self._say(msg, error=True))
        self.cart_model.modelReset.connect(self._forget_removed)

        left = QtWidgets.QVBoxLayout()
        scan_row = QtWidgets.QHBoxLayout()
        scan_row.addWidget(QtWidgets.QLabel(tr("checkout.scan_label")))
        scan_row.addWidget(self.entry, 1)
        scan_row.addWidget(self.numpad_button)
        left.addLayout(scan_row)
        left.addWidget(self.table, 1)
        left.addWidget(self.favourites)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.undo_button)
        bottom.addWidget(self.numpad)
        left.addLayout(bottom)

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

    def add_scan_source(self, source: QtCore.QObject) -> None:
        """Another scanner (wedge filter, serial scanner bridge) with a ``scanned(str)``."""
        source.scanned.connect(self._wedge_scanned)  # type: ignore[attr-defined]

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
        if not self._favourites_loaded:
            self._favourites_loaded = True
            self.favourites.load()

    def _wedge_scanned(self, code: str) -> None:
        if not self.isVisible():
            return
        modal = QtWidgets.QApplication.activeModalWidget()
        if modal is not None:  # a dialog is in front: it gets the scan (or nobody does)
            handler = getattr(modal, "handle_scan", None)
            if handler is not None:
                handler(code)
            return
        text = self.entry.text()
        if text.endswith(code):  # the wedge typed into the entry before it was recognised
            self.entry.setText(text[: -len(code)])
        self.scanned.emit(code)

    def handle_scan(self, code: str) -> None:
        """A code, a search or a quantity from the entry or a scanner (see
        :mod:`client.counter.product_search`): an exact barcode is added at once; a search
        with one match is added, with several opens the picker, with none says so."""
        try:
            pending = pending_prefix(self.entry.text())  # "3*" left before a wedge scan
            cmd = parse_entry(code)
        except EntryError as e:
            self.entry.clear()
            self._say(str(e), error=True)
            return
        if pending is not None:
            self.entry.clear()
            self.pending_qty = pending
        if cmd.set_qty:
            assert cmd.qty is not None
            self.set_line_qty(cmd.qty)
            return
        if not cmd.code:
            self.pending_qty = cmd.qty
            self._say(tr("find.pending_qty", n=cmd.qty))
            return
        qty = cmd.qty or self.pending_qty or 1
        self.pending_qty = None
        text = cmd.code
        if self.local_lookup is not None:
            local = self.local_lookup(text)  # no server round trip per scan
            if local is not None:
                self._found(local, qty)
                return
            if self.is_offline():  # never left waiting, never dropped: refused at once
                self._scan_refused(text)
                return
        self._say(tr("find.searching", q=text))
        api = self.services.api
        timeout = SCAN_TIMEOUT if self.local_lookup is not None else None
        self.services.runner.op(lambda: lookup(api, text, timeout),
                                lambda res: self._found(res, qty),
                                lambda err: self._scan_failed(err, text), owner=self)

    def _found(self, res: Lookup, qty: int) -> None:
        if not res.products:
            QtWidgets.QApplication.beep()
            self._say(tr("find.not_found", q=res.query), error=True)
            return
        if len(res.products) == 1:
            self.add_chosen(res.products[0], res.query if res.exact else "", qty)
            return
        self._say(tr("find.picker_title", q=res.query))
        picker = ProductPicker(res, self)
        self.picker = picker
        picker.chosen.connect(lambda p: self.add_chosen(p, "", qty))
        picker.scanned.connect(self.handle_scan)
        picker.finished.connect(lambda _r: self.focus_entry())
        picker.open()
        picker.list.setFocus()
        self.dialog_opened.emit(picker)

    def focus_entry(self) -> None:
        """The keyboard back at the entry (after a picker or dialog closed)."""
        self.window().activateWindow()
        self.entry.setFocus()

    def add_favourite(self, product: ProductOut) -> None:
        """A tap on the favourites grid (a pending ``3*`` quantity applies)."""
        qty = self.pending_qty or 1
        self.pending_qty = None
        self.add_chosen(product, "", qty)
        self.entry.setFocus()

    def add_chosen(self, product: ProductOut, barcode: str = "", qty: int = 1) -> None:
        """Add a found product; an open-price item asks its price first."""
        if not product.open_price:
            self._add(product, barcode, qty)
            return
        dlg = OpenPriceDialog(product, qty, self)
        self.price_dialog = dlg
        dlg.priced.connect(lambda fen: self._add(product, barcode, qty, fen))
        dlg.finished.connect(lambda _r: self.focus_entry())
        dlg.open()
        dlg.price.setFocus()
        self.dialog_opened.emit(dlg)

    def _add(self, product: ProductOut, code: str, qty: int = 1,
             open_price: int | None = None) -> None:
        try:
            row = self.cart_model.add_product(product, code, qty, open_price)
        except CartError as e:
            self._say(str(e), error=True)
            return
        self.table.selectRow(row)
        self._say(tr("checkout.added", name=product.name) if qty == 1
                  else tr("find.added_qty", name=product.name, n=qty))

    def _scan_failed(self, err: ApiError, code: str = "") -> None:
        if err.status == 0:
            self.network_failed.emit(err)
            if self.local_lookup is not None and code:
                self._scan_refused(code)
                return
        QtWidgets.QApplication.beep()
        self._say(err.message(i18n.language()), error=True)

    def _scan_refused(self, code: str) -> None:
        QtWidgets.QApplication.beep()
        self._say(tr("offline.scan_unknown", q=code), error=True)

    def set_line_qty(self, qty: int) -> None:
        """``*3``: the selected (else the last) line's quantity."""
        row = self._selected_row()
        if row is None:
            self._say(tr("find.no_line"), error=True)
            return
        try:
            self.cart_model.set_qty(row, qty)
        except CartError as e:
            self._say(str(e), error=True)
            return
        self.table.selectRow(row)
        self._say(tr("find.qty_set", name=self.cart_model.cart.lines[row].name, n=qty))

    def edit_qty(self) -> None:
        """F11: edit the selected (else the last) line's quantity in its cell."""
        row = self._selected_row()
        if row is None:
            self._say(tr("find.no_line"), error=True)
            return
        index = self.cart_model.index(row, CartModel.COLUMNS.index("qty"))
        self.table.setCurrentIndex(index)
        self.table.edit(index)

    def _cart_changed(self) -> None:
        cart = self.cart_model.cart
        if cart.lines and (cart.member_info is not None or cart.coupon is not None
                           or cart.has_manual_discount
                           or any(ln.count_card_id for ln in cart.lines)):
            self.quote_timer.start()
        else:
            self.quote_timer.stop()

    def request_server_quote(self) -> None:
        """Ask the server for the authoritative totals of the cart as it is now."""
        model = self.cart_model
        if not model.cart.lines:
            return
        version, body = model.version, model.cart.to_cart_in()
        api = self.services.api
        self.services.runner.op(lambda: api.quote_cart(body),
                                lambda q: model.apply_server_quote(q, version),
                                lambda err: self._quote_failed(err, version), owner=self)

    def _quote_failed(self, err: ApiError, version: int) -> None:
        if version != self.cart_model.version:
            return
        if err.status == 0:  # offline: the local preview stays (本机预览)
            self.network_failed.emit(err)
            return
        self._say(err.message(i18n.language()), error=True)

    def say(self, text: str, error: bool = False) -> None:
        self._say(text, error)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_BANNER if error else "")
        self.status.setMinimumHeight(self.banner_height if error else 28)
        self.status.setProperty("error", error)
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.ensurePolished()
        long = self.status.heightForWidth(max(self.status.width(), 200)) > \
            self.status.maximumHeight()
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | (
            Qt.AlignmentFlag.AlignTop if long else Qt.AlignmentFlag.AlignVCenter))
        if self.removed is not None and text != tr("cart.deleted", name=self.removed[1].name):
            self._forget_removed()  # the undo offer goes with its message

    def show_numpad(self, shown: bool) -> None:
        """The on-screen numpad (the 键盘 toggle); the table gives it the room."""
        self.numpad.setVisible(shown)
        if self.numpad_button.isChecked() != shown:
            self.numpad_button.setChecked(shown)
        self.entry.setFocus()

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
        if row is None:
            return
        cart = self.cart_model.cart
        member_id = cart.member_info.id if cart.member_info is not None else None
        line = self.cart_model.remove(row)
        self.removed = None
        self._say(tr("cart.deleted", name=line.name))
        self.removed = (row, line, member_id)
        self.undo_button.show()

    def undo_remove(self) -> None:
        """Ctrl+Z / 撤销: the removed line back at its row, with its staff, discount, price
        and quantity (a count card only while its member is still attached)."""
        if self.removed is None:
            return
        row, line, member_id = self.removed
        self._forget_removed()
        cart = self.cart_model.cart
        now = cart.member_info.id if cart.member_info is not None else None
        if line.count_card_id is not None and now != member_id:
            line = replace(line, count_card_id=None, count_card_name="")
        row = self.cart_model.insert_line(row, line)
        self.table.selectRow(row)
        self._say(tr("cart.restored", name=line.name))

    def _forget_removed(self) -> None:
        self.removed = None
        self.undo_button.hide()

    def _back(self) -> None:
        self.entry.clear()
        self.pending_qty = None
        self.status.clear()

        self.table.clearSelection()
        self.entry.setFocus()
