"""The members' totals, kept as they change: stored-value liability (principal and bonus
apart), points outstanding, and how many members are active / hold a balance / hold points.

The owner's members report needs them on every call; summing them over a million member
rows took ~0.7 s. So every change of a cached balance adds its difference here, in the same
transaction as the member row and its ledger entry: ``wallet._post``, ``points._post``, a
member created or (de)activated. The table has ``STRIPES`` rows and a write goes to the row
of its database connection (``CONNECTION_ID() % STRIPES``), so counters selling at the same
time do not wait for one another on one row; a transaction's changes all go to one stripe,
so two transactions never lock two stripes in opposite orders. The totals are the sum over
the stripes, and a rollback (or a savepoint's) takes the difference back with the rest.

``check_totals`` (``lanpos-server verify``) compares them with the live sums over
``members``; ``RECOUNT_SQL`` sets them from those sums (bulk loads that write members with
SQL of their own, like the benchmark's generator, run it when they are done: with no
other writer)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import text
from sqlalchemy.orm import Session

STRIPES = 16
COLUMNS = ("members", "sv_principal", "sv_bonus", "with_balance", "points", "with_points")
_INTO = f"INSERT INTO member_totals (stripe, {', '.join(COLUMNS)}) "
_LIVE = ("COALESCE(SUM(active), 0), COALESCE(SUM(sv_principal), 0), "
         "COALESCE(SUM(sv_bonus), 0), COALESCE(SUM(sv_principal + sv_bonus > 0), 0), "
         "COALESCE(SUM(points), 0), COALESCE(SUM(points > 0), 0) "
         "FROM members FORCE INDEX (ix_members_balances)")  # one pass over the index

RECOUNT_SQL = (
    "DELETE FROM member_totals",
    _INTO + "SELECT 0, " + _LIVE,
    _INTO + "VALUES " + ", ".join(f"({i}, 0, 0, 0, 0, 0, 0)" for i in range(1, STRIPES)),
)

_ADD = text(
    _INTO + f"VALUES (CONNECTION_ID() % {STRIPES}, "
    + ", ".join(f":{c}" for c in COLUMNS) + ") ON DUPLICATE KEY UPDATE "
    + ", ".join(f"{c} = {c} + VALUES({c})" for c in COLUMNS))


@dataclass(frozen=True)
class Totals:
    members: int = 0
    sv_principal: int = 0
    sv_bonus: int = 0
    with_balance: int = 0
    points: int = 0
    with_points: int = 0


def add(session: Session, *, members: int = 0, sv_principal: int = 0, sv_bonus: int = 0,
        with_balance: int = 0, points: int = 0, with_points: int = 0) -> None:
    """Add these differences to the totals (in the caller's transaction)."""
    delta = {"members": members, "sv_principal": sv_principal, "sv_bonus": sv_bonus,
             "with_balance": with_balance, "points": points, "with_points": with_points}
    if any(delta.values()):
        session.execute(_ADD, delta)


def positive_change(before: int, after: int) -> int:
    """+1 when a balance becomes positive, -1 when it falls to 0, else 0."""
    return int(after > 0) - int(before > 0)


def read(session: Session) -> Totals:
    row = session.execute(text(
        "SELECT " + ", ".join(f"COALESCE(SUM({c}), 0)" for c in COLUMNS)
        + " FROM member_totals")).one()
    return Totals(*(int(v) for v in row))


def live(session: Session) -> Totals:
    """The same figures summed over every member row (one pass: verify, tests)."""
    return Totals(*(int(v) for v in session.execute(text("SELECT " + _LIVE)).one()))


def recount(session: Session) -> None:
    for sql in RECOUNT_SQL:
        session.execute(text(sql))


def check_totals(session: Session) -> list[str]:
    kept, summed = read(session), live(session)
    return [f"member totals: {f.name} kept {getattr(kept, f.name)} "
            f"!= {getattr(summed, f.name)} over the members"
            for f in fields(Totals) if getattr(kept, f.name) != getattr(summed, f.name)]
