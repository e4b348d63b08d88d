"""Back office: 商品与服务 — the catalog list (search, category / kind / low-stock filters),
the create/edit dialog (barcodes, member price, cost, stock tracking, commission), a
product's stock ledger, stock adjustment, purchase receipt (进货), stock count (盘点) with
the server's dry-run difference report, CSV/Excel import with a dry-run preview, export."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from common.money import MoneyError, format_fen, format_plain, parse_yuan
from common.schemas.catalog import CategoryOut, ProductOut, StockCountOut

from .. import labels
from ..i18n import tr
from ..qt import Qt, QtCore, QtWidgets, Signal
from ..widgets.context import Services
from ..widgets.listview import PagedListView, search_box
from ..widgets.paged import Column, PagedTableModel
from .common import (
    FieldError,
    FileDialogs,
    FormDialog,
    ImportDialog,
    ListScreen,
    MoneyEdit,
    active_text,
    button,
    changed,
    export_to_file,
    int_of,
    line_edit,
    money,
    product_picker,
)
from .staff import local_time

stock_kind = labels.stock_kind  # the one code → label module (client/labels.py)


def stock_text(p: ProductOut) -> str:
    if not p.track_stock:
        return tr("prod.stock_untracked")
    if p.low_stock is not None and p.stock <= p.low_stock:
        return tr("prod.stock_low", stock=p.stock)
    return str(p.stock)


def parse_percent_bp(text: str, key: str) -> int:
    """'5' → 500 bp, '2.5' → 250 bp (hundredths of a percent, integer arithmetic)."""
    try:
        value = parse_yuan(text.strip().rstrip("%"))
    except MoneyError:
        raise FieldError(key, tr("prod.bad_percent")) from None
    if value < 0:
        raise FieldError(key, tr("prod.bad_percent"))
    return value


def split_codes(text: str) -> list[str]:
    return [c for c in re.split(r"[,;，；\s]+", text) if c]


class ProductDialog(FormDialog):
    """Create (``product=None``) or edit a product / service."""

    def __init__(self, services: Services, categories: list[CategoryOut],
                 product: ProductOut | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("prod.dialog_edit", name=product.name) if product
                         else tr("prod.dialog_new"), "productDialog", parent, min_width=520)
        self.product = p = product
        self.kind = QtWidgets.QComboBox()
        for k in ("product", "service"):
            self.kind.addItem(tr(f"prod.kind.{k}"), k)
        self.kind.setCurrentIndex(self.kind.findData(p.kind if p else "product"))
        self.kind.setEnabled(p is None)  # the server does not change the kind
        self.name = line_edit(p.name if p else "", "name", max_length=100)
        self.sku = line_edit(p.sku if p else "", "sku", tr("bo.optional"), 32)
        self.unit = line_edit(p.unit if p else "件", "unit", max_length=8)
        self.category = QtWidgets.QComboBox()
        self.category.addItem(tr("prod.f.no_category"), None)
        for c in categories:
            self.category.addItem(c.name, c.id)
        if p and p.category_id is not None:
            idx = self.category.findData(p.category_id)
            if idx < 0:
                self.category.addItem(f"#{p.category_id}", p.category_id)
                idx = self.category.count() - 1
            self.category.setCurrentIndex(idx)
        self.price = MoneyEdit(p.price if p else None)
        self.member_price = MoneyEdit(p.member_price if p else None, optional=True)
        self.cost = MoneyEdit(p.cost if p else None, optional=True)
        self.barcodes = line_edit(", ".join(p.barcodes) if p else "", "barcodes")
        self.open_price = QtWidgets.QCheckBox(tr("prod.f.open_price"))
        self.open_price.setChecked(bool(p and p.open_price))
        self.discountable = QtWidgets.QCheckBox(tr("prod.f.discountable"))
        self.discountable.setChecked(p.discountable if p else True)
        self.track_stock = QtWidgets.QCheckBox(tr("prod.f.track_stock"))
        self.track_stock.setObjectName("track_stock")
        self.track_stock.setChecked(bool(p and p.track_stock))
        self.opening_stock = line_edit("", "opening_stock", "0")
        self.low_stock = line_edit("" if not p or p.low_stock is None else str(p.low_stock),
                                   "low_stock", tr("bo.optional"))
        self.commission_kind = QtWidgets.QComboBox()
        self.commission_kind.setObjectName("commission_kind")
        for k in ("none", "percent", "fixed"):
            self.commission_kind.addItem(tr(f"prod.f.commission.{k}"), k)
        self.commission_kind.setCurrentIndex(
            self.commission_kind.findData(p.commission_kind if p else "none"))
        self.commission_value = line_edit(
            format_plain(p.commission_value) if p and p.commission_kind != "none" else "",
            "commission_value")
        self.active = QtWidgets.QCheckBox(tr("bo.active"))
        self.active.setChecked(p.active if p else True)
        self.active.setVisible(p is not None)
        # 收银台常用: a button on the counter's favourites grid, in this order
        self.favourite = QtWidgets.QCheckBox(tr("prod.f.favourite"))
        self.favourite.setObjectName("favourite")
        self.favourite.setChecked(bool(p and p.favourite))
        self.favourite.setToolTip(tr("prod.f.favourite_hint"))
        self.favourite_order = QtWidgets.QSpinBox()
        self.favourite_order.setObjectName("favourite_order")
        self.favourite_order.setRange(0, 100_000)
        self.favourite_order.setValue(p.favourite_order if p else 0)
        self.favourite_order.setToolTip(tr("prod.f.favourite_hint"))

        self.add_field("kind", tr("prod.f.kind"), self.kind)
        self.add_field("name", tr("prod.f.name"), self.name)
        self.add_field("barcodes", tr("prod.f.barcodes"), self.barcodes)
        self.add_field("sku", tr("prod.f.sku"), self.sku)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.unit)
        row.addWidget(QtWidgets.QLabel(tr("prod.f.category")))
        row.addWidget(self.category, 1)
        holder = QtWidgets.QWidget()
        holder.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self.add_field("unit", tr("prod.f.unit"), holder, error_key="unit")
        self.field_errors["category_id"] = self.field_errors["unit"]
        self.add_field("price", tr("prod.f.price"), self.price)
        self.add_field("member_price", tr("prod.f.member_price"), self.member_price)
        self.add_field("cost", tr("prod.f.cost"), self.cost)
        opts = QtWidgets.QHBoxLayout()
        opts.setContentsMargins(0, 0, 0, 0)
        for w in (self.open_price, self.discountable, self.active):
            opts.addWidget(w)
        opts.addStretch(1)
        oh = QtWidgets.QWidget()
        oh.setLayout(opts)
        self.add_field("options", tr("prod.f.options"), oh)
        fav = QtWidgets.QHBoxLayout()
        fav.setContentsMargins(0, 0, 0, 0)
        fav.addWidget(self.favourite)
        fav.addWidget(QtWidgets.QLabel(tr("prod.f.favourite_order")))
        fav.addWidget(self.favourite_order)
        fav.addStretch(1)
        fh = QtWidgets.QWidget()
        fh.setObjectName("favouriteRow")
        fh.setLayout(fav)
        self.add_field("favourite", tr("prod.f.favourite"), fh)
        self.field_errors["favourite_order"] = self.field_errors["favourite"]
        self.favourite.toggled.connect(self.favourite_order.setEnabled)
        self.favourite_order.setEnabled(self.favourite.isChecked())
        stock_row = QtWidgets.QHBoxLayout()
        stock_row.setContentsMargins(0, 0, 0, 0)
        stock_row.addWidget(self.track_stock)
        self.opening_label = QtWidgets.QLabel(tr("prod.f.opening_stock"))
        stock_row.addWidget(self.opening_label)
        stock_row.addWidget(self.opening_stock)
        stock_row.addWidget(QtWidgets.QLabel(tr("prod.f.low_stock")))
        stock_row.addWidget(self.low_stock)
        sh = QtWidgets.QWidget()
        sh.setLayout(stock_row)
        self.add_field("track_stock", tr("prod.col.stock"), sh)
        for k in ("opening_stock", "low_stock"):
            self.field_errors[k] = self.field_errors["track_stock"]
        com = QtWidgets.QHBoxLayout()
        com.setContentsMargins(0, 0, 0, 0)
        com.addWidget(self.commission_kind)
        com.addWidget(self.commission_value)
        ch = QtWidgets.QWidget()
        ch.setLayout(com)
        self.add_field("commission_value", tr("prod.f.commission"), ch)
        self.field_errors["commission_kind"] = self.field_errors["commission_value"]
        # 预约: a bookable service's length; a group class's places and start time
        self.duration = QtWidgets.QSpinBox()
        self.duration.setObjectName("duration_minutes")
        self.duration.setRange(0, 600)
        self.duration.setSingleStep(5)
        self.duration.setValue(p.duration_minutes or 0 if p else 0)
        self.duration.setToolTip(tr("bo.product.duration_hint"))
        self.capacity = QtWidgets.QSpinBox()
        self.capacity.setObjectName("capacity")
        self.capacity.setRange(0, 500)
        self.capacity.setValue(p.capacity or 0 if p else 0)
        self.capacity.setToolTip(tr("bo.product.capacity_hint"))
        start = p.class_start if p and p.class_start else dt.time(19, 0)
        self.class_start = QtWidgets.QTimeEdit(QtCore.QTime(start.hour, start.minute))
        self.class_start.setObjectName("class_start")
        self.class_start.setDisplayFormat("HH:mm")
        book = QtWidgets.QHBoxLayout()
        book.setContentsMargins(0, 0, 0, 0)
        book.addWidget(self.duration)
        book.addWidget(QtWidgets.QLabel(tr("bo.product.capacity")))
        book.addWidget(self.capacity)
        book.addWidget(QtWidgets.QLabel(tr("bo.product.class_start")))
        book.addWidget(self.class_start)
        book.addStretch(1)
        bh = QtWidgets.QWidget()
        bh.setObjectName("bookingRow")
        bh.setLayout(book)
        self.add_field("duration_minutes", tr("bo.product.duration"), bh)
        self.field_errors["capacity"] = self.field_errors["duration_minutes"]
        self.field_errors["class_start"] = self.field_errors["duration_minutes"]
        self.capacity.valueChanged.connect(self._kind_changed)
        self.opening_label.setVisible(p is None)
        self.opening_stock.setVisible(p is None)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.commission_kind.currentIndexChanged.connect(self._commission_changed)
        self.track_stock.toggled.connect(self._kind_changed)
        self._kind_changed()
        self._commission_changed()

    def _kind_changed(self, *_: object) -> None:
        service = self.kind.currentData() == "service"
        self.track_stock.setEnabled(not service)
        if service:
            self.track_stock.setChecked(False)
        on = self.track_stock.isChecked()
        self.opening_stock.setEnabled(on)
        self.low_stock.setEnabled(on)
        if hasattr(self, "duration"):
            for w in (self.duration, self.capacity):
                w.setEnabled(service)
            self.class_start.setEnabled(service and self.capacity.value() > 0)

    def _commission_changed(self, *_: object) -> None:
        kind = self.commission_kind.currentData()
        self.commission_value.setEnabled(kind != "none")
        self.commission_value.setPlaceholderText(
            {"percent": "5", "fixed": "2.00"}.get(kind, ""))

    def body(self) -> dict[str, Any] | None:
        kind = self.commission_kind.currentData()
        if kind == "none":
            cvalue = 0
        elif kind == "percent":
            cvalue = parse_percent_bp(self.commission_value.text(), "commission_value")
        else:
            cvalue = fen_of_line(self.commission_value, "commission_value")
        body: dict[str, Any] = {
            "name": self.name.text().strip(),
            "sku": self.sku.text().strip() or None,
            "unit": self.unit.text().strip(),
            "category_id": self.category.currentData(),
            "price": self.price.fen("price"),
            "member_price": self.member_price.fen("member_price"),
            "cost": self.cost.fen("cost"),
            "open_price": self.open_price.isChecked(),
            "discountable": self.discountable.isChecked(),
            "track_stock": self.track_stock.isChecked(),
            "low_stock": int_of(self.low_stock, "low_stock", optional=True)
            if self.track_stock.isChecked() else None,
            "commission_kind": kind,
            "commission_value": cvalue,
            "barcodes": split_codes(self.barcodes.text()),
            "favourite": self.favourite.isChecked(),
            "favourite_order": self.favourite_order.value(),
            **self._booking(),
        }
        if self.product is None:
            body["kind"] = self.kind.currentData()
            if self.track_stock.isChecked():
                body["opening_stock"] = int_of(self.opening_stock, "opening_stock",
                                               optional=True) or 0
            return _times_as_text(body)
        body["active"] = self.active.isChecked()
        return _times_as_text(changed(body, self.product))

    def _booking(self) -> dict[str, Any]:
        service = self.kind.currentData() == "service"
        cap = self.capacity.value() if service else 0
        t = self.class_start.time()
        return {"duration_minutes": (self.duration.value() or None) if service else None,
                "capacity": cap or None,
                "class_start": dt.time(t.hour(), t.minute()) if cap else None}

    def call(self, body: dict[str, Any], key: str) -> ProductOut:
        api = self.services.api
        if self.product is None:
            return api.create_product(body, key=key)
        return api.update_product(self.product.id, body, key=key)


def _times_as_text(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """A time of day as the API reads it (``19:00:00``)."""
    if body is not None and isinstance(body.get("class_start"), dt.time):
        body["class_start"] = body["class_start"].isoformat()
    return body


def fen_of_line(edit: QtWidgets.QLineEdit, key: str) -> int:
    """A non-negative amount in yuan typed into a plain line edit → fen."""
    text = edit.text().strip()
    try:
        value = parse_yuan(text)
    except MoneyError:
        raise FieldError(key, tr("bo.bad_money")) from None
    if value < 0:
        raise FieldError(key, tr("bo.bad_money"))
    return value


class CategoryDialog(FormDialog):
    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("prod.category.title"), "categoryDialog", parent)
        self.name = line_edit("", "name", max_length=64)
        self.sort = line_edit("0", "sort_order")
        self.add_field("name", tr("prod.category.name"), self.name)
        self.add_field("sort_order", tr("prod.category.sort"), self.sort)

    def body(self) -> dict[str, Any]:
        return {"name": self.name.text().strip(),
                "sort_order": int_of(self.sort, "sort_order", optional=True) or 0}

    def call(self, body: dict[str, Any], key: str) -> CategoryOut:
        return self.services.api.create_category(body, key=key)


class StockLedgerDialog(QtWidgets.QDialog):
    """A product's stock movements, newest first, paged on the server."""

    def __init__(self, services: Services, product: ProductOut, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stockLedgerDialog")
        self.setWindowTitle(tr("prod.ledger.title", name=product.name, stock=product.stock))
        api = services.api
        self.model = PagedTableModel(
            services.runner, lambda page, size, _f: api.stock_ledger(product.id, page, size),
            [Column("at", "prod.ledger.col.at", lambda e: local_time(e.at)),
             Column("kind", "prod.ledger.col.kind", lambda e: stock_kind(e.kind)),
             Column("change", "prod.ledger.col.change", lambda e: f"{e.change:+d}", True),
             Column("balance", "prod.ledger.col.balance", lambda e: str(e.balance_after),
                    True),
             Column("note", "prod.ledger.col.note",
                    lambda e: e.note or (f"{e.ref_type} {e.ref_id or ''}" if e.ref_type
                                         else ""))],
            page_size=page_size)
        self.list = PagedListView(services, self.model)
        close = button(tr("common.close"), "close", self.accept)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.list, 1)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(720, 480)
        self.model.reload()


class StockAdjustDialog(FormDialog):
    """A signed quantity with a required reason (breakage, gift…); audited on the server."""

    def __init__(self, services: Services, product: ProductOut,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("prod.adjust.title", name=product.name,
                                      stock=product.stock), "stockAdjustDialog", parent)
        self.product = product
        self.change = line_edit("", "change", "-2")
        self.reason = line_edit("", "reason", max_length=255)
        self.add_field("change", tr("prod.adjust.change"), self.change)
        self.add_field("reason", tr("bo.reason"), self.reason)

    def body(self) -> dict[str, Any]:
        return {"product_id": self.product.id, "change": int_of(self.change, "change"),
                "reason": self.reason.text().strip()}

    def call(self, body: dict[str, Any], key: str) -> Any:
        return self.services.api.adjust_stock(body, key=key)


class _LinesDialog(FormDialog):
    """A FormDialog with a product picker and a table of lines (purchase, count)."""

    def __init__(self, services: Services, title: str, name: str, headers: list[str],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, title, name, parent, min_width=640)
        self.picker = product_picker(services)
        self.lines: list[dict[str, Any]] = []
        self.table = QtWidgets.QTableWidget(0, len(headers))
        self.table.setObjectName("lines")
        self.table.setHorizontalHeaderLabels(headers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines_error = QtWidgets.QLabel()
        self.lines_error.setStyleSheet("color: #b00020;")
        self.lines_error.setVisible(False)
        self.field_errors["lines"] = self.lines_error
        remove = button(tr("prod.purchase.remove"), "removeLine", self.remove_line)
        self.extra.addWidget(self.table, 1)
        self.extra.addWidget(self.lines_error)
        self.extra.addWidget(remove, 0, Qt.AlignmentFlag.AlignLeft)
        self.resize(700, 520)

    def add_row(self, cells: list[str]) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, text in enumerate(cells):
            item = QtWidgets.QTableWidgetItem(text)
            if c:
                item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter))
            self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)

    def remove_line(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows:
            self.table.removeRow(r)
            del self.lines[r]
        self.lines_changed()

    def lines_changed(self) -> None:
        pass

    def picked(self) -> ProductOut:
        p = self.picker.current()
        if not isinstance(p, ProductOut):
            raise FieldError("product", tr("prod.purchase.pick_first"))
        return p

    def check_lines(self) -> None:
        if not self.lines:
            raise FieldError("lines", tr("prod.purchase.no_lines"))


class PurchaseDialog(_LinesDialog):
    """进货入库: supplier, note and lines of product × qty × unit cost."""

    def __init__(self, services: Services, product: ProductOut | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("prod.purchase.title"), "purchaseDialog",
                         [tr("prod.purchase.product"), tr("prod.purchase.qty"),
                          tr("prod.purchase.unit_cost"), tr("prod.col.price")], parent)
        self.supplier = line_edit("", "supplier", tr("bo.optional"), 64)
        self.note = line_edit("", "note", tr("bo.optional"), 255)
        self.qty = line_edit("1", "qty")
        self.unit_cost = MoneyEdit()
        self.unit_cost.setObjectName("unit_cost")
        add = button(tr("prod.purchase.add"), "addLine", self.add_line)
        self.add_field("supplier", tr("prod.purchase.supplier"), self.supplier)
        self.add_field("note", tr("prod.purchase.note"), self.note)
        self.add_field("product", tr("prod.purchase.product"), self.picker)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.qty)
        row.addWidget(QtWidgets.QLabel(tr("prod.purchase.unit_cost")))
        row.addWidget(self.unit_cost)
        row.addWidget(add)
        holder = QtWidgets.QWidget()
        holder.setLayout(row)
        self.add_field("qty", tr("prod.purchase.qty"), holder)
        self.field_errors["unit_cost"] = self.field_errors["qty"]
        self.total = QtWidgets.QLabel(tr("prod.purchase.total", total=format_fen(0)))
        self.total.setObjectName("purchaseTotal")
        self.extra.addWidget(self.total)
        self.picker.results.connect(self._prefill_cost)
        if product is not None:
            self.picker.edit.setText(product.barcodes[0] if product.barcodes else product.name)
            self.picker.search(self.picker.edit.text())

    def _prefill_cost(self, items: list[ProductOut]) -> None:
        p = self.picker.current()
        if isinstance(p, ProductOut) and p.cost is not None and not self.unit_cost.text():
            self.unit_cost.set_fen(p.cost)

    def add_line(self) -> None:
        for label in self.field_errors.values():
            label.setVisible(False)
        try:
            p = self.picked()
            qty = int_of(self.qty, "qty") or 0
            if qty <= 0:
                raise FieldError("qty", tr("bo.bad_int"))
            cost = self.unit_cost.fen("unit_cost") or 0
        except FieldError as e:
            self.show_field_error(e.key, e.message)
            return
        self.lines.append({"product_id": p.id, "qty": qty, "unit_cost": cost})
        self.add_row([p.name, str(qty), format_fen(cost), format_fen(qty * cost)])
        self.qty.setText("1")
        self.unit_cost.clear()
        self.lines_changed()

    def lines_changed(self) -> None:
        total = sum(ln["qty"] * ln["unit_cost"] for ln in self.lines)
        self.total.setText(tr("prod.purchase.total", total=format_fen(total)))

    def body(self) -> dict[str, Any]:
        self.check_lines()
        return {"supplier": self.supplier.text().strip() or None,
                "note": self.note.text().strip() or None, "lines": list(self.lines)}

    def call(self, body: dict[str, Any], key: str) -> Any:
        return self.services.api.receive_purchase(body, key=key)


class StockCountDialog(_LinesDialog):
    """盘点: counted quantities per product → "预览差异" shows the server's difference report
    (dry run, nothing written) → "确认盘点" makes the counted quantities the stock.

    Signals:
        previewed(object): the dry-run StockCountOut arrived.
    """

    previewed = Signal(object)

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("prod.count.title"), "stockCountDialog",
                         [tr("prod.count.col.name"), tr("prod.count.col.expected"),
                          tr("prod.count.col.counted"), tr("prod.count.col.difference"),
                          tr("prod.count.col.cost")], parent)
        self.note = line_edit("", "note", tr("bo.optional"), 255)
        self.counted = line_edit("", "counted", "0")
        add = button(tr("prod.purchase.add"), "addLine", self.add_line)
        self.add_field("note", tr("prod.purchase.note"), self.note)
        self.add_field("product", tr("prod.purchase.product"), self.picker)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.counted)
        row.addWidget(add)
        holder = QtWidgets.QWidget()
        holder.setLayout(row)
        self.add_field("counted", tr("prod.count.counted"), holder)
        self.totals = QtWidgets.QLabel()
        self.totals.setObjectName("countTotals")
        self.extra.addWidget(self.totals)
        self.save_button.setText(tr("prod.count.commit"))
        self.preview_button = self.buttons.addButton(
            tr("prod.count.preview"), QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        assert self.preview_button is not None
        self.preview_button.setObjectName("preview")
        self.preview_button.clicked.connect(self.preview)
        self.names: dict[int, str] = {}
        self.report: StockCountOut | None = None

    def add_line(self) -> None:
        for label in self.field_errors.values():
            label.setVisible(False)
        try:
            p = self.picked()
            counted = int_of(self.counted, "counted") or 0
            if counted < 0:
                raise FieldError("counted", tr("bo.bad_int"))
        except FieldError as e:
            self.show_field_error(e.key, e.message)
            return
        self.lines = [ln for ln in self.lines if ln["product_id"] != p.id]
        self.lines.append({"product_id": p.id, "counted": counted})
        self.names[p.id] = p.name
        self.counted.clear()
        self.lines_changed()

    def lines_changed(self) -> None:
        self.report = None
        self.totals.clear()
        self.table.setRowCount(0)
        for ln in self.lines:
            self.add_row([self.names.get(ln["product_id"], str(ln["product_id"])), "",
                          str(ln["counted"]), "", ""])

    def body(self) -> dict[str, Any]:
        self.check_lines()
        return {"note": self.note.text().strip() or None, "lines": list(self.lines)}

    def preview(self) -> None:
        for label in self.field_errors.values():
            label.setVisible(False)
        try:
            body = {**self.body(), "dry_run": True}
        except FieldError as e:
            self.show_field_error(e.key, e.message)
            return
        api = self.services.api
        self.services.runner.op(lambda: api.stock_count(body), self._show_report,
                                self._failed, owner=self)

    def _show_report(self, report: StockCountOut) -> None:
        self.table.setRowCount(0)
        for ln in report.lines:
            self.add_row([ln.name, str(ln.expected), str(ln.counted), f"{ln.difference:+d}",
                          format_fen(ln.cost_difference)])
        self.totals.setText(tr("prod.count.totals", qty=f"{report.total_difference:+d}",
                               cost=format_fen(report.total_cost_difference)))
        if report.dry_run:
            self.report = report
            self.previewed.emit(report)

    def call(self, body: dict[str, Any], key: str) -> StockCountOut:
        return self.services.api.stock_count({**body, "dry_run": False}, key=key)


PRODUCT_COLUMNS_KEYS = ("name", "barcode", "kind", "category", "price", "member_price", "cost",
                        "stock", "status")


class ProductsScreen(ListScreen):
    """The catalog: filters on the server, one page at a time."""

    def __init__(self, services: Services, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        api = services.api
        self.categories: list[CategoryOut] = []
        cat_name = self._category_name
        columns = [
            Column("name", "prod.col.name", lambda p: p.name),
            Column("barcode", "prod.col.barcode", lambda p: ", ".join(p.barcodes)),
            Column("kind", "prod.col.kind", lambda p: tr(f"prod.kind.{p.kind}")),
            Column("category", "prod.col.category", lambda p: cat_name(p.category_id)),
            Column("price", "prod.col.price", lambda p: money(p.price), True),
            Column("member_price", "prod.col.member_price", lambda p: money(p.member_price),
                   True),
            Column("cost", "prod.col.cost", lambda p: money(p.cost), True),
            Column("stock", "prod.col.stock", stock_text, True),
            Column("status", "prod.col.status", lambda p: active_text(p.active)),
        ]
        super().__init__(
            services, "productsScreen",
            lambda page, size, f: api.search_products(
                page, size, q=f.get("q"), kind=f.get("kind"), category_id=f.get("category_id"),
                low_stock_only=bool(f.get("low")), include_inactive=bool(f.get("inactive"))),
            columns, page_size, parent)
        self.files = FileDialogs()
        self.search = search_box(tr("prod.search"), lambda _t: self.apply_filters(), self)
        self.search.setObjectName("productSearch")
        self.search.setMinimumWidth(200)
        self.category = QtWidgets.QComboBox()
        self.category.setObjectName("categoryFilter")
        self.category.addItem(tr("prod.all_categories"), None)
        self.kind = QtWidgets.QComboBox()
        self.kind.setObjectName("kindFilter")
        self.kind.addItem(tr("prod.all_kinds"), None)
        for k in ("product", "service"):
            self.kind.addItem(tr(f"prod.kind.{k}"), k)
        self.low = QtWidgets.QCheckBox(tr("prod.low_stock_only"))
        self.low.setObjectName("lowStockOnly")
        self.inactive = QtWidgets.QCheckBox(tr("bo.include_inactive"))
        self.inactive.setObjectName("includeInactive")
        for w in (self.search, self.category, self.kind, self.low, self.inactive):
            self.list.tools.addWidget(w)
        self.category.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.kind.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.low.toggled.connect(lambda _on: self.apply_filters())
        self.inactive.toggled.connect(lambda _on: self.apply_filters())

        # second row: actions
        actions = QtWidgets.QHBoxLayout()
        self.new_button = button(tr("prod.new"), "newProduct", self.new)
        self.edit_button = button(tr("bo.edit"), "editProduct", self.edit)
        self.category_button = button(tr("prod.new_category"), "newCategory",
                                      self.new_category)
        stock = QtWidgets.QToolButton()
        stock.setObjectName("stockMenu")
        stock.setText(tr("prod.stock_menu") + " ")
        stock.setMinimumWidth(72)
        stock.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QtWidgets.QMenu(stock)
        menu.addAction(tr("prod.ledger"), lambda: self.show_ledger())
        menu.addAction(tr("prod.adjust"), lambda: self.adjust_stock())
        menu.addAction(tr("prod.purchase"), lambda: self.purchase())
        menu.addAction(tr("prod.count"), lambda: self.stock_count())
        stock.setMenu(menu)
        self.import_button = button(tr("prod.import"), "importProducts", self.import_products)
        self.export_button = button(tr("prod.export"), "exportProducts", self.export_products)
        refresh = button(tr("common.refresh"), "refresh", self.model.reload)
        for w in (self.new_button, self.edit_button, self.category_button, stock):
            actions.addWidget(w)
        actions.addStretch(1)
        for w in (self.import_button, self.export_button, refresh):
            actions.addWidget(w)
        lay = self.list.layout()
        assert isinstance(lay, QtWidgets.QVBoxLayout)
        lay.insertLayout(1, actions)

    def _category_name(self, cid: int | None) -> str:
        if cid is None:
            return ""
        return next((c.name for c in self.categories if c.id == cid), f"#{cid}")

    def start(self, reload: bool = False) -> None:
        if reload or not self.categories:
            self.load_categories()
        super().start(reload)

    def load_categories(self) -> None:
        api = self.services.api
        self.services.runner.op(api.list_categories, self._categories,
                                lambda e: self.services.dialogs.error(self, e), owner=self)

    def _categories(self, cats: list[CategoryOut]) -> None:
        self.categories = cats
        current = self.category.currentData()
        self.category.blockSignals(True)
        self.category.clear()
        self.category.addItem(tr("prod.all_categories"), None)
        for c in cats:
            self.category.addItem(c.name, c.id)
        idx = self.category.findData(current)
        self.category.setCurrentIndex(max(idx, 0))
        self.category.blockSignals(False)
        if self.model.rowCount():
            self.model.dataChanged.emit(self.model.index(0, 3),
                                        self.model.index(self.model.rowCount() - 1, 3))

    def apply_filters(self) -> None:
        self.model.set_filters(q=self.search.text().strip(), kind=self.kind.currentData(),
                               category_id=self.category.currentData(),
                               low=self.low.isChecked(), inactive=self.inactive.isChecked())

    def make_dialog(self, item: Any | None) -> ProductDialog:
        return ProductDialog(self.services, self.categories, item, self)

    def new_category(self) -> CategoryDialog:
        dlg = CategoryDialog(self.services, self)
        dlg.saved.connect(lambda _c: self.load_categories())
        self.show_dialog(dlg)
        return dlg

    def _product(self, product: ProductOut | None) -> ProductOut | None:
        p = product if product is not None else self.list.selected_item()
        if not isinstance(p, ProductOut):
            self.services.dialogs.info(self, tr("prod.select_first"))
            return None
        return p

    def show_ledger(self, product: ProductOut | None = None) -> StockLedgerDialog | None:
        p = self._product(product)
        if p is None:
            return None
        dlg = StockLedgerDialog(self.services, p, self.model.page_size, self)
        self.show_dialog(dlg)
        return dlg

    def _refresh_one(self, pid: int) -> None:
        api = self.services.api
        self.services.runner.op(
            lambda: api.get_product(pid),
            lambda p: self.model.replace_item(lambda x: x.id == p.id, p),
            lambda e: self.services.dialogs.error(self, e), owner=self)

    def adjust_stock(self, product: ProductOut | None = None) -> StockAdjustDialog | None:
        p = self._product(product)
        if p is None:
            return None
        dlg = StockAdjustDialog(self.services, p, self)
        dlg.saved.connect(lambda _e: self._refresh_one(p.id))
        self.show_dialog(dlg)
        return dlg

    def purchase(self, product: ProductOut | None = None) -> PurchaseDialog:
        p = product if product is not None else self.list.selected_item()
        dlg = PurchaseDialog(self.services, p if isinstance(p, ProductOut) else None, self)
        dlg.saved.connect(lambda _r: self.model.reload())
        self.show_dialog(dlg)
        return dlg

    def stock_count(self) -> StockCountDialog:
        dlg = StockCountDialog(self.services, self)
        dlg.saved.connect(lambda _r: self.model.reload())
        self.show_dialog(dlg)
        return dlg

    def import_products(self) -> ImportDialog:
        api = self.services.api
        dlg = ImportDialog(self.services, tr("prod.what"), api.import_products, self.files,
                           self)
        dlg.imported.connect(lambda _r: (self.load_categories(), self.model.reload()))
        self.show_dialog(dlg)
        return dlg

    def export_products(self) -> None:
        export_to_file(self.services, self, self.files, "products.csv",
                       self.services.api.export_products)
