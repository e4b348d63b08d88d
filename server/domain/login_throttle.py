"""Failed logins per client address: one address that keeps failing is refused for a while
(``429 too_many_attempts`` with ``Retry-After``), whatever account it tries.

Why, besides the per-account lockout (``auth.login_check``): an attacker who cycles through
usernames from one computer would otherwise lock every account of the shop — five wrong
passwords each. With the address limit above the account limit, one address can lock at most
``address limit ÷ account limit`` accounts in any window (10 ÷ 5 = 2 with the defaults); an
account's failures older than the window no longer count, so accounts cannot be primed with
four failures each and locked later all at once. A cashier who mistypes a few times is not
stopped by either.

The window slides: the address is refused while it has ``max_failed_logins_per_address``
failures within the last ``login_window_minutes``; it may try again once the oldest of them
leaves the window. A refused attempt is not counted (nothing was checked) and not audited one
by one (an attacker's flood would fill the audit log); the failure that trips the limit writes
one ``auth.address_blocked`` entry. A successful login does not clear the address's failures:
an insider with an account of their own could otherwise reset their counter.

State: one ``login_throttle`` row per address in the shop database, shared by every worker
process. The row is locked (``INSERT … ON DUPLICATE KEY UPDATE`` then ``FOR UPDATE``) for the
whole login, so concurrent attempts from one address are checked one after the other and
cannot overshoot the limit. On a standby (read-only database) the limit set on the primary is
honoured but nothing is counted (``check_read_only``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.orm import Session

from common.errors import ApiError
from server.db.base import utcnow
from server.db.models import LoginThrottle

UNKNOWN = "?"  # requests without a client address (never from waitress)


def _times(raw: Any) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(t) for t in (raw or [])]


def _recent(times: list[dt.datetime], window: dt.timedelta, now: dt.datetime
            ) -> list[dt.datetime]:
    return [t for t in times if t > now - window]


def _refuse(recent: list[dt.datetime], limit: int, window: dt.timedelta, now: dt.datetime
            ) -> None:
    if len(recent) < limit:
        return
    # allowed again once the failure that made it ``limit`` (the limit-th newest) is old
    until = recent[-limit] + window
    seconds = max(1, math.ceil((until - now).total_seconds()))
    raise ApiError("too_many_attempts", status=429, minutes=max(1, math.ceil(seconds / 60)),
                   retry_after=seconds)


def check(session: Session, ip: str | None, limit: int, window_minutes: int
          ) -> LoginThrottle:
    """Lock the address's row (created if new) and raise ``too_many_attempts`` (429) while it
    is over the limit. Returns the row for :func:`failed`."""
    ip = ip or UNKNOWN
    now = utcnow()
    session.execute(insert(LoginThrottle).values(ip=ip, failures=[], updated_at=now)
                    .on_duplicate_key_update(ip=ip))
    row = session.scalars(select(LoginThrottle).where(LoginThrottle.ip == ip)
                          .with_for_update().execution_options(populate_existing=True)).one()
    window = dt.timedelta(minutes=window_minutes)
    _refuse(_recent(_times(row.failures), window, now), limit, window, now)
    return row


def failed(row: LoginThrottle, limit: int, window_minutes: int) -> bool:
    """Count a failed attempt; True when this one tripped the limit."""
    now = utcnow()
    window = dt.timedelta(minutes=window_minutes)
    recent = [*_recent(_times(row.failures), window, now), now]
    row.failures = [t.isoformat() for t in recent[-limit:]]  # no more are ever needed
    row.updated_at = now
    return len(recent) == limit


def check_read_only(session: Session, ip: str | None, limit: int, window_minutes: int) -> None:
    """A standby: refuse an address the primary has blocked (the row is replicated)."""
    row = session.get(LoginThrottle, ip or UNKNOWN)
    if row is not None:
        now = utcnow()
        window = dt.timedelta(minutes=window_minutes)
        _refuse(_recent(_times(row.failures), window, now), limit, window, now)
