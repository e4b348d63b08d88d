"""Run blocking work (network, devices) off the GUI thread; get the answer back by signal.

Anki-style "op → success callback"::

    runner.op(lambda: api.list_staff(page=2),
              on_success=self._show_page,       # called on the GUI thread with the result
              on_error=self._failed,            # called on the GUI thread with an ApiError
              owner=self)                       # callbacks dropped if this widget is gone

``fn`` runs in a ``QThreadPool`` worker and must not touch widgets. Whatever it raises is
delivered as an :class:`~common.errors.ApiError` (an unexpected exception is logged with its
traceback and wrapped as ``client_error`` with a short readable message — never a traceback
on screen). Without ``on_error`` the runner's own ``error_handler`` (the app's error dialog)
is used.

Cancellation: ``Task.cancel()``, or the ``owner`` QObject being destroyed, means the callbacks
are not called; the work itself runs to its end (an HTTP request cannot be interrupted safely;
a write's outcome is settled by its idempotency key on the next try).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from common.errors import ApiError

from . import i18n
from .qt import QtCore, Signal, Slot, is_deleted

log = logging.getLogger(__name__)

SuccessCb = Callable[[Any], None]
ErrorCb = Callable[[ApiError], None]


def as_api_error(exc: BaseException) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    detail = f"{type(exc).__name__}: {exc}"[:200]
    return ApiError("client_error", status=0, message=i18n.tr("client.internal", detail=detail))


class _Relay(QtCore.QObject):
    """Lives on the GUI thread; the worker emits, Qt queues the call to the GUI thread."""

    done = Signal(bool, object)


class _Worker(QtCore.QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # every failure goes back to the GUI thread
            if not isinstance(exc, ApiError):
                log.exception("background task failed")
            self._relay.done.emit(False, as_api_error(exc))
        else:
            self._relay.done.emit(True, result)


class Task(QtCore.QObject):
    """One background call. Emits ``finished`` on the GUI thread after the callbacks.

    Signals:
        finished(bool): the work ended (True = success); not emitted when cancelled.
    """

    finished = Signal(bool)

    def __init__(self, runner: TaskRunner, on_success: SuccessCb | None,
                 on_error: ErrorCb | None, owner: QtCore.QObject | None) -> None:
        super().__init__(runner)
        self._runner = runner
        self._on_success = on_success
        self._on_error = on_error
        self._owner = owner
        self.cancelled = False
        self.result: Any = None
        self.error: ApiError | None = None
        self.relay = _Relay()
        self.relay.done.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)
        if owner is not None:
            owner.destroyed.connect(self.cancel)

    @Slot()
    def cancel(self) -> None:
        self.cancelled = True
        self._on_success = self._on_error = None

    @Slot(bool, object)
    def _deliver(self, ok: bool, value: Any) -> None:
        self._runner._forget(self)
        if self.cancelled or (self._owner is not None and is_deleted(self._owner)):
            return
        if ok:
            self.result = value
            if self._on_success is not None:
                self._on_success(value)
        else:
            self.error = value
            handler = self._on_error or self._runner.error_handler
            if handler is not None:
                handler(value)
            else:
                log.warning("unhandled task error: %s", value)
        self.finished.emit(ok)


class TaskRunner(QtCore.QObject):
    """Starts :class:`Task` s on a thread pool (see module doc).

    Signals:
        busy_changed(bool): True when the first task starts, False when the last one ends.
    """

    busy_changed = Signal(bool)

    def __init__(self, pool: QtCore.QThreadPool | None = None,
                 error_handler: ErrorCb | None = None,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QtCore.QThreadPool.globalInstance()
        self.error_handler = error_handler
        self._pending: set[Task] = set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def op(self, fn: Callable[[], Any], on_success: SuccessCb | None = None,
           on_error: ErrorCb | None = None, *, owner: QtCore.QObject | None = None) -> Task:
        task = Task(self, on_success, on_error, owner)
        self._pending.add(task)
        if len(self._pending) == 1:
            self.busy_changed.emit(True)
        assert self.pool is not None
        self.pool.start(_Worker(fn, task.relay))
        return task

    def _forget(self, task: Task) -> None:
        if task in self._pending:
            self._pending.discard(task)
            task.deleteLater()
            if not self._pending:
                self.busy_changed.emit(False)

    def wait_idle(self, msecs: int = 30_000) -> bool:
        """Block until the pool's workers are done (shutdown and tests only)."""
        assert self.pool is not None
        return self.pool.waitForDone(msecs)
