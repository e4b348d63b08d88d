"""One background loop of the supervisor: a daemon thread that runs ``round()`` every
``interval`` seconds until ``stop()``. A round that fails is logged; the next one runs (the
scheduler, the replication monitor)."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PeriodicThread:
    thread_name = "lanpos-periodic"
    failure_level = logging.ERROR  # how a failed round is logged (with its traceback)

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def round(self) -> object:
        raise NotImplementedError

    def on_start(self) -> None:
        """Called in ``start()`` before the thread runs."""

    def start(self) -> None:
        self.on_start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # a single failure never ends the loop
                log.log(self.failure_level, "%s: round failed", self.thread_name,
                        exc_info=True)
            self._stop.wait(self.interval)
