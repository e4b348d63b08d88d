"""``lanpos-client --check``: does this installation start? (the counter bundle's smoke test)

Loads Qt on the platform in use (``QT_QPA_PLATFORM=offscreen`` works without a display),
chooses the Chinese font as a real start does, imports every module of ``client`` and
``common`` (so a module a bundle lacks is found here, not in front of a customer), shows the
first window of a new counter (the setup dialog) and the login window through the real
:class:`~client.app.AppController`, prints a report and exits: 0 when all is well, 1 if not.
It reads and writes no settings and calls no server.

The report is ``key: value`` lines ending with ``check: ok`` (or ``check: FAILED ...``)::

    lanpos-client: 0.1.0
    qt: 6.11.2 (PyQt6 6.11.0), platform offscreen
    font: WenQuanYi Micro Hei (bundled)
    receipt font: /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc (system)
    modules: 93 (client, common)
    window: 收银台设置
    window: 登录
    server package: absent
    check: ok
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import pkgutil
import sys
import traceback

from .. import bundle, i18n
from ..app import AppController, choose_font
from ..devices import raster
from ..qt import QtCore, QtGui, QtWidgets
from ..settings import ClientSettings

PACKAGES = ("client", "common")


def import_all(packages: tuple[str, ...] = PACKAGES) -> tuple[list[str], list[str]]:
    """Imports every module of ``packages``: (imported names, failures with their error)."""
    done: list[str] = []
    failed: list[str] = []
    for name in packages:
        pkg = importlib.import_module(name)
        done.append(name)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=name + "."):
            try:
                importlib.import_module(info.name)
            except Exception as exc:  # report every missing piece, not only the first
                failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
            else:
                done.append(info.name)
    return done, failed


def _version() -> str:
    try:
        return importlib.metadata.version("lanpos")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _font_source(family: str | None) -> str:
    if family is None:
        return "none"
    bundled = set()
    for path in bundle.font_files():
        bundled.update(_families_of(path))
    return "bundled" if family in bundled else "system"


def _families_of(path: object) -> list[str]:
    fid = QtGui.QFontDatabase.addApplicationFont(str(path))  # already loaded: same families
    return QtGui.QFontDatabase.applicationFontFamilies(fid) if fid >= 0 else []


def _receipt_font() -> str:
    """The font file of receipt bitmaps (only the raster printer profile needs one)."""
    try:
        path = raster.find_cjk_font()
    except raster.FontNotFoundError:
        return "none"
    return f"{path} ({'bundled' if path.parent == bundle.FONT_DIR else 'system'})"


def _shown(widget: QtWidgets.QWidget | None, app: QtWidgets.QApplication) -> bool:
    for _ in range(5):
        app.processEvents()
    return widget is not None and widget.isVisible() and not widget.grab().isNull()


def run_check(args: argparse.Namespace, out=None) -> int:
    """The ``--check`` run: prints the report to ``out`` (stdout), returns the exit code."""
    out = out if out is not None else sys.stdout
    problems: list[str] = []

    def say(text: str) -> None:
        if out is not None:  # a windowed Windows program has no stdout
            print(text, file=out, flush=True)

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    assert isinstance(app, QtWidgets.QApplication)
    app.setApplicationName("lanpos")
    app.setOrganizationName("lanpos")
    say(f"lanpos-client: {_version()}")
    say(f"qt: {QtCore.QT_VERSION_STR} (PyQt6 {QtCore.PYQT_VERSION_STR}), "
        f"platform {app.platformName()}")
    family = choose_font(app)
    say(f"font: {family or 'none'} ({_font_source(family)})")
    if family is None:
        problems.append("no Chinese font")
    say(f"receipt font: {_receipt_font()}")
    done, failed = import_all()
    say(f"modules: {len(done)} ({', '.join(PACKAGES)})")
    for failure in failed:
        say(f"import failed: {failure}")
    problems += [f"import {f.split(':', 1)[0]}" for f in failed]

    controller = AppController(ClientSettings(lang=args.lang or i18n.ZH), store=None)
    try:
        controller.start()  # not configured: the first-run setup dialog
        dlg = controller.setup_dialog
        if _shown(dlg, app):
            say(f"window: {dlg.windowTitle()}")
            if getattr(args, "screenshot", None):
                dlg.grab().save(args.screenshot)
        else:
            problems.append("the setup dialog did not show")
        if dlg is not None:
            dlg.hide()  # not rejected: a first-run rejection quits the application
        login = controller.show_login()
        if _shown(login, app):
            say(f"window: {login.windowTitle()}")
        else:
            problems.append("the login window did not show")
        controller.quit()
        app.processEvents()
    except Exception:  # the report says what broke; the exit code says that it broke
        problems.append("the windows failed: " + traceback.format_exc().strip().splitlines()[-1])
    finally:
        controller.runner.wait_idle(5000)
        controller.deleteLater()
        app.processEvents()

    server = importlib.util.find_spec("server") is not None
    say(f"server package: {'present' if server else 'absent'}")
    if server and bundle.frozen():
        problems.append("the bundle holds the server package")
    say("check: ok" if not problems else "check: FAILED: " + "; ".join(problems))
    return 0 if not problems else 1


__all__ = ["import_all", "run_check"]
