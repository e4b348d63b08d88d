"""The back office (manager / owner): one tab per screen of :mod:`client.backoffice.screens`;
each screen has a ``start()`` that loads it lazily."""

from __future__ import annotations

from common.schemas.staff import StaffOut

from ..qt import QtWidgets
from ..widgets.context import Services
from .screens import Screen, backoffice_screens


class BackOffice(QtWidgets.QTabWidget):
    """Tabs of the registered screens; each is also an attribute (``office.products``,
    ``office.backups`` — None for a manager, whose back office has no backups)."""

    def __init__(self, services: Services, me: StaffOut, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backOffice")
        self.backups: QtWidgets.QWidget | None = None
        self.screens: list[Screen] = backoffice_screens(services, me, page_size)
        for screen in self.screens:
            setattr(self, screen.spec.name, screen.widget)
            self.addTab(screen.widget, screen.title)
        self.currentChanged.connect(self._start_current)  # a tab loads when first shown

    def screen(self, name: str) -> QtWidgets.QWidget | None:
        return next((s.widget for s in self.screens if s.spec.name == name), None)

    def show_screen(self, screen: QtWidgets.QWidget) -> None:
        """Show a screen from the menu: fresh data (its first page is fetched again)."""
        self.blockSignals(True)
        self.setCurrentWidget(screen)
        self.blockSignals(False)
        self._start_current(reload=True)

    def _start_current(self, *_: object, reload: bool = False) -> None:
        start = getattr(self.currentWidget(), "start", None)
        if callable(start):
            start(reload=reload)
