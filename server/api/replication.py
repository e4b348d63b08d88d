"""The standby pair: pairing, the owner's dashboard, guided failover, switchover (issue 13).

The views only translate HTTP: the work is in ``server.replication``."""

from __future__ import annotations

from typing import Any

from flask import g

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
    ReplicationStatusOut,
    SwitchoverFinishIn,
    SwitchoverPrepareOut,
)
from server.backup.jobs import actor_record
from server.clock import shop_clock
from server.domain import audit, idempotency
from server.domain import auth as auth_domain
from server.domain.actor import Actor
from server.replication import dbops, failover, monitor, pairing
from server.replication import status as status_facts
from server.state import JobState

from .base import MANAGERS, OWNER, PUBLIC, ApiBlueprint, Ctx, bearer_token

bp = ApiBlueprint("replication", __name__, tag="replication")

JOB_WAIT_SECONDS = 120.0


def _wait_job(ctx: Ctx, kind: str, params: dict[str, Any]) -> Any:
    """Queue work for the supervisor (the database restart) and wait for its result."""
    jobs = ctx.state.services.jobs
    rec = jobs.wait(jobs.submit(kind, params, actor=actor_record(ctx.me)).id, JOB_WAIT_SECONDS)
    if rec is None:
        raise ApiError("pairing_failed", status=503, reason="the server did not finish in time")
    if rec.state == JobState.FAILED:
        raise ApiError("pairing_failed", status=503, reason=rec.error or rec.error_code)
    return rec.result


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
            ctx.db, bearer_token(), ctx.ip, local_tokens=ctx.state.shared.local_token)
        if ctx.actor.role != Role.OWNER:
            raise ApiError("forbidden", status=403)
    res = pairing.pair(ctx.state.config, ctx.state.shared, standby_ip=ctx.ip or "127.0.0.1",
                       advertise=body.advertise, seed=body.seed,
                       physical_ok=body.physical_ok, standby_ca_pem=body.ca_pem,
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
    return KnownKeysOut(known=idempotency.known(ctx.db, body.keys))


@bp.endpoint("GET", "/replication/status", roles=MANAGERS, response=ReplicationStatusOut,
             any_role=True)
def status(ctx: Ctx) -> ReplicationStatusOut:
    """The owner's dashboard: this server and the other one (its public health)."""
    state = ctx.state
    address = state.config.fresh_replication().peer
    return ReplicationStatusOut(
        this=status_facts.this_server(state.config, state.shared,
                                      state.services.backups.newest_verified()),
        peer=status_facts.other_server(address, ctx.state.config.tls_dir) if address else None,
        warnings=status_facts.replication_warnings(monitor.facts_of(state.shared),
                                                   state.shared.cluster().role, ctx.lang))


@bp.endpoint("POST", "/replication/promote/check", roles=OWNER, body=PromoteCheckIn,
             response=PromoteCheckOut, idempotent=False, any_role=True)
def promote_check(ctx: Ctx, body: PromoteCheckIn) -> PromoteCheckOut:
    """What a promotion of this standby would check, in plain words (nothing changes)."""
    a = failover.assess(ctx.state.config, ctx.state.shared, shop_clock(ctx.state.config),
                        ctx.lang, counter_last_sale=body.counter_last_sale,
                        primary_reachable_from_counter=body.primary_reachable_from_counter)
    return PromoteCheckOut(ok=a.ok, checks=a.checks, standby_last_sale=a.last_sale,
                           counter_last_sale=body.counter_last_sale, summary=a.summary)


@bp.endpoint("POST", "/replication/promote", roles=PUBLIC, body=PromoteIn, response=PromoteOut,
             idempotent=False, any_role=True)
def promote(ctx: Ctx, body: PromoteIn) -> dict[str, Any]:
    """Promote this standby to primary (the owner's password, not a token: the counter may
    have no login that works here). Refused with ``409 promote_refused`` and the checks."""
    state = ctx.state
    staff = auth_domain.check_read_only(ctx.db, state.passwords, state.auth_policy,
                                        body.username, body.password)
    if staff.role != Role.OWNER.value:
        raise ApiError("forbidden", status=403)
    ctx.db.rollback()  # nothing of this session is written; the audit has its own
    return failover.promote(
        state.config, state.shared, shop_clock(state.config), ctx.lang,
        actor=Actor(staff_id=staff.id, username=staff.username, role=Role.OWNER, counter="",
                    ip=ctx.ip),
        session_factory=state.session_factory, confirm_primary_off=body.confirm_primary_off,
        override_primary_reachable=body.override_primary_reachable,
        counter_last_sale=body.counter_last_sale,
        primary_reachable_from_counter=body.primary_reachable_from_counter)


# -- switchover: the primary role moves with no loss (maintenance of the primary machine) -------
@bp.endpoint("POST", "/replication/switchover/prepare", roles=OWNER,
             response=SwitchoverPrepareOut, idempotent=False)
def switchover_prepare(ctx: Ctx) -> SwitchoverPrepareOut:
    """On the primary: stop taking writes (maintenance, read-only) and give the final GTID
    position the standby must reach."""
    gtid, epoch = failover.prepare_switchover(ctx.state.config, ctx.state.shared, ctx.me,
                                              ctx.state.session_factory)
    return SwitchoverPrepareOut(gtid=gtid, epoch=epoch)


@bp.endpoint("POST", "/replication/switchover/abort", roles=OWNER, idempotent=False,
             any_role=True)
def switchover_abort(ctx: Ctx) -> dict[str, Any]:
    """On the primary, when the standby could not take over: take writes again."""
    return {"aborted": failover.abort_switchover(ctx.state.config, ctx.state.shared)}


@bp.endpoint("POST", "/replication/switchover/promote", roles=OWNER, body=SwitchoverPrepareOut,
             response=PromoteOut, idempotent=False, any_role=True)
def switchover_promote(ctx: Ctx, body: SwitchoverPrepareOut) -> dict[str, Any]:
    """On the standby: once it has applied the old primary's final position, promote it."""
    return failover.promote(
        ctx.state.config, ctx.state.shared, shop_clock(ctx.state.config), ctx.lang,
        actor=ctx.me, session_factory=ctx.state.session_factory, confirm_primary_off=True,
        switchover_gtid=body.gtid)


@bp.endpoint("POST", "/replication/switchover/finish", roles=OWNER, body=SwitchoverFinishIn,
             idempotent=False, any_role=True)
def switchover_finish(ctx: Ctx, body: SwitchoverFinishIn) -> dict[str, Any]:
    """On the old primary: become the new primary's standby (the histories are equal)."""
    return failover.finish_switchover(ctx.state.config, ctx.state.shared,
                                      new_primary=body.new_primary, token=bearer_token() or "",
                                      advertise=body.advertise, by=ctx.me.username)
