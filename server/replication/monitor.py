"""The replication monitor: one thread in the supervisor (issue 13, DESIGN.md §4).

About once a second it

* keeps the database's ``read_only`` equal to the role (writable only on the primary of the
  newest epoch known) — whatever restarted or changed it;
* on the **primary**: reads semi-sync (a standby attached and acknowledging, or fallen back:
  the primary sells alone) and records when it fell back and when it came back;
* on the **standby**: reads the replication threads, the lag in seconds and in transactions
  (against the primary's position from its ``/health``);
* asks the other server's ``/health`` (every ``PEER_SECONDS``): a peer that is primary of a
  newer epoch fences this server at once (an old primary that came back).

What it finds is published in the shared state (``replication``) for ``/health`` and the
owner's dashboard in every worker.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from server.clock import utcnow
from server.ops.periodic import PeriodicThread
from server.replication import dbops, gtid, peer
from server.roles import database_writable
from server.runtime import Runtime
from server.state import ServerRole, SharedState, Snapshot

log = logging.getLogger(__name__)

KEY = "replication"
TICK_SECONDS = 1.0
PEER_SECONDS = 2.0
FELL_BACK = "semi_sync_fallen_back"
CAME_BACK = "semi_sync_on"
FENCED = "fenced"


def facts_of(shared: SharedState) -> dict[str, Any]:
    """What the monitor published last ({} before its first round / without a supervisor)."""
    return shared.value(KEY) or {}


class ReplicationMonitor(PeriodicThread):
    thread_name = "lanpos-replication"
    failure_level = logging.DEBUG  # a database being restarted: the next round

    def __init__(self, runtime: Runtime, shared: SharedState,
                 tick_seconds: float = TICK_SECONDS) -> None:
        super().__init__(tick_seconds)
        self.runtime = runtime
        self.shared = shared
        self._next_peer = 0.0
        self._peer: peer.PeerHealth | None = None
        self._semi_on: bool | None = None
        self._semi_since: str | None = None

    # -- one round -------------------------------------------------------------------------
    def round(self) -> dict[str, Any]:
        mdb = self.runtime.mariadb
        r = self.runtime.config.fresh_replication()  # a worker may have paired or promoted
        self._ask_peer(r.peer)
        snap = self.shared.snapshot()
        cluster = snap.cluster
        facts: dict[str, Any] = {"at": utcnow().isoformat(), "peer": r.peer or None,
                                 "state": "none", "semi_sync": "off"}
        if self._peer is not None:
            facts["peer_reachable"] = self._peer.reachable
            facts["peer_role"] = self._peer.role
            facts["peer_epoch"] = self._peer.epoch
            facts["peer_error"] = self._peer.error
        if mdb is None:  # an external database: no replication of ours
            self.shared.put_value(KEY, facts)
            return facts
        self._fence(mdb, snap)
        g = dbops.gtids(mdb)
        facts["gtid"] = g["gtid_binlog_pos"]
        facts["gtid_slave_pos"] = g["gtid_slave_pos"]
        if cluster.role == ServerRole.PRIMARY:
            self._primary(mdb, r.semi_sync, facts)
        else:
            self._standby(mdb, facts)
        self.shared.put_value(KEY, facts)
        return facts

    def _ask_peer(self, address: str) -> None:
        now = time.monotonic()
        if not address or now < self._next_peer:
            return
        self._next_peer = now + PEER_SECONDS
        self._peer = h = peer.health(address, timeout=1.5)
        if h.reachable and h.epoch is not None and h.role == ServerRole.PRIMARY.value:
            before = self.shared.cluster()
            after = self.shared.learn_epoch(int(h.epoch), by=f"peer {address}")
            if after.role == ServerRole.STALE and before.role != ServerRole.STALE:
                log.error("the server at %s is primary of epoch %s: this server was replaced "
                          "and takes no more writes", address, h.epoch)
                if self.runtime.mariadb is not None:
                    self.runtime.mariadb.set_read_only(True)

    def _fence(self, mdb: Any, snap: Snapshot) -> None:
        writable = database_writable(snap)
        if mdb.is_read_only() == writable:
            log.warning("database read_only was %s for a %s: corrected",
                        "on" if writable else "off", snap.cluster.role.value)
            mdb.set_read_only(not writable)

    def _primary(self, mdb: Any, paired: bool, facts: dict[str, Any]) -> None:
        if not paired:
            return
        s = dbops.semi_sync(mdb)
        on = s.enabled and s.active and s.clients > 0
        if self._semi_on is None:
            last = next(iter(self.shared.events((FELL_BACK, CAME_BACK), limit=1)), None)
            self._semi_on = (last is None or last.kind == CAME_BACK) if not on else True
            self._semi_since = last.at.isoformat() if last else None
        if on != self._semi_on:
            kind = CAME_BACK if on else FELL_BACK
            self.shared.record_event(kind, {"clients": s.clients})
            self._semi_since = utcnow().isoformat()
            (log.warning if on else log.error)(
                "semi-sync %s", "is back: the standby acknowledges every sale again" if on
                else "fell back: the standby is gone, the primary sells alone")
            self._semi_on = on
        facts["state"] = "streaming" if on else "alone"
        facts["semi_sync"] = "on" if on else "fallen_back"
        facts["semi_sync_since"] = self._semi_since
        facts["standbys"] = s.clients

    def _standby(self, mdb: Any, facts: dict[str, Any]) -> None:
        st = dbops.slave_status(mdb)
        if not st.configured:
            facts["state"] = "stopped"
            return
        facts.update(io_thread=st.io_running, sql_thread=st.sql_running,
                     last_error=st.error or None, relay_drained=st.relay_drained,
                     gtid_io_pos=st.gtid_io_pos, master=f"{st.master_host}:{st.master_port}")
        if st.error and st.sql_running != "Yes":
            facts["state"] = "error"
        elif st.io_running == "Yes" and st.sql_running == "Yes":
            facts["state"] = "streaming"
        elif st.io_running == "Connecting":
            facts["state"] = "connecting"
        else:
            facts["state"] = "error" if st.error else "stopped"
        facts["lag_seconds"] = st.seconds_behind
        primary_pos = self._peer.gtid if self._peer and self._peer.reachable else None
        if primary_pos:
            facts["lag_transactions"] = gtid.transactions_behind(primary_pos,
                                                                 facts["gtid_slave_pos"])
        else:  # what it received and has not applied yet
            facts["lag_transactions"] = gtid.transactions_behind(st.gtid_io_pos,
                                                                 facts["gtid_slave_pos"])
