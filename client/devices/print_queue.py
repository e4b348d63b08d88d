"""Print jobs that never vanish.

Every job is written to the spool folder (one JSON file per job, versioned, written to a
temporary name, fsynced and renamed) *before* anything is sent. Then:

- success: the file is removed;
- failure (printer off, time-out, cable, paper out where the printer reports it): the job
  stays as ``failed`` with ``last_error``, a reason the cashier can act on, until it is
  retried (:meth:`PrintQueue.retry`) or discarded by a person (:meth:`PrintQueue.discard`);
- crash while sending: at the next start the job is found still ``pending`` and becomes
  ``failed`` ("未确认是否打印") — it is never reprinted behind the cashier's back.

The job holds the :class:`~client.devices.document.Document`, not printer bytes, so a job
can be reprinted on another printer after the configuration changed.

Plain Python and blocking: the client runs ``submit``/``retry`` off the GUI thread and gets
told through ``on_change(job)`` (called in that worker thread) or the returned job.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from .document import Document, document_from_dict, document_to_dict
from .printer import PrinterConfig, PrinterError, print_document

log = logging.getLogger(__name__)

JOB_VERSION = 1
JobState = Literal["pending", "failed", "printed"]
INTERRUPTED_REASON = "上次发送时程序中断，未确认是否已打印：请看打印机后选择重打或删除"

Sender = Callable[[PrinterConfig, Document], None]


@dataclass
class PrintJob:
    """One queued print. ``state``: ``pending`` (saved, being sent), ``failed`` (kept for
    retry; ``last_error`` says why) or ``printed`` (sent; no longer on disk)."""

    id: str
    title: str
    document: Document
    created_at: datetime
    state: JobState = "pending"
    attempts: int = 0
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": JOB_VERSION,
            "id": self.id,
            "title": self.title,
            "created_at": self.created_at.isoformat(),
            "state": self.state,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "last_attempt_at": self.last_attempt_at.isoformat() if self.last_attempt_at else None,
            "meta": self.meta,
            "document": document_to_dict(self.document),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PrintJob:
        if data.get("version") != JOB_VERSION:
            raise ValueError(f"unsupported print job version {data.get('version')!r}")
        last = data.get("last_attempt_at")
        return cls(
            id=data["id"],
            title=data["title"],
            document=document_from_dict(data["document"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            state=data["state"],
            attempts=int(data["attempts"]),
            last_error=data.get("last_error"),
            last_attempt_at=datetime.fromisoformat(last) if last else None,
            meta=dict(data.get("meta") or {}),
        )


class PrintQueue:
    """Persisted print jobs for one printer.

    ``config`` may be replaced at any time (settings changed); the next send uses it.
    ``send`` is the function that prints a document (default
    :func:`~client.devices.printer.print_document`); tests may pass a stub.
    """

    def __init__(
        self,
        spool_dir: str | os.PathLike[str],
        config: PrinterConfig,
        *,
        send: Sender = print_document,
        on_change: Callable[[PrintJob], None] | None = None,
    ) -> None:
        self.spool_dir = Path(spool_dir)
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self._send = send
        self._on_change = on_change
        self._lock = threading.RLock()  # one job at a time goes to the printer
        self._recover()

    # ------------------------------------------------------------------------ public
    def submit(
        self, document: Document, title: str, meta: dict[str, Any] | None = None
    ) -> PrintJob:
        """Save ``document`` as a job, then print it. Returns the job: ``printed`` or
        ``failed`` (with ``last_error``); a failed job stays in the spool folder."""
        return self.send(self.add(document, title, meta).id)

    def add(self, document: Document, title: str, meta: dict[str, Any] | None = None) -> PrintJob:
        """Save ``document`` as a pending job without sending it."""
        now = datetime.now()
        job = PrintJob(
            id=f"{now:%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}",
            title=title,
            document=document,
            created_at=now,
            meta=dict(meta or {}),
        )
        with self._lock:
            self._write(job)
        self._notify(job)
        return job

    def send(self, job_id: str) -> PrintJob:
        """Print the saved job ``job_id`` now (also used to retry a failed job)."""
        with self._lock:
            job = self.get(job_id)
            job = replace(
                job, state="pending", attempts=job.attempts + 1, last_attempt_at=datetime.now()
            )
            self._write(job)  # a crash from here on leaves it "pending" → failed at restart
            try:
                self._send(self.config, job.document)
            except PrinterError as exc:
                job = replace(job, state="failed", last_error=exc.reason)
                self._write(job)
                log.warning("print job %s (%s) failed: %s", job.id, job.title, exc.reason)
            except Exception as exc:  # a bug while rendering: keep the job, say so
                log.exception("print job %s (%s) could not be rendered", job.id, job.title)
                reason = f"打印内容生成失败（程序错误）：{exc}"
                job = replace(job, state="failed", last_error=reason)
                self._write(job)
            else:
                self._path(job.id).unlink(missing_ok=True)
                job = replace(job, state="printed", last_error=None)
        self._notify(job)
        return job

    retry = send

    def retry_all(self) -> list[PrintJob]:
        """Retry every failed job, oldest first; stops at the first failure (the printer is
        most likely still off) and returns the jobs it tried."""
        tried = []
        for job in self.failed():
            result = self.send(job.id)
            tried.append(result)
            if result.state == "failed":
                break
        return tried

    def discard(self, job_id: str) -> None:
        """Delete a job for good (the cashier decided it is not needed)."""
        with self._lock:
            self._path(job_id).unlink(missing_ok=True)

    def get(self, job_id: str) -> PrintJob:
        """The saved job ``job_id`` (KeyError if it is not in the spool folder)."""
        path = self._path(job_id)
        try:
            return PrintJob.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise KeyError(job_id) from None

    def jobs(self) -> list[PrintJob]:
        """All saved jobs, oldest first."""
        jobs = []
        for path in sorted(self.spool_dir.glob("*.json")):
            try:
                jobs.append(PrintJob.from_dict(json.loads(path.read_text(encoding="utf-8"))))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("unreadable print job %s: %s", path, exc)
        return jobs

    def failed(self) -> list[PrintJob]:
        return [job for job in self.jobs() if job.state == "failed"]

    # ------------------------------------------------------------------------ internals
    def _path(self, job_id: str) -> Path:
        if not job_id or "/" in job_id or "\\" in job_id or job_id.startswith("."):
            raise KeyError(job_id)
        return self.spool_dir / f"{job_id}.json"

    def _write(self, job: PrintJob) -> None:
        path = self._path(job.id)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(job.to_dict(), fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def _recover(self) -> None:
        """Jobs left ``pending`` by a crash become ``failed``: a person decides on them."""
        for tmp in self.spool_dir.glob("*.tmp"):
            tmp.unlink()
        for job in self.jobs():
            if job.state == "pending":
                self._write(replace(job, state="failed", last_error=INTERRUPTED_REASON))

    def _notify(self, job: PrintJob) -> None:
        if self._on_change is not None:
            try:
                self._on_change(job)
            except Exception:  # a broken listener must not lose or re-send a job
                log.exception("print queue on_change callback failed")
