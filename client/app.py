"""The counter application: settings → (first-run setup) → login → main window.

``run(args)`` is the ``lanpos-client`` entry point. :class:`AppController` owns the windows
and the session; tests build it with their own :class:`~client.widgets.context.Services` (a real
``ApiClient`` against a live test server, a recording dialogs stub) and a temp settings file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import replace

from common.schemas.auth import LoginResponse

from . import bundle, i18n
from .api import ApiClient
from .i18n import tr
from .qt import QtCore, QtGui, QtWidgets, Signal
from .settings import (
    ClientSettings,
    SettingsStore,
    apply_args,
    window_geometry,
    with_window_geometry,
)
from .shell.login import LoginWindow
from .shell.main_window import MainWindow
from .shell.setup_dialog import SetupDialog
from .tasks import TaskRunner
from .widgets.context import Services, SessionInfo
from .widgets.dialogs import Dialogs

log = logging.getLogger(__name__)

CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
             "Microsoft YaHei", "PingFang SC", "Noto Sans SC")

ApiFactory = Callable[[ClientSettings], ApiClient]


def default_api_factory(settings: ClientSettings) -> ApiClient:
    return ApiClient(settings.servers, counter=settings.counter, lang=settings.lang,
                     epoch=settings.epoch, cluster=settings.cluster, pins=settings.pins)


class ApiEvents(QtCore.QObject):
    """Carries the API client's news (told on a worker thread) to the GUI thread.

    Signals:
        epoch_seen(int, str): (epoch, cluster id): a newer epoch was seen, or a new cluster
            id with its epoch (a new installation); persisted in the settings.
        servers_learned(object): the list of server addresses grew (a peer was learned).
        pins_learned(object): the certificate pins grew (a pinned server told its standby's).
    """

    epoch_seen = Signal(int, str)
    servers_learned = Signal(object)
    pins_learned = Signal(object)


def choose_font(app: QtWidgets.QApplication, point_size: int = 11) -> str | None:
    """Use an installed Simplified-Chinese font explicitly (never boxes for 汉字); with none
    installed, the one the counter bundle carries (``client.bundle``)."""
    families = set(QtGui.QFontDatabase.families())
    if not families.intersection(CJK_FONTS):
        for path in bundle.font_files():
            families.update(QtGui.QFontDatabase.applicationFontFamilies(
                QtGui.QFontDatabase.addApplicationFont(str(path))))
    for name in CJK_FONTS:
        if name in families:
            font = QtGui.QFont(name, point_size)
            app.setFont(font)
            return name
    log.warning("no CJK font found (install fonts-noto-cjk); Chinese may not render")
    return None


_qt_translator: QtCore.QTranslator | None = None


def install_qt_translation(lang: str) -> bool:
    """Qt's own strings (standard buttons 确定 / 取消 / 保存 / 关闭, 是 / 否, the line edits'
    context menu) in the interface language: PyQt6 ships ``qtbase_zh_CN.qm``. English needs
    none (Qt's own language). True when a translation is installed."""
    global _qt_translator
    app = QtCore.QCoreApplication.instance()
    if app is None:
        return False
    if _qt_translator is not None:
        app.removeTranslator(_qt_translator)
        _qt_translator = None
    if lang == i18n.EN:
        return False
    t = QtCore.QTranslator(app)
    path = QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.LibraryPath.TranslationsPath)
    if not t.load("qtbase_zh_CN", path):
        log.warning("Qt's Chinese translation (qtbase_zh_CN.qm) not found in %s", path)
        return False
    app.installTranslator(t)
    _qt_translator = t
    return True


class AppController(QtCore.QObject):
    """Runs the window flow. ``store=None`` means settings are not persisted (tests).

    Signals:
        main_window_shown(object): a :class:`MainWindow` was built for a new login.
        login_shown(object): the :class:`LoginWindow` is showing.
        finished(): the user quit.
    """

    main_window_shown = Signal(object)
    login_shown = Signal(object)
    finished = Signal()

    def __init__(self, settings: ClientSettings, *, store: SettingsStore | None = None,
                 api_factory: ApiFactory = default_api_factory,
                 dialogs: Dialogs | None = None, runner: TaskRunner | None = None,
                 scan_source: QtCore.QObject | None = None, page_size: int = 50,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.api_factory = api_factory
        self.dialogs = dialogs or Dialogs()
        self.runner = runner or TaskRunner(parent=self)
        self.runner.error_handler = lambda err: self.dialogs.error(self._top(), err)
        self.scan_source = scan_source
        self.page_size = page_size
        i18n.set_language(settings.lang)
        install_qt_translation(settings.lang)
        self.api_events = ApiEvents(self)
        self.api_events.epoch_seen.connect(self._epoch_seen)
        self.api_events.servers_learned.connect(self._servers_learned)
        self.api_events.pins_learned.connect(self._pins_learned)
        self.services = Services(api=self._wire(api_factory(settings), settings),
                                 runner=self.runner, dialogs=self.dialogs, settings=settings)
        self.login_window: LoginWindow | None = None
        self.main_window: MainWindow | None = None
        self.setup_dialog: SetupDialog | None = None

    @property
    def settings(self) -> ClientSettings:
        return self.services.settings

    def _wire(self, api: ApiClient, settings: ClientSettings) -> ApiClient:
        """The client tells the controller of a newer epoch (or a new cluster) and of learned
        servers (from a worker thread: the signals are queued to the GUI thread, which saves
        them)."""
        api.observe_epoch(settings.epoch, settings.cluster or None)
        api.on_epoch = self.api_events.epoch_seen.emit
        api.on_servers = self.api_events.servers_learned.emit
        api.on_pins = self.api_events.pins_learned.emit
        return api

    def _epoch_seen(self, epoch: int, cluster: str = "") -> None:
        """Of the saved cluster (or none named): the larger epoch is kept. Of another cluster:
        a new installation, whose epoch replaces the saved one even when it is smaller."""
        s = self.settings
        if cluster and cluster != s.cluster:
            self._remember(replace(s, epoch=epoch, cluster=cluster))
        elif epoch > s.epoch:
            self._remember(replace(s, epoch=epoch))

    def _servers_learned(self, servers: list[str]) -> None:
        s = self.settings
        merged = tuple(dict.fromkeys([*s.servers, *servers]))
        if merged != s.servers:
            self._remember(replace(s, servers=merged))

    def _pins_learned(self, pins: dict[str, str]) -> None:
        s = self.settings
        merged = {**s.pins, **{u: p for u, p in pins.items() if u not in s.pins}}
        if merged != s.pins:
            self._remember(replace(s, pins=merged))

    def _remember(self, new: ClientSettings) -> None:
        """Settings the client learned by itself (not typed in): kept, the session stays."""
        self.services.settings = new
        if self.store is not None:
            self.store.save(new)

    def _top(self) -> QtWidgets.QWidget | None:
        if self.main_window is not None and self.main_window.isVisible():
            return self.main_window
        return self.login_window

    # --- flow -----------------------------------------------------------------------------

    def start(self) -> None:
        if not self.settings.configured:
            self.open_settings(first_run=True)
        else:
            self.show_login()

    def open_settings(self, first_run: bool = False) -> SetupDialog:
        parent = self._top()
        dlg = SetupDialog(self.settings, self.runner, parent=parent)
        self.setup_dialog = dlg
        dlg.accepted.connect(lambda: self._settings_saved(dlg))
        if first_run:
            dlg.rejected.connect(self.quit)
        dlg.open()
        return dlg

    def _settings_saved(self, dlg: SetupDialog) -> None:
        new = dlg.result_settings
        if new is None:
            return
        epoch, cluster = self.services.api.fencing
        if cluster and cluster != self.settings.cluster:  # not told yet (a queued signal)
            new = replace(new, epoch=epoch, cluster=cluster)
        else:
            new = replace(new, epoch=max(new.epoch, self.settings.epoch, epoch),
                          cluster=self.settings.cluster)
        if self.store is not None:
            self.store.save(new)
        old = self.settings
        i18n.set_language(new.lang)
        install_qt_translation(new.lang)
        if (new.servers != old.servers or new.counter != old.counter or new.lang != old.lang
                or new.pins != old.pins):
            token = self.services.api.token
            self.services.api.close()
            self.services.api = self._wire(self.api_factory(new), new)
            self.services.api.token = token if (new.servers, new.pins) == (
                old.servers, old.pins) else None
        self.services.settings = new
        if self.main_window is None or new.servers != old.servers or new.pins != old.pins:
            self._close_main()
            self.show_login(rebuild=True)
        elif new.lang != old.lang:
            self._rebuild_main()

    def _device_settings_saved(self, new: ClientSettings) -> None:
        """The counter's device settings changed (kept in the same settings file)."""
        self.services.settings = new
        if self.store is not None:
            self.store.save(new)

    def show_login(self, rebuild: bool = False) -> LoginWindow:
        if rebuild and self.login_window is not None:
            self.login_window.close()
            self.login_window.deleteLater()
            self.login_window = None
        if self.login_window is None:
            w = LoginWindow(self.services)
            w.logged_in.connect(self._logged_in)
            w.settings_requested.connect(self.open_settings)
            self.login_window = w
        self.login_window.reset()
        self.login_window.show()
        self.login_shown.emit(self.login_window)
        return self.login_window

    def _logged_in(self, res: LoginResponse) -> None:
        self._close_main()
        session = SessionInfo(staff=res.staff, counter=res.counter or self.settings.counter)
        self._open_main(session)
        if self.login_window is not None:
            self.login_window.hide()

    def _open_main(self, session: SessionInfo) -> MainWindow:
        # the local catalogue and the offline journal live next to the settings file
        offline_dir = self.store.path.parent / "offline" if self.store is not None else None
        w = MainWindow(self.services, session, scan_source=self.scan_source,
                       page_size=self.page_size, offline_dir=offline_dir)
        w.switch_staff_requested.connect(self.switch_staff)
        w.settings_requested.connect(self.open_settings)
        w.quit_requested.connect(self.quit)
        w.counter.settings_changed.connect(self._device_settings_saved)
        self.main_window = w
        w.show_restored(window_geometry(self.settings))  # maximised the first time
        self.main_window_shown.emit(w)
        return w

    def _rebuild_main(self) -> None:
        """Windows in the new language; the cart (member, coupon, discounts, a pending sale's
        key) goes over into the new checkout: a language switch never throws it away."""
        if self.main_window is not None:
            old = self.main_window
            session = old.session
            cart = old.checkout.cart_model.cart
            pending, last = old.counter.pending_sale_id, old.counter.last_sale
            self._close_main()
            w = self._open_main(session)
            if cart.lines:
                w.checkout.cart_model.load(cart)
                if cart.member_info is not None:
                    w.counter.member_panel.attach(cart.member_info)
                w.counter.pending_sale_id = pending
            w.counter.last_sale = last

    def _close_main(self) -> None:
        w, self.main_window = self.main_window, None
        if w is not None:
            self._remember(with_window_geometry(self.settings, w.saved_geometry()))
            w.quit_requested.disconnect(self.quit)
            w.leave()  # asked already where it had to be (换班 / 退出 with sales waiting)
            w.deleteLater()

    def switch_staff(self) -> None:
        """换班: log the current staff member out and show the login (settings kept)."""
        w = self.main_window
        if w is not None:
            n = w.checkout.cart_model.cart.item_count
            if n and not self.dialogs.confirm(w, tr("switch.confirm_cart", n=n)):
                return
        api = self.services.api
        self._close_main()
        self.show_login()
        self.runner.op(api.logout, None, lambda err: log.info("logout failed: %s", err.code))

    def quit(self) -> None:
        api = self.services.api
        self._close_main()
        if self.login_window is not None:
            self.login_window.close()

        def done(_: object = None) -> None:
            self.finished.emit()

        if api.token:
            self.runner.op(api.logout, done, lambda _e: done())
        else:
            done()



def run(args: argparse.Namespace) -> int:
    """``lanpos-client``: build the QApplication, read settings (args override), start."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    assert isinstance(app, QtWidgets.QApplication)
    app.setApplicationName("lanpos")
    app.setOrganizationName("lanpos")
    choose_font(app)
    store = SettingsStore()
    saved = store.load()
    settings = apply_args(saved, args.server, args.counter, args.lang)
    if settings != saved and not saved.configured and settings.configured:
        store.save(settings)  # first run from the command line: remember it
    scan_source = _wedge_filter(app)
    controller = AppController(settings, store=store, scan_source=scan_source)
    app.setQuitOnLastWindowClosed(False)
    controller.finished.connect(app.quit)
    controller.start()
    try:
        code = app.exec()
    finally:
        controller.runner.wait_idle(5000)
        if scan_source is not None:
            app.removeEventFilter(scan_source)
            scan_source.deleteLater()
        controller.deleteLater()
    return code


def _wedge_filter(app: QtWidgets.QApplication) -> QtCore.QObject | None:
    """The keyboard-wedge scanner filter from ``client.devices`` (when present)."""
    try:
        from .devices.wedge import WedgeScanFilter
    except ImportError:  # pragma: no cover - the devices package is optional here
        return None
    f = WedgeScanFilter(app)
    app.installEventFilter(f)
    return f


__all__ = ["AppController", "choose_font", "install_qt_translation", "run"]
