"""Keyboard-wedge scanners: a fast burst ending in Enter is a scan, typing is not."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QLineEdit

from client.devices.wedge import ENTER, WedgeDetector, WedgeScanFilter


def feed_all(
    det: WedgeDetector, text: str, start: float, step: float, enter_after: float | None = None
) -> str | None:
    t = start
    for ch in text:
        assert det.feed(ch, t) is None
        t += step
    return det.feed(ENTER, t - step + (step if enter_after is None else enter_after))


def test_fast_burst_with_enter_is_a_scan() -> None:
    det = WedgeDetector(min_length=6, max_interval_ms=50)
    assert feed_all(det, "6901234567892", 1000, 8) == "6901234567892"
    assert feed_all(det, "ABC-123", 5000, 30) == "ABC-123"


def test_slow_typing_is_not_a_scan() -> None:
    det = WedgeDetector(min_length=6, max_interval_ms=50)
    assert feed_all(det, "6901234567892", 1000, 120) is None
    # fast typist: mostly quick, but one gap over the limit breaks the burst
    t = 0.0
    for i, ch in enumerate("12345678"):
        det.feed(ch, t)
        t += 200 if i == 3 else 40
    assert det.feed(ENTER, t) is None  # only "5678" after the gap: too short


def test_burst_rules() -> None:
    det = WedgeDetector(min_length=6, max_interval_ms=50)
    assert feed_all(det, "12345", 0, 5) is None  # too short
    assert feed_all(det, "123456", 100, 5, enter_after=300) is None  # Enter came late
    # slow typing, then a scan: only the burst is returned
    t = 1000.0
    for ch in "abc":
        det.feed(ch, t)
        t += 150
    assert feed_all(det, "4006381333931", t + 150, 10) == "4006381333931"
    with pytest.raises(ValueError):
        det.feed("ab", 0)


class FakeClock:
    def __init__(self, step_ms: float) -> None:
        self.now = 10_000.0
        self.step = step_ms

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _focused_line_edit(qtbot) -> QLineEdit:
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    qtbot.waitExposed(edit)
    edit.activateWindow()
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    return edit


def test_filter_emits_scanned_for_a_burst(qtbot, qapp: QApplication) -> None:
    edit = _focused_line_edit(qtbot)
    clock = FakeClock(step_ms=5)
    scan_filter = WedgeScanFilter(clock=clock)
    qapp.installEventFilter(scan_filter)
    try:
        entered: list[str] = []
        edit.returnPressed.connect(lambda: entered.append(edit.text()))
        with qtbot.waitSignal(scan_filter.scanned, timeout=2000) as blocker:
            qtbot.keyClicks(edit, "6901234567892")
            qtbot.keyClick(edit, Qt.Key.Key_Return)
        assert blocker.args == ["6901234567892"]
        assert entered == []  # the scanner's Enter was swallowed
    finally:
        qapp.removeEventFilter(scan_filter)


def test_fast_typing_in_a_password_field_keeps_its_enter(qtbot, qapp: QApplication) -> None:
    edit = _focused_line_edit(qtbot)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    clock = FakeClock(step_ms=5)  # as fast as a scanner
    scan_filter = WedgeScanFilter(clock=clock)
    qapp.installEventFilter(scan_filter)
    try:
        scanned: list[str] = []
        scan_filter.scanned.connect(scanned.append)
        entered: list[str] = []
        edit.returnPressed.connect(lambda: entered.append(edit.text()))
        qtbot.keyClicks(edit, "demo1234")
        qtbot.keyClick(edit, Qt.Key.Key_Return)
        assert scanned == []
        assert entered == ["demo1234"]  # the login goes through
    finally:
        qapp.removeEventFilter(scan_filter)


def test_filter_ignores_normal_typing(qtbot, qapp: QApplication) -> None:
    edit = _focused_line_edit(qtbot)
    clock = FakeClock(step_ms=150)
    scan_filter = WedgeScanFilter(clock=clock)
    qapp.installEventFilter(scan_filter)
    try:
        scanned: list[str] = []
        scan_filter.scanned.connect(scanned.append)
        entered: list[str] = []
        edit.returnPressed.connect(lambda: entered.append(edit.text()))
        qtbot.keyClicks(edit, "6901234567892")
        qtbot.keyClick(edit, Qt.Key.Key_Return)
        assert scanned == []
        assert entered == ["6901234567892"]  # Enter reached the widget as usual
    finally:
        qapp.removeEventFilter(scan_filter)


def test_filter_on_a_widget_and_shift_for_capitals(qtbot) -> None:
    edit = _focused_line_edit(qtbot)
    scan_filter = WedgeScanFilter(edit, clock=FakeClock(step_ms=3))
    edit.installEventFilter(scan_filter)
    with qtbot.waitSignal(scan_filter.scanned, timeout=2000) as blocker:
        for ch in "AB-12345":
            if ch.isupper():
                qtbot.keyPress(edit, Qt.Key.Key_Shift)
            qtbot.keyClick(edit, ch)
        qtbot.keyClick(edit, Qt.Key.Key_Enter)
    assert blocker.args == ["AB-12345"]
