"""The database watchdog: a database that heals itself (issue 12, DESIGN.md §4).

Called by the supervisor's main loop (``check()`` about once a second), never from a thread of
its own: a restarted ``mariadbd`` is a child of the thread that starts it and Linux sends it the
parent-death signal when that thread ends, so only the main thread may start it.

* **Managed MariaDB**: when the child ``mariadbd`` is gone (crashed, killed, OOM), start it
  again at once — InnoDB recovers every committed transaction from its redo log
  (``innodb_flush_log_at_trx_commit=1``) — and back off if it will not start (a full disk).
* **External database**: ping it; record when it goes away and when it comes back. The
  workers' connection pools reconnect by themselves (``pool_pre_ping``).

Every change is recorded in the shared state (``/health`` shows the last restart, the API
answers 503 while the database is down) and logged; every restart is also written to the audit
log once the database answers again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import text

from server.domain import audit
from server.domain.actor import Actor
from server.ops.mariadb import MariaDBError
from server.runtime import Runtime
from server.state import SharedState

log = logging.getLogger(__name__)

EXTERNAL_PING_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 60.0

DOWN = "database_down"
RESTARTED = "database_restarted"
RESTART_FAILED = "database_restart_failed"
BACK = "database_back"


class DatabaseWatchdog:
    def __init__(self, runtime: Runtime, shared: SharedState,
                 start_timeout: float = 120.0) -> None:
        self.runtime = runtime
        self.shared = shared
        self.start_timeout = start_timeout
        self.down_since: float | None = None
        self._down_reason = ""
        self._next_try = 0.0
        self._backoff = 1.0
        self._next_ping = 0.0

    # -- the round ---------------------------------------------------------------------------
    def check(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.runtime.config.managed:
            self._check_managed(now)
        else:
            self._check_external(now)

    def _check_managed(self, now: float) -> None:
        mdb = self.runtime.mariadb
        if mdb is None:
            return
        gone = mdb.exited()
        if gone is None:
            return
        if self.down_since is None:
            self.down_since = now
            self._down_reason = f"mariadbd {gone}"
            log.error("managed MariaDB is down (%s): restarting it", gone)
            self.shared.record_event(DOWN, {"reason": self._down_reason,
                                            "error_log": mdb.tail_error_log(8)})
        if now < self._next_try:
            return
        try:
            mdb.start(timeout=self.start_timeout)
            self.runtime.apply_fencing()  # it boots read-only
        except MariaDBError as e:
            self._next_try = time.monotonic() + self._backoff
            log.error("managed MariaDB did not start (next try in %.0fs): %s", self._backoff, e)
            self.shared.record_event(RESTART_FAILED, {"reason": str(e)[-1500:],
                                                      "retry_in_seconds": self._backoff})
            self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)
            return
        down_s = round(time.monotonic() - self.down_since, 2)
        self._came_back(RESTARTED, down_s, restarted=True)

    def _check_external(self, now: float) -> None:
        if now < self._next_ping:
            return
        self._next_ping = now + (1.0 if self.down_since is not None else EXTERNAL_PING_SECONDS)
        try:
            self._ping()
        except Exception as e:
            if self.down_since is None:
                self.down_since = now
                self._down_reason = str(e)[:500]
                log.error("external database unreachable: %s", e)
                self.shared.record_event(DOWN, {"reason": self._down_reason})
            return
        if self.down_since is not None:
            self._came_back(BACK, round(now - self.down_since, 2), restarted=False)

    def _ping(self) -> None:
        engine = self.runtime.connect()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # -- recovery ----------------------------------------------------------------------------
    def _came_back(self, kind: str, down_seconds: float, restarted: bool) -> None:
        detail: dict[str, Any] = {"reason": self._down_reason, "down_seconds": down_seconds}
        if restarted:
            log.warning("managed MariaDB restarted after %.1fs down (%s)", down_seconds,
                        self._down_reason)
        else:
            log.warning("external database is back after %.1fs", down_seconds)
        self.shared.record_event(kind, detail)
        self.down_since = None
        self._backoff = 1.0
        self._next_try = 0.0
        if self.runtime.engine is not None:
            self.runtime.engine.dispose()  # every pooled connection died with the server
        self._audit(kind, detail)

    def _audit(self, kind: str, detail: dict[str, Any]) -> None:
        action = "database.restart" if kind == RESTARTED else "database.reconnect"
        try:
            with self.runtime.session_factory() as session:
                audit.write(session, Actor.system("watchdog"), action, "database",
                            self.runtime.config.database.name, after=detail)
                session.commit()
        except Exception as e:  # the record in the shared state is enough to go on
            log.warning("could not audit %s: %s", action, e)
