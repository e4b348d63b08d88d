"""Backup, verify, restore and point-in-time recovery (issue 7): API schemas."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import ApiModel, PatchModel, UtcDatetime

BACKUP_ID_PATTERN = r"^lanpos-\d{8}-\d{6}Z(?:-\d{1,3})?$"
HHMM_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
BACKUP_PASSPHRASE_MIN = 10  # the owner's backup passphrase (it guards every copy on a USB disk)


class BinlogPosition(ApiModel):
    file: str
    position: int
    gtid: str | None = None


class BackupVerification(ApiModel):
    ok: bool
    at: UtcDatetime
    sha256_ok: bool
    rows_ok: bool
    invariants_ok: bool
    schema_revision: str | None = None
    migrated_to: str | None = None
    problems: list[str] = []
    seconds: float
    load_seconds: float = 0
    backup_id: str | None = None


class BackupOut(ApiModel):
    id: str
    file: str
    reason: str | None = None
    started_at: UtcDatetime
    ended_at: UtcDatetime
    size: int = Field(description="bytes of the compressed file")
    sha256: str
    tables: dict[str, int] = Field(description="rows per table, counted from the dump itself")
    total_rows: int
    binlog: BinlogPosition | None = None
    app_version: str | None = None
    schema_revision: str | None = None
    verified: bool | None = Field(
        None, description="true: a test restore passed; false: it failed; null: not yet")
    verification: BackupVerification | None = None


class DestinationStatus(ApiModel):
    path: str
    ok: bool | None = Field(None, description="null: nothing copied there yet")
    at: UtcDatetime | None = None
    backup: str | None = None
    error: str | None = None


class BackupListOut(ApiModel):
    items: list[BackupOut] = Field(description="newest first")
    folder: str
    key_configured: bool = Field(False, description="the owner's backup key is set up: copies "
                                                    "to the destinations are encrypted (none "
                                                    "are written without it)")
    newest_verified: str | None = None
    newest_verified_age_seconds: int | None = None
    destinations: list[DestinationStatus] = []
    warnings: list[str] = []


class BackupJobOut(ApiModel):
    id: str
    kind: str = Field(description="backup | verify | restore | restore_to")
    state: str = Field(description="queued | running | done | failed")
    progress: float = Field(description="0..1")
    message: str = ""
    backup_id: str | None = None
    created_at: UtcDatetime
    finished_at: UtcDatetime | None = None
    result: dict[str, Any] | None = None
    error_code: str | None = None
    error: str | None = None


class BackupCreateIn(ApiModel):
    note: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9_.\-]*$",
                             description="recorded in the manifest's reason")


class RestoreIn(ApiModel):
    confirm: str = Field(min_length=1, max_length=64,
                         description="type the backup id to confirm the restore")
    force: bool = Field(False, description="restore even if not verified / checksum mismatch")


class RestoreToIn(ApiModel):
    to: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$",
                    description="shop local time YYYY-MM-DD HH:MM[:SS]")
    confirm: str = Field(min_length=1, max_length=64, description="type the moment again")
    force: bool = False


class BackupSettingsOut(ApiModel):
    enabled: bool
    dir: str
    daily_at: str
    interval_hours: int
    open_at: str
    close_at: str
    keep_last: int
    keep_daily: int
    keep_weekly: int
    keep_monthly: int
    destinations: list[str]
    verify_after_backup: bool
    compress_level: int
    timezone: str = Field(description="the shop's time zone ([shop] timezone); empty = the "
                                      "server machine's")
    scratch_dir: str


class BackupSettingsIn(PatchModel):
    """Only the fields sent are changed (lanpos.toml [backup]; ``timezone`` is the shop's,
    [shop] timezone)."""

    enabled: bool | None = None
    dir: str | None = Field(None, max_length=400)
    daily_at: str | None = Field(None, pattern=HHMM_PATTERN)
    interval_hours: int | None = Field(None, ge=0, le=24)
    open_at: str | None = Field(None, pattern=HHMM_PATTERN)
    close_at: str | None = Field(None, pattern=HHMM_PATTERN)
    keep_last: int | None = Field(None, ge=1, le=1000)
    keep_daily: int | None = Field(None, ge=0, le=1000)
    keep_weekly: int | None = Field(None, ge=0, le=1000)
    keep_monthly: int | None = Field(None, ge=0, le=1000)
    destinations: list[str] | None = Field(None, max_length=10)
    verify_after_backup: bool | None = None
    compress_level: int | None = Field(None, ge=1, le=9)
    timezone: str | None = Field(None, max_length=64)
    scratch_dir: str | None = Field(None, max_length=400)


class BackupKeyOut(ApiModel):
    """The owner's key for encrypted copies (``server.backup.crypt``)."""

    configured: bool
    recipient: str | None = Field(None, description="the public key (age1…): encrypts only")
    created_at: UtcDatetime | None = None
    changed_at: UtcDatetime | None = None
    recovery_key: str | None = Field(
        None, description="only in the answer to the setup: the secret key (AGE-SECRET-KEY-1…) "
                          "for the recovery sheet; shown once, never stored in the clear")
    shop_name: str | None = Field(None, description="for the recovery sheet")


class BackupKeySetupIn(ApiModel):
    passphrase: str = Field(min_length=BACKUP_PASSPHRASE_MIN, max_length=200,
                            description="the owner's backup passphrase (the client asks twice)")


class BackupKeyChangeIn(ApiModel):
    """A new passphrase for the same key; opened with the current passphrase or with the
    recovery sheet's secret key."""

    passphrase: str = Field(min_length=BACKUP_PASSPHRASE_MIN, max_length=200)
    old_passphrase: str | None = Field(None, max_length=200)
    recovery_key: str | None = Field(None, max_length=400)
