"""The scheduler: one thread in the supervisor of ``lanpos-server run`` (never in a worker).

Each round (every 30 s):

* the **daily jobs** (points expiry, the report cache of closed days) run at the first round of
  each shop day — a day the server was off is caught up at the next start. Each job claims its
  day in the shared state first (``daily:<job>``), so it runs exactly once per day whatever
  restarts in between;
* a **scheduled backup** when a slot of ``[backup]`` has passed with no backup since
  (``server.backup.schedule.due_reason``), then copies, verification of the newest backup and
  retention. A failure backs off for ten minutes (no hammering a full disk every 30 s).

What runs depends on the server's role (``server.roles``): a standby takes backups of its
replica but never writes (no points expiry, no report cache) into it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from common.errors import ApiError
from server.backup.schedule import due_reason
from server.backup.service import BackupService
from server.clock import shop_clock, utcnow
from server.db.session import run_in_transaction
from server.domain import points, reports
from server.domain.actor import Actor
from server.ops.periodic import PeriodicThread
from server.roles import policy
from server.runtime import Runtime
from server.state import ServerRole, SharedState

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0


@dataclass(frozen=True)
class DailyJob:
    name: str
    run: Callable[[], object]
    writes: bool = True  # writes to the shop database: primary only


def expire_points(rt: Runtime) -> str:
    """The daily points-expiry job (``points_expiry_months`` setting; 0 = off)."""
    touched, total, cutoff = run_in_transaction(
        rt.session_factory, lambda s: points.expire(s, Actor.system("points-expiry")))
    return f"{total} points of {touched} members expired (earned before {cutoff})"


def build_report_days(rt: Runtime) -> str:
    """Nightly: the report cache of every closed business day not built yet."""
    today = shop_clock(rt.config).today()
    built = run_in_transaction(rt.session_factory, lambda s: reports.build_all(s, today))
    return f"report days built: {built}"


def daily_jobs(rt: Runtime) -> list[DailyJob]:
    return [DailyJob("points expiry", lambda: expire_points(rt)),
            DailyJob("report days", lambda: build_report_days(rt))]


class Scheduler(PeriodicThread):
    """The thread. ``tick()`` does one round (the tests call it directly)."""

    thread_name = "lanpos-scheduler"

    def __init__(self, service: BackupService | None, *, tick_seconds: float = TICK_SECONDS,
                 daily_jobs: Sequence[DailyJob | tuple[str, Callable[[], object]]] = ()
                 ) -> None:
        super().__init__(tick_seconds)
        self.service = service
        # the data directory's shared state (role, slot claims); none without a service
        self.shared: SharedState | None = service.shared if service is not None else None
        self.tick_seconds = tick_seconds
        self.daily_jobs = [j if isinstance(j, DailyJob) else DailyJob(*j) for j in daily_jobs]
        self._daily_done: dt.date | None = None
        self.last_run: dict[str, object] = {}
        self.retry_after = dt.timedelta(minutes=10)
        self._not_before: dict[str, dt.datetime] = {}  # back-off after a failure

    # -- the thread (server.ops.periodic) -----------------------------------------------------
    def on_start(self) -> None:
        if self.service is not None:
            self.service.cleanup_partials()

    def round(self) -> object:
        return self.tick()

    # -- one round ---------------------------------------------------------------------------
    def _role(self) -> ServerRole:
        return self.shared.cluster().role if self.shared is not None else ServerRole.PRIMARY

    def run_daily_jobs(self, today: dt.date) -> None:
        if self._daily_done == today:
            return
        self._daily_done = today
        may_write = policy(self._role()).runs_daily_writes
        for job in self.daily_jobs:
            if job.writes and not may_write:
                continue
            if self.shared is not None and not self.shared.claim_slot(f"daily:{job.name}",
                                                                      today.isoformat()):
                continue  # already ran today (before a restart)
            try:
                log.info("daily job %s: %s", job.name, job.run())
            except Exception:  # one job's failure must not stop the others or the backups
                log.exception("daily job %s failed", job.name)

    def tick(self, now_utc: dt.datetime | None = None) -> str | None:
        svc = self.service
        utc = now_utc or utcnow()
        now = utc.astimezone(svc.tz if svc is not None else dt.UTC)
        self.run_daily_jobs(now.date())
        if svc is None:
            return None
        s = svc.settings
        if not s.enabled or not policy(self._role()).takes_backups:
            return None  # scheduled backups off: housekeeping only
        backups = svc.list()
        last = backups[-1].started_at if backups else None
        reason = due_reason(now, last, s)
        if reason is not None and self._may("backup", utc):
            try:
                info = svc.backup(reason=f"scheduled-{reason}")
                svc.last_error = None
                self.last_run = {"at": info.manifest["ended_at"], "backup": info.id}
                if self.shared is not None:
                    self.shared.record_event("scheduled_backup", {
                        "reason": info.manifest["reason"], "backup_id": info.id})
            except Exception as e:
                self._failed("backup", utc)
                svc.last_error = e.message("zh") if isinstance(e, ApiError) else str(e)
                log.error("scheduled backup failed (next try in %s): %s", self.retry_after, e)
                raise
        elif reason is not None:
            reason = None  # failed a moment ago: wait for the back-off
        if s.verify_after_backup and self._may("verify", utc):
            try:
                svc.verify_newest()
            except Exception:
                self._failed("verify", utc)
                raise
        svc.apply_retention()
        return reason

    def _may(self, what: str, now: dt.datetime) -> bool:
        t = self._not_before.get(what)
        return t is None or now >= t

    def _failed(self, what: str, now: dt.datetime) -> None:
        self._not_before[what] = now + self.retry_after
