"""Sending the journaled offline sales to the server (DESIGN §4 "Counters offline").

:func:`replay` sends the pending sales **in the order they were rung up**, each as
``POST /sales`` with ``offline`` (local number, recorded time, the counter's amounts) and its
own UUID as the ``Idempotency-Key`` — so a retry, a restart halfway or an answer that was lost
after the server committed can never make a second sale: the server answers the stored one.

* A sale the server takes is marked ``sent`` (with the server's number) at once, before the
  next is sent.
* A business refusal (a 4xx about *this sale*, e.g. ``422 offline_not_allowed``) marks it
  ``refused`` with the server's message — it stays in the journal, never dropped — and the
  replay goes on with the next.
* ``409 idempotency_mismatch``: the server has a sale with this id already, with another body
  (it was sent online, its answer was lost, and it was journaled after): the stored sale is
  read back (``GET /sales/<id>``) and the entry marked ``sent`` with its number.
* Anything that is not about the sale — no answer, a time-out, 5xx, a standby, a replaced
  primary, ``busy_retry``, an expired login — stops the replay; the sale stays pending and
  is sent again next time with the same key.

Never two at once: a replay holds an exclusive lock on ``<journal>.replay.lock`` (an OS file
lock, released when the process dies), so two processes of one counter (the counter and
``lanpos-client journal replay``) or two threads cannot send the same sale concurrently; the
one that finds the lock taken returns ``busy`` at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from common.errors import ApiError
from common.schemas.sales import SaleOut

from .. import i18n
from .journal import Journal, JournalRecord

log = logging.getLogger(__name__)

#: answers that are not about the sale: stop, keep it pending, send it again later
_STOP_STATUS = frozenset({0, 401, 403, 408, 429})
_STOP_CODES = frozenset({"stale_primary", "standby_read_only", "busy_retry",
                         "database_unavailable", "maintenance"})
#: read time-out of one sale's POST (it may wait longer than a scan; resent with its key)
SUBMIT_TIMEOUT = (3.0, 30.0)


@dataclass(frozen=True)
class ReplayOutcome:
    number: str
    state: str  # sent / refused / stopped
    server_number: str | None = None
    message: str | None = None
    replayed: bool = False  # the server already had it (its stored answer)


@dataclass
class ReplayResult:
    """``sent``: how many went up now; ``remaining``: still pending afterwards; ``errors``:
    messages (refusals and the stop); ``busy``: another replay holds the lock."""

    sent: int = 0
    remaining: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    outcomes: list[ReplayOutcome] = field(default_factory=list)
    stopped: ApiError | None = None
    busy: bool = False

    @property
    def complete(self) -> bool:
        return not self.busy and self.stopped is None and self.remaining == 0


def _lock_file(f: IO[bytes]) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def replay_lock(journal_path: Path) -> Iterator[bool]:
    """Yields True while this process holds the replay lock of ``journal_path``, False when
    another holder has it (nothing waits). The OS drops the lock if the process dies."""
    path = Path(journal_path)
    lock = path.with_name(path.name + ".replay.lock")
    f = open(lock, "a+b")  # noqa: SIM115 - held for the whole block
    try:
        if os.name == "nt":
            f.seek(0)
        yield _lock_file(f)
    finally:
        f.close()  # closing releases a flock / msvcrt lock


def _is_stop(err: ApiError) -> bool:
    return err.status in _STOP_STATUS or err.status >= 500 or err.code in _STOP_CODES


def _send(api: Any, rec: JournalRecord) -> tuple[SaleOut, bool]:
    """POST the sale; (the sale as stored, whether the server already had it)."""
    try:
        data = api.request("POST", "/sales", body=rec.offline_body(), key=str(rec.sale_id),
                           timeout=SUBMIT_TIMEOUT)
    except ApiError as e:
        if e.status == 409 and e.code == "idempotency_mismatch":
            # sent once online (the answer was lost), journaled after: the server has it
            return SaleOut.model_validate(api.request("GET", f"/sales/{rec.sale_id}")), True
        raise
    return SaleOut.model_validate(data), False


def replay(api: Any, journal: Journal,
           on_progress: Callable[[ReplayOutcome], None] | None = None) -> ReplayResult:
    """Send the pending sales of ``journal`` through ``api`` (a logged-in
    :class:`client.api.ApiClient`); see the module doc. ``on_progress`` is told each
    outcome (on the calling thread)."""
    result = ReplayResult()
    with replay_lock(journal.path) as held:
        if not held:
            result.busy = True
            result.remaining = journal.pending_count()
            result.errors.append(i18n.tr("offline.replay.busy"))
            return result
        for rec in journal.pending():  # read under the lock: another replay may have sent
            try:
                sale, replayed = _send(api, rec)
            except ApiError as e:
                if _is_stop(e):
                    log.info("replay stopped at %s: %s %s", rec.number, e.status, e.code)
                    journal.note_attempt(rec.sale_id, str(e))
                    result.stopped = e
                    result.errors.append(str(e))
                    outcome = ReplayOutcome(rec.number, "stopped", message=str(e))
                    result.outcomes.append(outcome)
                    if on_progress:
                        on_progress(outcome)
                    break
                log.warning("offline sale %s refused: %s %s", rec.number, e.code, e)
                journal.mark_refused(rec.sale_id, e.code, str(e))
                result.refused += 1
                result.errors.append(f"{rec.number}: {e}")
                outcome = ReplayOutcome(rec.number, "refused", message=str(e))
            else:
                journal.mark_sent(rec.sale_id, sale.number)
                result.sent += 1
                outcome = ReplayOutcome(rec.number, "sent", server_number=sale.number,
                                        replayed=replayed)
            result.outcomes.append(outcome)
            if on_progress:
                on_progress(outcome)
        result.remaining = journal.pending_count()
    return result
