"""Finding a product at the counter: what the entry's text means (a code, a search, a
quantity), the lookup (exact barcode first, then the server's search) and the keyboard
picker for several matches.

Entry grammar (:func:`parse_entry`)::

    6921168509256   a barcode or SKU (the fast path), else a search
    xjc / 洗剪吹      a search: name part, pinyin initials, SKU
    3*              the next item is added 3 times (then scan, search or tap a favourite)
    3*6921168509256 3 of this item (also ``6921168509256*3``)
    *3              the selected (else the last) line's quantity becomes 3

``*`` may also be typed as ``＊`` or ``×`` (Chinese input methods).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.errors import ApiError
from common.money import format_fen
from common.schemas.catalog import BARCODE_PATTERN, ProductOut

from ..api import ApiClient
from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal
from .cart import MAX_QTY

SEARCH_LIMIT = 30
PICKER_MAX_HEIGHT = 460  # the picker scrolls; it never grows past this
_BARCODE = re.compile(BARCODE_PATTERN)
_QTY = r"(\d{1,6})"
_STAR = "[*＊×]"
_PREFIX = re.compile(rf"^{_QTY}\s*{_STAR}\s*(.*)$")
_SUFFIX = re.compile(rf"^(.+?)\s*{_STAR}\s*{_QTY}$")
_SET = re.compile(rf"^{_STAR}\s*{_QTY}$")


class EntryError(ValueError):
    """Entry text that cannot be used; ``str()`` is readable for the cashier."""


@dataclass(frozen=True)
class EntryCommand:
    """What the cashier asked for. ``code`` empty with ``qty``: a pending quantity
    (``3*``); ``set_qty``: change the line's quantity (``*3``)."""

    code: str = ""
    qty: int | None = None
    set_qty: bool = False


def _qty(text: str) -> int:
    n = int(text)
    if not 1 <= n <= MAX_QTY:
        raise EntryError(tr("find.bad_qty", max=MAX_QTY))
    return n


def parse_entry(text: str) -> EntryCommand:
    """The entry's text → an :class:`EntryCommand` (see the module doc)."""
    text = text.strip()
    m = _SET.match(text)
    if m:
        return EntryCommand(qty=_qty(m.group(1)), set_qty=True)
    m = _PREFIX.match(text)
    if m:
        return EntryCommand(code=m.group(2).strip(), qty=_qty(m.group(1)))
    m = _SUFFIX.match(text)
    if m:
        return EntryCommand(code=m.group(1).strip(), qty=_qty(m.group(2)))
    return EntryCommand(code=text)


def pending_prefix(text: str) -> int | None:
    """``'3*'`` left in the entry (a wedge scanner typed the code after it) → 3."""
    m = _PREFIX.match(text.strip())
    if m and not m.group(2):
        return _qty(m.group(1))
    return None


@dataclass(frozen=True)
class Lookup:
    """The products a code found: ``exact`` for a barcode / SKU hit (one product)."""

    query: str
    products: list[ProductOut]
    exact: bool = False
    has_more: bool = False


def lookup(api: ApiClient, code: str, timeout: tuple[float, float] | None = None) -> Lookup:
    """An exact barcode or SKU first (the scanner's fast path); else the server's search
    by name part, pinyin initials or SKU. Runs off the GUI thread. ``timeout``: each call
    one try with these time-outs (a counter with a local catalogue: the scan is refused
    rather than kept waiting)."""
    if _BARCODE.match(code):
        try:
            return Lookup(code, [api.product_by_barcode(code, timeout=timeout)], exact=True)
        except ApiError as e:
            if e.code != "barcode_not_found":
                raise
    page = api.find_products(code, SEARCH_LIMIT, timeout=timeout)
    return Lookup(code, list(page.items), has_more=page.has_more)


def product_label(p: ProductOut, n: int | None = None) -> str:
    """'1. 洗剪吹    ¥58.00 / 次    服务' for a picker row."""
    price = tr("find.open_price_tag") if p.open_price and not p.price else \
        f"{format_fen(p.price)} / {p.unit}"
    bits = [f"{n}. {p.name}" if n is not None else p.name, price]
    if p.kind == "service":
        bits.append(tr("find.kind.service"))
    elif p.track_stock:
        bits.append(tr("find.picker_stock", n=p.stock))
    if p.sku:
        bits.append(p.sku)
    return "    ".join(bits)


class ProductPicker(QtWidgets.QDialog):
    """Several products matched: choose one with the keyboard (↑↓ Enter, digits 1–9) or the
    mouse; Esc closes. A fixed maximum height: the list scrolls, the window never grows.

    Signals:
        chosen(object): the :class:`ProductOut` picked (the dialog then closes).
        scanned(str): a scan arrived while the picker was open (it closes; the code goes on).
    """

    chosen = Signal(object)
    scanned = Signal(str)

    def __init__(self, found: Lookup, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("productPicker")
        self.setWindowTitle(tr("find.picker_title", q=found.query))
        self.setModal(True)
        self.products = found.products
        lay = QtWidgets.QVBoxLayout(self)
        hint = QtWidgets.QLabel(tr("find.picker_hint"))
        hint.setObjectName("pickerHint")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555;")
        lay.addWidget(hint)
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("pickerList")
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        f = self.list.font()
        f.setPointSize(f.pointSize() + 3)
        self.list.setFont(f)
        for i, p in enumerate(self.products):
            item = QtWidgets.QListWidgetItem(product_label(p, i + 1 if i < 9 else None))
            item.setSizeHint(QtCore.QSize(0, 40))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _i: self._pick(self.list.currentRow()))
        self.list.installEventFilter(self)
        lay.addWidget(self.list, 1)
        if found.has_more:
            more = QtWidgets.QLabel(tr("find.picker_more", n=len(self.products)))
            more.setObjectName("pickerMore")
            more.setWordWrap(True)
            lay.addWidget(more)
        buttons = QtWidgets.QDialogButtonBox()
        self.add_button = buttons.addButton(tr("find.add"),
                                            QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = buttons.addButton(tr("find.close"),
                                              QtWidgets.QDialogButtonBox.ButtonRole.RejectRole)
        for b in (self.add_button, self.close_button):
            b.setMinimumHeight(44)
            b.setAutoDefault(False)
        buttons.accepted.connect(lambda: self._pick(self.list.currentRow()))
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.setMinimumWidth(480)
        self.setMaximumHeight(PICKER_MAX_HEIGHT)
        self.resize(560, min(PICKER_MAX_HEIGHT, 150 + 42 * len(self.products)))
        self.list.setFocus()

    def eventFilter(self, obj: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if obj is self.list and event is not None and \
                event.type() == QtCore.QEvent.Type.KeyPress:
            assert isinstance(event, QtGui.QKeyEvent)
            key = event.key()
            if Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
                n = key - Qt.Key.Key_1
                if n < len(self.products):
                    self._pick(n)
                return True  # digits never start the list's type-ahead search
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._pick(self.list.currentRow())
                return True
        return super().eventFilter(obj, event)

    def _pick(self, row: int) -> None:
        if 0 <= row < len(self.products):
            product = self.products[row]
            self.accept()
            self.chosen.emit(product)

    def handle_scan(self, code: str) -> None:
        """A wedge / serial scan while the picker is open: the cashier moved on."""
        self.reject()
        self.scanned.emit(code)


__all__ = ["EntryCommand", "EntryError", "Lookup", "ProductPicker", "lookup", "parse_entry",
           "pending_prefix", "product_label"]
