"""Helpers of the back-office tests (test_backoffice_*.py)."""

from __future__ import annotations

from pathlib import Path

from client.backoffice.common import FileDialogs
from client.shell.main_window import MainWindow
from client.widgets.context import SessionInfo
from tests.conftest import TEST_PASSWORD

PAGE = 10
WAIT = 10_000


class RecordingFiles(FileDialogs):
    """File dialogs that answer with given paths and record the questions."""

    def __init__(self, open_path: Path | None = None, save_path: Path | None = None) -> None:
        self.open_answer = open_path
        self.save_answer = save_path
        self.asked: list[tuple[str, str]] = []

    def open_path(self, parent, title, filter_):
        self.asked.append(("open", title))
        return str(self.open_answer) if self.open_answer else None

    def save_path(self, parent, title, default_name, filter_):
        self.asked.append(("save", default_name))
        return str(self.save_answer) if self.save_answer else None


def open_window(qtbot, services, username: str, page_size: int = PAGE) -> MainWindow:
    res = services.api.login(username, TEST_PASSWORD)
    win = MainWindow(services, SessionInfo(res.staff, res.counter), page_size=page_size)
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    return win


def show(qtbot, win: MainWindow, name: str):
    """Open a back-office screen through its menu action; wait for its first page."""
    screen = getattr(win.backoffice, name)
    with qtbot.wait_signal(screen.model.page_loaded, timeout=WAIT):
        win.acts[name].trigger()
    return screen


def dialog_shot(dlg, path: Path) -> None:
    """Screenshot of a dialog at its own size (never larger than 1024×768)."""
    from .conftest import save_shot

    dlg.adjustSize()
    dlg.resize(min(max(dlg.width(), dlg.sizeHint().width()), 1024),
               min(max(dlg.height(), dlg.sizeHint().height()), 768))
    save_shot(dlg, path)
