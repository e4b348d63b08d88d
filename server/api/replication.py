"""The standby pair: pairing, the owner's dashboard, guided failover, switchover (issue 13).

The views only translate HTTP: the work is in ``server.replication``."""

from __future__ import annotations

import shutil
import time
from typing import Any

from flask import g, request
from sqlalchemy import select

from common.errors import ApiError
from common.schemas.base import Role
from common.schemas.replication import (
    KnownKeysIn,
    KnownKeysOut,
    PairIn,
    PairingCodeOut,
    PositionOut,
    PromoteCheckIn,
    PromoteCheckOut,
    PromoteIn,
    PromoteOut,
    ReplicationHealth,
    ReplicationStatusOut,
    SaleRef,
    SemiSyncChange,
    ServerFacts,
    SwitchoverFinishIn,
    SwitchoverPrepareOut,
)
from server.backup.jobs import actor_record
from server.clock import shop_clock
from server.db.models import IdempotencyRecord, Staff
from server.domain import audit
from server.domain import auth as auth_domain
from server.domain.actor import Actor
from server.replication import dbops, failover, monitor, pairing, peer, seed
from server.roles import HANDOVER
from server.state import ServerRole

from .base import MANAGERS, OWNER, PUBLIC, ApiBlueprint, Ctx, _bearer

bp = ApiBlueprint("replication", __name__, tag="replication")

JOB_WAIT_SECONDS = 120.0


def replication_health(facts: dict[str, Any]) -> ReplicationHealth:
    """The monitor's facts as ``/health`` shows them."""
    return ReplicationHealth(state=facts.get("state", "none"),
                             lag_seconds=facts.get("lag_seconds"),
                             lag_transactions=facts.get("lag_transactions"),
                             semi_sync=facts.get("semi_sync", "off"),
                             semi_sync_since=facts.get("semi_sync_since"),
                             peer=facts.get("peer"), gtid=facts.get("gtid"))


def replication_warnings(facts: dict[str, Any], role: ServerRole, lang: str = "zh"
                         ) -> list[str]:
    out = []
    zh = lang != "en"
    if facts.get("semi_sync") == "fallen_back":
        out.append("备用服务器已断开：主服务器单机运行中（销售不再同步到备用服务器）" if zh else
                   "The standby is gone: the primary sells alone (sales are not copied)")
    if role == ServerRole.STANDBY and facts.get("state") in ("error", "stopped", "connecting"):
        out.append(("备用服务器没有在同步主服务器的数据（" if zh else
                    "The standby is not replicating (") + str(facts.get("last_error")
                                                          or facts.get("state")) + ")")
    if role == ServerRole.STALE:
        out.append("此服务器已被备用服务器替代，不再收银；请运行 lanpos-server rejoin" if zh else
                   "This server was replaced by the standby; run lanpos-server rejoin")
    return out


def _wait_job(ctx: Ctx, kind: str, params: dict[str, Any]) -> Any:
    job = ctx.state.services.jobs.submit(kind, params, actor=actor_record(ctx.me))
    deadline = time.monotonic() + JOB_WAIT_SECONDS
    while time.monotonic() < deadline:
        rec = ctx.state.services.jobs.job(job.id)
        if rec is not None and rec.state.value == "done":
            return rec.result
        if rec is not None and rec.state.value == "failed":
            raise ApiError("pairing_failed", status=503, reason=rec.error or rec.error_code)
        time.sleep(0.2)
    raise ApiError("pairing_failed", status=503, reason="the server did not finish in time")


@bp.endpoint("POST", "/replication/pairing-code", roles=OWNER, response=PairingCodeOut,
             idempotent=False)
def pairing_code(ctx: Ctx) -> PairingCodeOut:
    """A one-time pairing code (15 minutes, 5 tries) for ``standby init --pairing-code``: the
    owner's password need not be typed on the standby machine."""
    code, expires = pairing.new_pairing_code(ctx.state.shared, ctx.me.username)
    audit.write(ctx.db, ctx.me, "standby.pairing_code", "server", None,
                after={"expires_at": expires.isoformat()})
    return PairingCodeOut(code=code, expires_at=expires)


@bp.endpoint("POST", "/replication/pair", roles=PUBLIC, body=PairIn, idempotent=False,
             summary="Pair a standby server (called by `lanpos-server standby init`)")
def pair(ctx: Ctx, body: PairIn) -> dict[str, Any]:
    """The owner's token, or a pairing code from the back office. Creates the standby's
    replication account (allowed from the caller's address only, TLS required), moves the
    managed MariaDB to the LAN and switches semi-sync on. The answer holds the account's
    password: it is not stored in the idempotency table."""
    if body.pairing_code:
        # once per request: the database restart below (LAN) kills this request's connection
        # and the dispatcher runs the handler again — with the code already used up
        owner = g.get("lanpos_pairing_owner") or pairing.redeem_pairing_code(
            ctx.state.shared, body.pairing_code)
        g.lanpos_pairing_owner = owner
        ctx.actor = Actor(staff_id=None, username=owner, role=Role.OWNER, counter="standby",
                          ip=ctx.ip)
    else:
        ctx.actor, ctx.staff, ctx.token = auth_domain.authenticate(
            ctx.db, _bearer(), ctx.ip, local_tokens=ctx.state.shared.local_token)
        if ctx.actor.role != Role.OWNER:
            raise ApiError("forbidden", status=403)
    res = pairing.pair(ctx.state.config, ctx.state.shared, standby_ip=ctx.ip or "127.0.0.1",
                       advertise=body.advertise, seed=body.seed,
                       physical_ok=body.physical_ok,
                       wait_job=lambda kind, params: _wait_job(ctx, kind, params))
    audit.write(ctx.db, ctx.me, "standby.pair", "server", body.advertise,
                after={"standby": body.advertise, "ip": ctx.ip,
                       "with": "pairing code" if body.pairing_code else "owner login"})
    return res


@bp.endpoint("GET", "/replication/position", roles=OWNER, response=PositionOut, any_role=True)
def position(ctx: Ctx) -> PositionOut:
    """This database's GTID position and binlog state (an old primary compares its own with
    them before it rejoins)."""
    mdb = pairing.admin_instance(ctx.state.config)
    g = dbops.gtids(mdb)
    c = ctx.state.shared.cluster()
    return PositionOut(gtid_binlog_pos=g["gtid_binlog_pos"],
                       gtid_binlog_state=g["gtid_binlog_state"], epoch=c.epoch,
                       role=c.role.value)


@bp.endpoint("POST", "/replication/known-keys", roles=OWNER, body=KnownKeysIn,
             response=KnownKeysOut, idempotent=False, any_role=True)
def known_keys(ctx: Ctx, body: KnownKeysIn) -> KnownKeysOut:
    """Which of these counter writes (idempotency keys) this server has (rejoin: what only
    the old primary holds)."""
    if not body.keys:
        return KnownKeysOut(known=[])
    rows = ctx.db.scalars(select(IdempotencyRecord.key)
                          .where(IdempotencyRecord.key.in_(body.keys))).all()
    return KnownKeysOut(known=list(rows))


def this_server_facts(ctx: Ctx) -> ServerFacts:
    state = ctx.state
    cfg = state.config
    facts = monitor.facts_of(state.shared)
    c = state.shared.cluster()
    last = None
    if cfg.managed:
        try:
            got = dbops.last_sale(pairing.admin_instance(cfg), cfg.database.name)
            last = SaleRef(number=got[0], at=got[1]) if got else None
        except Exception:  # the database is down: the rest still helps
            last = None
    newest = state.services.backups.newest_verified()
    changes = [SemiSyncChange(at=e.at, state="on" if e.kind == monitor.CAME_BACK
                              else "fallen_back")
               for e in state.shared.events((monitor.FELL_BACK, monitor.CAME_BACK), limit=10)]
    return ServerFacts(
        address=cfg.fresh_replication().advertise or None, reachable=True, role=c.role.value,
        epoch=c.epoch, replication=replication_health(facts), io_thread=facts.get("io_thread"),
        sql_thread=facts.get("sql_thread"), last_error=facts.get("last_error"), last_sale=last,
        disk_free_bytes=shutil.disk_usage(cfg.data_dir).free,
        newest_verified_backup_at=newest.started_at if newest else None,
        semi_sync_fallbacks=changes)


@bp.endpoint("GET", "/replication/status", roles=MANAGERS, response=ReplicationStatusOut,
             any_role=True)
def status(ctx: Ctx) -> ReplicationStatusOut:
    """The owner's dashboard: this server and the other one (its public health)."""
    this = this_server_facts(ctx)
    facts = monitor.facts_of(ctx.state.shared)
    other = None
    address = ctx.state.config.fresh_replication().peer
    if address:
        h = peer.health(address, timeout=1.5)
        other = ServerFacts(address=address, reachable=h.reachable, role=h.role,
                            epoch=h.epoch, error=h.error)
        if h.payload and h.payload.get("replication"):
            other.replication = ReplicationHealth.model_validate(h.payload["replication"])
    return ReplicationStatusOut(this=this, peer=other,
                                warnings=replication_warnings(facts, ctx.state.shared
                                                              .cluster().role, ctx.lang))


@bp.endpoint("POST", "/replication/promote/check", roles=OWNER, body=PromoteCheckIn,
             response=PromoteCheckOut, idempotent=False, any_role=True)
def promote_check(ctx: Ctx, body: PromoteCheckIn) -> PromoteCheckOut:
    """What a promotion of this standby would check, in plain words (nothing changes)."""
    a = failover.assess(ctx.state.config, ctx.state.shared, shop_clock(ctx.state.config),
                        ctx.lang, counter_last_sale=body.counter_last_sale,
                        primary_reachable_from_counter=body.primary_reachable_from_counter)
    return PromoteCheckOut(ok=a.ok, checks=a.checks, standby_last_sale=a.last_sale,
                           counter_last_sale=body.counter_last_sale, summary=a.summary)


def _owner_by_password(ctx: Ctx, username: str, password: str) -> Actor:
    """The owner's password checked read-only (a standby cannot count failed attempts: its
    database is a replica; argon2's cost is the brake)."""
    staff = ctx.db.scalars(select(Staff).where(Staff.username == username)).one_or_none()
    ok = ctx.state.passwords.verify(staff.password_hash if staff else None, password)
    if staff is None or not ok:
        raise ApiError("login_failed", status=401, left="?")
    if not staff.active:
        raise ApiError("account_disabled", status=403)
    if staff.role != Role.OWNER.value:
        raise ApiError("forbidden", status=403)
    return Actor(staff_id=staff.id, username=staff.username, role=Role.OWNER, counter="",
                 ip=ctx.ip)


def _audit_after(ctx: Ctx, actor: Actor):
    def write(action: str, detail: dict[str, Any]) -> None:
        with ctx.state.session_factory() as s:
            audit.write(s, actor, action, "server", str(detail.get("epoch")), after=detail,
                        reason="override: primary still answered"
                        if detail.get("override_primary_reachable") else None)
            s.commit()
    return write


@bp.endpoint("POST", "/replication/promote", roles=PUBLIC, body=PromoteIn, response=PromoteOut,
             idempotent=False, any_role=True)
def promote(ctx: Ctx, body: PromoteIn) -> dict[str, Any]:
    """Promote this standby to primary (the owner's password, not a token: the counter may
    have no login that works here). Refused with ``409 promote_refused`` and the checks."""
    actor = _owner_by_password(ctx, body.username, body.password)
    ctx.db.rollback()  # nothing of this session is written; the audit has its own
    return failover.promote(
        ctx.state.config, ctx.state.shared, shop_clock(ctx.state.config), ctx.lang,
        by=actor.username, confirm_primary_off=body.confirm_primary_off,
        override_primary_reachable=body.override_primary_reachable,
        counter_last_sale=body.counter_last_sale,
        primary_reachable_from_counter=body.primary_reachable_from_counter,
        audit=_audit_after(ctx, actor))


# -- switchover: the primary role moves with no loss (maintenance of the primary machine) -------
@bp.endpoint("POST", "/replication/switchover/prepare", roles=OWNER,
             response=SwitchoverPrepareOut, idempotent=False)
def switchover_prepare(ctx: Ctx) -> SwitchoverPrepareOut:
    """On the primary: stop taking writes (maintenance, read-only) and give the final GTID
    position the standby must reach."""
    state = ctx.state
    if state.shared.cluster().role != ServerRole.PRIMARY:
        raise ApiError("promote_refused", status=409, reason="not the primary")
    if not state.config.fresh_replication().peer:
        raise ApiError("promote_refused", status=409, reason="no standby is paired")
    audit.write(ctx.db, ctx.me, "standby.switchover", "server", None,
                after={"to": state.config.replication.peer})
    ctx.db.commit()  # before the database turns read-only
    state.shared.begin_maintenance(HANDOVER, ctx.me.username)
    try:
        mdb = pairing.admin_instance(state.config)
        # new writes are refused from now on (503 maintenance, the counters retry); let the
        # ones in flight finish before read_only's global lock waits on them
        dbops.wait_quiet(mdb, state.config.database.app_user)
        mdb.set_read_only(True)  # the replication monitor keeps it so (roles.HANDOVER)
        g = dbops.gtids(mdb)
    except BaseException:
        state.shared.end_maintenance()
        raise
    return SwitchoverPrepareOut(gtid=g["gtid_binlog_pos"], epoch=state.shared.cluster().epoch)


@bp.endpoint("POST", "/replication/switchover/abort", roles=OWNER, idempotent=False,
             any_role=True)
def switchover_abort(ctx: Ctx) -> dict[str, Any]:
    """On the primary, when the standby could not take over: take writes again."""
    m = ctx.state.shared.maintenance()
    if m is None or m.reason != HANDOVER:
        return {"aborted": False}
    ctx.state.shared.end_maintenance()
    if ctx.state.shared.cluster().role == ServerRole.PRIMARY:
        pairing.admin_instance(ctx.state.config).set_read_only(False)
    return {"aborted": True}


@bp.endpoint("POST", "/replication/switchover/promote", roles=OWNER, body=SwitchoverPrepareOut,
             response=PromoteOut, idempotent=False, any_role=True)
def switchover_promote(ctx: Ctx, body: SwitchoverPrepareOut) -> dict[str, Any]:
    """On the standby: once it has applied the old primary's final position, promote it."""
    return failover.promote(
        ctx.state.config, ctx.state.shared, shop_clock(ctx.state.config), ctx.lang,
        by=ctx.me.username, confirm_primary_off=True, switchover_gtid=body.gtid,
        audit=_audit_after(ctx, ctx.me))


@bp.endpoint("POST", "/replication/switchover/finish", roles=OWNER, body=SwitchoverFinishIn,
             idempotent=False, any_role=True)
def switchover_finish(ctx: Ctx, body: SwitchoverFinishIn) -> dict[str, Any]:
    """On the old primary: replicate from the new one from its own final position (the
    histories are equal), become its standby, end the maintenance."""
    state = ctx.state
    cfg = state.config
    new = peer.health(body.new_primary, timeout=3)
    if not new.reachable or new.role != ServerRole.PRIMARY.value:
        raise ApiError("promote_refused", status=409, reason=f"{body.new_primary} is not primary")
    token = request.headers.get("Authorization", "")[7:]
    state.shared.set_role(ServerRole.STANDBY, by=f"switchover ({ctx.me.username})")
    state.shared.learn_epoch(int(new.epoch or 0), by=f"primary {body.new_primary}")
    try:
        res = seed.attach_running(cfg, body.new_primary, token, body.advertise)
    except seed.SeedError as e:
        raise ApiError("pairing_failed", status=502, reason=str(e)) from e
    finally:
        state.shared.end_maintenance()
    return res
