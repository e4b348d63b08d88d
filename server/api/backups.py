"""Backups (owner): list, back up now, verify, restore, point-in-time restore, settings.

Long work (backup, verify, restore) is queued as a job (``server.backup.jobs``) and run by the
server's job runner; the answer is ``202`` with the job, whose progress any worker shows at
``GET /backups/jobs/<id>``. While a restore runs the whole API answers ``503 maintenance``.
"""

from __future__ import annotations

from dataclasses import asdict

from common.errors import ApiError
from common.schemas.backups import (
    BackupCreateIn,
    BackupJobOut,
    BackupKeyChangeIn,
    BackupKeyOut,
    BackupKeySetupIn,
    BackupListOut,
    BackupOut,
    BackupSettingsIn,
    BackupSettingsOut,
    DestinationStatus,
    RestoreIn,
    RestoreToIn,
)
from server.backup.catalogue import ID_RE
from server.backup.crypt import Unlock
from server.backup.jobs import actor_record
from server.backup.service import BackupService
from server.domain import shop
from server.state import JobRecord

from .base import OWNER, PUBLIC, ApiBlueprint, Ctx

bp = ApiBlueprint("backups", __name__, tag="backups")


def _job(job: JobRecord, lang: str = "zh") -> BackupJobOut:
    return BackupJobOut(
        id=job.id, kind=job.kind, state=job.state.value, progress=job.progress,
        message=job.message, backup_id=job.backup_id, created_at=job.created_at,
        finished_at=job.finished_at, result=job.result, error_code=job.error_code,
        error=job.error_en if lang == "en" and job.error_en else job.error)


def _svc(ctx: Ctx) -> BackupService:
    return ctx.state.services.backups


def _known_id(backup_id: str) -> str:
    if not ID_RE.match(backup_id):
        raise ApiError("backup_not_found", status=404, backup=backup_id)
    return backup_id


@bp.endpoint("GET", "/backups", roles=OWNER, response=BackupListOut)
def list_backups(ctx: Ctx) -> BackupListOut:
    """All complete backups (newest first), verification state, destinations, warnings."""
    svc = _svc(ctx)
    items = [BackupOut.model_validate(b.to_dict()) for b in reversed(svc.list())]
    good = svc.newest_verified()
    status = svc.destination_status()
    dests = [DestinationStatus(path=d, **{k: v for k, v in status.get(d, {}).items()
                                          if k in ("ok", "at", "backup", "error")})
             for d in svc.settings.destinations]
    return BackupListOut(items=items, folder=str(svc.folder),
                         key_configured=svc.key.configured,
                         newest_verified=good.id if good else None,
                         newest_verified_age_seconds=svc.newest_verified_age_seconds(),
                         destinations=dests, warnings=svc.health_warnings())


@bp.endpoint("POST", "/backups", roles=OWNER, body=BackupCreateIn, response=BackupJobOut,
             status=202)
def create_backup(ctx: Ctx, body: BackupCreateIn) -> BackupJobOut:
    """Back up now (background job; poll GET /backups/jobs/<id>). Verified afterwards when
    ``verify_after_backup`` is set."""
    reason = "manual" + (f"-{body.note}" if body.note else "")
    return _job(ctx.state.services.jobs.submit("backup", {"reason": reason},
                                               actor=actor_record(ctx.me)))


@bp.endpoint("GET", "/backups/jobs/<job_id>", roles=PUBLIC, response=BackupJobOut)
def get_job(ctx: Ctx, job_id: str) -> BackupJobOut:
    """Progress and result of a backup / verify / restore job. No login: the job id (128 random
    bits, known only to whoever started the job) is the key, so that the progress of a restore
    can be followed while the API is in maintenance and the login tokens are replaced."""
    job = ctx.state.services.jobs.job(job_id)
    if job is None:
        raise ApiError("backup_job_not_found", status=404, job=job_id)
    return _job(job, ctx.lang)


@bp.endpoint("POST", "/backups/<backup_id>/verify", roles=OWNER, response=BackupJobOut,
             status=202)
def verify_backup(ctx: Ctx, backup_id: str) -> BackupJobOut:
    """Test-restore a backup into a throwaway MariaDB: checksum, row counts, invariants."""
    info = _svc(ctx).get(_known_id(backup_id))
    return _job(ctx.state.services.jobs.submit("verify", {"backup_id": info.id},
                                               actor=actor_record(ctx.me), backup_id=info.id))


@bp.endpoint("POST", "/backups/<backup_id>/restore", roles=OWNER, body=RestoreIn,
             response=BackupJobOut, status=202, idempotent=False)
def restore_backup(ctx: Ctx, backup_id: str, body: RestoreIn) -> BackupJobOut:
    """Replace the shop's data with a backup. ``confirm`` must repeat the backup id. A safety
    backup is taken first; the API answers 503 until the restore is done; everybody logs in
    again afterwards (the login tokens are those of the backup). Refused (409) while other
    backup work is queued or running."""
    svc = _svc(ctx)
    info = svc.get(_known_id(backup_id))
    if body.confirm != info.id:
        raise ApiError("restore_confirm_mismatch", status=400, backup=info.id)
    svc.check_restorable(info, body.force)
    return _job(ctx.state.services.jobs.submit(
        "restore", {"backup_id": info.id, "force": body.force}, actor=actor_record(ctx.me),
        backup_id=info.id, exclusive=True))


@bp.endpoint("POST", "/backups/restore-to", roles=OWNER, body=RestoreToIn,
             response=BackupJobOut, status=202, idempotent=False)
def restore_to(ctx: Ctx, body: RestoreToIn) -> BackupJobOut:
    """Point-in-time recovery: the newest verified backup before ``to`` (shop local time)
    plus the binary log up to that moment. ``confirm`` must repeat ``to``."""
    svc = _svc(ctx)
    if body.confirm != body.to:
        raise ApiError("restore_confirm_mismatch", status=400, backup=body.to)
    when = svc.pitr_moment(body.to)
    base = svc.pick_pitr_base(when, body.force)
    return _job(ctx.state.services.jobs.submit(
        "restore_to", {"to": body.to, "force": body.force}, actor=actor_record(ctx.me),
        backup_id=base.id, exclusive=True))


def _settings_out(svc: BackupService) -> BackupSettingsOut:
    return BackupSettingsOut.model_validate({**asdict(svc.settings),
                                             "timezone": svc.config.shop.timezone})


@bp.endpoint("GET", "/backups/settings", roles=OWNER, response=BackupSettingsOut)
def get_settings(ctx: Ctx) -> BackupSettingsOut:
    """Schedule, retention, destinations (lanpos.toml [backup]) and the shop's time zone
    (``[shop] timezone``, the clock of the schedule and of point-in-time restore)."""
    return _settings_out(_svc(ctx))


@bp.endpoint("PUT", "/backups/settings", roles=OWNER, body=BackupSettingsIn,
             response=BackupSettingsOut)
def put_settings(ctx: Ctx, body: BackupSettingsIn) -> BackupSettingsOut:
    """Change backup settings; only the fields sent change. Destinations are folders on this
    server (a USB disk, a NAS mount)."""
    svc = _svc(ctx)
    svc.update_settings(body.model_dump(exclude_unset=True), ctx.db, ctx.me)
    return _settings_out(svc)


@bp.endpoint("GET", "/backups/key", roles=OWNER, response=BackupKeyOut)
def get_key(ctx: Ctx) -> BackupKeyOut:
    """Is the owner's backup key set up (copies to the destinations are encrypted with it)?"""
    return BackupKeyOut.model_validate(_svc(ctx).key_status())


@bp.endpoint("POST", "/backups/key", roles=OWNER, body=BackupKeySetupIn,
             response=BackupKeyOut, status=201, idempotent=False)
def setup_key(ctx: Ctx, body: BackupKeySetupIn) -> BackupKeyOut:
    """Set up the backup key with the owner's passphrase. The answer carries the recovery
    sheet's secret key once (never stored: not idempotent, so no stored response holds it).
    409 when a key exists. Audited."""
    out = _svc(ctx).setup_key(body.passphrase, ctx.db, ctx.me)
    return BackupKeyOut.model_validate({**out, "shop_name": shop.get(ctx.db).name})


@bp.endpoint("PUT", "/backups/key", roles=OWNER, body=BackupKeyChangeIn,
             response=BackupKeyOut, idempotent=False)
def change_key(ctx: Ctx, body: BackupKeyChangeIn) -> BackupKeyOut:
    """A new passphrase for the same key (older copies stay readable), opened with the
    current passphrase or the recovery key. Audited."""
    unlock = Unlock(passphrase=body.old_passphrase, secret_key=body.recovery_key)
    return BackupKeyOut.model_validate(
        _svc(ctx).change_key(body.passphrase, unlock, ctx.db, ctx.me))
