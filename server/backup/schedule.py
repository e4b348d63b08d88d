"""The backup schedule: when a backup is due. The thread that acts on it is the server's
scheduler (``server.scheduler``, in the supervisor of ``lanpos-server run``: no cron, no systemd
timer, the same on Windows).

* a daily backup at ``[backup] daily_at`` (shop time, ``[shop] timezone``);
* plus one every ``interval_hours`` within opening hours ``open_at``–``close_at``;
* a slot that passed while the server was off is due at the next start (the newest backup is
  compared with the newest slot, so a missed slot is simply "not yet done");
* after a scheduled backup: copies to the destinations, verification of the newest backup
  (``verify_after_backup``), retention.

:func:`due_reason` is pure and tested on its own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from common.timezones import zone_problem
from server.config import BackupSection

from .safe_paths import path_problem


def _hm(s: str) -> dt.time:
    h, m = s.strip().split(":")
    return dt.time(int(h), int(m))


def validate_settings(s: BackupSection, timezone: str = "",
                      data_dir: Path | None = None) -> list[str]:
    """Problems with the schedule/retention settings, the folders (never a system path:
    ``safe_paths``) and the shop's time zone (empty = fine)."""
    problems = []
    for folder in [s.dir, s.scratch_dir, *s.destinations]:
        problem = path_problem(folder or "", data_dir)
        if problem:
            problems.append(problem)
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
    if timezone and zone_problem(timezone):
        problems.append(f"timezone: unknown zone {timezone}")
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
