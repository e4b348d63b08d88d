"""Cash drawer (钱箱): kicked through the receipt printer's drawer port.

``ESC p m t1 t2`` with m = 0 for connector pin 2, m = 1 for pin 5; the pulse is on for
t1 × 2 ms and off for t2 × 2 ms (python-escpos sends 50/50, i.e. 100 ms / 100 ms). Most
drawers hang on pin 2; a second drawer, or some models, on pin 5.

Opening the drawer is its own short job on the printer connection: it works whether or not
a receipt is printed (no sale, "open drawer" button, paper out). To open it together with a
receipt, put a :class:`~client.devices.document.DrawerKick` in the document instead.
"""

from __future__ import annotations

from dataclasses import replace

from escpos.printer import Dummy

from .printer import PrinterConfig, send_bytes


def drawer_kick_bytes(pin: int) -> bytes:
    """The ESC/POS bytes that kick the drawer on connector ``pin`` (2 or 5)."""
    if pin not in (2, 5):
        raise ValueError("cash drawer pin must be 2 or 5")
    out = Dummy()
    out.cashdraw(pin)
    return out.output


def open_drawer(config: PrinterConfig, pin: int | None = None) -> None:
    """Kick the drawer on ``pin`` (default: the printer's configured pin). Blocking.

    Raises :class:`~client.devices.printer.PrinterError` if the printer is unreachable.
    The paper check is skipped: the drawer must open even when the printer is out of paper.
    """
    data = drawer_kick_bytes(pin or config.drawer_pin)
    send_bytes(replace(config, check_paper=False), data)
