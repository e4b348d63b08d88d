"""The backup schedule, run by a plain thread inside ``lanpos-server run`` (no cron, no systemd
timer: the same on Windows).

* a daily backup at ``[backup] daily_at`` (shop local time);
* plus one every ``interval_hours`` within opening hours ``open_at``–``close_at``;
* a slot that passed while the server was off is due at the next start (the newest backup is
  compared with the newest slot, so a missed slot is simply "not yet done");
* after a scheduled backup: copies to the destinations, verification of the newest backup
  (``verify_after_backup``), retention.

:func:`due_reason` is pure and tested on its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from common.errors import ApiError
from server.config import BackupSection

from .backup import BackupService, shop_tz, utcnow

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0


def _hm(s: str) -> dt.time:
    h, m = s.strip().split(":")
    return dt.time(int(h), int(m))


def validate_settings(s: BackupSection) -> list[str]:
    """Problems with the schedule/retention settings (empty = fine)."""
    problems = []
    for name in ("daily_at", "open_at", "close_at"):
        try:
            _hm(getattr(s, name))
        except (ValueError, AttributeError):
            problems.append(f"{name}: expected HH:MM")
    if not 0 <= s.interval_hours <= 24:
        problems.append("interval_hours: 0..24")
    if not 1 <= s.compress_level <= 9:
        problems.append("compress_level: 1..9")
    for name in ("keep_last", "keep_daily", "keep_weekly", "keep_monthly"):
        if getattr(s, name) < 0:
            problems.append(f"{name}: must not be negative")
    if s.keep_last < 1:
        problems.append("keep_last: at least 1")
    if s.timezone:
        try:
            shop_tz(s)
        except Exception:
            problems.append(f"timezone: unknown zone {s.timezone}")
    return problems


def last_slots(now: dt.datetime, s: BackupSection) -> dict[str, dt.datetime]:
    """The newest slot of each kind at or before ``now`` (aware, shop local time)."""
    tz = now.tzinfo
    out: dict[str, dt.datetime] = {}
    daily = dt.datetime.combine(now.date(), _hm(s.daily_at), tzinfo=tz)
    if daily > now:
        daily -= dt.timedelta(days=1)
    out["daily"] = daily
    if s.interval_hours > 0:
        step = dt.timedelta(hours=s.interval_hours)
        for day in (now.date(), now.date() - dt.timedelta(days=1)):
            opens = dt.datetime.combine(day, _hm(s.open_at), tzinfo=tz)
            closes = dt.datetime.combine(day, _hm(s.close_at), tzinfo=tz)
            if closes <= opens:
                closes += dt.timedelta(days=1)  # open past midnight
            slot, latest = opens, None
            while slot <= closes and slot <= now:
                latest = slot
                slot += step
            if latest is not None:
                out["interval"] = latest
                break
    return out


def due_reason(now: dt.datetime, last_backup: dt.datetime | None,
               s: BackupSection) -> str | None:
    """'daily' / 'interval' when a slot has passed with no backup since it, else None."""
    if not s.enabled:
        return None
    slots = last_slots(now, s)
    missed = [(t, kind) for kind, t in slots.items() if last_backup is None or last_backup < t]
    if not missed:
        return None
    return max(missed)[1]


class BackupScheduler:
    """The thread. ``tick()`` does one round (used by the tests too)."""

    def __init__(self, service: BackupService, tick_seconds: float = TICK_SECONDS,
                 daily_jobs: list[tuple[str, Callable[[], object]]] | None = None) -> None:
        self.service = service
        self.tick_seconds = tick_seconds
        # other once-a-day housekeeping (e.g. points expiry): run at the first round of each
        # shop day, so a day the server was off is caught up at the next start
        self.daily_jobs = list(daily_jobs or [])
        self._daily_done: dt.date | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_run: dict[str, Any] = {}
        self.retry_after = dt.timedelta(minutes=10)
        self._not_before: dict[str, dt.datetime] = {}  # back-off after a failure

    def start(self) -> None:
        self.service.cleanup_partials()
        self._thread = threading.Thread(target=self._loop, name="lanpos-backup-scheduler",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the schedule must survive any single failure
                log.exception("backup scheduler round failed")
            self._stop.wait(self.tick_seconds)

    def run_daily_jobs(self, today: dt.date) -> None:
        if self._daily_done == today:
            return
        self._daily_done = today
        for name, job in self.daily_jobs:
            try:
                log.info("daily job %s: %s", name, job())
            except Exception:  # one job's failure must not stop the others or the backups
                log.exception("daily job %s failed", name)

    def tick(self, now_utc: dt.datetime | None = None) -> str | None:
        svc = self.service
        s = svc.settings
        utc = now_utc or utcnow()
        now = utc.astimezone(shop_tz(s))
        self.run_daily_jobs(now.date())
        if not s.enabled:  # scheduled backups off ([backup] enabled = false): housekeeping only
            return None
        backups = svc.list()
        last = backups[-1].started_at if backups else None
        reason = due_reason(now, last, s)
        if reason is not None and self._may("backup", utc):
            try:
                info = svc.backup(reason=f"scheduled-{reason}")
                svc.last_error = None
                self.last_run = {"at": info.manifest["ended_at"], "backup": info.id}
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
