"""Foundation tables: staff, auth tokens, audit log, settings, idempotency records.

Domain tables (members, sales, ...) live in their own modules under ``server/db/`` and are
imported by ``server.db.all_models`` so Alembic sees one metadata.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from .base import TABLE_ARGS, Base, Timestamp, created_ts, intpk, str32, str64, utcnow

LongText = Text().with_variant(mysql.LONGTEXT(), "mysql")


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = TABLE_ARGS

    id: Mapped[intpk]
    username: Mapped[str32] = mapped_column(unique=True)
    display_name: Mapped[str64]
    role: Mapped[str] = mapped_column(String(16))  # owner | manager | cashier
    password_hash: Mapped[str] = mapped_column(String(255))
    # a short PIN for clocking in and out at a counter (考勤), Argon2 like the password
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(SmallInteger, default=0)
    # the first of the failed logins counted in ``failed_logins``: older than the lockout
    # window, the count starts afresh (server/domain/auth.py)
    failed_since: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    locked_until: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    phone: Mapped[str | None] = mapped_column(String(20))
    # appointments (预约): can customers book this person (a stylist, a coach), and their
    # weekly hours (shop time; ``work_days`` bit 0 = Monday … bit 6 = Sunday). A planned
    # shift (attendance_plans) on a day takes the place of the weekly hours that day.
    bookable: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    work_start: Mapped[dt.time | None] = mapped_column(Time)
    work_end: Mapped[dt.time | None] = mapped_column(Time)
    work_days: Mapped[int] = mapped_column(SmallInteger, default=127, server_default="127")
    created_at: Mapped[created_ts]
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)


class AuthToken(Base):
    __tablename__ = "auth_tokens"
    __table_args__ = (Index("ix_auth_tokens_staff_id_expires_at", "staff_id", "expires_at"),
                      TABLE_ARGS)

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    counter: Mapped[str32]
    created_at: Mapped[created_ts]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))


class LoginThrottle(Base):
    """Failed logins per client address (``server/domain/login_throttle.py``): the times of
    the failures within the window, newest last. The row is also the lock that serialises
    logins from one address across worker processes."""

    __tablename__ = "login_throttle"
    __table_args__ = TABLE_ARGS

    ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    failures: Mapped[Any] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class AuditLog(Base):
    """Append-only: rows are inserted, never deleted, never updated — except that 注销 (a
    member anonymised at their request, ``server/domain/member_privacy.py``) blanks the
    member's personal fields in their entries' ``before``/``after``."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_action_at", "action", "at"),  # reports: a period's voids
        TABLE_ARGS,
    )

    id: Mapped[intpk]
    at: Mapped[created_ts]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    username: Mapped[str | None] = mapped_column(String(32))
    counter: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str64]
    entity: Mapped[str32]
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(45))


class Setting(Base):
    __tablename__ = "settings"
    __table_args__ = TABLE_ARGS

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class IdempotencyRecord(Base):
    """One per write request from a counter; stored in the same transaction as the write."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"), TABLE_ARGS)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    endpoint: Mapped[str] = mapped_column(String(200))  # "POST /api/v1/staff"
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(LongText)
    created_at: Mapped[created_ts]
