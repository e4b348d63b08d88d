"""The real counter client in a process of its own, for the tests that kill it (issue 15):
``python -m tests.support.offline_counter_driver --server URL --count N [--codes A,B]``.

It builds the real :class:`~client.shell.main_window.MainWindow` offscreen against ``URL``,
logs in (``--user`` / ``--password``, counter ``--counter``), waits for its local catalogue,
and says what it sees on stdout, one line each (flushed, for the test to read):

* ``ready pending=<n> version=<v>`` — logged in, the local catalogue filled; ``n``: offline
  sales the journal holds from an earlier run;
* ``replayed`` — (``--wait-replayed``) the journal has nothing waiting any more;
* ``offline`` — (``--wait-offline``) the window shows the offline banner (the test froze the
  server after ``ready``);
* ``journaled <local number>`` — one per sale rung: a code through the checkout's
  ``handle_scan``, 收款 (the real :class:`~client.counter.payment.PaymentDialog`), the cash
  handed over, Enter;
* ``sent`` — (``--wait-sent``) after the sales, nothing waits in the journal (the server
  came back);
* ``done``, then it exits 0. A problem: ``error <text>`` on stdout and exit 2.

The offline directory is the real one, next to the client settings file: the test sets
``LANPOS_CLIENT_CONFIG`` so that two runs share a journal, as two starts of one counter do.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from client.api import ApiClient
from client.counter.offline_mode import is_offline_sale
from client.counter.payment import PaymentDialog
from client.devices.facade import DeviceService, DeviceSettings
from client.offline import offline_dir as default_offline_dir
from client.qt import Qt, QtWidgets
from client.settings import ClientSettings
from client.shell.main_window import MainWindow
from client.tasks import TaskRunner
from client.widgets.context import Services, SessionInfo
from client.widgets.dialogs import Dialogs, error_text


class Failed(Exception):
    pass


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class LoudDialogs(Dialogs):
    """No modal box can block a process nobody looks at: errors go to stderr (and fail the
    run); confirmations answer yes."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, parent, err) -> None:
        text = error_text(err)
        self.errors.append(text)
        sys.stderr.write(f"dialog error: {text}\n")

    def info(self, parent, text: str) -> None:
        sys.stderr.write(f"dialog info: {text}\n")

    def confirm(self, parent, text: str) -> bool:
        return True


def wait_until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise Failed(f"timed out waiting for {what}")
        QtWidgets.QApplication.processEvents()
        time.sleep(0.01)


def key(widget: QtWidgets.QWidget, k: Qt.Key) -> None:
    from PyQt6.QtTest import QTest

    QTest.keyClick(widget, k)


def ring(win: MainWindow, code: str, tendered: int) -> str:
    """One sale: scan ``code``, 收款, ``tendered`` fen cash, Enter; the journaled number."""
    before = win.counter.last_sale
    win.checkout.handle_scan(code)
    wait_until(lambda: win.checkout.cart_model.cart.item_count == 1, 5, f"{code} on the cart")
    opened: list[QtWidgets.QDialog] = []
    win.counter.dialog_opened.connect(opened.append)
    try:
        win.counter.pay()
        wait_until(lambda: any(isinstance(d, PaymentDialog) for d in opened), 5,
                   "the payment dialog")
    finally:
        win.counter.dialog_opened.disconnect(opened.append)
    dlg = next(d for d in opened if isinstance(d, PaymentDialog))
    wait_until(lambda: dlg.quote_ready, 5, "the payment's total")
    if not dlg.offline_sale:
        raise Failed("the payment dialog is not selling offline")
    dlg.tendered.set_fen(tendered)
    wait_until(dlg.confirm.isEnabled, 5, "收款 enabled")
    key(dlg, Qt.Key.Key_Return)
    wait_until(lambda: win.counter.last_sale is not before, 10, "the sale journaled")
    sale = win.counter.last_sale
    if not is_offline_sale(sale):
        raise Failed(f"not an offline sale: {sale.number}")
    return sale.number


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--user", default="cash")
    ap.add_argument("--password", required=True)
    ap.add_argument("--counter", default="01")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--codes", default="", help="codes rung in turn, comma separated")
    ap.add_argument("--tendered", type=int, default=10_000)
    ap.add_argument("--wait-replayed", action="store_true")
    ap.add_argument("--wait-offline", action="store_true")
    ap.add_argument("--wait-sent", action="store_true")
    args = ap.parse_args(argv)

    app = QtWidgets.QApplication(["lanpos-counter-driver"])
    settings = ClientSettings(servers=(args.server,), counter=args.counter)
    api = ApiClient(settings.servers, counter=args.counter, connect_timeout=1.0,
                    read_timeout=3.0, max_attempts=2, retry_delays=(0.2,))
    runner = TaskRunner()
    dialogs = LoudDialogs()
    services = Services(api=api, runner=runner, dialogs=dialogs, settings=settings)
    offline_dir: Path = default_offline_dir()
    services.devices = DeviceService(DeviceSettings(), offline_dir.parent / "spool")
    win: MainWindow | None = None
    try:
        res = api.login(args.user, args.password)
        win = MainWindow(services, SessionInfo(res.staff, res.counter),
                         offline_dir=offline_dir)
        win.resize(1024, 768)
        win.show()
        off = win.offline
        wait_until(lambda: off.catalogue is not None and off.catalogue.version > 0, 30,
                   "the local catalogue")
        say(f"ready pending={off.pending} version={off.catalogue.version}")
        if args.wait_replayed:
            wait_until(lambda: off.pending == 0 and not off._replaying, 60,
                       "the waiting sales sent")
            say("replayed")
        if args.wait_offline:
            wait_until(lambda: off.active and win.offline_banner.isVisible(), 30,
                       "the offline banner")
            say("offline")
        codes = [c for c in args.codes.split(",") if c]
        for i in range(args.count):
            say(f"journaled {ring(win, codes[i % len(codes)], args.tendered)}")
        if args.wait_sent:
            wait_until(lambda: not off.active and off.pending == 0 and not off._replaying,
                       90, "the journal sent")
            say("sent")
        if dialogs.errors:
            raise Failed("; ".join(dialogs.errors))
        say("done")
        return 0
    except Exception as e:  # the test reads why
        say(f"error {type(e).__name__}: {e}")
        return 2
    finally:
        if win is not None:
            win.server_watch.stop()
            win.offline.stop()
            win.counter.shutdown()
        runner.wait_idle(20_000)
        api.close()
        app.processEvents()


if __name__ == "__main__":
    sys.exit(main())
