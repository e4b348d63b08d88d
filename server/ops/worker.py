"""An API worker process: waitress serving the app on the socket the supervisor bound.

Started by :mod:`server.ops.supervisor` as ``python -m server.ops.worker``; reads its orders
(the effective configuration, the inherited socket's file descriptor, its index and thread
count) as one JSON document on stdin, so that no password appears on a command line. It does
not start, stop or migrate the database and runs no scheduler and no jobs: the supervisor does
those exactly once. SIGTERM stops it (in-flight requests finish within waitress's shutdown).
"""

from __future__ import annotations

import gc
import json
import logging
import logging.handlers
import os
import signal
import socket
import sys
import threading
from typing import Any

from waitress import create_server

from common.text import warm_up
from server.app import create_app
from server.config import Config


def _setup_logging(cfg: Config, index: int, verbose: bool) -> None:
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter(f"%(asctime)s %(levelname)s worker-{index} %(name)s: %(message)s")
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(fmt)
    root.addHandler(err)
    try:  # the supervisor rotates server.log; a worker reopens it when it was rotated
        fh = logging.handlers.WatchedFileHandler(cfg.data_dir / "logs" / "server.log",
                                                 encoding="utf-8")
        fh.setFormatter(fmt)
        root.addHandler(fh)
    except OSError:
        pass
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" chatter
    logging.getLogger("alembic").setLevel(logging.WARNING)  # /health reads the schema revision


def make_server(app: Any, sock: socket.socket, threads: int) -> Any:
    """waitress on a socket bound beforehand (every worker, and the one-process mode)."""
    return create_server(app, sockets=[sock], threads=threads, ident="lanpos",
                         # the TLS front (nginx on this machine) says who the client is
                         trusted_proxy="127.0.0.1", trusted_proxy_count=1,
                         trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
                         clear_untrusted_proxy_headers=True,
                         asyncore_use_poll=True)  # no select() limit of 1024 descriptors


def serve(orders: dict[str, Any]) -> int:
    cfg = Config.from_dict(orders["config"])
    index = int(orders.get("index", 0))
    _setup_logging(cfg, index, bool(orders.get("verbose")))
    sock = socket.socket(fileno=int(orders["fd"]))
    app = create_app(cfg, run_jobs=False)
    server = make_server(app, sock, int(orders["threads"]))
    # everything imported and built so far lives as long as the worker: out of the garbage
    # collector's sight, a full collection no longer stops every thread for ~0.1 s
    gc.freeze()

    def _stop(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the supervisor's to handle
    logging.getLogger("server.ops.worker").info("worker %d (pid %d) serving with %s threads", index,
                                     os.getpid(), orders["threads"])
    # the pinyin dictionaries load beside the first requests, not before them (common.text)
    threading.Thread(target=warm_up, name="pinyin-warm-up", daemon=True).start()
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.close()
        app.extensions["lanpos"].close()
    return 0


def main() -> int:
    orders = json.loads(sys.stdin.read())
    sys.stdin.close()
    return serve(orders)


if __name__ == "__main__":
    sys.exit(main())
