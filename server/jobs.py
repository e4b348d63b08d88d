"""Long work (backup, verify, restore) as jobs in the shared state (``server.state``).

Any API worker queues a job (``JobQueue.submit``) and answers ``202``; one **runner** executes
the jobs one at a time and writes their progress, result or error back, where every worker reads
them (``GET /backups/jobs/<id>``). Under ``lanpos-server run`` the runner lives in the
supervisor, so that a worker that dies or is replaced never takes a restore with it. An app
built on its own (tests, a single process) runs its jobs in a thread of its own process.

A handler is ``handler(job, progress) -> result``: ``progress(fraction, message)``; the result
is JSON (a ``dict``; its ``backup_id``, if any, is recorded on the job). An ``ApiError`` fails
the job with its code and its messages in both languages.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from common.errors import ApiError
from server.state import JobBusy, JobRecord, JobState, SharedState

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Handler = Callable[[JobRecord, Progress], Any]

POLL_SECONDS = 0.2
PROGRESS_EVERY_SECONDS = 0.3  # progress is written (fsynced) at most this often


class JobRunner:
    """Runs queued jobs of one data directory, one at a time, in a thread."""

    def __init__(self, shared: SharedState, handlers: Mapping[str, Handler],
                 poll_seconds: float = POLL_SECONDS, failure_code: str = "job_failed") -> None:
        self.shared = shared
        self.handlers = dict(handlers)
        self.poll_seconds = poll_seconds
        self.failure_code = failure_code
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._loop, name="lanpos-jobs",
                                                daemon=True)
                self._thread.start()

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:  # the runner must outlive any single failure
                log.exception("job runner round failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def run_pending(self) -> int:
        """Run every queued job this runner can handle; returns how many ran."""
        n = 0
        while not self._stop.is_set():
            job = self.shared.claim_next_job(os.getpid())
            if job is None:
                return n
            self.run(job)
            n += 1
        return n

    def run(self, job: JobRecord) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            self.shared.fail_job(job.id, self.failure_code, f"未知的任务类型 {job.kind}",
                                 f"unknown job kind {job.kind}")
            return
        last = [0.0, -1.0, ""]

        def progress(fraction: float, message: str) -> None:
            now = time.monotonic()
            if (now - last[0] >= PROGRESS_EVERY_SECONDS or fraction - last[1] >= 0.05
                    or message != last[2]):
                last[:] = [now, fraction, message]
                self.shared.job_progress(job.id, fraction, message)

        try:
            result = handler(job, progress)
        except ApiError as e:
            log.warning("job %s (%s) failed: %s", job.id, job.kind, e.message("en"))
            self.shared.fail_job(job.id, e.code, e.message("zh"), e.message("en"))
        except Exception as e:  # recorded for the owner, logged with the traceback
            log.exception("job %s (%s) failed", job.id, job.kind)
            self.shared.fail_job(job.id, self.failure_code, str(e), str(e))
        else:
            backup_id = result.get("backup_id") if isinstance(result, dict) else None
            self.shared.finish_job(job.id, result, backup_id=backup_id)


class JobQueue:
    """What the API uses: queue a job, read a job. ``runner``: run jobs in this process."""

    def __init__(self, shared: SharedState, runner: JobRunner | None = None,
                 busy_error: Callable[[JobRecord], ApiError] | None = None) -> None:
        self.shared = shared
        self.runner = runner
        self._busy_error = busy_error

    def submit(self, kind: str, params: dict[str, Any] | None = None, *,
               actor: dict[str, Any] | None = None, backup_id: str | None = None,
               exclusive: bool = False) -> JobRecord:
        try:
            job = self.shared.submit_job(kind, params, actor=actor, backup_id=backup_id,
                                         exclusive=exclusive)
        except JobBusy as e:
            if self._busy_error is not None:
                raise self._busy_error(e.busy) from e
            raise
        if self.runner is not None:
            self.runner.wake()
        return job

    def job(self, job_id: str) -> JobRecord | None:
        return self.shared.job(job_id)

    def wait(self, job_id: str, timeout: float, poll: float = 0.2) -> JobRecord | None:
        """The job once done or failed; None if it is still at work after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            rec = self.shared.job(job_id)
            if rec is not None and rec.state in (JobState.DONE, JobState.FAILED):
                return rec
            if time.monotonic() >= deadline:
                return None
            time.sleep(poll)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.stop()
