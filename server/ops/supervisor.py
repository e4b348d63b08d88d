"""``lanpos-server run``: the supervisor (DESIGN.md §4 "The server process").

    supervisor (this process)                      N API workers (server.ops.worker)
    ├─ binds the listening socket once  ─────────▶ waitress on the inherited socket
    │   (plain HTTP, 127.0.0.1 only)               (127.0.0.1: plain HTTP never leaves the
    ├─ the TLS front: nginx (child)                 machine; the LAN gets TLS from nginx)
    ├─ the managed mariadbd (child)                (no scheduler, no jobs, no database
    ├─ the database watchdog (main loop)            lifecycle: request handling only)
    ├─ the scheduler thread (backups, daily jobs)
    └─ the job runner thread (backup / verify / restore)

* The workers share one socket: the kernel hands each new connection to one of them. A worker
  that dies (a crash, an OOM kill, ``kill -9``) is replaced at once; one that keeps dying
  right after its start is restarted with a growing pause.
* Everything the workers must agree on (role, epoch, maintenance, jobs) is in the shared state
  (``server.state``), so a replaced worker starts knowing it.
* SIGTERM / SIGINT (Ctrl+C) / SIGHUP: stop the workers (in-flight requests finish), then the
  scheduler and the job runner, then MariaDB — in that order.
* ``workers = 0`` serves from the supervisor process itself (one process, waitress threads):
  the mode on Windows, which cannot hand a listening socket to a child process this way.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.app import create_app
from server.ops.process import ChildSlot, die_with_parent, exit_description
from server.ops.tlsfront import TlsFront
from server.ops.watchdog import DatabaseWatchdog
from server.ops.worker import make_server
from server.runtime import Runtime
from server.state import SharedState

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
STOP_WORKERS_SECONDS = 15.0


class Background(Protocol):
    def start(self) -> None: ...
    def stop(self, timeout: float = 5.0) -> None: ...


def default_workers() -> int:
    """One worker per core; none (serve in-process) where sockets cannot be inherited."""
    if os.name != "posix":
        return 0
    return max(1, os.cpu_count() or 1)


def bind_socket(host: str, port: int) -> socket.socket:
    """The API's socket, bound once (so a taken port fails here, at once). It is not put into
    listening mode here: each worker's waitress does that when it is ready to serve, so that
    until then a counter's connection is refused (and retried or sent to the standby) instead
    of waiting in the queue of a server that is still starting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


@dataclass
class WorkerSlot(ChildSlot):
    index: int = 0


@dataclass
class Supervisor:
    runtime: Runtime
    shared: SharedState
    workers: int
    threads: int
    background: Sequence[Background] = ()
    verbose: bool = False
    poll_seconds: float = POLL_SECONDS
    watchdog: DatabaseWatchdog | None = None
    front: TlsFront | None = None  # nginx, the LAN's TLS door (None: loopback only)
    _slots: list[WorkerSlot] = field(default_factory=list, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _sock: socket.socket | None = field(default=None, init=False)
    _inprocess: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.watchdog is None:
            self.watchdog = DatabaseWatchdog(self.runtime, self.shared)

    # -- lifecycle ---------------------------------------------------------------------------
    def run(self, sock: socket.socket) -> int:
        """Serve on ``sock`` until ``stop()`` (or a signal). Returns the exit code."""
        self._sock = sock
        for job in self.shared.fail_interrupted_jobs():
            log.error("job %s (%s) was interrupted by the last stop", job.id, job.kind)
        abandoned = self.shared.release_abandoned_maintenance()
        if abandoned is not None:
            log.error("maintenance '%s' (since %s, by %s) was left by a process that is gone: "
                      "the API serves again; if it was a restore, restore again",
                      abandoned.reason, abandoned.since, abandoned.by)
        for sig in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                signal.signal(sig, lambda _s, _f: self.stop())
        try:
            if self.workers > 0:
                self._slots = [WorkerSlot(index=i + 1) for i in range(self.workers)]
                for slot in self._slots:
                    self._spawn(slot)
            else:
                self._serve_in_process(sock)
            if self.front is not None:
                self.front.start()
                self.front.wait_listening()
            self._publish()
            for b in self.background:
                b.start()
            while not self._stop.is_set():
                self._round()
                self._stop.wait(self.poll_seconds)
        finally:
            self._shutdown()
        return 0

    def stop(self) -> None:
        self._stop.set()

    def _round(self) -> None:
        changed = False
        for slot in self._slots:
            changed |= self._tend(slot)
        if self.front is not None:
            changed |= self.front.tend()
        if changed:
            self._publish()
        assert self.watchdog is not None
        try:
            self.watchdog.check()
        except Exception:  # the watchdog must never take the supervisor down
            log.exception("database watchdog round failed")

    def _shutdown(self) -> None:
        log.info("stopping: the TLS front, workers, then background work, then the database")
        if self.front is not None:
            self.front.stop()
        for slot in self._slots:
            if slot.proc is not None and slot.proc.poll() is None:
                slot.proc.terminate()
        deadline = time.monotonic() + STOP_WORKERS_SECONDS
        for slot in self._slots:
            if slot.proc is None:
                continue
            try:
                slot.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop in %.0fs: killing it", slot.index,
                          STOP_WORKERS_SECONDS)
                slot.proc.kill()
                slot.proc.wait(5)
        if self._inprocess is not None:
            self._inprocess.close()
        for b in reversed(list(self.background)):
            try:
                b.stop()
            except Exception:
                log.exception("stopping %r failed", b)
        if self._sock is not None:
            self._sock.close()
        self.shared.put_value("server.processes", None)

    # -- workers -----------------------------------------------------------------------------
    def _spawn(self, slot: WorkerSlot) -> None:
        assert self._sock is not None
        fd = self._sock.fileno()
        orders = {"config": self.runtime.config.to_dict(), "fd": fd,
                  "threads": self.threads, "index": slot.index, "verbose": self.verbose}
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.ops.worker"], stdin=subprocess.PIPE,
            pass_fds=(fd,), preexec_fn=die_with_parent, close_fds=True,
            cwd=os.getcwd(), env=os.environ.copy())
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(orders).encode())
        proc.stdin.close()
        slot.started(proc, time.monotonic())
        log.info("worker %d started (pid %d)", slot.index, proc.pid)

    def _tend(self, slot: WorkerSlot) -> bool:
        """Replace a dead worker. True when something changed."""
        now = time.monotonic()
        pid = slot.proc.pid if slot.proc is not None else None
        died = slot.reap(now)
        if died is not None:
            code, lived = died
            why = exit_description(code)
            log.error("worker %d (pid %d) died after %.1fs (%s): replacing it", slot.index,
                      pid, lived, why)
            self.shared.record_event("worker_exited", {"worker": slot.index, "pid": pid,
                                                       "reason": why,
                                                       "lived_seconds": round(lived, 1)})
        if not slot.due(now):
            return died is not None
        self._spawn(slot)
        return True

    def worker_pids(self) -> list[int]:
        return [s.proc.pid for s in self._slots if s.proc is not None and s.proc.poll() is None]

    def _publish(self) -> None:
        self.shared.put_value("server.processes", {
            "supervisor": os.getpid(), "workers": self.worker_pids(),
            "workers_wanted": self.workers, "threads": self.threads,
            "tls_front": self.front.pid if self.front is not None else None})

    # -- one process (Windows, or workers = 0) -------------------------------------------------
    def _serve_in_process(self, sock: socket.socket) -> None:
        app = create_app(self.runtime.config, self.runtime.connect(), run_jobs=False)
        server = make_server(app, sock, self.threads)
        thread = threading.Thread(target=server.run, name="lanpos-waitress", daemon=True)
        thread.start()
        self._inprocess = server
