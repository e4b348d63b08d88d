"""The durable journal of offline sales (DESIGN §4 "Counters offline").

A sale rung up while no writable server answers is committed here **before its receipt
prints**: :meth:`Journal.record` returns the sale's local number (``"<counter>-L000123"``)
only once the row is committed to an SQLite file in WAL mode with ``synchronous=FULL`` (the
commit is on disk: a kill -9 or a power cut afterwards loses nothing; one before it leaves no
trace — never half a sale). The replay (:mod:`client.offline.replay`) sends the pending sales
in order and marks each ``sent`` (with the server's number) or ``refused`` (with the server's
message: a refused sale is kept, never dropped).

A damaged file is never replaced silently by an empty one: opening it raises
:class:`JournalDamaged`, whose message says where the file is and how to recover; the file is
left as it is. A new journal is built under a temporary name and renamed into place, so a
journal file that exists always has its schema; one that exists but is empty, is no SQLite
file, fails SQLite's ``quick_check`` or is not ours is damaged. A write-ahead log without its
journal file (someone deleted the main file) is damaged too.

The file may be open in several processes at once (the counter and ``lanpos-client journal``):
writes take SQLite's write lock (``BEGIN IMMEDIATE``) and wait for each other. Within one
process a :class:`Journal` may be used from several threads (one connection under a lock).

``on_step`` (fault injection for the durability tests): called with ``"begin"``,
``"inserted"`` (the row written, not committed) and ``"committed"`` during :meth:`record`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.schemas.sales import OFFLINE_METHODS, PaymentIn, SaleIn

from .. import i18n

SQLITE_MAGIC = b"SQLite format 3\x00"
KIND = "lanpos-offline-journal"
SCHEMA_VERSION = 1

STATE_PENDING, STATE_SENT, STATE_REFUSED = "pending", "sent", "refused"
STATES = (STATE_PENDING, STATE_SENT, STATE_REFUSED)

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sales (
    seq INTEGER PRIMARY KEY,
    sale_id TEXT NOT NULL UNIQUE,
    number TEXT NOT NULL UNIQUE,
    counter TEXT NOT NULL,
    cashier TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    total INTEGER NOT NULL,
    line_amounts TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'refused')),
    server_number TEXT,
    error_code TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT
);
CREATE INDEX ix_sales_state ON sales (state, seq);
"""


class JournalDamaged(Exception):
    """The journal file cannot be used; it is kept as it is (see the message)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(i18n.tr("offline.journal.damaged", path=str(path), reason=reason))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class JournalEntry:
    """One offline sale as the counter rang it up.

    ``sale``: the body the counter would have sent (its ``id`` is the sale's UUID and its
    Idempotency-Key); ``line_amounts`` and ``total``: the amounts the counter's pricing
    engine computed (the same order as ``sale.lines``); ``payments``: those of ``sale``
    (only cash, card, WeChat and Alipay offline)."""

    sale: SaleIn
    counter: str
    cashier: str
    line_amounts: tuple[int, ...]
    total: int
    recorded_at: dt.datetime = field(default_factory=utcnow)
    sale_id: uuid.UUID | None = None
    payments: tuple[PaymentIn, ...] = ()
    cashier_id: int | None = None  # the logged-in staff id: the replayed sale is theirs
    member_ref: str | None = None  # a member typed offline (card number / full phone)

    def __post_init__(self) -> None:
        if self.sale_id is None:
            object.__setattr__(self, "sale_id", self.sale.id)
        elif self.sale_id != self.sale.id:
            raise ValueError("sale_id differs from the sale's id")
        if not self.payments:
            object.__setattr__(self, "payments", tuple(self.sale.payments))
        object.__setattr__(self, "line_amounts", tuple(int(a) for a in self.line_amounts))
        if self.recorded_at.tzinfo is None:
            raise ValueError("recorded_at needs a time zone (UTC)")
        object.__setattr__(self, "recorded_at", self.recorded_at.astimezone(dt.UTC))

    def check(self) -> None:
        """Raise ValueError for an entry that cannot be an offline sale."""
        if not self.counter.strip() or not self.cashier.strip():
            raise ValueError("an offline sale needs its counter and cashier")
        if len(self.line_amounts) != len(self.sale.lines):
            raise ValueError("one amount per line")
        if any(a < 0 for a in self.line_amounts) or sum(self.line_amounts) != self.total:
            raise ValueError("the line amounts must add up to the total")
        bad = {p.method for p in self.payments} - set(OFFLINE_METHODS)
        if bad:
            raise ValueError(f"not payable offline: {', '.join(sorted(bad))}")
        if sum(p.amount for p in self.payments) != self.total:
            raise ValueError("the payments must add up to the total")


@dataclass(frozen=True)
class JournalRecord:
    """A journaled sale and where it stands."""

    seq: int
    number: str  # the local number, e.g. "01-L000123"
    entry: JournalEntry
    state: str  # pending / sent / refused
    server_number: str | None = None
    error_code: str | None = None
    error: str | None = None  # the server's message of a refusal
    attempts: int = 0
    sent_at: dt.datetime | None = None

    @property
    def sale_id(self) -> uuid.UUID:
        assert self.entry.sale_id is not None
        return self.entry.sale_id

    @property
    def total(self) -> int:
        return self.entry.total

    @property
    def recorded_at(self) -> dt.datetime:
        return self.entry.recorded_at

    def offline_body(self) -> dict[str, Any]:
        """The ``POST /sales`` body of the replay: the sale as rung up, with ``offline``."""
        body = self.entry.sale.model_dump(mode="json", exclude_unset=True)
        body["offline"] = {
            "number": self.number,
            "recorded_at": self.entry.recorded_at.isoformat(),
            "total": self.entry.total,
            "line_amounts": list(self.entry.line_amounts),
        }
        if self.entry.cashier_id is not None:
            body["offline"]["cashier_id"] = self.entry.cashier_id
        if self.entry.member_ref:
            body["offline"]["member_ref"] = self.entry.member_ref
        return body


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":
        return  # a directory cannot be opened for fsync on Windows (NTFS journals renames)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(path), timeout=10.0, isolation_level=None,
                          check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 10000")
    return con


class Journal:
    """The offline sales journal at ``path`` (see the module doc)."""

    def __init__(self, path: str | os.PathLike[str], *,
                 on_step: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self._on_step = on_step
        self._lock = threading.RLock()
        wal = self.path.with_name(self.path.name + "-wal")
        if not self.path.exists():
            if wal.exists() and wal.stat().st_size > 0:
                raise JournalDamaged(self.path, i18n.tr("offline.journal.missing_main"))
            self._create()
        self._check_header()
        try:
            con = _connect(self.path)
        except sqlite3.Error as e:
            raise JournalDamaged(self.path, str(e)) from e
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
            if rows != [("ok",)]:
                raise JournalDamaged(self.path, "; ".join(str(r[0]) for r in rows[:3]))
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("kind") != KIND:
                raise JournalDamaged(self.path, i18n.tr("offline.journal.not_journal"))
            if int(meta.get("schema", "0")) > SCHEMA_VERSION:
                raise JournalDamaged(self.path, f"schema {meta.get('schema')} > "
                                                f"{SCHEMA_VERSION}")
            mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalDamaged(self.path, f"journal_mode {mode}")
            con.execute("PRAGMA synchronous = FULL")
            con.execute("SELECT count(*) FROM sales").fetchone()
        except sqlite3.Error as e:
            con.close()
            raise JournalDamaged(self.path, str(e)) from e
        except JournalDamaged:
            con.close()
            raise
        self._con = con

    # --- opening ---------------------------------------------------------------------------

    def _create(self) -> None:
        """A new journal, built under a temporary name and renamed into place."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".new")
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"),
                         tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)  # a creation that died: it never held a sale
        con = _connect(tmp)
        try:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")
            con.execute("BEGIN")
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    con.execute(stmt)
            con.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
                ("kind", KIND), ("schema", str(SCHEMA_VERSION)),
                ("created_at", utcnow().isoformat())])
            con.execute("COMMIT")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    def _check_header(self) -> None:
        try:
            with open(self.path, "rb") as f:
                head = f.read(len(SQLITE_MAGIC))
        except OSError as e:
            raise JournalDamaged(self.path, str(e)) from e
        if head != SQLITE_MAGIC:
            reason = "empty file" if not head else "not an SQLite file"
            raise JournalDamaged(self.path, reason)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            con = self._con
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _step(self, name: str) -> None:
        if self._on_step is not None:
            self._on_step(name)

    # --- writing ---------------------------------------------------------------------------

    def record(self, entry: JournalEntry) -> str:
        """Commit ``entry`` and return its local number (the same sale again: its number)."""
        entry.check()
        sid = str(entry.sale_id)
        counter = entry.counter.strip()
        doc: dict[str, Any] = {"v": 1, "sale": entry.sale.model_dump(mode="json",
                                                                     exclude_unset=True)}
        if entry.cashier_id is not None:
            doc["cashier_id"] = entry.cashier_id
        if entry.member_ref:
            doc["member_ref"] = entry.member_ref
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._step("begin")
            with self._write() as con:
                row = con.execute("SELECT number FROM sales WHERE sale_id = ?",
                                  (sid,)).fetchone()
                if row is not None:
                    return str(row[0])
                seq = con.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM sales").fetchone()[0]
                number = f"{counter}-L{seq:06d}"
                con.execute(
                    "INSERT INTO sales (seq, sale_id, number, counter, cashier, recorded_at, "
                    "total, line_amounts, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, sid, number, counter, entry.cashier, entry.recorded_at.isoformat(),
                     entry.total, json.dumps(list(entry.line_amounts)), body))
                self._step("inserted")
            self._step("committed")
            return number

    def mark_sent(self, sale_id: uuid.UUID | str, server_number: str) -> None:
        with self._write() as con:
            con.execute("UPDATE sales SET state = 'sent', server_number = ?, error_code = NULL, "
                        "error = NULL, sent_at = ?, attempts = attempts + 1 "
                        "WHERE sale_id = ?", (server_number, utcnow().isoformat(),
                                              str(sale_id)))

    def mark_refused(self, sale_id: uuid.UUID | str, code: str, message: str) -> None:
        """The server refused the sale for a business reason: kept, with its message."""
        with self._write() as con:
            con.execute("UPDATE sales SET state = 'refused', error_code = ?, error = ?, "
                        "attempts = attempts + 1 WHERE sale_id = ? AND state = 'pending'",
                        (code, message, str(sale_id)))

    def note_attempt(self, sale_id: uuid.UUID | str, message: str) -> None:
        """A send that did not get through (the sale stays pending)."""
        with self._write() as con:
            con.execute("UPDATE sales SET attempts = attempts + 1, error = ? "
                        "WHERE sale_id = ? AND state = 'pending'", (message, str(sale_id)))

    def requeue(self, number: str) -> bool:
        """A refused sale back to pending (support, once the cause is fixed)."""
        with self._write() as con:
            cur = con.execute("UPDATE sales SET state = 'pending' WHERE number = ? "
                              "AND state = 'refused'", (number,))
            return cur.rowcount == 1

    # --- reading ---------------------------------------------------------------------------

    _COLUMNS = ("seq, number, counter, cashier, recorded_at, total, line_amounts, body, state, "
                "server_number, error_code, error, attempts, sent_at")

    def _records(self, where: str, params: Sequence[Any] = ()) -> list[JournalRecord]:
        with self._lock:
            rows = self._con.execute(f"SELECT {self._COLUMNS} FROM sales {where}",
                                     tuple(params)).fetchall()
        return [_record_of(r) for r in rows]

    def pending(self) -> list[JournalRecord]:
        """The sales not yet on the server, in the order they were rung up."""
        return self._records("WHERE state = 'pending' ORDER BY seq")

    def pending_count(self) -> int:
        with self._lock:
            return int(self._con.execute(
                "SELECT count(*) FROM sales WHERE state = 'pending'").fetchone()[0])

    def counts(self) -> dict[str, int]:
        """state → number of sales (every state present)."""
        with self._lock:
            rows = self._con.execute("SELECT state, count(*) FROM sales GROUP BY state")
            found = dict(rows.fetchall())
        return {s: int(found.get(s, 0)) for s in STATES}

    def recent(self, n: int = 50) -> list[JournalRecord]:
        """The newest ``n`` sales of any state, newest first."""
        return self._records("ORDER BY seq DESC LIMIT ?", (max(0, int(n)),))

    def get(self, sale_id: uuid.UUID | str) -> JournalRecord | None:
        found = self._records("WHERE sale_id = ?", (str(sale_id),))
        return found[0] if found else None

    def by_number(self, number: str) -> JournalRecord | None:
        found = self._records("WHERE number = ?", (number,))
        return found[0] if found else None


def _record_of(row: Sequence[Any]) -> JournalRecord:
    (seq, number, counter, cashier, recorded_at, total, line_amounts, body, state,
     server_number, error_code, error, attempts, sent_at) = row
    doc = json.loads(body)
    sale = SaleIn.model_validate(doc["sale"])
    entry = JournalEntry(sale=sale, counter=counter, cashier=cashier,
                         line_amounts=tuple(json.loads(line_amounts)), total=int(total),
                         recorded_at=dt.datetime.fromisoformat(recorded_at),
                         cashier_id=doc.get("cashier_id"), member_ref=doc.get("member_ref"))
    return JournalRecord(seq=int(seq), number=number, entry=entry, state=state,
                         server_number=server_number, error_code=error_code, error=error,
                         attempts=int(attempts),
                         sent_at=dt.datetime.fromisoformat(sent_at) if sent_at else None)
