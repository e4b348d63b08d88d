"""The main window: the checkout screen for everyone, the back office for managers/owners."""

from __future__ import annotations

from pathlib import Path

from ..api import FollowResult, display_server
from ..backoffice.window import BackOffice
from ..counter.checkout import CheckoutScreen
from ..counter.controller import CounterController
from ..counter.offline_mode import OfflineMode
from ..i18n import role_label, tr
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal
from ..widgets.context import Services, SessionInfo
from .server_watch import OK_STYLE, WARN_STYLE, ServerWatch, role_in_use, server_status

#: the offline banner: it cannot be missed (the whole width, above everything)
OFFLINE_BANNER = ("QLabel { background: #b00020; color: white; font-size: 16pt; "
                  "font-weight: bold; padding: 6px 12px; }")
PENDING_STYLE = "QLabel { color: #b00020; font-weight: bold; padding: 1px 8px; }"


class MainWindow(QtWidgets.QMainWindow):
    """Menus follow the role: a cashier has no back-office menu (and no back-office widget).

    Signals:
        switch_staff_requested(): 换班 — log this staff member out, show the login.
        settings_requested(): open the counter settings.
        quit_requested(): the window was closed / 退出.
    """

    switch_staff_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(self, services: Services, session: SessionInfo,
                 scan_source: QtCore.QObject | None = None, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None, *,
                 offline_dir: Path | None = None) -> None:
        """``offline_dir``: where the local catalogue and the offline journal live (see
        :mod:`client.counter.offline_mode`); None: no offline selling (scans ask the server)."""
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.services = services
        self.session = session
        self._leave_confirmed = False  # see leave()
        staff = session.staff
        self.setWindowTitle(tr("main.title", counter=session.counter, name=staff.display_name,
                               role=role_label(session.role)))
        self.stack = QtWidgets.QStackedWidget()
        self.checkout = CheckoutScreen(services, scan_source=scan_source)
        self.stack.addWidget(self.checkout)
        self.backoffice: BackOffice | None = None
        if session.is_manager:
            self.backoffice = BackOffice(services, staff, page_size=page_size)
            self.stack.addWidget(self.backoffice)
            back = QtGui.QAction(self.backoffice)
            back.setShortcut(QtGui.QKeySequence("Esc"))
            back.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            back.triggered.connect(self.show_checkout)
            self.backoffice.addAction(back)
        # offline: a banner over everything, and the count of sales waiting to go up
        self.offline_banner = QtWidgets.QLabel(tr("offline.banner"))
        self.offline_banner.setObjectName("offlineBanner")
        self.offline_banner.setStyleSheet(OFFLINE_BANNER)
        self.offline_banner.setWordWrap(True)
        self.offline_banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.offline_banner.hide()
        central = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.offline_banner)
        column.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        bar = self.menuBar()
        assert bar is not None
        self.menus: dict[str, QtWidgets.QMenu] = {}
        self.acts: dict[str, QtGui.QAction] = {}
        counter_menu = bar.addMenu(tr("menu.counter"))
        assert counter_menu is not None
        self.menus["counter"] = counter_menu
        self._act(counter_menu, "checkout", tr("menu.checkout"), self.show_checkout, "F1")
        counter_menu.addSeparator()
        self._act(counter_menu, "switch_staff", tr("menu.switch_staff"),
                  self._switch_staff, "Ctrl+L")
        self._act(counter_menu, "settings", tr("menu.settings"), self.settings_requested.emit)
        counter_menu.addSeparator()
        self._act(counter_menu, "quit", tr("menu.quit"), self._quit)
        if self.backoffice is not None:
            bo = bar.addMenu(tr("menu.backoffice"))
            assert bo is not None
            self.menus["backoffice"] = bo
            for screen in self.backoffice.screens:
                if screen.spec.separated:
                    bo.addSeparator()
                self._act(bo, screen.spec.name, screen.title,
                          lambda _=False, s=screen.widget: self.show_backoffice_screen(s))

        status = self.statusBar()
        assert status is not None
        self.staff_label = QtWidgets.QLabel(tr("status.staff", name=staff.display_name,
                                               role=role_label(session.role)))
        self.counter_label = QtWidgets.QLabel(tr("status.counter", counter=session.counter))
        self.server_label = QtWidgets.QLabel()
        self.server_label.setObjectName("serverStatus")
        self.pending_label = QtWidgets.QLabel()
        self.pending_label.setObjectName("offlinePending")
        self.pending_label.setStyleSheet(PENDING_STYLE)
        self.pending_label.hide()
        for w in (self.pending_label, self.staff_label, self.counter_label, self.server_label):
            status.addPermanentWidget(w)
        self.update_server_label()
        services.runner.busy_changed.connect(self._busy)
        self.offline = OfflineMode(services, session, offline_dir, self)
        self.offline.changed.connect(self._offline_changed)
        self.offline.pending_changed.connect(self._pending_changed)
        self.offline.refused_changed.connect(lambda _n: self._pending_changed(
            self.offline.pending))
        # the counter's checkout flows and devices (member, pay, hold, refund, shift, printer)
        self.counter = CounterController(self, self.checkout, services, session,
                                         offline=self.offline)
        standby = getattr(self.backoffice, "standby", None)
        if standby is not None:  # the failover checks compare this counter's last sale
            standby.last_sale = self._last_sale_number
        # follow the primary (a promoted standby) without a restart; the cart stays
        self.server_watch = ServerWatch(services, self)
        self.server_watch.updated.connect(self.offline.observe)  # first: the banner says why
        self.server_watch.updated.connect(self._followed)
        self.offline.start()
        self.server_watch.start()
        self.setMinimumSize(640, 480)  # explicit: the content never grows the window
        self.resize(1024, 768)  # the size when not maximised (show_restored maximises)

    def show_restored(self, geometry: bytes | None = None) -> None:
        """Show with the geometry saved last time (size, place, maximised), else maximised."""
        if geometry and self.restoreGeometry(QtCore.QByteArray(geometry)):
            self.show()
        else:
            self.showMaximized()

    def saved_geometry(self) -> bytes:
        """What :meth:`show_restored` takes next time (kept in the client settings)."""
        return bytes(self.saveGeometry().data())

    def _act(self, menu: QtWidgets.QMenu, name: str, text: str, slot: object,
             shortcut: str | None = None) -> QtGui.QAction:
        act = QtGui.QAction(text, self)
        act.setObjectName(f"menu_{name}")
        if shortcut:
            act.setShortcut(QtGui.QKeySequence(shortcut))
        act.triggered.connect(slot)  # type: ignore[arg-type]
        menu.addAction(act)
        self.acts[name] = act
        return act

    def update_server_label(self) -> None:
        """Name the server in use; a standby or a replaced primary is a loud warning."""
        api = self.services.api
        active = api.active_server or ""
        role = role_in_use(api.server_role(active) if active else None, active,
                           list(api.servers))
        text, tip, warn = server_status(role, active)
        self.server_label.setText(text)
        self.server_label.setToolTip(tip)
        self.server_label.setStyleSheet(WARN_STYLE if warn else OK_STYLE)

    def _busy(self, busy: bool) -> None:
        if not busy:
            self.update_server_label()

    def _followed(self, res: FollowResult) -> None:
        self.update_server_label()
        self.offline_banner.setText(self.offline.banner_text)  # why, as the probe found it
        if res.moved and res.active:
            self.checkout.say(tr("status.moved", server=display_server(res.active)))

    def _offline_changed(self, offline: bool) -> None:
        self.offline_banner.setText(self.offline.banner_text)
        self.offline_banner.setVisible(offline)
        if not offline and self.offline.pending:
            self.checkout.say(tr("offline.back_online"))

    def _pending_changed(self, n: int) -> None:
        refused = self.offline.refused
        bits = [tr("offline.pending", n=n)] if n else []
        if refused:
            bits.append(tr("offline.refused_count", n=refused))
        self.pending_label.setText(" · ".join(bits))
        self.pending_label.setVisible(bool(bits))

    def confirm_leave(self) -> bool:
        """换班 / 退出 with offline sales not yet up: the cashier is warned (they stay on
        this counter and go up later); True: go ahead."""
        n = self.offline.pending
        return not n or self.services.dialogs.confirm(self, tr("offline.warn_logout", n=n))

    def _switch_staff(self) -> None:
        if self.confirm_leave():
            self.switch_staff_requested.emit()

    def _quit(self) -> None:
        if self.confirm_leave():
            self.leave()

    def leave(self) -> None:
        """Close without asking again: the cashier confirmed already (退出, 换班), or the
        program closes it (a language switch). The window's own close button asks
        (:meth:`closeEvent`)."""
        self._leave_confirmed = True
        self.close()

    def _last_sale_number(self) -> str | None:
        sale = self.counter.last_sale
        return sale.number if sale is not None else None

    def show_checkout(self) -> None:
        self.stack.setCurrentWidget(self.checkout)
        self.checkout.entry.setFocus()

    def show_backoffice_screen(self, screen: QtWidgets.QWidget | str) -> None:
        """A back-office screen (a widget, or its name in ``client/backoffice/screens.py``)."""
        if self.backoffice is None:
            return
        widget = self.backoffice.screen(screen) if isinstance(screen, str) else screen
        if widget is not None:
            self.stack.setCurrentWidget(self.backoffice)
            self.backoffice.show_screen(widget)

    def closeEvent(self, event: QtGui.QCloseEvent | None) -> None:
        if not self._leave_confirmed and not self.confirm_leave():
            if event is not None:  # the close button with offline sales waiting: asked, kept
                event.ignore()
            return
        self._leave_confirmed = True
        self.server_watch.stop()
        self.offline.stop()
        self.counter.shutdown()
        super().closeEvent(event)
        self.quit_requested.emit()
