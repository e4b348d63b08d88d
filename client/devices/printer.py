"""Render a :class:`~client.devices.document.Document` to ESC/POS bytes and send them.

The bytes are built with python-escpos's ``Dummy`` printer: text goes through our own
encoding (:mod:`client.devices.escpos_text`, sent with ``_raw``), barcode, QR, feed, cut and
drawer kick through python-escpos. The bytes then go to the printer over one of four
backends chosen by :class:`PrinterConfig`:

==========  =======================================  ==========================
backend     fields                                   python-escpos class
==========  =======================================  ==========================
network     ``host``, ``port`` (9100)                ``Network`` (raw TCP)
serial      ``device`` (COM3, /dev/ttyUSB0), baud    ``Serial``
usb         ``usb_vendor_id``, ``usb_product_id``    ``Usb`` (needs pyusb)
file        ``device`` (/dev/usb/lp0, a file path)   ``File``
==========  =======================================  ==========================

Every failure is raised as :class:`PrinterError` whose ``reason`` is a sentence a cashier
can act on (Chinese). Sending is blocking: call it off the GUI thread (the print queue does).
"""

from __future__ import annotations

import errno
import io
import logging
import re
import socket
from contextlib import redirect_stdout, suppress
from dataclasses import dataclass
from typing import Literal

import qrcode
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, File, Network, Serial, Usb
from PIL import Image

from .document import (
    Barcode,
    Cut,
    Document,
    DrawerKick,
    Feed,
    QRCode,
    Separator,
    TextLine,
)
from .escpos_text import ESC_INIT, TextProfile, get_profile, raster_image_bytes
from .raster import CELL_W, render_text_line

log = logging.getLogger(__name__)

Backend = Literal["network", "serial", "usb", "file"]
BACKENDS = ("network", "serial", "usb", "file")

DLE_EOT_PAPER = b"\x10\x04\x04"  # transmit paper sensor status
_PAPER_END_BITS = 0x60  # bits 5 and 6 of the DLE EOT 4 reply: roll paper end detected

BARCODE_MODULE_DOTS = 2  # narrowest module python-escpos allows (GS w 2)


class PrinterError(Exception):
    """Printing failed; ``reason`` tells the cashier what to do (Chinese)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class PrinterConfig:
    """One receipt printer. ``width``: 32 columns (58 mm paper) or 48 (80 mm)."""

    backend: Backend = "network"
    host: str = ""
    port: int = 9100
    device: str = ""
    baudrate: int = 9600
    usb_vendor_id: int = 0
    usb_product_id: int = 0
    profile: str = "gbk"
    width: int = 32
    drawer_pin: Literal[2, 5] = 2
    cut: bool = True
    timeout: float = 5.0
    check_paper: bool = False  # ask DLE EOT 4 before each job (not every printer answers)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown printer backend {self.backend!r}; use one of {BACKENDS}")
        get_profile(self.profile)
        if self.width < 24:
            raise ValueError("printer width must be at least 24 columns (58 mm: 32, 80 mm: 48)")
        if self.drawer_pin not in (2, 5):
            raise ValueError("cash drawer pin must be 2 or 5")

    def describe(self) -> str:
        """Where the printer is, for messages: ``网络打印机 192.168.1.50:9100``."""
        if self.backend == "network":
            return f"网络打印机 {self.host}:{self.port}"
        if self.backend == "usb":
            return f"USB 打印机 {self.usb_vendor_id:04x}:{self.usb_product_id:04x}"
        if self.backend == "serial":
            return f"串口打印机 {self.device}"
        return f"打印机 {self.device}"


# --------------------------------------------------------------------------- rendering


def render_document(
    doc: Document, profile: str | TextProfile = "gbk", *, drawer_pin: int = 2, cut: bool = True
) -> bytes:
    """ESC/POS bytes of ``doc`` for a printer of ``profile``.

    ``cut`` False (printer without cutter) turns :class:`Cut` into a plain feed.
    """
    prof = get_profile(profile) if isinstance(profile, str) else profile
    return _Renderer(prof, doc.width, drawer_pin, cut).render(doc)


class _Renderer:
    def __init__(self, profile: TextProfile, width: int, drawer_pin: int, cut: bool) -> None:
        self.profile = profile
        self.width = width
        self.drawer_pin = drawer_pin
        self.cut = cut
        self.out = Dummy()
        self.align: str | None = None
        self.bold: bool | None = None
        self.size: int | None = None

    def render(self, doc: Document) -> bytes:
        self.out._raw(ESC_INIT + self.profile.prelude())
        for el in doc.elements:
            if isinstance(el, TextLine):
                self.text(el)
            elif isinstance(el, Separator):
                self.text(TextLine(el.char[:1] * self.width))
            elif isinstance(el, Feed):
                self.out.print_and_feed(el.lines)
            elif isinstance(el, Barcode):
                self.barcode(el.data)
            elif isinstance(el, QRCode):
                self.qr(el)
            elif isinstance(el, Cut):
                if self.cut:
                    self.out.cut(mode="PART" if el.partial else "FULL")
                else:
                    self.out.print_and_feed(4)
            elif isinstance(el, DrawerKick):
                self.out.cashdraw(el.pin or self.drawer_pin)
            else:  # pragma: no cover - Element is a closed union
                raise TypeError(f"unknown document element {el!r}")
        return self.out.output

    # Style commands are sent only when they change.
    def set_style(self, align: str, bold: bool, size: int) -> None:
        if align != self.align:
            self.out._raw(b"\x1ba" + bytes([{"left": 0, "center": 1, "right": 2}[align]]))
            self.align = align
        if bold != self.bold:
            self.out._raw(b"\x1bE" + bytes([bold]))
            self.bold = bold
        if size != self.size:
            self.out._raw(b"\x1d!" + bytes([size]))  # GS ! n: bits 4-6 width, 0-2 height
            self.size = size

    def text(self, line: TextLine) -> None:
        data = self.profile.encode(line.text)
        if data is None:
            # Not printable with the printer's font: draw it (alignment is in the bitmap).
            self.set_style("left", False, 0)
            img = render_text_line(
                line.text,
                self.width,
                line.align,
                bold=line.bold,
                double_height=line.double_height,
                double_width=line.double_width,
            )
            self.out._raw(raster_image_bytes(img))
            return
        size = (0x10 if line.double_width else 0) | (0x01 if line.double_height else 0)
        self.set_style(line.align, line.bold, size)
        self.out._raw(data + b"\n")

    def barcode(self, data: str) -> None:
        payload, modules = code128_payload(data)
        if modules * BARCODE_MODULE_DOTS > self.width * CELL_W:
            log.info("barcode %r too wide for %d columns, printing a QR code", data, self.width)
            self.qr(QRCode(data))
            return
        self.set_style("left", False, 0)
        # python-escpos prints "Using hardware barcode renderer" to stdout: keep it quiet
        with redirect_stdout(io.StringIO()):
            self.out.barcode(
                payload, "CODE128", height=64, width=BARCODE_MODULE_DOTS, pos="BELOW",
                function_type="B"
            )  # python-escpos centres it (ESC a 1)
        self.align = "center"

    def qr(self, qr: QRCode) -> None:
        if self.profile.codec is None:
            # raster profile: simple printers often lack native QR as well; send a bitmap.
            code = qrcode.make(qr.data, box_size=qr.size, border=1).get_image().convert("1")
            canvas = Image.new("1", (max(self.width * CELL_W, code.width), code.height), 1)
            canvas.paste(code, ((canvas.width - code.width) // 2, 0))
            self.set_style("left", False, 0)
            self.out._raw(raster_image_bytes(canvas))
            return
        self.set_style("center", False, 0)
        self.out.qr(qr.data, size=min(qr.size, 16), native=True)
        self.out._raw(b"\n")


def code128_payload(data: str) -> tuple[str, int]:
    """ESC/POS CODE128 data for ``data`` with code-set prefixes, and its width in modules.

    A leading run of 4+ digits goes in code set C (two digits per symbol), the rest in
    code set B, which keeps ``20261123-01-0042`` narrow enough for 58 mm paper.
    """
    if not data.isascii() or not data.isprintable():
        raise ValueError(f"CODE128 needs printable ASCII, got {data!r}")
    digits = re.match(r"\d*", data).group()  # type: ignore[union-attr]
    n = len(digits) // 2 * 2
    if n >= 4:
        payload = "{C" + "".join(chr(int(data[i : i + 2])) for i in range(0, n, 2))
        symbols = n // 2
        rest = data[n:]
        if rest:
            payload += "{B" + rest.replace("{", "{{")
            symbols += 1 + len(rest)
    else:
        payload = "{B" + data.replace("{", "{{")
        symbols = len(data)
    # start + data + check symbols of 11 modules each, stop symbol of 13
    return payload, 11 * (symbols + 2) + 13


# --------------------------------------------------------------------------- sending


class _Network(Network):
    """python-escpos's ``Network`` whose ``open`` closes the socket when the connection
    fails (3.1 leaves it open) and raises the original ``OSError``."""

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        self.device = socket.create_connection((self.host, self.port), timeout=self.timeout)


def open_printer(config: PrinterConfig) -> Escpos:
    """A python-escpos printer object for ``config`` (not yet connected)."""
    if config.backend == "network":
        return _Network(config.host, port=config.port, timeout=config.timeout)
    if config.backend == "serial":
        return Serial(
            devfile=config.device, baudrate=config.baudrate, timeout=config.timeout, dsrdtr=False
        )
    if config.backend == "usb":
        if not Usb.is_usable():
            raise PrinterError("USB 打印需要 pyusb 组件，请安装后重试，或改用网络/串口连接")
        return Usb(config.usb_vendor_id, config.usb_product_id, timeout=int(config.timeout * 1000))
    return File(devfile=config.device)


def send_bytes(config: PrinterConfig, data: bytes) -> None:
    """Open the printer, (optionally check paper), send ``data``, close.

    Raises :class:`PrinterError` with a cashier-readable reason.
    """
    printer = open_printer(config)
    try:
        printer.open()
        if config.backend == "serial":
            printer.device.write_timeout = config.timeout  # type: ignore[attr-defined]
        if config.check_paper and config.backend != "file" and _paper_out(printer):
            raise PrinterError("打印机缺纸，请装好纸后重打")
        printer._raw(data)
    except PrinterError:
        raise
    except _usb_errors() as exc:  # pyusb without the libusb system library
        raise PrinterError("USB 打印需要 libusb 驱动（libusb-1.0），请运行安装程序") from exc
    except (OSError, EscposError) as exc:
        raise PrinterError(failure_reason(exc, config)) from exc
    finally:
        with suppress(OSError, EscposError):
            printer.close()


def _usb_errors() -> tuple[type[BaseException], ...]:
    try:
        from usb.core import NoBackendError
    except ImportError:
        return ()
    return (NoBackendError,)


def print_document(config: PrinterConfig, doc: Document) -> None:
    """Render ``doc`` for ``config``'s printer and send it (blocking)."""
    send_bytes(
        config, render_document(doc, config.profile, drawer_pin=config.drawer_pin, cut=config.cut)
    )


def _paper_out(printer: Escpos) -> bool:
    """True if the printer answers DLE EOT 4 with "paper end"; no answer counts as fine."""
    device = printer.device
    is_socket = isinstance(device, socket.socket)
    old = device.gettimeout() if is_socket else getattr(device, "timeout", None)
    quick = min(old or 1.0, 1.0)
    if is_socket:
        device.settimeout(quick)
    elif old is not None:
        device.timeout = quick  # pyserial
    try:
        printer._raw(DLE_EOT_PAPER)
        reply = printer._read()
    except (TimeoutError, NotImplementedError):
        return False
    finally:
        if is_socket:
            device.settimeout(old)
        elif old is not None:
            device.timeout = old
    return bool(reply) and reply[-1] & _PAPER_END_BITS == _PAPER_END_BITS


def failure_reason(exc: BaseException, config: PrinterConfig) -> str:
    """A sentence for the cashier explaining ``exc`` (Chinese)."""
    where = config.describe()
    os_error = _find_os_error(exc)
    if isinstance(os_error, ConnectionRefusedError):
        return f"{where} 拒绝连接：请检查打印机是否开机、IP 地址和端口是否正确"
    if isinstance(os_error, TimeoutError):
        return f"连接{where}超时：请检查打印机电源和网线"
    if isinstance(os_error, socket.gaierror):
        return f"{where} 的地址无效，请在设置中检查打印机地址"
    if isinstance(os_error, ConnectionError):
        return f"打印中与{where}的连接断开：请检查打印机后重打"
    if isinstance(os_error, PermissionError):
        return f"没有权限使用{where}，请联系管理员"
    not_found = isinstance(os_error, FileNotFoundError) or (
        os_error is not None and os_error.errno == errno.ENOENT
    )
    if not_found or (os_error is None and config.backend != "network"):
        return f"找不到{where}：请检查连接线和设置"
    if os_error is not None and os_error.errno is not None:
        return f"{where} 无法连接（网络不通或打印机离线）：{os_error.strerror or os_error}"
    return f"{where} 打印失败：{exc}"


def _find_os_error(exc: BaseException | None) -> OSError | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


# --------------------------------------------------------------------------- test page


def build_test_page(config: PrinterConfig) -> Document:
    """A page to check a printer: Chinese, ¥, alignment, styles, width ruler, a barcode."""
    w = config.width
    doc = Document(w)
    doc.text("打印测试页 TEST", "center", bold=True, double_height=True, double_width=True)
    doc.text(config.describe(), "center")
    doc.text(f"profile={config.profile} width={w} drawer=pin{config.drawer_pin}", "center")
    doc.add(Separator("="))
    doc.text("中文：收银系统 会员 积分 储值")
    doc.text("金额：¥123.45 ￥67.80")
    doc.text("左对齐 left")
    doc.text("居中 center", "center")
    doc.text("右对齐 right", "right")
    doc.text("粗体 bold", bold=True)
    doc.text("倍高 double height", double_height=True)
    doc.text("倍宽 wide", double_width=True)
    doc.text(("1234567890" * (w // 10 + 1))[:w])
    doc.text(("中" * w)[: w // 2])
    doc.add(Separator())
    doc.add(Barcode("20261123-01-0042"))
    doc.add(Feed(2))
    doc.add(Cut())
    return doc


def print_test_page(config: PrinterConfig) -> None:
    """Print :func:`build_test_page` now (blocking; raises :class:`PrinterError`)."""
    print_document(config, build_test_page(config))
