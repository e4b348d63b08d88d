"""The customer display window (顾客显示屏) on the counter's second screen.

Dual-screen POS machines have a screen that faces the customer. This frameless window shows
the lines of the cart with the amount to pay while the cashier rings them up, the total, what
was paid and the change after a sale, and when idle the shop's picture or a payment QR image
(``DeviceSettings.customer_image``). It follows the cart like the serial pole display does:
the :class:`~client.counter.controller.CounterController` feeds both.

``DeviceSettings.customer_screen`` places it: ``"off"``, ``"auto"`` (the second screen when
there is one, else nowhere — never over the cashier's own screen) or ``"1"``, ``"2"``, … (that
screen, 1 = the primary). :func:`choose_screen` makes the choice.
"""

from __future__ import annotations

from collections.abc import Sequence

from common.money import format_fen
from common.pricing import Quote

from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtWidgets
from .cart import Cart

OFF = "off"
AUTO = "auto"
IDLE_AFTER_SALE_MS = 30_000  # paid / change stay this long after a sale, then the picture


def choose_screen(setting: str, screens: Sequence[QtGui.QScreen],
                  primary: QtGui.QScreen | None) -> QtGui.QScreen | None:
    """The screen for the customer display, or None (off, or no screen to put it on)."""
    if setting == OFF or not screens:
        return None
    if setting == AUTO:
        others = [s for s in screens if s is not primary]
        return others[0] if len(screens) > 1 and others else None
    try:
        n = int(setting)
    except ValueError:
        return None
    return screens[n - 1] if 1 <= n <= len(screens) else None


class CustomerDisplay(QtWidgets.QWidget):
    """See module doc. ``show_cart`` / ``show_payment`` / ``show_idle`` choose the page."""

    def __init__(self, image_path: str = "", shop_name: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("customerDisplay")
        self.setWindowTitle(tr("cdisplay.title"))
        self.setStyleSheet("#customerDisplay { background: #fafafa; }")
        self.image_path = ""
        self._pixmap = QtGui.QPixmap()
        self.idle_timer = QtCore.QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.setInterval(IDLE_AFTER_SALE_MS)
        self.idle_timer.timeout.connect(self.show_idle)

        self.stack = QtWidgets.QStackedWidget()
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        outer.addWidget(self.stack)

        # idle: the picture (or QR), the shop's name and a welcome
        self.idle_page = QtWidgets.QWidget()
        il = QtWidgets.QVBoxLayout(self.idle_page)
        self.picture = QtWidgets.QLabel()
        self.picture.setObjectName("customerPicture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                   QtWidgets.QSizePolicy.Policy.Ignored)
        self.welcome = QtWidgets.QLabel()
        self.welcome.setObjectName("customerWelcome")
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome.setWordWrap(True)
        self._big(self.welcome, 28)
        il.addWidget(self.picture, 1)
        il.addWidget(self.welcome)
        self.stack.addWidget(self.idle_page)

        # the sale: lines, total; after payment: paid and change
        self.sale_page = QtWidgets.QWidget()
        sl = QtWidgets.QVBoxLayout(self.sale_page)
        self.lines = QtWidgets.QTableWidget(0, 3)
        self.lines.setObjectName("customerLines")
        self.lines.setHorizontalHeaderLabels([tr("cdisplay.col.name"), tr("cdisplay.col.qty"),
                                              tr("cdisplay.col.amount")])
        self.lines.verticalHeader().hide()
        self.lines.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.lines.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.lines.setTextElideMode(Qt.TextElideMode.ElideRight)
        f = self.lines.font()
        f.setPointSize(f.pointSize() + 5)
        self.lines.setFont(f)
        self.lines.verticalHeader().setDefaultSectionSize(44)
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for c in (1, 2):
            header.setSectionResizeMode(c, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        sl.addWidget(self.lines, 1)
        grid = QtWidgets.QGridLayout()
        self.items = QtWidgets.QLabel()
        self.items.setObjectName("customerItems")
        self._big(self.items, 20)
        self.total_caption = QtWidgets.QLabel(tr("cdisplay.total"))
        self._big(self.total_caption, 28)
        self.total = QtWidgets.QLabel(format_fen(0))
        self.total.setObjectName("customerTotal")
        self._big(self.total, 54, "#c62828")
        self.paid_caption = QtWidgets.QLabel(tr("cdisplay.paid"))
        self._big(self.paid_caption, 24)
        self.paid = QtWidgets.QLabel()
        self.paid.setObjectName("customerPaid")
        self._big(self.paid, 32)
        self.change_caption = QtWidgets.QLabel(tr("cdisplay.change"))
        self._big(self.change_caption, 24)
        self.change = QtWidgets.QLabel()
        self.change.setObjectName("customerChange")
        self._big(self.change, 40, "#1b5e20")
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for w in (self.total, self.paid, self.change):
            w.setAlignment(right)
        grid.addWidget(self.items, 0, 0, 1, 2)
        grid.addWidget(self.total_caption, 1, 0)
        grid.addWidget(self.total, 1, 1)
        grid.addWidget(self.paid_caption, 2, 0)
        grid.addWidget(self.paid, 2, 1)
        grid.addWidget(self.change_caption, 3, 0)
        grid.addWidget(self.change, 3, 1)
        grid.setColumnStretch(1, 1)
        sl.addLayout(grid)
        self.thanks = QtWidgets.QLabel(tr("cdisplay.thanks"))
        self.thanks.setObjectName("customerThanks")
        self.thanks.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._big(self.thanks, 28, "#1b5e20")
        sl.addWidget(self.thanks)
        self.stack.addWidget(self.sale_page)

        self.set_shop_name(shop_name)
        self.set_image(image_path)
        self.show_idle()

    @staticmethod
    def _big(label: QtWidgets.QLabel, points: int, color: str = "") -> None:
        f = label.font()
        f.setPointSize(points)
        f.setBold(True)
        label.setFont(f)
        if color:
            label.setStyleSheet(f"color: {color};")

    # --- what to show -----------------------------------------------------------------
    def set_shop_name(self, name: str) -> None:
        self.welcome.setText(f"{name}\n{tr('cdisplay.welcome')}" if name
                             else tr("cdisplay.welcome"))

    def set_image(self, path: str) -> bool:
        """The idle picture (shop picture or payment QR); False when it cannot be read."""
        self.image_path = path
        self._pixmap = QtGui.QPixmap(path) if path else QtGui.QPixmap()
        self._scale_picture()
        self.picture.setVisible(not self._pixmap.isNull())
        return not self._pixmap.isNull()

    @property
    def has_picture(self) -> bool:
        return not self._pixmap.isNull()

    @property
    def showing(self) -> str:
        """``"idle"``, ``"cart"`` or ``"paid"``."""
        if self.stack.currentWidget() is self.idle_page:
            return "idle"
        return "paid" if not self.change.isHidden() else "cart"

    def show_idle(self) -> None:
        self.idle_timer.stop()
        self.stack.setCurrentWidget(self.idle_page)

    def show_cart(self, cart: Cart, quote: Quote | None) -> None:
        """The lines and the amount to pay; an empty cart shows the idle page (unless a sale's
        change is on show)."""
        if not cart.lines:
            if self.showing != "paid":
                self.show_idle()
            return
        self.idle_timer.stop()
        amounts = {q.line_id: q.amount for q in quote.lines} if quote else {}
        self.lines.setRowCount(len(cart.lines))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, ln in enumerate(cart.lines):
            amount = amounts.get(ln.line_id)
            cells = (ln.name, f"{ln.qty} {ln.unit}".strip(),
                     format_fen(amount) if amount is not None else "")
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(right)
                self.lines.setItem(r, c, item)
        self.lines.scrollToBottom()  # the newest line in sight
        self.items.setText(tr("cdisplay.items", n=cart.item_count))
        self.total.setText(format_fen(quote.total if quote else 0))
        self._payment_rows(False)
        self.stack.setCurrentWidget(self.sale_page)

    def show_payment(self, total: int, paid: int, change: int) -> None:
        """After a sale: the total, what was paid and the change (then idle after a while)."""
        self.lines.setRowCount(0)
        self.items.clear()
        self.total.setText(format_fen(total))
        self.paid.setText(format_fen(paid))
        self.change.setText(format_fen(change))
        self._payment_rows(True)
        self.stack.setCurrentWidget(self.sale_page)
        self.idle_timer.start()

    def _payment_rows(self, shown: bool) -> None:
        for w in (self.paid_caption, self.paid, self.change_caption, self.change, self.thanks):
            w.setVisible(shown)
        self.lines.setVisible(not shown)

    # --- placement --------------------------------------------------------------------
    def place(self, screen: QtGui.QScreen) -> None:
        """Full screen on ``screen``."""
        self.setScreen(screen)
        self.setGeometry(screen.geometry())
        self.showFullScreen()

    def resizeEvent(self, event: QtGui.QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self._scale_picture()

    def _scale_picture(self) -> None:
        if self._pixmap.isNull():
            self.picture.clear()
            return
        size = self.picture.size()
        if size.width() < 10 or size.height() < 10:
            size = QtCore.QSize(640, 480)
        self.picture.setPixmap(self._pixmap.scaled(
            size, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))


__all__ = ["AUTO", "OFF", "CustomerDisplay", "choose_screen"]
