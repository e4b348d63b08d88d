"""Open-price items (现场定价): the cashier enters the unit price of the item at the counter.

The line then carries ``open_price`` (fen), priced by ``common.pricing`` (``PriceLine``
``open_price`` with ``open_price_allowed`` from the product) and sent to the server in the
line's ``CartLineIn.open_price``, which recomputes it.
"""

from __future__ import annotations

from common.money import MoneyError, format_plain, parse_yuan
from common.schemas.catalog import ProductOut

from ..i18n import tr
from ..qt import QtWidgets, Signal

MAX_OPEN_PRICE = 100_000_000  # fen: the server's CartLineIn.open_price limit


def parse_open_price(text: str) -> int:
    """'88' / '88.5' / '¥88.50' → fen; raises ``ValueError`` with a message for the cashier."""
    try:
        fen = parse_yuan(text.strip().replace("，", ".").replace("。", "."))
    except MoneyError as e:
        raise ValueError(tr("open_price.bad")) from e
    if fen <= 0:
        raise ValueError(tr("open_price.zero"))
    if fen > MAX_OPEN_PRICE:
        raise ValueError(tr("open_price.too_high"))
    return fen


class OpenPriceDialog(QtWidgets.QDialog):
    """Asks the unit price of an open-price item; Enter confirms, bad input stays with a clear
    message under the field.

    Signals:
        priced(int): the price in fen (the dialog then closes).
    """

    priced = Signal(int)

    def __init__(self, product: ProductOut, qty: int = 1,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("openPriceDialog")
        self.setWindowTitle(tr("open_price.title"))
        self.setModal(True)
        self.product = product
        form = QtWidgets.QFormLayout(self)
        name = QtWidgets.QLabel(product.name if qty == 1 else f"{product.name} × {qty}")
        name.setWordWrap(True)
        f = name.font()
        f.setPointSize(f.pointSize() + 2)
        f.setBold(True)
        name.setFont(f)
        form.addRow(tr("open_price.item"), name)
        self.price = QtWidgets.QLineEdit()
        self.price.setObjectName("openPriceEdit")
        self.price.setMaxLength(12)
        self.price.setMinimumHeight(44)
        big = self.price.font()
        big.setPointSize(big.pointSize() + 6)
        self.price.setFont(big)
        if product.price:
            self.price.setText(format_plain(product.price))
            self.price.selectAll()
        self.price.setPlaceholderText(tr("open_price.hint"))
        form.addRow(tr("open_price.price"), self.price)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("openPriceError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020; font-weight: bold;")
        form.addRow(self.error)
        hint = QtWidgets.QLabel(tr("open_price.hint"))
        hint.setStyleSheet("color: #666;")
        form.addRow(hint)
        buttons = QtWidgets.QDialogButtonBox()
        self.ok = buttons.addButton(tr("open_price.ok"),
                                    QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel = buttons.addButton(tr("open_price.cancel"),
                                        QtWidgets.QDialogButtonBox.ButtonRole.RejectRole)
        for b in (self.ok, self.cancel):
            b.setMinimumHeight(44)
        self.ok.setDefault(True)
        self.cancel.setAutoDefault(False)
        buttons.accepted.connect(self._confirm)
        buttons.rejected.connect(self.reject)
        self.price.textEdited.connect(lambda _t: self.error.clear())
        form.addRow(buttons)
        self.setMinimumWidth(400)
        self.price.setFocus()

    def _confirm(self) -> None:
        try:
            fen = parse_open_price(self.price.text())
        except ValueError as e:
            self.error.setText(str(e))
            self.price.setFocus()
            self.price.selectAll()
            return
        self.accept()
        self.priced.emit(fen)

    def handle_scan(self, code: str) -> None:
        """A scan while the price is asked: ignored (the price field keeps the keyboard)."""
        QtWidgets.QApplication.beep()


__all__ = ["MAX_OPEN_PRICE", "OpenPriceDialog", "parse_open_price"]
