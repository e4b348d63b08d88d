"""What runs in which server role — the one place that decides it.

A lanpos server is the **primary** (it takes the counters' writes) or a **standby** (a read-only
replica of the primary's database, promoted by the owner after a crash). Everything that writes
to the shop database must ask here first: the API's write endpoints, the scheduler's daily jobs
(points expiry, the report cache), a report that would fill its cache on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.state import ServerRole


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
}


def policy(role: ServerRole | str) -> RolePolicy:
    return POLICIES[ServerRole(role)]
