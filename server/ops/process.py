"""Child processes that must not outlive the server (MariaDB, API workers)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """``preexec_fn`` for a child of the server: on Linux it gets SIGTERM when its parent
    dies (even of SIGKILL), and it gets a session of its own, so that a Ctrl+C in the
    terminal reaches only the supervisor, which stops its children in order.

    Linux sends the signal when the *thread* that forked the child ends, so children that
    must live as long as the server are started from the main thread only."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setsid()


def exit_description(code: int | None) -> str:
    """'exit code 3' / 'killed by SIGKILL' for a Popen returncode."""
    if code is None:
        return "running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
