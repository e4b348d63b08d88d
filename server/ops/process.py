"""Child processes that must not outlive the server (MariaDB, API workers)."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from dataclasses import dataclass

#: a child that dies sooner than this after its start "died quickly" ...
QUICK_DEATH_SECONDS = 10.0
#: ... and after the second time in a row it is restarted with a growing pause, up to this
MAX_RESPAWN_PAUSE = 30.0


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


@dataclass
class ChildSlot:
    """One child the server keeps running (an API worker, the TLS front) and its restart
    bookkeeping: a child that died is started again at once, but one that keeps dying right
    after its start is restarted with a growing pause (0.5 s doubling, up to 30 s), so a
    broken one does not spin."""

    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    not_before: float = 0.0

    def started(self, proc: subprocess.Popen, now: float) -> None:
        self.proc, self.started_at = proc, now

    def reap(self, now: float) -> tuple[int, float] | None:
        """(exit code, seconds it lived) once, when the child has died (the slot is empty
        then, and ``due`` after the pause); None while it runs or when none was started."""
        if self.proc is None:
            return None
        code = self.proc.poll()
        if code is None:
            if self.quick_deaths and now - self.started_at > QUICK_DEATH_SECONDS:
                self.quick_deaths = 0  # it stayed up: forget earlier trouble
            return None
        lived = now - self.started_at
        self.quick_deaths = self.quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 0
        pause = (min(MAX_RESPAWN_PAUSE, 0.5 * 2 ** self.quick_deaths)
                 if self.quick_deaths > 1 else 0.0)
        self.proc, self.not_before = None, now + pause
        return code, lived

    def due(self, now: float) -> bool:
        """Empty and past its pause: start it."""
        return self.proc is None and now >= self.not_before
