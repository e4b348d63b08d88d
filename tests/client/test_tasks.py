"""client.tasks: background ops deliver on the GUI thread, errors as ApiError, cancellable."""

from __future__ import annotations

import threading
import time

from client.qt import QtWidgets
from common.errors import ApiError


def test_result_comes_back_on_the_gui_thread(qtbot, runner) -> None:
    seen: dict = {}

    def work() -> int:
        seen["worker"] = threading.current_thread()
        return 42

    def ok(value: int) -> None:
        seen["value"] = value
        seen["callback"] = threading.current_thread()

    task = runner.op(work, ok)
    with qtbot.wait_signal(task.finished, timeout=5000) as blocker:
        pass
    assert blocker.args == [True]
    assert seen["value"] == 42
    assert seen["callback"] is threading.main_thread()
    assert seen["worker"] is not threading.main_thread()
    assert runner.pending == 0


def test_errors_are_api_errors(qtbot, runner) -> None:
    errors: list[ApiError] = []

    def fail_api() -> None:
        raise ApiError("forbidden", status=403)

    def fail_bug() -> None:
        raise KeyError("oops")

    t1 = runner.op(fail_api, None, errors.append)
    t2 = runner.op(fail_bug, None, errors.append)
    qtbot.wait_until(lambda: len(errors) == 2, timeout=5000)
    by_code = {e.code: e for e in errors}
    assert by_code["forbidden"].status == 403
    assert "程序出错" in by_code["client_error"].message()
    assert "Traceback" not in by_code["client_error"].message()
    assert t1.error is not None and t2.error is not None


def test_default_error_handler_is_used(qtbot, runner) -> None:
    handled: list[ApiError] = []
    runner.error_handler = handled.append
    runner.op(lambda: (_ for _ in ()).throw(ApiError("conflict", status=409)))
    qtbot.wait_until(lambda: len(handled) == 1, timeout=5000)
    assert handled[0].code == "conflict"


def test_callbacks_dropped_when_the_owner_widget_is_gone(qtbot, runner) -> None:
    widget = QtWidgets.QLabel("x")
    called: list = []
    started = threading.Event()

    def slow() -> str:
        started.set()
        time.sleep(0.3)
        return "late"

    task = runner.op(slow, called.append, called.append, owner=widget)
    assert started.wait(5)
    widget.deleteLater()
    qtbot.wait(50)  # let deleteLater run
    assert task.cancelled
    runner.wait_idle(5000)
    qtbot.wait(100)  # the queued delivery arrives and is ignored
    assert called == []
    assert runner.pending == 0


def test_busy_changed(qtbot, runner) -> None:
    states: list[bool] = []
    runner.busy_changed.connect(states.append)
    t = runner.op(lambda: time.sleep(0.05))
    with qtbot.wait_signal(t.finished, timeout=5000):
        pass
    assert states == [True, False]
