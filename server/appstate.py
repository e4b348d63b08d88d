"""What the app of one process holds: its typed services and per-process state.

A module of its own so that the API layer can name these types without importing the app
factory (which imports the API)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.backup.jobs import busy_error, job_handlers
from server.backup.service import BackupService
from server.config import Config
from server.domain.auth import AuthPolicy, Passwords
from server.domain.messaging import MessageSender, RecordingSender
from server.jobs import JobQueue, JobRunner
from server.roles import RolePolicy, policy
from server.runtime import Runtime
from server.state import ServerRole, SharedState, Snapshot


@dataclass
class Services:
    """The app's typed, named services, built once in the factory."""

    backups: BackupService
    jobs: JobQueue
    # each returns warnings for /health (empty: fine)
    health_checks: list[Callable[[], list[str]]] = field(default_factory=list)
    # SMS / WeChat: the seam where a provider plugs in (server.domain.messaging)
    messages: MessageSender = field(default_factory=RecordingSender)

    @classmethod
    def build(cls, runtime: Runtime, shared: SharedState, *, run_jobs: bool) -> Services:
        """The services of an app on ``runtime``'s database. ``run_jobs``: run the queued
        jobs in a thread of this process (else the supervisor's runner does)."""
        backups = BackupService(runtime, shared, serving=True)
        runner = JobRunner(shared, job_handlers(backups), failure_code="backup_failed") \
            if run_jobs else None
        return cls(backups=backups, jobs=JobQueue(shared, runner, busy_error),
                   health_checks=[backups.health_warnings,
                                  lambda: abandoned_maintenance_warnings(shared)])

    def close(self) -> None:
        self.jobs.close()


def abandoned_maintenance_warnings(shared: SharedState) -> list[str]:
    m = shared.abandoned_maintenance()
    if not m:
        return []
    return [f"上次维护（{m['reason']}，{m['by']}）未完成就中断了：如果是还原，数据库可能不完整，"
            f"请重新还原 (the last maintenance, {m['reason']}, was interrupted: if it was a "
            f"restore, the database may be incomplete — restore again)"]


@dataclass
class LanposState:
    """Per-app state, kept in ``app.extensions['lanpos']`` (no module globals).

    What several processes must agree on (role, epoch, maintenance, jobs) is not kept here but
    in ``shared`` (``server.state``): this object is per process."""

    config: Config
    engine: Engine
    session_factory: sessionmaker[Session]
    passwords: Passwords
    auth_policy: AuthPolicy
    shared: SharedState
    services: Services
    openapi_document: dict[str, Any] | None = None

    def snapshot(self) -> Snapshot:
        return self.shared.snapshot()

    @functools.cached_property
    def cluster_id(self) -> str:
        """Set at pairing, before this server serves (``standby init``/``rejoin`` run on a
        stopped data directory): read once per process."""
        return self.shared.cluster_id()

    @property
    def role(self) -> ServerRole:
        return self.shared.cluster().role

    @property
    def policy(self) -> RolePolicy:
        return policy(self.role)

    def close(self) -> None:
        self.services.close()
        self.shared.close()
        self.engine.dispose()
