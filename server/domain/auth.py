"""Staff authentication: Argon2id password hashes, opaque bearer tokens stored hashed,
lockout after repeated failures — per account (``max_failed_logins`` wrong passwords within
``login_window_minutes`` lock it for ``lockout_minutes``) and per client address
(``login_throttle``: ``max_failed_logins_per_address`` failures within the window refuse
the address, whatever account it tries). Every failed login is audited
(``auth.login_failed``: the username tried, why, the client address), and so is every login
(``auth.login``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.schemas.base import Role
from server.db.base import utcnow
from server.db.models import AuthToken, Staff

from . import audit, login_throttle
from .actor import Actor


@dataclass(frozen=True)
class AuthPolicy:
    token_ttl_hours: int = 16
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    # above max_failed_logins: one address locks at most 10 // 5 = 2 accounts per window
    max_failed_logins_per_address: int = 10
    login_window_minutes: int = 15


class Passwords:
    """Argon2id hashing with the configured cost (one instance per app)."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._ph = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        self._dummy = self._ph.hash(secrets.token_hex(8))

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._ph.verify(password_hash or self._dummy, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class LoginResult:
    token: str
    token_row: AuthToken
    staff: Staff


def login_check(session: Session, passwords: Passwords, policy: AuthPolicy, username: str,
                password: str, *, ip: str | None = None, counter: str = "",
                purpose: str = "login", allow_pin: bool = False) -> Staff:
    """Check a username and password with the lockout rules (login and manager approvals;
    with ``allow_pin`` the staff member's PIN is accepted too: clocking in, 考勤).
    Failures raise ``ApiError`` (``too_many_attempts`` 429 for an address over its limit,
    ``login_failed``, ``account_locked``, ``account_disabled``), are counted for the address
    and audited; the caller must commit even then, so counters, lockouts and the audit entry
    are kept."""
    throttle = login_throttle.check(session, ip, policy.max_failed_logins_per_address,
                                    policy.login_window_minutes)
    staff = session.scalars(
        select(Staff).where(Staff.username == username).with_for_update()
    ).one_or_none()
    try:
        _check_account(staff, passwords, policy, password, allow_pin)
    except ApiError as e:
        tripped = login_throttle.failed(throttle, policy.max_failed_logins_per_address,
                                        policy.login_window_minutes)
        who = Actor(staff_id=None, username=username[:32], role=Role.CASHIER,
                    counter=counter, ip=ip)
        audit.write(session, who, "auth.login_failed", "staff",
                    staff.id if staff is not None else None,
                    after={"username": username, "reason": e.code, "purpose": purpose})
        if tripped:
            audit.write(session, who, "auth.address_blocked", "address", ip,
                        after={"failures": policy.max_failed_logins_per_address,
                               "minutes": policy.login_window_minutes})
        raise
    assert staff is not None
    return staff


def _check_account(staff: Staff | None, passwords: Passwords, policy: AuthPolicy,
                   password: str, allow_pin: bool = False) -> None:
    now = utcnow()
    if staff is None:
        passwords.verify(None, password)  # same time as a real check
        raise ApiError("login_failed", status=401, left=policy.max_failed_logins)
    if staff.locked_until is not None and staff.locked_until > now:
        minutes = max(1, int((staff.locked_until - now).total_seconds() // 60) + 1)
        raise ApiError("account_locked", status=403, minutes=minutes)
    if not (passwords.verify(staff.password_hash, password)
            or (allow_pin and staff.pin_hash and passwords.verify(staff.pin_hash, password))):
        window = dt.timedelta(minutes=policy.login_window_minutes)
        if staff.failed_since is None or staff.failed_since <= now - window:
            staff.failed_logins, staff.failed_since = 0, now  # older failures: forgotten
        staff.failed_logins = (staff.failed_logins or 0) + 1
        left = policy.max_failed_logins - staff.failed_logins
        if left <= 0:
            staff.failed_logins, staff.failed_since = 0, None
            staff.locked_until = now + dt.timedelta(minutes=policy.lockout_minutes)
            raise ApiError("account_locked", status=403, minutes=policy.lockout_minutes)
        raise ApiError("login_failed", status=401, left=left)
    if not staff.active:
        raise ApiError("account_disabled", status=403)
    staff.failed_logins, staff.failed_since = 0, None
    staff.locked_until = None


def login(session: Session, passwords: Passwords, policy: AuthPolicy, username: str,
          password: str, counter: str, ip: str | None) -> LoginResult:
    """Check the password and issue a token (see ``login_check`` for failures)."""
    staff = login_check(session, passwords, policy, username, password, ip=ip,
                        counter=counter)
    now = utcnow()
    token = secrets.token_urlsafe(32)
    row = AuthToken(
        token_hash=token_digest(token),
        staff_id=staff.id,
        counter=counter or "",
        expires_at=now + dt.timedelta(hours=policy.token_ttl_hours),
        ip=ip,
    )
    session.add(row)
    session.flush()
    audit.write(session, Actor(staff_id=staff.id, username=staff.username,
                               role=Role(staff.role), counter=counter or "", ip=ip),
                "auth.login", "staff", staff.id, after={"counter": counter or ""})
    return LoginResult(token=token, token_row=row, staff=staff)


# A standby's database is a read-only replica: a login there cannot be stored in it. Such a
# token lives in the server's shared state instead (``SharedState.local_token``) and is looked
# up when the database does not know a token: (digest) → {staff_id, counter, expires_at} | None.
LocalTokens = Callable[[str], dict[str, Any] | None]


def check_read_only(session: Session, passwords: Passwords, policy: AuthPolicy,
                    username: str, password: str, ip: str | None = None) -> Staff:
    """``login_check`` without a write (a standby's database is a replica): failed attempts
    cannot be counted there — argon2's cost is the brake; a lock set on the primary holds, and
    so does the primary's refusal of an address (``ip``)."""
    login_throttle.check_read_only(session, ip, policy.max_failed_logins_per_address,
                                   policy.login_window_minutes)
    staff = session.scalars(select(Staff).where(Staff.username == username)).one_or_none()
    ok = passwords.verify(staff.password_hash if staff else None, password)
    now = utcnow()
    if staff is None or not ok:
        raise ApiError("login_failed", status=401, left=policy.max_failed_logins)
    if staff.locked_until is not None and staff.locked_until > now:
        minutes = max(1, int((staff.locked_until - now).total_seconds() // 60) + 1)
        raise ApiError("account_locked", status=403, minutes=minutes)
    if not staff.active:
        raise ApiError("account_disabled", status=403)
    return staff


def login_read_only(session: Session, passwords: Passwords, policy: AuthPolicy, username: str,
                    password: str, counter: str, ip: str | None,
                    keep: Callable[[str, int, str, dt.datetime, str | None], None]
                    ) -> LoginResult:
    """A login on a standby (its database is a replica): the password is checked without a
    write — failed attempts cannot be counted there, argon2's cost is the brake — and the token
    is kept by ``keep(digest, staff_id, counter, expires_at, ip)``. The token row returned is
    not in the session."""
    staff = check_read_only(session, passwords, policy, username, password, ip)
    now = utcnow()
    token = secrets.token_urlsafe(32)
    row = AuthToken(token_hash=token_digest(token), staff_id=staff.id, counter=counter or "",
                    expires_at=now + dt.timedelta(hours=policy.token_ttl_hours), ip=ip)
    keep(row.token_hash, staff.id, row.counter, row.expires_at, ip)
    return LoginResult(token=token, token_row=row, staff=staff)


def authenticate(session: Session, token: str | None, ip: str | None = None,
                 local_tokens: LocalTokens | None = None) -> tuple[Actor, Staff, AuthToken]:
    if not token:
        raise ApiError("unauthorized", status=401)
    digest = token_digest(token)
    row = session.execute(
        select(AuthToken, Staff)
        .join(Staff, Staff.id == AuthToken.staff_id)
        .where(AuthToken.token_hash == digest)
    ).one_or_none()
    if row is None and local_tokens is not None:
        rec = local_tokens(digest)
        staff_row = session.get(Staff, rec["staff_id"]) if rec else None
        if rec and staff_row is not None:
            row = (AuthToken(token_hash=digest, staff_id=staff_row.id, counter=rec["counter"],
                             expires_at=rec["expires_at"]), staff_row)
    if row is None:
        raise ApiError("unauthorized", status=401)
    tok, staff = row
    if tok.revoked_at is not None or not staff.active:
        raise ApiError("unauthorized", status=401)
    if tok.expires_at <= utcnow():
        raise ApiError("token_expired", status=401)
    actor = Actor(staff_id=staff.id, username=staff.username, role=Role(staff.role),
                  counter=tok.counter, ip=ip)
    return actor, staff, tok


def logout(session: Session, tok: AuthToken) -> None:
    if tok.revoked_at is None:
        tok.revoked_at = utcnow()


def revoke_all(session: Session, staff_id: int) -> None:
    now = utcnow()
    for tok in session.scalars(
        select(AuthToken).where(AuthToken.staff_id == staff_id, AuthToken.revoked_at.is_(None),
                                AuthToken.expires_at > now)
    ):
        tok.revoked_at = now
