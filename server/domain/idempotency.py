"""Idempotent writes (DESIGN.md §3).

Every write from a counter carries an ``Idempotency-Key`` (a client-made UUID). The key, a
hash of the request and the response are stored in the same transaction as the write:

- ``claim()`` inserts the key first (no look-up before it: a new write costs one statement);
  the write runs, ``complete()`` stores the response;
- a replay (same key, same request): the claim fails with a duplicate key, ``lookup()`` finds
  the record and the stored response is returned without running the write again;
- the same key with a different request: 409 ``idempotency_mismatch``;
- two concurrent requests with the same key: the second ``claim()`` waits on the first's
  key lock and fails with a duplicate key once the first commits; the caller rolls it back
  and answers with the first's stored response (if the first failed, the second runs).

Failed requests (4xx) are not recorded: they wrote nothing, so a retry simply runs again.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import ApiError
from server.db.models import IdempotencyRecord

KEY_RE = re.compile(r"^[A-Za-z0-9_\-:.]{8,64}$")


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: str


def check_key(key: str | None, required: bool = True) -> str | None:
    if not key:
        if required:
            raise ApiError("idempotency_key_required", status=400)
        return None
    if not KEY_RE.match(key):
        raise ApiError("idempotency_key_invalid", status=400)
    return key


def request_hash(endpoint: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{endpoint}\n{canonical}".encode()).hexdigest()


def lookup(session: Session, key: str, req_hash: str) -> StoredResponse | None:
    rec = session.get(IdempotencyRecord, key)
    if rec is None:
        return None
    if rec.request_hash != req_hash:
        raise ApiError("idempotency_mismatch", status=409)
    return StoredResponse(rec.status_code, rec.response)


def claim(session: Session, key: str, staff_id: int | None, endpoint: str,
          req_hash: str) -> IdempotencyRecord:
    """Insert the key at the start of the write's transaction. A concurrent request with the
    same key blocks on this insert until the first commits (then gets a duplicate-key error
    and replays the stored response) or rolls back (then proceeds itself)."""
    rec = IdempotencyRecord(key=key, staff_id=staff_id, endpoint=endpoint[:200],
                            request_hash=req_hash, status_code=0, response="")
    session.add(rec)
    session.flush()
    return rec


def known(session: Session, keys: list[str]) -> list[str]:
    """Which of these keys this database has (a rejoining old primary asks: the writes only
    it holds are those whose keys the new primary lacks)."""
    if not keys:
        return []
    return list(session.scalars(select(IdempotencyRecord.key)
                                .where(IdempotencyRecord.key.in_(keys))))


def complete(session: Session, rec: IdempotencyRecord, status_code: int, body: str) -> None:
    """Store the response in the same transaction as the write."""
    rec.status_code = status_code
    rec.response = body
    session.flush()
