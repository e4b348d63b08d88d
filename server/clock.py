"""The shop's clock: one time zone for the business day, the backup schedule, point-in-time
restore, reports' days, the birthdays of the month and coupon validity.

The zone is ``[shop] timezone`` in ``lanpos.toml`` (an IANA name such as ``Asia/Shanghai``;
empty = the server machine's own zone). The database stores UTC; this is the one place that
turns a moment into the shop's wall-clock time and back. Pure: it depends on the config only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from common.timezones import zone
from server.config import Config


def utcnow() -> dt.datetime:
    """Now, aware UTC (the clock's only source of the current time)."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class ShopClock:
    """The shop's wall clock. Raises ``ValueError`` for an unknown zone name."""

    zone: str = ""
    tz: dt.tzinfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tz", zone(self.zone))

    def now(self) -> dt.datetime:
        """Now in shop time (aware)."""
        return utcnow().astimezone(self.tz)

    def today(self) -> dt.date:
        """The business day: the shop's date now (a sale at 00:30 shop time is on the new
        day, whatever the server machine's own time zone)."""
        return self.now().date()

    def local(self, t: dt.datetime) -> dt.datetime:
        """A moment (aware, or naive UTC as stored) in shop time (aware)."""
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)
        return t.astimezone(self.tz)

    def to_utc(self, local: dt.datetime) -> dt.datetime:
        """Shop wall-clock time (naive; an aware time is converted as it is) → aware UTC."""
        if local.tzinfo is None:
            local = local.replace(tzinfo=self.tz)
        return local.astimezone(dt.UTC)

    def to_stored(self, local: dt.datetime) -> dt.datetime:
        """Shop wall-clock time → naive UTC, as the database stores it."""
        return self.to_utc(local).replace(tzinfo=None)

    def day_start(self, day: dt.date) -> dt.datetime:
        """The first moment of a business day, naive UTC as stored."""
        return self.to_stored(dt.datetime.combine(day, dt.time.min))


def shop_clock(config: Config) -> ShopClock:
    """The clock of the shop this config serves (``[shop] timezone``)."""
    return ShopClock(config.shop.timezone)
