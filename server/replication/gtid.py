"""MariaDB GTID positions, compared (pure: no database).

A MariaDB GTID is ``domain-server-sequence``. A *position* (``gtid_slave_pos``,
``gtid_binlog_pos``) holds the newest GTID of each replication domain; a binlog *state*
(``gtid_binlog_state``) holds the newest of each (domain, server) pair — what tells whose
transactions a server has. With ``gtid_strict_mode`` sequence numbers only grow within a domain.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Gtid:
    domain: int
    server: int
    seq: int

    def __str__(self) -> str:
        return f"{self.domain}-{self.server}-{self.seq}"


def parse(text: str | None) -> list[Gtid]:
    out: list[Gtid] = []
    for part in (text or "").replace("\n", "").split(","):
        part = part.strip()
        if not part:
            continue
        d, s, q = part.split("-")
        out.append(Gtid(int(d), int(s), int(q)))
    return out


def position(text: str | None) -> dict[int, Gtid]:
    """domain → its newest GTID."""
    pos: dict[int, Gtid] = {}
    for g in parse(text):
        if g.domain not in pos or g.seq > pos[g.domain].seq:
            pos[g.domain] = g
    return pos


def state(text: str | None) -> dict[tuple[int, int], int]:
    """(domain, server) → the newest sequence number of that server's transactions."""
    st: dict[tuple[int, int], int] = {}
    for g in parse(text):
        st[(g.domain, g.server)] = max(g.seq, st.get((g.domain, g.server), 0))
    return st


def transactions_behind(ahead: str | None, behind: str | None) -> int:
    """How many transactions ``ahead`` has that ``behind`` has not (per domain, by sequence)."""
    a, b = position(ahead), position(behind)
    n = 0
    for domain, g in a.items():
        mine = b.get(domain)
        n += max(0, g.seq - (mine.seq if mine else 0))
    return n


def contains(pos: str | None, other: str | None) -> bool:
    """Has ``pos`` reached every domain of ``other``?"""
    p = position(pos)
    return all(d in p and p[d].seq >= g.seq for d, g in position(other).items())


def errant(binlog_pos: str | None, slave_pos: str | None) -> list[Gtid]:
    """A standby's own transactions: GTIDs in its binary log beyond what it replicated.

    A standby only ever writes by replication, so its ``gtid_binlog_pos`` equals its
    ``gtid_slave_pos``. Anything else was written on it directly (an errant transaction):
    promoting it would fork the shop's history."""
    bp, sp = position(binlog_pos), position(slave_pos)
    return [g for d, g in bp.items() if d not in sp or g.seq > sp[d].seq]


def only_on(mine: str | None, theirs_state: str | None) -> list[tuple[int, int, int, int]]:
    """Transactions a server has that another has not, by whose they are: for each
    (domain, server) of ``mine`` (a binlog state) — (domain, server, their newest, my newest)
    where mine is ahead. An old primary compares its own state with the new primary's before
    it rejoins: transactions only it has were acknowledged while semi-sync had fallen back."""
    m, t = state(mine), state(theirs_state)
    out = []
    for (d, s), seq in sorted(m.items()):
        have = t.get((d, s), 0)
        if seq > have:
            out.append((d, s, have, seq))
    return out
