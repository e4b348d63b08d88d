"""The back office (manager / owner): one tab per list. Later issues add tabs (products,
members, levels, …) with ``add_screen``; each screen has a ``start()`` that loads it lazily."""

from __future__ import annotations

from common.schemas.base import Role
from common.schemas.staff import StaffOut

from ..i18n import tr
from ..qt import QtWidgets
from .audit import AuditScreen
from .backups import BackupScreen
from .bo_screens import add_backoffice_screens
from .context import Services
from .staff import StaffScreen


class BackOffice(QtWidgets.QTabWidget):
    def __init__(self, services: Services, me: StaffOut, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backOffice")
        # products, members, levels, … (client/ui/bo_*.py): (menu name, screen, title)
        self.bo_screens = add_backoffice_screens(self, services, me, page_size)
        self.staff = StaffScreen(services, me, page_size=page_size)
        self.audit = AuditScreen(services, page_size=page_size)
        self.add_screen(self.staff, tr("menu.staff"))
        self.add_screen(self.audit, tr("menu.audit"))
        self.backups: BackupScreen | None = None
        if me.role == Role.OWNER:  # backups and restores are the owner's
            self.backups = BackupScreen(services)
            self.add_screen(self.backups, tr("menu.backups"))
        self.currentChanged.connect(self._start_current)  # a tab loads when first shown

    def add_screen(self, screen: QtWidgets.QWidget, title: str) -> int:
        return self.addTab(screen, title)

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
