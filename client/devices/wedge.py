"""Keyboard-wedge (USB HID "keyboard") barcode scanners, told apart from typing by timing.

A wedge scanner "types" its code very fast (typically 2-20 ms between keys) and ends with
Enter. A person types at 100 ms or more per key. :class:`WedgeDetector` (pure, no Qt)
calls a burst a scan when it has at least ``min_length`` characters, each within
``max_interval_ms`` of the previous one, followed by Enter within the same interval.
Anything slower is normal typing and is never taken as a scan.

:class:`WedgeScanFilter` is a Qt event filter using it (the one Qt piece of the device
layer). Install it on the application (``app.installEventFilter(f)``) or on a window; it
looks only at key presses delivered to the focused widget, so each key is counted once.
When a scan is recognised it emits :attr:`WedgeScanFilter.scanned` and swallows the Enter
(so a focused dialog's default button is not triggered). The characters themselves are
not swallowed — they were already typed into the focused widget before the scan could be
recognised; a receiver that cares (a search box) clears its text on ``scanned``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt6.QtCore import QEvent, QObject, Qt, pyqtSignal
from PyQt6.QtGui import QKeyEvent
from PyQt6.QtWidgets import QApplication, QLineEdit, QWidget

ENTER = "\n"


class WedgeDetector:
    """Pure timing logic: feed each key with its time, get the code back at the end of a scan.

    ``feed(char, t_ms)`` with a one-character string, or :data:`ENTER` (``"\\n"``; ``"\\r"``
    is accepted too) for the Enter key. Returns the scanned code at an Enter that ends a
    fast burst, else None.
    """

    def __init__(self, min_length: int = 6, max_interval_ms: float = 50) -> None:
        if min_length < 1:
            raise ValueError("min_length must be at least 1")
        self.min_length = min_length
        self.max_interval_ms = max_interval_ms
        self._chars: list[str] = []
        self._last_ms: float | None = None

    def reset(self) -> None:
        """Forget the current burst (e.g. on a non-character key)."""
        self._chars = []
        self._last_ms = None

    def _fast(self, t_ms: float) -> bool:
        return self._last_ms is not None and 0 <= t_ms - self._last_ms <= self.max_interval_ms

    def feed(self, key: str, t_ms: float) -> str | None:
        if key in (ENTER, "\r"):
            is_scan = len(self._chars) >= self.min_length and self._fast(t_ms)
            code = "".join(self._chars)
            self.reset()
            return code if is_scan else None
        if len(key) != 1:
            raise ValueError(f"feed one character or ENTER, got {key!r}")
        if not self._fast(t_ms):
            self._chars = []  # too slow: a new burst may start with this key
        self._chars.append(key)
        self._last_ms = t_ms
        return None


class WedgeScanFilter(QObject):
    """Qt event filter that recognises keyboard-wedge scans (see module doc).

    Signals:
        scanned(str): a complete barcode was scanned (the code, without the Enter).

    ``clock`` returns milliseconds; by default the key event's own timestamp is used (the
    time the OS saw the key, so a busy GUI thread cannot make slow typing look fast), or
    a monotonic clock for synthetic events that carry no timestamp.
    """

    scanned = pyqtSignal(str)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        detector: WedgeDetector | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(parent)
        self.detector = detector or WedgeDetector()
        self._clock = clock

    def _now(self, event: QKeyEvent) -> float:
        if self._clock is not None:
            return self._clock()
        return float(event.timestamp()) or time.monotonic() * 1000

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        if event is None or event.type() != QEvent.Type.KeyPress:
            return False
        if not isinstance(obj, QWidget) or obj is not _focus_target():
            return False  # the QWindow copy or a propagation to a parent: seen already
        assert isinstance(event, QKeyEvent)
        if _is_password_field(obj):
            # nobody scans into a password box; fast typing there must keep its Enter
            self.detector.reset()
            return False
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            code = self.detector.feed(ENTER, self._now(event))
            if code is not None:
                self.scanned.emit(code)
                return True
            return False
        text = event.text()
        if len(text) == 1 and text.isprintable():
            self.detector.feed(text, self._now(event))
        elif key not in (
            Qt.Key.Key_Shift,
            Qt.Key.Key_Control,
            Qt.Key.Key_Alt,
            Qt.Key.Key_Meta,
            Qt.Key.Key_CapsLock,
        ):
            self.detector.reset()  # arrows, F-keys...: not part of a scan
        return False


def _is_password_field(widget: QWidget) -> bool:
    return isinstance(widget, QLineEdit) and widget.echoMode() != QLineEdit.EchoMode.Normal


def _focus_target() -> QWidget | None:
    return QApplication.focusWidget() or QApplication.activeWindow()
