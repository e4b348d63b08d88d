"""Time zones by IANA name: the shop's clock on the server, its receipts on the counters.

``zone("")`` is this machine's own zone, asked of the operating system for every moment (so
daylight saving time and a changed ``TZ`` are followed); ``zone("Asia/Shanghai")`` is the
named zone. A name that is not known raises ``ValueError`` with a message for the owner.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class MachineZone(dt.tzinfo):
    """This machine's local time zone (what a naive ``datetime.astimezone()`` uses)."""

    def utcoffset(self, t: dt.datetime | None) -> dt.timedelta | None:
        return _machine_local(t).utcoffset()

    def dst(self, t: dt.datetime | None) -> dt.timedelta | None:
        return _machine_local(t).dst()

    def tzname(self, t: dt.datetime | None) -> str | None:
        return _machine_local(t).tzname()

    def fromutc(self, t: dt.datetime) -> dt.datetime:
        local = t.replace(tzinfo=dt.UTC).astimezone()
        out = local.replace(tzinfo=self)
        if out.utcoffset() != local.utcoffset():  # the repeated hour when the clocks go back
            out = out.replace(fold=1)
        return out

    def __repr__(self) -> str:
        return "MachineZone()"

    def __str__(self) -> str:
        return self.tzname(None) or "local"


def _machine_local(t: dt.datetime | None) -> dt.datetime:
    """``t``'s wall-clock time read as this machine's local time, with its offset."""
    if t is None:
        return dt.datetime.now().astimezone()
    return t.replace(tzinfo=None).astimezone()


def zone(name: str = "") -> dt.tzinfo:
    """The time zone ``name`` (IANA, e.g. ``Asia/Shanghai``); empty: this machine's zone."""
    name = (name or "").strip()
    if not name:
        return MachineZone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise ValueError(f"unknown time zone '{name}' (expected an IANA name such as "
                         "Asia/Shanghai)") from e


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not a usable time zone (None: it is)."""
    try:
        zone(name)
    except ValueError as e:
        return str(e)
    return None
