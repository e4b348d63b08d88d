"""``PagedTableModel``: a Qt table model over a server list that pages with ``has_more``.

Reusable for every back-office list (staff, audit, later members and products)::

    model = PagedTableModel(
        runner,
        fetch=lambda page, size, f: api.list_staff(page, size, **f),   # → Page[...]
        columns=[Column("username", "staff.col.username", lambda s: s.username), ...],
        page_size=50)
    model.set_filters(q="张")        # back to page 1 with the new filters
    view.setModel(model)             # the view calls fetchMore() when scrolled to the end

Only pages the user scrolls to are fetched, through the task runner (never on the GUI
thread); the list never loads a whole table. A response that belongs to an older filter set
(the user typed again meanwhile) is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.errors import ApiError
from common.schemas.base import Page

from ..i18n import tr
from ..qt import Qt, QtCore, Signal
from ..tasks import TaskRunner

Fetch = Callable[[int, int, Mapping[str, Any]], Page[Any]]


@dataclass(frozen=True)
class Column:
    key: str
    title_key: str  # an i18n key
    text: Callable[[Any], str]
    align_right: bool = False


class PagedTableModel(QtCore.QAbstractTableModel):
    """See module doc.

    Signals:
        page_loaded(int): page N arrived and its rows were appended.
        load_failed(object): an :class:`ApiError` while loading (the view shows it).
        loading_changed(bool): a page request started / ended.
    """

    page_loaded = Signal(int)
    load_failed = Signal(object)
    loading_changed = Signal(bool)

    def __init__(self, runner: TaskRunner, fetch: Fetch, columns: Sequence[Column],
                 page_size: int = 50, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._fetch = fetch
        self.columns = list(columns)
        self.page_size = page_size
        self.filters: dict[str, Any] = {}
        self.items: list[Any] = []
        self.pages_loaded = 0
        self.has_more = True
        self.loading = False
        self._generation = 0

    # --- Qt model API -----------------------------------------------------------------------

    def rowCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return tr(self.columns[section].title_key)
        return str(section + 1)

    def data(self, index: QtCore.QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self.items):
            return None
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(self.items[index.row()])
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return self.items[index.row()]
        return None

    def canFetchMore(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> bool:  # noqa: B008
        # only after the first page: that one is loaded explicitly (reload / set_filters),
        # so a hidden view does not start fetching on its own
        return (not parent.isValid() and self.pages_loaded > 0 and self.has_more
                and not self.loading)

    def fetchMore(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._load(self.pages_loaded + 1)

    # --- our API ----------------------------------------------------------------------------

    def item(self, row: int) -> Any:
        return self.items[row]

    def set_filters(self, **filters: Any) -> None:
        """Replace the filters and reload from page 1."""
        self.filters = {k: v for k, v in filters.items() if v not in (None, "")}
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        self.beginResetModel()
        self.items = []
        self.pages_loaded = 0
        self.has_more = True
        self.loading = False
        self.endResetModel()
        self._load(1)

    def replace_item(self, match: Callable[[Any], bool], new: Any) -> None:
        """Put an updated item in place (after an edit) without reloading."""
        for row, it in enumerate(self.items):
            if match(it):
                self.items[row] = new
                self.dataChanged.emit(self.index(row, 0),
                                      self.index(row, self.columnCount() - 1))
                return

    def _load(self, page: int) -> None:
        generation = self._generation
        filters = dict(self.filters)
        fetch, size = self._fetch, self.page_size
        self.loading = True
        self.loading_changed.emit(True)
        self._runner.op(lambda: fetch(page, size, filters),
                        lambda res: self._arrived(generation, page, res),
                        lambda err: self._failed(generation, err), owner=self)

    def _arrived(self, generation: int, page: int, res: Page[Any]) -> None:
        if generation != self._generation:
            return  # an older filter set
        self.loading = False
        self.loading_changed.emit(False)
        if res.items:
            first = len(self.items)
            self.beginInsertRows(QtCore.QModelIndex(), first, first + len(res.items) - 1)
            self.items.extend(res.items)
            self.endInsertRows()
        self.pages_loaded = page
        self.has_more = res.has_more
        self.page_loaded.emit(page)

    def _failed(self, generation: int, err: ApiError) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self.has_more = False  # stop the view from retrying in a loop; reload() starts again
        self.loading_changed.emit(False)
        self.load_failed.emit(err)
