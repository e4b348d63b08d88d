"""What runs in which server role — the one place that decides it.

A lanpos server is the **primary** (it takes the counters' writes) or a **standby** (a read-only
replica of the primary's database, promoted by the owner after a crash). Everything that writes
to the shop database must ask here first: the API's write endpoints, the scheduler's daily jobs
(points expiry, the report cache), a report that would fill its cache on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.state import ServerRole, Snapshot

HANDOVER = "switchover"  # the maintenance of a primary handing its role to the standby


@dataclass(frozen=True)
class RolePolicy:
    role: ServerRole
    accepts_writes: bool  # the API's POST/PUT/PATCH/DELETE (else 503 standby_read_only)
    runs_daily_writes: bool  # scheduler: points expiry, building the report cache
    writes_report_cache: bool  # a report may fill report_days for the days it reads
    takes_backups: bool  # scheduled backups of this server's database


POLICIES: dict[ServerRole, RolePolicy] = {
    ServerRole.PRIMARY: RolePolicy(ServerRole.PRIMARY, accepts_writes=True,
                                   runs_daily_writes=True, writes_report_cache=True,
                                   takes_backups=True),
    # a standby's database is a replica: writing to it would fork the histories; it is
    # backed up all the same (a second copy on a second machine costs nothing)
    ServerRole.STANDBY: RolePolicy(ServerRole.STANDBY, accepts_writes=False,
                                   runs_daily_writes=False, writes_report_cache=False,
                                   takes_backups=True),
    # an old primary replaced by a promoted standby: its database may hold a fork of the
    # history (sales made while semi-sync had fallen back); frozen until ``rejoin``
    ServerRole.STALE: RolePolicy(ServerRole.STALE, accepts_writes=False,
                                 runs_daily_writes=False, writes_report_cache=False,
                                 takes_backups=False),
}


def policy(role: ServerRole | str) -> RolePolicy:
    return POLICIES[ServerRole(role)]


def database_writable(snap: Snapshot) -> bool:
    """Should this server's database take writes? Only on the primary of the newest epoch it
    knows — and not while it hands its role over in a switchover."""
    handing_over = snap.maintenance is not None and snap.maintenance.reason == HANDOVER
    return policy(snap.cluster.role).accepts_writes and not handing_over
