"""Back office: 会员等级 — levels (discount shown as 9折, points per yuan, upgrade threshold)
and each level's fixed member prices per product."""

from __future__ import annotations

from typing import Any

from common.money import format_fen
from common.schemas.catalog import ProductOut
from common.schemas.members import LevelOut

from ..i18n import tr
from ..qt import Qt, QtWidgets, Signal
from ..widgets.context import Services
from ..widgets.paged import Column
from .common import (
    FieldError,
    FormDialog,
    ListScreen,
    MoneyEdit,
    active_text,
    button,
    changed,
    int_of,
    line_edit,
    parse_zhe,
    product_picker,
    whole_list,
    zhe,
)

LEVEL_COLUMNS = (
    Column("name", "lvl.col.name", lambda lv: lv.name),
    Column("rank", "lvl.col.rank", lambda lv: str(lv.rank), True),
    Column("discount", "lvl.col.discount", lambda lv: zhe(lv.discount_bp)),
    Column("points", "lvl.col.points", lambda lv: str(lv.points_per_yuan), True),
    Column("threshold", "lvl.col.threshold",
           lambda lv: format_fen(lv.upgrade_threshold) if lv.upgrade_threshold is not None
           else tr("lvl.manual"), True),
    Column("status", "lvl.col.status", lambda lv: active_text(lv.active)),
)


def zhe_input(bp: int) -> str:
    """9000 → '9', 8500 → '8.5' (what the discount field shows for editing)."""
    return f"{bp / 1000:.2f}".rstrip("0").rstrip(".")


class LevelDialog(FormDialog):
    def __init__(self, services: Services, level: LevelOut | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("lvl.dialog_edit", name=level.name) if level
                         else tr("lvl.dialog_new"), "levelDialog", parent, min_width=520)
        self.level = lv = level
        self.name = line_edit(lv.name if lv else "", "name", max_length=32)
        self.rank = line_edit(str(lv.rank) if lv else "1", "rank")
        self.discount = line_edit(zhe_input(lv.discount_bp) if lv else "10", "discount_bp")
        self.discount_hint = QtWidgets.QLabel()
        self.discount_hint.setObjectName("discountHint")
        self.points = line_edit(str(lv.points_per_yuan) if lv else "1", "points_per_yuan")
        self.threshold = MoneyEdit(lv.upgrade_threshold if lv else None, optional=True)
        self.active = QtWidgets.QCheckBox(tr("bo.active"))
        self.active.setChecked(lv.active if lv else True)
        self.active.setVisible(lv is not None)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.discount)
        row.addWidget(self.discount_hint)
        holder = QtWidgets.QWidget()
        holder.setLayout(row)
        self.add_field("name", tr("lvl.f.name"), self.name)
        self.add_field("rank", tr("lvl.f.rank"), self.rank)
        self.add_field("discount_bp", tr("lvl.f.discount"), holder)
        self.add_field("points_per_yuan", tr("lvl.f.points"), self.points)
        self.add_field("upgrade_threshold", tr("lvl.f.threshold"), self.threshold)
        self.form.addRow("", self.active)
        self.discount.textChanged.connect(self._hint)
        self._hint()

    def _hint(self, *_: object) -> None:
        try:
            self.discount_hint.setText("= " + zhe(parse_zhe(self.discount.text())))
        except ValueError:
            self.discount_hint.setText("")

    def body(self) -> dict[str, Any] | None:
        try:
            bp = parse_zhe(self.discount.text())
        except ValueError:
            raise FieldError("discount_bp", tr("bo.bad_discount")) from None
        body: dict[str, Any] = {
            "name": self.name.text().strip(), "rank": int_of(self.rank, "rank"),
            "discount_bp": bp, "points_per_yuan": int_of(self.points, "points_per_yuan"),
            "upgrade_threshold": self.threshold.fen("upgrade_threshold")}
        if self.level is None:
            return body
        body["active"] = self.active.isChecked()
        return changed(body, self.level)

    def call(self, body: dict[str, Any], key: str) -> LevelOut:
        api = self.services.api
        if self.level is None:
            return api.create_level(body, key=key)
        return api.update_level(self.level.id, body, key=key)


class LevelPricesDialog(FormDialog):
    """The level's fixed member prices; Save replaces the whole list on the server.

    Signals:
        loaded(): the current prices (with product names) are shown.
    """

    loaded = Signal()

    def __init__(self, services: Services, level: LevelOut,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("lvl.prices.title", name=level.name),
                         "levelPricesDialog", parent, min_width=640)
        self.level = level
        self.rows: dict[int, tuple[ProductOut, int]] = {}
        intro = QtWidgets.QLabel(tr("lvl.prices.intro"))
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.picker = product_picker(services)
        self.price = MoneyEdit()
        self.price.setObjectName("levelPrice")
        add = button(tr("lvl.prices.add"), "addPrice", self.add_price)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.price)
        row.addWidget(add)
        holder = QtWidgets.QWidget()
        holder.setLayout(row)
        self.add_field("product", tr("lvl.prices.col.product"), self.picker)
        self.add_field("price", tr("lvl.prices.price"), holder)
        self.field_errors["prices"] = self.field_errors["price"]
        self.table = QtWidgets.QTableWidget(0, 3)
        self.table.setObjectName("prices")
        self.table.setHorizontalHeaderLabels([tr("lvl.prices.col.product"),
                                              tr("lvl.prices.col.list"),
                                              tr("lvl.prices.col.level")])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.extra.addWidget(self.table, 1)
        self.extra.addWidget(button(tr("lvl.prices.remove"), "removePrice", self.remove),
                             0, Qt.AlignmentFlag.AlignLeft)
        self.resize(680, 520)
        self.save_button.setEnabled(False)
        api, lid = services.api, level.id

        def load() -> list[tuple[ProductOut, int]]:
            return [(api.get_product(p.product_id), p.price) for p in api.level_prices(lid)]

        services.runner.op(load, self._loaded, lambda e: services.dialogs.error(self, e),
                           owner=self)

    def _loaded(self, rows: list[tuple[ProductOut, int]]) -> None:
        self.rows = {p.id: (p, price) for p, price in rows}
        self._fill()
        self.save_button.setEnabled(True)
        self.loaded.emit()

    def _fill(self) -> None:
        self.table.setRowCount(0)
        for p, price in self.rows.values():
            r = self.table.rowCount()
            self.table.insertRow(r)
            for c, text in enumerate((p.name, format_fen(p.price), format_fen(price))):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, p.id)
                if c:
                    item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight
                                              | Qt.AlignmentFlag.AlignVCenter))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)

    def add_price(self) -> None:
        for label in self.field_errors.values():
            label.setVisible(False)
        p = self.picker.current()
        try:
            if not isinstance(p, ProductOut):
                raise FieldError("product", tr("lvl.prices.pick_first"))
            price = self.price.fen("price") or 0
        except FieldError as e:
            self.show_field_error(e.key, e.message)
            return
        self.rows[p.id] = (p, price)
        self.price.clear()
        self._fill()

    def remove(self) -> None:
        for r in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            item = self.table.item(r, 0)
            if item is not None:
                self.rows.pop(item.data(Qt.ItemDataRole.UserRole), None)
        self._fill()

    def body(self) -> dict[str, Any]:
        return {"prices": [{"product_id": pid, "price": price}
                           for pid, (_p, price) in self.rows.items()]}

    def call(self, body: dict[str, Any], key: str) -> Any:
        return self.services.api.put_level_prices(self.level.id, body, key=key)


class LevelsScreen(ListScreen):
    def __init__(self, services: Services, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        api = services.api
        super().__init__(services, "levelsScreen",
                         whole_list(lambda: api.list_levels(include_inactive=True)),
                         LEVEL_COLUMNS, page_size, parent)
        self.add_buttons(button(tr("lvl.new"), "newLevel", self.new),
                         button(tr("bo.edit"), "editLevel", self.edit),
                         button(tr("lvl.prices"), "levelPrices", self.prices))

    def make_dialog(self, item: Any | None) -> LevelDialog:
        return LevelDialog(self.services, item, self)

    def prices(self, level: LevelOut | None = None) -> LevelPricesDialog | None:
        lv = level if level is not None else self.selected()
        if not isinstance(lv, LevelOut):
            return None
        dlg = LevelPricesDialog(self.services, lv, self)
        self.show_dialog(dlg)
        return dlg
