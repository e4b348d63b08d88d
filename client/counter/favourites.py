"""The counter's touch grid of favourite products and services (收银台常用): a tab per
category, a button per item (≥ 48 px high), a tap adds it to the cart.

Which items and their order are set in the back office (the product's "收银台常用" flag and
its order; ``GET /products?favourite=true``). The grid is size-limited (its tabs scroll) and
collapsible, so the cart, the totals and the function-key bar always keep their place.
"""

from __future__ import annotations

from common.errors import ApiError
from common.money import format_fen
from common.schemas.catalog import CategoryOut, ProductOut

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtWidgets, Signal
from ..widgets.context import Services

BUTTON_HEIGHT = 52
BUTTON_MIN_WIDTH = 120
VISIBLE_ROWS = 2  # rows shown before a tab scrolls


def group_by_category(products: list[ProductOut], categories: list[CategoryOut]
                      ) -> list[tuple[str, list[ProductOut]]]:
    """Tabs in the categories' display order (products without a known category last,
    under 其他); the products keep their favourite order."""
    names = {c.id: c.name for c in categories}
    order = {c.id: i for i, c in enumerate(categories)}
    groups: dict[int | None, list[ProductOut]] = {}
    for p in products:
        key = p.category_id if p.category_id in names else None
        groups.setdefault(key, []).append(p)
    keys = sorted(groups, key=lambda k: (k is None, order.get(k, 0) if k is not None else 0))
    return [(names[k] if k is not None else tr("fav.other"), groups[k]) for k in keys]


def button_text(p: ProductOut) -> str:
    price = tr("find.open_price_tag") if p.open_price and not p.price else format_fen(p.price)
    return f"{p.name}\n{price}"


class FavouritesPanel(QtWidgets.QWidget):
    """See module doc. ``load()`` asks the server (in the background).

    Signals:
        chosen(object): a :class:`ProductOut` was tapped.
        loaded(int): the grid was (re)built with this many buttons.
    """

    chosen = Signal(object)
    loaded = Signal(int)

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None,
                 columns: int = 4) -> None:
        super().__init__(parent)
        self.setObjectName("favouritesPanel")
        self.services = services
        self.columns = columns
        self.buttons: dict[int, QtWidgets.QPushButton] = {}
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.toggle = QtWidgets.QToolButton()
        self.toggle.setObjectName("favouritesToggle")
        self.toggle.setMinimumSize(96, 48)  # a touch target
        self.toggle.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.toggle.setCheckable(True)
        self.toggle.setChecked(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toggle.setText(tr("fav.hide"))
        self.toggle.toggled.connect(self.set_expanded)
        lay.addWidget(self.toggle)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("favouritesTabs")
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.tabBar().setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        lay.addWidget(self.tabs)
        self.note = QtWidgets.QLabel(tr("fav.loading"))
        self.note.setObjectName("favouritesNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #666;")
        lay.addWidget(self.note)
        self.tabs.hide()
        # the tabs never take more than VISIBLE_ROWS rows of buttons: the cart keeps its room
        self.tabs.setMaximumHeight(self._tabs_height())
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred,
                           QtWidgets.QSizePolicy.Policy.Maximum)

    def _tabs_height(self) -> int:
        bar = self.tabs.tabBar().sizeHint().height()
        return bar + VISIBLE_ROWS * (BUTTON_HEIGHT + 6) + 10

    @property
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, on: bool) -> None:
        self.toggle.setChecked(on)
        self.toggle.setText(tr("fav.hide" if on else "fav.show"))
        has = bool(self.buttons)
        self.tabs.setVisible(on and has)
        self.note.setVisible(on and not has)

    def load(self) -> None:
        api = self.services.api

        def fetch() -> tuple[list[ProductOut], list[CategoryOut]]:
            return api.favourite_products(), api.list_categories()

        self.services.runner.op(fetch, self.show_products, self._failed, owner=self)

    def _failed(self, err: ApiError) -> None:
        self.note.setText(err.message(i18n.language()))
        self.note.setVisible(self.expanded)
        self.loaded.emit(0)

    def show_products(self, res: tuple[list[ProductOut], list[CategoryOut]]) -> None:
        products, categories = res
        self.tabs.clear()
        self.buttons.clear()
        for name, items in group_by_category(products, categories):
            page = QtWidgets.QWidget()
            grid = QtWidgets.QGridLayout(page)
            grid.setContentsMargins(2, 2, 2, 2)
            grid.setSpacing(4)
            for i, p in enumerate(items):
                b = QtWidgets.QPushButton(button_text(p))
                b.setObjectName(f"fav_{p.id}")
                b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the entry keeps the keyboard
                b.setMinimumSize(BUTTON_MIN_WIDTH, BUTTON_HEIGHT)
                b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                QtWidgets.QSizePolicy.Policy.Fixed)
                b.setToolTip(p.name)
                b.clicked.connect(lambda _c=False, p=p: self.chosen.emit(p))
                grid.addWidget(b, i // self.columns, i % self.columns)
                self.buttons[p.id] = b
            for c in range(self.columns):  # equal columns, also on a tab of one item
                grid.setColumnStretch(c, 1)
            if len(items) < self.columns:
                grid.addItem(QtWidgets.QSpacerItem(BUTTON_MIN_WIDTH, 0), 0, self.columns - 1)
            grid.setRowStretch(grid.rowCount(), 1)
            scroll = QtWidgets.QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            scroll.setWidget(page)
            self.tabs.addTab(scroll, name)
        self.tabs.setMaximumHeight(self._tabs_height())
        self.note.setText(tr("fav.none"))
        self.set_expanded(self.expanded)
        self.loaded.emit(len(self.buttons))

    def tab_names(self) -> list[str]:
        return [self.tabs.tabText(i) for i in range(self.tabs.count())]


__all__ = ["FavouritesPanel", "button_text", "group_by_category"]
