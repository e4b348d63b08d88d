"""Guided failover, the standby's side (issue 13; DESIGN.md §4 "Standby and failover").

Before it acts it checks, in plain words for the owner: this server is a standby; the primary
is unreachable from here (its API and its database) *and* from the counter that asks; the
standby has applied everything it received; it holds no errant GTIDs; there is disk for the
work ahead. Then: stop replication, epoch + 1 and role primary, the database writable, a safety
backup at once. Only "primary unreachable" can be overridden (a hung but pingable machine),
and the override is audited. With two machines there is no quorum: the owner confirms the old
server is off, and the counters — which carry the new epoch to it — are the witnesses that fence
it if it comes back.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from common.errors import ApiError
from common.schemas.replication import FailoverCheck, SaleRef
from server.backup.jobs import actor_record
from server.clock import ShopClock
from server.config import Config
from server.domain import audit
from server.domain.actor import Actor
from server.replication import dbops, gtid, peer, physical, seed
from server.replication.pairing import admin_instance
from server.roles import HANDOVER
from server.state import ServerRole, SharedState

log = logging.getLogger(__name__)

DRAIN_WAIT_SECONDS = 10.0
MIN_FREE_BYTES = 256 * 1_048_576

_TEXT: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    # code: ((zh ok, en ok), (zh failed, en failed))
    "is_standby": (("这是备用服务器", "This server is the standby"),
                   ("这台服务器不是备用服务器（角色：{role}）",
                    "This server is not a standby (role: {role})")),
    "primary_unreachable": (("备用服务器连不上主服务器（接口和数据库都无应答）",
                             "The standby cannot reach the primary (neither its API nor its "
                             "database answers)"),
                            ("主服务器仍有应答（{where}）：它可能还在运行，请先关掉它",
                             "The primary still answers ({where}): it may still be running; "
                             "switch it off first")),
    "relay_log_applied": (("备用服务器已应用收到的全部数据", "The standby has applied all it "
                                                           "received"),
                          ("备用服务器还有 {n} 笔数据没应用完，请稍候再试",
                           "The standby has {n} transactions still to apply; retry shortly")),
    "no_errant_gtids": (("备用服务器没有自己写入的数据", "The standby holds no transactions of "
                                                      "its own"),
                        ("备用服务器有不属于主服务器的数据（{gtids}），不能切换，请联系技术支持",
                         "The standby holds transactions the primary never had ({gtids}); "
                         "call support")),
    "disk_space": (("磁盘空间足够（剩余 {free}）", "Enough disk space ({free} free)"),
                   ("磁盘空间不足：剩余 {free}，至少需要 {need}",
                    "Not enough disk space: {free} free, {need} needed")),
    "counter_view": (("本收银台也连不上主服务器", "This counter cannot reach the primary "
                                               "either"),
                     ("本收银台还能连上主服务器：请先确认主服务器真的已停止",
                      "This counter still reaches the primary: make sure it really stopped")),
}


def _check(code: str, ok: bool, lang: str, overridable: bool = False,
           **params: Any) -> FailoverCheck:
    zh_en = _TEXT[code][0 if ok else 1]
    text = zh_en[1 if lang == "en" else 0]
    return FailoverCheck(code=code, ok=ok, message=text.format(**params),
                         overridable=overridable and not ok)


def _size(n: int) -> str:
    return f"{n / 1_073_741_824:.1f} GB" if n >= 1_073_741_824 else f"{n // 1_048_576} MB"


@dataclass
class Assessment:
    checks: list[FailoverCheck]
    last_sale: SaleRef | None
    summary: str

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def refusal(self, override_reachable: bool) -> list[FailoverCheck]:
        """The failed checks that stop a promotion."""
        return [c for c in self.checks if not c.ok
                and not (override_reachable and c.code in ("primary_unreachable",
                                                           "counter_view"))]


def assess(cfg: Config, shared: SharedState, clock: ShopClock, lang: str, *,
           counter_last_sale: str | None = None,
           primary_reachable_from_counter: bool | None = None,
           switchover_gtid: str | None = None) -> Assessment:
    """Every check, none skipped (the owner sees the whole picture)."""
    mdb = admin_instance(cfg)
    role = shared.cluster().role
    checks = [_check("is_standby", role == ServerRole.STANDBY, lang, role=role.value)]
    st = dbops.slave_status(mdb)
    if switchover_gtid is None:
        where = []
        address = cfg.fresh_replication().peer
        h = peer.health(address, timeout=2.0) if address else None
        if h is not None and h.reachable:
            where.append("API")
        if st.io_running == "Yes":
            where.append("数据库" if lang != "en" else "database")
        checks.append(_check("primary_unreachable", not where, lang, overridable=True,
                             where=", ".join(where)))
        if primary_reachable_from_counter is not None:
            checks.append(_check("counter_view", not primary_reachable_from_counter, lang,
                                 overridable=True))
    # the relay log: what the IO thread received must all be applied (wait a little for it)
    deadline = time.monotonic() + DRAIN_WAIT_SECONDS
    target = switchover_gtid
    while True:
        g = dbops.gtids(mdb)
        received = target or st.gtid_io_pos
        behind = gtid.transactions_behind(received, g["gtid_slave_pos"])
        drained = behind == 0 and (target is not None or st.relay_drained)
        if drained or time.monotonic() > deadline:
            break
        time.sleep(0.2)
        st = dbops.slave_status(mdb)
    checks.append(_check("relay_log_applied", drained, lang, n=max(behind, 1)))
    errant = gtid.errant(g["gtid_binlog_pos"], g["gtid_slave_pos"])
    checks.append(_check("no_errant_gtids", not errant, lang,
                         gtids=", ".join(map(str, errant))))
    free = shutil.disk_usage(cfg.data_dir).free
    need = max(MIN_FREE_BYTES, 2 * physical.database_bytes(cfg))
    checks.append(_check("disk_space", free >= need, lang, free=_size(free), need=_size(need)))
    last = dbops.last_sale(mdb, cfg.database.name)
    sale = SaleRef(number=last[0], at=last[1]) if last else None
    summary = sale_summary(sale, counter_last_sale, clock, lang)
    return Assessment(checks, sale, summary)


def sale_summary(sale: SaleRef | None, counter_last: str | None, clock: ShopClock,
                 lang: str) -> str:
    if lang == "en":
        mine = (f"the standby's last sale is {sale.number} at "
                f"{clock.local(sale.at):%H:%M}" if sale else "the standby has no sale yet")
        return mine + (f"; this counter's last sale is {counter_last}" if counter_last else "")
    mine = (f"备用服务器最后一笔销售是 {sale.number}（{clock.local(sale.at):%H:%M}）" if sale
            else "备用服务器还没有销售记录")
    return mine + (f"；本收银台最后一笔是 {counter_last}" if counter_last else "")


def promote(cfg: Config, shared: SharedState, clock: ShopClock, lang: str, *, actor: Actor,
            session_factory: Callable[[], Session], confirm_primary_off: bool,
            override_primary_reachable: bool = False, counter_last_sale: str | None = None,
            primary_reachable_from_counter: bool | None = None,
            switchover_gtid: str | None = None, queue_backup: bool = True) -> dict[str, Any]:
    """Promote this standby. Raises ``409 promote_refused`` (with the checks) when a check
    fails. The audit entry is written (``session_factory``) once the database is writable;
    ``queue_backup``: the safety backup is a job for the running server's job runner (the
    CLI on a stopped server takes it itself)."""
    t0 = time.monotonic()
    by = actor.username
    if not confirm_primary_off and switchover_gtid is None:
        raise ApiError("promote_refused", status=409,
                       reason="请先确认旧服务器已关机或已拔掉网线" if lang != "en"
                       else "confirm first that the old server is off or unplugged")
    if shared.maintenance() is not None:
        raise ApiError("promote_refused", status=409, reason=shared.maintenance().reason)
    shared.begin_maintenance("promotion", by)
    try:
        a = assess(cfg, shared, clock, lang, counter_last_sale=counter_last_sale,
                   primary_reachable_from_counter=primary_reachable_from_counter,
                   switchover_gtid=switchover_gtid)
        refused = a.refusal(override_primary_reachable)
        if refused:
            raise ApiError("promote_refused", status=409,
                           reason="；".join(c.message for c in refused),
                           checks=[c.model_dump() for c in a.checks])
        mdb = admin_instance(cfg)
        g = dbops.gtids(mdb)
        dbops.stop_replication(mdb)
        overridden = not all(c.ok for c in a.checks)
        cluster = shared.bump_epoch(by=by, role=ServerRole.PRIMARY)
        mdb.set_read_only(False)
        cfg.save_replication(semi_sync=False)  # no standby until the old primary rejoins
        detail = {"epoch": cluster.epoch, "gtid": g["gtid_slave_pos"],
                  "override_primary_reachable": bool(override_primary_reachable and overridden),
                  "switchover": switchover_gtid is not None,
                  "checks": [c.model_dump() for c in a.checks],
                  "last_sale": a.last_sale.number if a.last_sale else None}
        shared.record_event("promoted", detail)
        audit.write_apart(session_factory, actor, "standby.promote", "server", cluster.epoch,
                          after=detail, reason="override: primary still answered"
                          if detail["override_primary_reachable"] else None)
        job = shared.submit_job("backup", {"reason": "after-promotion"},
                                actor=actor_record(actor)) if queue_backup else None
        log.warning("promoted to primary of epoch %s by %s (%s)", cluster.epoch, by,
                    "override: primary still answered" if detail["override_primary_reachable"]
                    else "all checks passed")
    finally:
        shared.end_maintenance()
    return {"role": cluster.role.value, "epoch": cluster.epoch,
            "backup_job_id": job.id if job else None,
            "checks": a.checks, "seconds": round(time.monotonic() - t0, 3)}


def boot_fencing(cfg: Config) -> str:
    """Before a server that was primary serves again: ask the other server. A peer that is
    primary of a newer epoch means this server was replaced while it was away: it comes up
    ``stale`` (read-only, ``409 stale_primary``) and stays so until ``rejoin``. A peer that
    does not answer cannot tell: the counters, which carry the newest epoch, fence it on
    their first write. Returns what was decided, for the log."""
    if not cfg.replication.peer:
        return "unpaired"
    shared = SharedState.for_data_dir(cfg.data_dir)
    try:
        c = shared.cluster()
        h = peer.health(cfg.replication.peer, timeout=3.0)
        if not h.reachable or h.epoch is None:
            return "peer unreachable"
        if h.role == ServerRole.PRIMARY.value:
            after = shared.learn_epoch(int(h.epoch), by=f"peer {cfg.replication.peer}")
            if after.role == ServerRole.STALE and c.role != ServerRole.STALE:
                log.error("the other server (%s) is primary of epoch %s: this server was "
                          "replaced while it was away; it takes no writes until `lanpos-server "
                          "rejoin`", cfg.replication.peer, h.epoch)
                return "stale"
        return "ok"
    finally:
        shared.close()


# -- switchover: the primary role moves with no loss (maintenance of the primary machine) -------
def prepare_switchover(cfg: Config, shared: SharedState, actor: Actor,
                       session_factory: Callable[[], Session]) -> tuple[str, int]:
    """On the primary: stop taking writes (maintenance, then read-only) and return the final
    GTID position the standby must reach, and the epoch."""
    if shared.cluster().role != ServerRole.PRIMARY:
        raise ApiError("promote_refused", status=409, reason="not the primary")
    to = cfg.fresh_replication().peer
    if not to:
        raise ApiError("promote_refused", status=409, reason="no standby is paired")
    audit.write_apart(session_factory, actor, "standby.switchover", "server", None,
                      after={"to": to})  # before the database turns read-only
    shared.begin_maintenance(HANDOVER, actor.username)
    try:
        mdb = admin_instance(cfg)
        # new writes are refused from now on (503 maintenance, the counters retry); let the
        # ones in flight finish before read_only's global lock waits on them
        dbops.wait_quiet(mdb, cfg.database.app_user)
        mdb.set_read_only(True)  # the replication monitor keeps it so (roles.HANDOVER)
        return dbops.gtids(mdb)["gtid_binlog_pos"], shared.cluster().epoch
    except BaseException:
        shared.end_maintenance()
        raise


def abort_switchover(cfg: Config, shared: SharedState) -> bool:
    """On the primary, when the standby could not take over: take writes again."""
    m = shared.maintenance()
    if m is None or m.reason != HANDOVER:
        return False
    shared.end_maintenance()
    if shared.cluster().role == ServerRole.PRIMARY:
        admin_instance(cfg).set_read_only(False)
    return True


def finish_switchover(cfg: Config, shared: SharedState, *, new_primary: str, token: str,
                      advertise: str | None, by: str) -> dict[str, Any]:
    """On the old primary: become the new primary's standby, replicating from its own final
    position (the histories are equal), and end the maintenance."""
    new = peer.health(new_primary, timeout=3)
    if not new.reachable or new.role != ServerRole.PRIMARY.value:
        raise ApiError("promote_refused", status=409, reason=f"{new_primary} is not primary")
    shared.set_role(ServerRole.STANDBY, by=f"switchover ({by})")
    shared.learn_epoch(int(new.epoch or 0), by=f"primary {new_primary}")
    try:
        return seed.attach_running(cfg, new_primary, token, advertise)
    except seed.SeedError as e:
        raise ApiError("pairing_failed", status=502, reason=str(e)) from e
    finally:
        shared.end_maintenance()
