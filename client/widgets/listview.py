"""A list screen: a tool row, a table over a :class:`PagedTableModel`, a footer line."""

from __future__ import annotations

from common.errors import ApiError

from ..i18n import tr
from ..qt import QtCore, QtWidgets, Signal
from .context import Services
from .paged import PagedTableModel


class PagedListView(QtWidgets.QWidget):
    """Shows a paged model; errors go to ``services.dialogs.error``.

    Signals:
        activated(object): an item was double-clicked / Enter (the item itself).
    """

    activated = Signal(object)

    def __init__(self, services: Services, model: PagedTableModel,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.model = model
        model.setParent(self)
        self.tools = QtWidgets.QHBoxLayout()
        self.table = QtWidgets.QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(32)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(self._activated)
        self.footer = QtWidgets.QLabel()
        self.footer.setObjectName("footer")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(self.tools)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.footer)
        model.page_loaded.connect(self._update_footer)
        model.loading_changed.connect(self._update_footer)
        model.load_failed.connect(self._failed)
        model.modelReset.connect(self._update_footer)

    def selected_item(self) -> object | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.item(rows[0].row()) if rows else None

    def _activated(self, index: QtCore.QModelIndex) -> None:
        self.activated.emit(self.model.item(index.row()))

    def _update_footer(self, *_: object) -> None:
        m = self.model
        if m.loading:
            self.footer.setText(tr("common.loading"))
        elif m.has_more:
            self.footer.setText(tr("common.more_rows_n", n=m.rowCount()))
        else:
            self.footer.setText(tr("common.no_more_rows", n=m.rowCount()))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)

    def _failed(self, err: ApiError) -> None:
        self._update_footer()
        self.services.dialogs.error(self, err)


def search_box(placeholder: str, on_search: object, parent: QtWidgets.QWidget,
               delay_ms: int = 300) -> QtWidgets.QLineEdit:
    """A search line edit that calls ``on_search(text)`` after typing pauses (and on Enter)."""
    edit = QtWidgets.QLineEdit(parent)
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(True)
    edit.setMinimumWidth(240)
    timer = QtCore.QTimer(edit)
    timer.setSingleShot(True)
    timer.setInterval(delay_ms)
    timer.timeout.connect(lambda: on_search(edit.text().strip()))  # type: ignore[operator]
    edit.textChanged.connect(lambda _t: timer.start())
    edit.returnPressed.connect(lambda: (timer.stop(), on_search(edit.text().strip())))  # type: ignore[operator]
    return edit
