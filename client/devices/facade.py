"""The counter's devices as one small service object (plain Python, no Qt, blocking).

Widgets never call a device: the checkout runs these methods through the
:class:`~client.tasks.TaskRunner` (off the GUI thread) and gets the result by callback.

* :class:`DeviceSettings` — per-counter device settings, stored in the client settings file
  under ``"devices"`` (``ClientSettings.extra``); :func:`device_settings` /
  :func:`with_device_settings` read and write them.
* :class:`DeviceService` — receipt printing through the persisted
  :class:`~client.devices.print_queue.PrintQueue` (a failed print is kept for 重试), the cash
  drawer, the printer test page, the serial scanner and the pole display (客显).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from common.errors import ApiError

from ..settings import ClientSettings, default_config_path
from .document import Document
from .drawer import open_drawer
from .pole_display import PoleDisplay
from .print_queue import PrintJob, PrintQueue
from .printer import PrinterConfig, PrinterError, print_test_page
from .scanner import SerialScanner

log = logging.getLogger(__name__)

PROFILES = ("gbk", "gb18030", "utf8", "raster")
WIDTHS = (32, 48)
SUFFIXES = ("CR", "LF", "CRLF")


@dataclass(frozen=True)
class DeviceSettings:
    """What is plugged into this counter. ``printer_enabled`` False: no receipts, no drawer."""

    printer_enabled: bool = False
    backend: str = "network"  # network | serial | usb | file
    host: str = ""
    port: int = 9100
    device: str = ""  # serial port or device file (/dev/usb/lp0, COM3)
    baudrate: int = 9600
    usb_vendor_id: int = 0
    usb_product_id: int = 0
    profile: str = "gbk"  # gbk | gb18030 | utf8 | raster
    width: int = 32  # 32 = 58 mm, 48 = 80 mm
    drawer_pin: int = 2  # 2 | 5
    cut: bool = True
    scanner_port: str = ""  # serial barcode scanner; empty = none (the wedge scanner needs none)
    scanner_baud: int = 9600
    scanner_suffix: str = "CR"
    display_port: str = ""  # serial pole display; empty = none
    display_baud: int = 9600
    # the customer display window (client/counter/customer_display.py): "off", "auto" (the
    # second screen when there is one) or "1", "2", … (that screen); its idle picture
    customer_screen: str = "auto"
    customer_image: str = ""  # a shop picture or payment QR image (file path); "" = none

    @classmethod
    def from_dict(cls, data: Any) -> DeviceSettings:
        if not isinstance(data, dict):
            return cls()
        names = {f.name: f.type for f in fields(cls)}
        known = {k: v for k, v in data.items() if k in names}
        try:
            ds = cls(**known)
            ds.printer_config()  # validates backend / profile / width / pin
            return ds
        except (TypeError, ValueError) as e:
            log.warning("device settings unreadable (%s); using defaults", e)
            return cls()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def printer_config(self) -> PrinterConfig | None:
        """The printer's configuration, or None when no printer is set up."""
        if not self.printer_enabled:
            return None
        return PrinterConfig(backend=self.backend, host=self.host, port=self.port,  # type: ignore[arg-type]
                             device=self.device, baudrate=self.baudrate,
                             usb_vendor_id=self.usb_vendor_id,
                             usb_product_id=self.usb_product_id, profile=self.profile,
                             width=self.width, drawer_pin=self.drawer_pin,  # type: ignore[arg-type]
                             cut=self.cut)


def device_settings(settings: ClientSettings) -> DeviceSettings:
    return DeviceSettings.from_dict(settings.extra.get("devices"))


def with_device_settings(settings: ClientSettings, ds: DeviceSettings) -> ClientSettings:
    return replace(settings, extra={**settings.extra, "devices": ds.to_dict()})


def default_spool_dir() -> Path:
    return default_config_path().parent / "print-spool"


class NoPrinter(PrinterError):
    def __init__(self) -> None:
        super().__init__("本收银台未设置小票打印机（菜单 收银操作 → 设备设置）")


def device_error(reason: str) -> ApiError:
    """A device failure as the error type the task runner delivers (message = reason)."""
    return ApiError("device_error", status=0, message=reason)


@dataclass
class AfterSale:
    """What the devices did after a sale: the receipt job (None = no printer) and why the
    drawer did not open (None = opened or not asked)."""

    job: PrintJob | None
    drawer_error: str | None = None


class DeviceService:
    """The counter's devices (see module doc). Every method blocks: run it off the GUI thread.

    ``on_job(job)`` is called (in the worker thread) whenever a print job changes.
    """

    def __init__(self, settings: DeviceSettings, spool_dir: str | Path | None = None, *,
                 on_job: Callable[[PrintJob], None] | None = None) -> None:
        self.spool_dir = Path(spool_dir) if spool_dir is not None else default_spool_dir()
        self._on_job = on_job
        self._lock = threading.RLock()
        self.settings = settings
        self.queue: PrintQueue | None = None
        self._display: PoleDisplay | None = None
        self._display_failed = False
        self.scanner: SerialScanner | None = None
        self.configure(settings)

    # --- configuration ----------------------------------------------------------------
    def configure(self, settings: DeviceSettings) -> None:
        """Use new settings (the print queue keeps its jobs; the display reopens)."""
        with self._lock:
            self.settings = settings
            cfg = settings.printer_config() or PrinterConfig()
            if self.queue is None:
                self.queue = PrintQueue(self.spool_dir, cfg, on_change=self._notify)
            else:
                self.queue.config = cfg
            self._close_display()

    @property
    def has_printer(self) -> bool:
        return self.settings.printer_enabled

    def _notify(self, job: PrintJob) -> None:
        if self._on_job is not None:
            self._on_job(job)

    # --- printing -----------------------------------------------------------------------
    def print_document(self, doc: Document, title: str,
                       meta: dict[str, Any] | None = None) -> PrintJob | None:
        """Queue and print ``doc``; the job comes back ``printed`` or ``failed`` (kept)."""
        if not self.has_printer:
            return None
        assert self.queue is not None
        return self.queue.submit(doc, title, meta)

    def open_drawer(self) -> None:
        """Kick the cash drawer (raises PrinterError with a readable reason)."""
        cfg = self.settings.printer_config()
        if cfg is None:
            raise NoPrinter()
        open_drawer(cfg)

    def open_drawer_checked(self) -> None:
        """:meth:`open_drawer` for the task runner: failures as ApiError (readable)."""
        try:
            self.open_drawer()
        except PrinterError as e:
            raise device_error(e.reason) from e

    def after_sale(self, doc: Document | None, title: str, *, kick_drawer: bool) -> AfterSale:
        """Open the drawer first (it must open even when the paper is out), then print."""
        drawer_error = None
        if kick_drawer and self.has_printer:
            try:
                self.open_drawer()
            except PrinterError as e:
                drawer_error = e.reason
        job = self.print_document(doc, title) if doc is not None else None
        return AfterSale(job, drawer_error)

    def jobs(self) -> list[PrintJob]:
        return self.queue.jobs() if self.queue is not None else []

    def failed_jobs(self) -> list[PrintJob]:
        return self.queue.failed() if self.queue is not None else []

    def retry(self, job_id: str) -> PrintJob:
        if not self.has_printer:
            raise device_error(NoPrinter().reason)
        assert self.queue is not None
        return self.queue.retry(job_id)

    def discard(self, job_id: str) -> None:
        assert self.queue is not None
        self.queue.discard(job_id)

    @staticmethod
    def test_page(settings: DeviceSettings) -> None:
        """Print the test page with ``settings`` (not necessarily saved yet)."""
        cfg = settings.printer_config()
        if cfg is None:
            raise device_error(NoPrinter().reason)
        try:
            print_test_page(cfg)
        except PrinterError as e:
            raise device_error(e.reason) from e

    # --- customer display ---------------------------------------------------------------
    def _display_open(self) -> PoleDisplay | None:
        if not self.settings.display_port or self._display_failed:
            return None
        if self._display is None:
            d = PoleDisplay(self.settings.display_port, baudrate=self.settings.display_baud)
            try:
                d.open()
            except Exception as e:  # serial.SerialException, OSError
                log.warning("customer display %s: %s", self.settings.display_port, e)
                self._display_failed = True  # don't retry on every scan; settings reset it
                return None
            self._display = d
        return self._display

    def _close_display(self) -> None:
        if self._display is not None:
            try:
                self._display.close()
            except Exception:  # pragma: no cover - closing a broken port
                log.exception("closing the customer display")
        self._display = None
        self._display_failed = False

    def display(self, what: str, *args: Any) -> bool:
        """``display("item", name, price_fen, qty)`` / ``("total", fen, items)`` /
        ``("change", paid_fen, change_fen)`` / ``("welcome",)``. Never raises (a display
        problem must not stop a sale); False when nothing was shown."""
        with self._lock:
            d = self._display_open()
            if d is None:
                return False
            try:
                {"item": d.show_item, "total": d.show_total, "change": d.show_change,
                 "welcome": d.welcome}[what](*args)
            except Exception as e:
                log.warning("customer display: %s", e)
                self._close_display()
                self._display_failed = True
                return False
            return True

    # --- serial scanner -----------------------------------------------------------------
    def start_scanner(self, on_scan: Callable[[str], None],
                      on_error: Callable[[str], None] | None = None) -> bool:
        """Start the serial scanner if one is configured; ``on_scan`` runs in its reader
        thread (forward it to the GUI thread with a signal). A port that cannot be opened
        raises ApiError ``device_error``."""
        self.stop_scanner()
        s = self.settings
        if not s.scanner_port:
            return False
        scanner = SerialScanner(s.scanner_port, on_scan, baudrate=s.scanner_baud,
                                suffix=s.scanner_suffix,  # type: ignore[arg-type]
                                on_error=on_error)
        try:
            scanner.start()
        except Exception as e:  # serial.SerialException, OSError
            raise device_error(f"扫码枪（{s.scanner_port}）无法打开：{e}") from e
        self.scanner = scanner
        return True

    def stop_scanner(self) -> None:
        if self.scanner is not None:
            self.scanner.stop()
            self.scanner = None

    def close(self) -> None:
        self.stop_scanner()
        with self._lock:
            self._close_display()
