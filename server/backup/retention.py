"""Retention (pure): which backups to keep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from server.config import BackupSection


@dataclass(frozen=True)
class RetentionItem:
    id: str
    at: dt.datetime  # local (shop) time
    verified: bool | None = None


@dataclass(frozen=True)
class RetentionPolicy:
    keep_last: int = 7
    daily: int = 14
    weekly: int = 8
    monthly: int = 12

    @classmethod
    def from_settings(cls, s: BackupSection) -> RetentionPolicy:
        return cls(s.keep_last, s.keep_daily, s.keep_weekly, s.keep_monthly)


def plan_retention(items: Sequence[RetentionItem], policy: RetentionPolicy) -> set[str]:
    """Which backups to keep: the newest ``keep_last``; the newest (not failed) backup of each
    of the newest ``daily`` days, ``weekly`` ISO weeks and ``monthly`` months that have one; and
    always the newest verified backup. Everything else may be deleted."""
    newest_first = sorted(items, key=lambda i: (i.at, i.id), reverse=True)
    keep = {i.id for i in newest_first[: max(policy.keep_last, 0)]}
    tiers: list[tuple[int, Callable[[dt.datetime], Any]]] = [
        (policy.daily, lambda t: t.date()),
        (policy.weekly, lambda t: t.isocalendar()[:2]),
        (policy.monthly, lambda t: (t.year, t.month)),
    ]
    for count, bucket_of in tiers:
        seen: set[Any] = set()
        for item in newest_first:
            if len(seen) >= count:
                break
            if item.verified is False:
                continue
            b = bucket_of(item.at)
            if b not in seen:
                seen.add(b)
                keep.add(item.id)
    for item in newest_first:
        if item.verified:
            keep.add(item.id)
            break
    return keep
