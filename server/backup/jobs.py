"""The backup jobs (backup, verify, restore, point in time) as handlers of the job runner
(``server.jobs``): queued by any API worker with their parameters, run one at a time by the
runner (the supervisor's, under ``lanpos-server run``), their progress, result and error kept in
the shared state.

A job's parameters are plain JSON (the backup id, ``force``, the moment); who asked for it is
the job's ``actor`` (for the maintenance notice and the audit entry written when it is done).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from common.errors import ApiError
from common.schemas.base import Role
from server.domain.actor import Actor
from server.jobs import Handler, Progress
from server.state import JobRecord

from .dumpfile import BackupError
from .service import BackupService


def actor_record(actor: Actor) -> dict[str, Any]:
    """What a job keeps of who queued it."""
    return {"staff_id": actor.staff_id, "username": actor.username, "role": actor.role.value,
            "counter": actor.counter, "ip": actor.ip}


def _actor(job: JobRecord) -> Actor | None:
    a = job.actor
    if not a:
        return None
    return Actor(staff_id=a.get("staff_id"), username=a.get("username") or "?",
                 role=Role(a.get("role") or Role.OWNER.value), counter=a.get("counter") or "",
                 ip=a.get("ip"))


def busy_error(busy: JobRecord) -> ApiError:
    """409 for a restore asked for while other work is queued or running (or behind one)."""
    return BackupError("backup_busy", kind=busy.kind)


def job_handlers(svc: BackupService) -> dict[str, Handler]:
    def remember_failure(work: Handler) -> Handler:
        def run(job: JobRecord, progress: Progress) -> Any:
            try:
                return work(job, progress)
            except ApiError as e:
                svc.last_error = e.message("zh")
                raise
            except Exception as e:
                svc.last_error = str(e)
                raise
        return run

    def backup(job: JobRecord, progress: Progress) -> dict[str, Any]:
        verify = svc.settings.verify_after_backup
        info = svc.backup(job.params.get("reason") or "manual",
                          lambda f, m: progress(f * 0.5 if verify else f, m))
        if verify:
            svc.verify(info.id, lambda f, m: progress(0.5 + f * 0.5, "verify " + m))
            info = svc.get(info.id)
        svc.apply_retention()
        svc.last_error = None
        return {**info.to_dict(), "backup_id": info.id}

    def verify(job: JobRecord, progress: Progress) -> dict[str, Any]:
        return asdict(svc.verify(job.params["backup_id"], progress))

    def holder(job: JobRecord) -> str:
        who = _actor(job)
        return who.username if who else "lanpos"

    def restore(job: JobRecord, progress: Progress) -> dict[str, Any]:
        p = job.params
        res = svc.restore(p["backup_id"], force=bool(p.get("force")), progress=progress,
                          by=holder(job), job_id=job.id)
        svc.audit(_actor(job), "backup.restore", p["backup_id"], after=res)
        return res

    def restore_to(job: JobRecord, progress: Progress) -> dict[str, Any]:
        p = job.params
        res = svc.restore_to(p["to"], force=bool(p.get("force")), progress=progress,
                             by=holder(job), job_id=job.id)
        svc.audit(_actor(job), "backup.restore_to", res.get("backup_id"), after=res)
        return res

    return {kind: remember_failure(h) for kind, h in (
        ("backup", backup), ("verify", verify), ("restore", restore),
        ("restore_to", restore_to))}
