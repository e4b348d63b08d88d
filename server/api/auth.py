from __future__ import annotations

from sqlalchemy import inspect

from common.schemas.auth import LoginRequest, LoginResponse, MeResponse
from common.schemas.staff import StaffOut
from server.domain import auth as auth_domain

from .base import ALL_STAFF, PUBLIC, ApiBlueprint, Ctx

bp = ApiBlueprint("auth", __name__, tag="auth")


@bp.endpoint("POST", "/auth/login", roles=PUBLIC, body=LoginRequest, response=LoginResponse,
              idempotent=False, commit_errors=True)
def login(ctx: Ctx, body: LoginRequest) -> LoginResponse:
    """Log in with username and password; returns a bearer token for this counter.

    Five wrong passwords in a row lock the account for a while (see `security` settings)."""
    state = ctx.state
    if state.policy.accepts_writes:
        res = auth_domain.login(ctx.db, state.passwords, state.auth_policy, body.username,
                                body.password, body.counter, ctx.ip)
    else:  # a standby: its database is a replica, the token is kept in the shared state
        res = auth_domain.login_read_only(ctx.db, state.passwords, state.auth_policy,
                                          body.username, body.password, body.counter, ctx.ip,
                                          keep=state.shared.keep_local_token)
        ctx.db.rollback()
    return LoginResponse(token=res.token, expires_at=res.token_row.expires_at,
                         staff=StaffOut.model_validate(res.staff), counter=res.token_row.counter)


@bp.endpoint("POST", "/auth/logout", roles=ALL_STAFF, idempotent=False, status=204,
             any_role=True)
def logout(ctx: Ctx) -> None:
    """Revoke the token used for this request."""
    assert ctx.token is not None
    if inspect(ctx.token).transient:  # a login made on a standby (see login)
        ctx.state.shared.drop_local_token(ctx.token.token_hash)
    else:
        auth_domain.logout(ctx.db, ctx.token)


@bp.endpoint("GET", "/auth/me", roles=ALL_STAFF, response=MeResponse)
def me(ctx: Ctx) -> MeResponse:
    """The logged-in staff member and counter."""
    assert ctx.staff is not None and ctx.token is not None
    return MeResponse(staff=StaffOut.model_validate(ctx.staff), counter=ctx.token.counter,
                      expires_at=ctx.token.expires_at)
