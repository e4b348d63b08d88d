"""Cash drawer kick: ESC p on pin 2 or 5, through the printer connection."""

from __future__ import annotations

import pytest

from client.devices.drawer import drawer_kick_bytes, open_drawer
from client.devices.printer import PrinterError
from tests.support.escpos_decoder import decode
from tests.support.virtual_printer import VirtualPrinter


def test_kick_bytes_for_pin_2_and_5() -> None:
    assert drawer_kick_bytes(2) == b"\x1bp\x00\x32\x32"  # ESC p 0 t1 t2: 100 ms on/off
    assert drawer_kick_bytes(5) == b"\x1bp\x01\x32\x32"
    with pytest.raises(ValueError):
        drawer_kick_bytes(3)


@pytest.mark.parametrize("pin", [2, 5])
def test_open_drawer_without_printing(
    virtual_printer: VirtualPrinter, net_config, pin: int
) -> None:
    net_config.drawer_pin = pin
    net_config.check_paper = True  # ignored: the drawer opens even without paper
    virtual_printer.paper_out = True
    open_drawer(net_config)
    (job,) = virtual_printer.wait_for_jobs(1)
    assert job == drawer_kick_bytes(pin)
    decoded = decode(job)
    assert decoded.drawer_pins == [pin]
    assert decoded.lines == [] and decoded.cuts == []


def test_open_drawer_pin_override(virtual_printer: VirtualPrinter, net_config) -> None:
    open_drawer(net_config, pin=5)
    assert decode(virtual_printer.wait_for_jobs(1)[0]).drawer_pins == [5]


def test_open_drawer_printer_off(net_config, virtual_printer: VirtualPrinter) -> None:
    virtual_printer.stop()
    with pytest.raises(PrinterError, match="拒绝连接"):
        open_drawer(net_config)
