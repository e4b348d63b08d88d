"""取单 (F5): the held orders (挂单) of every counter; take one back into the cart or discard
it. Held carts are versioned JSON on the server, so they survive an upgrade."""

from __future__ import annotations

from common.errors import ApiError
from common.money import format_fen
from common.schemas.sales import HeldOrderOut

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtWidgets, Signal
from ..widgets.approval import error_label
from ..widgets.context import Services
from .receipts import local_time


class HeldOrdersDialog(QtWidgets.QDialog):
    """Signals:
        resumed(object): the :class:`HeldOrderOut` taken back (it left the server's list).
    """

    resumed = Signal(object)
    COLUMNS = ("held.col.no", "held.col.time", "held.col.counter", "held.col.label",
               "held.col.items", "held.col.amount")

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("heldOrdersDialog")
        self.services = services
        self.orders: list[HeldOrderOut] = []
        self.setWindowTitle(tr("held.title"))
        self.setModal(True)
        lay = QtWidgets.QVBoxLayout(self)
        self.table = QtWidgets.QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("heldTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(
            3, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _i: self.resume_selected())
        lay.addWidget(self.table)
        self.error = error_label()
        lay.addWidget(self.error)
        row = QtWidgets.QHBoxLayout()
        self.delete_button = QtWidgets.QPushButton(tr("held.delete"))
        self.delete_button.setObjectName("heldDelete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.resume_button = QtWidgets.QPushButton(tr("held.resume"))
        self.resume_button.setObjectName("heldResume")
        self.resume_button.setDefault(True)
        self.resume_button.clicked.connect(self.resume_selected)
        close = QtWidgets.QPushButton(tr("common.close"))
        close.clicked.connect(self.reject)
        row.addWidget(self.delete_button)
        row.addStretch(1)
        row.addWidget(close)
        row.addWidget(self.resume_button)
        lay.addLayout(row)
        self.resize(720, 360)
        self.load()

    def load(self) -> None:
        """The held orders, each priced by the server as it would be sold now (what the
        customer will pay); an order that cannot be priced any more shows —."""
        api = self.services.api

        def fetch() -> tuple[list[HeldOrderOut], list[int | None]]:
            orders = list(api.list_held_orders(page_size=100).items)
            totals: list[int | None] = []
            for o in orders:
                try:
                    body = o.cart.model_dump(mode="json", exclude={"approval_token"})
                    totals.append(api.quote_cart(body).total)
                except ApiError:
                    totals.append(None)  # a product gone, a coupon used: still resumable
            return orders, totals

        self.services.runner.op(fetch, lambda res: self._loaded(*res), self._failed,
                                owner=self)

    def _loaded(self, orders: list[HeldOrderOut], totals: list[int | None]) -> None:
        self.orders = orders
        self.table.setRowCount(len(self.orders))
        for r, (o, total) in enumerate(zip(self.orders, totals, strict=True)):
            items = sum(ln.qty for ln in o.cart.lines)
            amount = format_fen(total) if total is not None else tr("held.amount_unknown")
            cells = (str(o.id), local_time(o.created_at).strftime("%m-%d %H:%M"), o.counter,
                     o.label or "", str(items), amount)
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if c in (0, 4, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        if self.orders:
            self.table.selectRow(0)
            self.error.clear()
        else:
            self.error.setText(tr("held.none"))
        self.table.setFocus()

    def selected(self) -> HeldOrderOut | None:
        rows = self.table.selectionModel().selectedRows()
        return self.orders[rows[0].row()] if rows else None

    def resume_selected(self) -> None:
        o = self.selected()
        if o is None:
            return
        api = self.services.api
        self.services.runner.op(lambda: api.resume_held_order(o.id), self._resumed,
                                self._failed, owner=self)

    def _resumed(self, o: HeldOrderOut) -> None:
        self.resumed.emit(o)
        self.accept()

    def delete_selected(self) -> None:
        o = self.selected()
        if o is None or not self.services.dialogs.confirm(self, tr("held.confirm_delete",
                                                                   no=o.id)):
            return
        api = self.services.api
        self.services.runner.op(lambda: api.delete_held_order(o.id), lambda _r: self.load(),
                                self._failed, owner=self)

    def _failed(self, err: ApiError) -> None:
        self.error.setText(err.message(i18n.language()))
