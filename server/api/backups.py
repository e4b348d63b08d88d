"""Backups (owner): list, back up now, verify, restore, point-in-time restore, settings.

Long work (backup, verify, restore) runs in a background job; the answer is ``202`` with the
job, whose progress is at ``GET /backups/jobs/<id>``. While a restore runs the whole API
answers ``503 maintenance``.
"""

from __future__ import annotations

from dataclasses import asdict

from common.errors import ApiError
from common.schemas.backups import (
    BackupCreateIn,
    BackupJobOut,
    BackupListOut,
    BackupOut,
    BackupSettingsIn,
    BackupSettingsOut,
    DestinationStatus,
    RestoreIn,
    RestoreToIn,
)
from server.ops.backup import ID_RE, service_for

from .base import OWNER, PUBLIC, ApiBlueprint, Ctx

bp = ApiBlueprint("backups", __name__, tag="backups")


def _job(job, lang: str = "zh") -> BackupJobOut:
    d = job.to_dict()
    error_en = d.pop("error_en")
    if lang == "en" and error_en:
        d["error"] = error_en
    return BackupJobOut.model_validate(d)


def _known_id(backup_id: str) -> str:
    if not ID_RE.match(backup_id):
        raise ApiError("backup_not_found", status=404, backup=backup_id)
    return backup_id


@bp.endpoint("GET", "/backups", roles=OWNER, response=BackupListOut)
def list_backups(ctx: Ctx) -> BackupListOut:
    """All complete backups (newest first), verification state, destinations, warnings."""
    svc = service_for(ctx.state)
    items = [BackupOut.model_validate(b.to_dict()) for b in reversed(svc.list())]
    good = svc.newest_verified()
    status = svc.destination_status()
    dests = [DestinationStatus(path=d, **{k: v for k, v in status.get(d, {}).items()
                                          if k in ("ok", "at", "backup", "error")})
             for d in svc.settings.destinations]
    return BackupListOut(items=items, folder=str(svc.folder),
                         newest_verified=good.id if good else None,
                         newest_verified_age_seconds=svc.newest_verified_age_seconds(),
                         destinations=dests, warnings=svc.health_warnings())


@bp.endpoint("POST", "/backups", roles=OWNER, body=BackupCreateIn, response=BackupJobOut,
             status=202)
def create_backup(ctx: Ctx, body: BackupCreateIn) -> BackupJobOut:
    """Back up now (background job; poll GET /backups/jobs/<id>). Verified afterwards when
    ``verify_after_backup`` is set."""
    svc = service_for(ctx.state)
    reason = "manual" + (f"-{body.note}" if body.note else "")

    def work(progress):
        info = svc.backup(reason, lambda f, m: progress(f * 0.5 if verify else f, m))
        if verify:
            svc.verify(info.id, lambda f, m: progress(0.5 + f * 0.5, "verify " + m))
            info = svc.get(info.id)
        svc.apply_retention()
        return info

    verify = svc.settings.verify_after_backup
    return _job(svc.submit("backup", work))


@bp.endpoint("GET", "/backups/jobs/<job_id>", roles=PUBLIC, response=BackupJobOut)
def get_job(ctx: Ctx, job_id: str) -> BackupJobOut:
    """Progress and result of a backup / verify / restore job. No login: the job id (128 random
    bits, known only to whoever started the job) is the key, so that the progress of a restore
    can be followed while the API is in maintenance and the login tokens are replaced."""
    return _job(service_for(ctx.state).job(job_id), ctx.lang)


@bp.endpoint("POST", "/backups/<backup_id>/verify", roles=OWNER, response=BackupJobOut,
             status=202)
def verify_backup(ctx: Ctx, backup_id: str) -> BackupJobOut:
    """Test-restore a backup into a throwaway MariaDB: checksum, row counts, invariants."""
    svc = service_for(ctx.state)
    info = svc.get(_known_id(backup_id))
    return _job(svc.submit("verify", lambda p: svc.verify(info.id, p), info.id))


@bp.endpoint("POST", "/backups/<backup_id>/restore", roles=OWNER, body=RestoreIn,
             response=BackupJobOut, status=202, idempotent=False)
def restore_backup(ctx: Ctx, backup_id: str, body: RestoreIn) -> BackupJobOut:
    """Replace the shop's data with a backup. ``confirm`` must repeat the backup id. A safety
    backup is taken first; the API answers 503 until the restore is done; everybody logs in
    again afterwards (the login tokens are those of the backup)."""
    svc = service_for(ctx.state)
    info = svc.get(_known_id(backup_id))
    if body.confirm != info.id:
        raise ApiError("restore_confirm_mismatch", status=400, backup=info.id)
    svc.check_restorable(info, body.force)
    svc.refuse_if_busy()
    actor = ctx.me

    def work(progress):
        res = svc.restore(info.id, force=body.force, progress=progress)
        svc.audit(actor, "backup.restore", info.id, after=res)
        return res

    return _job(svc.submit("restore", work, info.id, exclusive=True))


@bp.endpoint("POST", "/backups/restore-to", roles=OWNER, body=RestoreToIn,
             response=BackupJobOut, status=202, idempotent=False)
def restore_to(ctx: Ctx, body: RestoreToIn) -> BackupJobOut:
    """Point-in-time recovery: the newest verified backup before ``to`` (shop local time)
    plus the binary log up to that moment. ``confirm`` must repeat ``to``."""
    svc = service_for(ctx.state)
    if body.confirm != body.to:
        raise ApiError("restore_confirm_mismatch", status=400, backup=body.to)
    when = svc.pitr_moment(body.to)
    base = svc.pick_pitr_base(when, body.force)
    svc.refuse_if_busy()
    actor = ctx.me

    def work(progress):
        res = svc.restore_to(body.to, force=body.force, progress=progress)
        svc.audit(actor, "backup.restore_to", base.id, after=res)
        return res

    return _job(svc.submit("restore_to", work, base.id, exclusive=True))


@bp.endpoint("GET", "/backups/settings", roles=OWNER, response=BackupSettingsOut)
def get_settings(ctx: Ctx) -> BackupSettingsOut:
    """Schedule, retention, destinations (lanpos.toml [backup])."""
    return BackupSettingsOut.model_validate(asdict(service_for(ctx.state).settings))


@bp.endpoint("PUT", "/backups/settings", roles=OWNER, body=BackupSettingsIn,
             response=BackupSettingsOut)
def put_settings(ctx: Ctx, body: BackupSettingsIn) -> BackupSettingsOut:
    """Change backup settings; only the fields sent change. Destinations are folders on this
    server (a USB disk, a NAS mount)."""
    svc = service_for(ctx.state)
    new = svc.update_settings(body.model_dump(exclude_unset=True), ctx.db, ctx.me)
    return BackupSettingsOut.model_validate(asdict(new))
