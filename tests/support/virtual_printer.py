"""A network receipt printer for tests: a TCP server on 127.0.0.1 that keeps what it gets.

Each connection is one job; its bytes are appended to :attr:`VirtualPrinter.jobs` when the
client closes the connection. ``stop()`` closes the listening socket, so the port refuses
connections (printer switched off); ``start()`` listens again on the same port.

``paper_out = True`` makes it answer the paper-status query DLE EOT 4 with "paper end"
(0x72); otherwise it answers "paper present" (0x12), as a real printer does.
"""

from __future__ import annotations

import socket
import threading
import time

DLE_EOT = b"\x10\x04"
_STATUS_PAPER_OK = 0x12
_STATUS_PAPER_END = 0x72


class VirtualPrinter:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.jobs: list[bytes] = []
        self.paper_out = False
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._stopping = threading.Event()

    # lifecycle ---------------------------------------------------------------------
    def start(self) -> VirtualPrinter:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((self.host, self.port))
        server.listen(5)
        server.settimeout(0.1)
        self.port = server.getsockname()[1]
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="virtual-printer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections to :attr:`port` are refused from now on."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._server is not None:
            self._server.close()
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> VirtualPrinter:
        return self.start() if not self.running else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # results -----------------------------------------------------------------------
    def wait_for_jobs(self, count: int = 1, timeout: float = 5.0) -> list[bytes]:
        """Block until ``count`` jobs arrived; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.jobs) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"virtual printer got {len(self.jobs)} job(s), expected {count}"
                    )
                self._cond.wait(left)
            return list(self.jobs)

    # server ------------------------------------------------------------------------
    def _serve(self) -> None:
        assert self._server is not None
        server = self._server
        while not self._stopping.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._receive, args=(conn,), daemon=True).start()

    def _receive(self, conn: socket.socket) -> None:
        data = bytearray()
        with conn:
            conn.settimeout(10)
            while True:
                try:
                    chunk = conn.recv(65536)
                except (TimeoutError, ConnectionError):
                    break
                if not chunk:
                    break
                data += chunk
                if DLE_EOT in chunk:
                    status = _STATUS_PAPER_END if self.paper_out else _STATUS_PAPER_OK
                    conn.sendall(bytes([status]))
        with self._cond:
            self.jobs.append(bytes(data))
            self._cond.notify_all()
