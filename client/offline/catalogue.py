"""The counter's local catalogue: the sellable products and services, their barcodes and
prices, categories, membership levels and the settings pricing needs, kept in an SQLite file
so that a scan is resolved without a server round trip and the counter can sell offline
(DESIGN §4 "Counters offline").

It is filled from ``GET /catalog/snapshot`` (``CatalogSnapshotOut``): :meth:`LocalCatalogue.apply`
replaces everything for a full snapshot and changes only the products in it for an incremental
one (``since`` = :attr:`LocalCatalogue.version`). A snapshot older than what is held is
ignored. The file is a cache: one that cannot be read is moved aside (``.damaged``) and the
catalogue starts empty (version 0: the next refresh is a full one) — unlike the journal,
nothing is lost that the server does not have.

Look-ups: :meth:`by_code` (barcode, else SKU; active products only), :meth:`search` (name
part, pinyin initials, SKU prefix, exact code first), :meth:`favourites`, :meth:`get`.
Readers and the writer use a connection per thread (WAL): a refresh in the background never
holds up a scan.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import typing
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from common import pricing
from common.schemas import catalog as sc
from common.schemas.catalog import CategoryOut, ProductOut
from common.text import pinyin_initials

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    pinyin TEXT NOT NULL,
    sku TEXT,
    active INTEGER NOT NULL,
    favourite INTEGER NOT NULL,
    favourite_order INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS codes (
    code TEXT NOT NULL,
    kind INTEGER NOT NULL,  -- 0 barcode, 1 SKU: a barcode wins over another product's SKU
    product_id INTEGER NOT NULL,
    PRIMARY KEY (code, kind)
);
CREATE INDEX IF NOT EXISTS ix_codes_product ON codes (product_id);
CREATE INDEX IF NOT EXISTS ix_products_pinyin ON products (pinyin);
CREATE TABLE IF NOT EXISTS categories (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, data TEXT NOT NULL);
"""
KIND_BARCODE, KIND_SKU = 0, 1


def _field_type(name: str, default: Any = None) -> Any:
    """The item type of ``CatalogSnapshotOut.<name>`` (list[X] → X), else ``default``."""
    model = getattr(sc, "CatalogSnapshotOut", None)
    if model is None or name not in model.model_fields:
        return default
    ann = model.model_fields[name].annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if typing.get_origin(ann) in (list, tuple) and args:
        return args[0]
    if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0]  # X | None
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else default


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _as_dict(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, list | tuple):
        return [_as_dict(x) for x in obj]
    return obj


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class LocalCatalogue:
    """The catalogue at ``path`` (see the module doc)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.product_model: type[BaseModel] = _field_type("products", ProductOut)
        try:
            self._prepare()
        except sqlite3.DatabaseError as e:
            log.warning("local catalogue %s unreadable (%s): moved aside, starting empty",
                        self.path, e)
            self.close()
            self._local = threading.local()
            aside = self.path.with_name(self.path.name + ".damaged")
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            self._prepare()

    def _prepare(self) -> None:
        con = self._con()
        if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("quick_check failed")
        con.execute("PRAGMA journal_mode = WAL")
        con.executescript(_SCHEMA)

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None,
                                  check_same_thread=False)
            con.execute("PRAGMA busy_timeout = 10000")
            con.execute("PRAGMA synchronous = NORMAL")
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    def close(self) -> None:
        with self._lock:
            for con in self._all:
                con.close()
            self._all.clear()
        self._local = threading.local()

    def __enter__(self) -> LocalCatalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            con = self._con()
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # --- filling ---------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The catalogue version held (0: none yet: ask for a full snapshot)."""
        row = self._con().execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 0

    def apply(self, snapshot: Any) -> int:
        """Apply a ``CatalogSnapshotOut`` (model or its JSON dict); returns how many products
        it brought (0 for a snapshot older than the one held, which is ignored)."""
        version = int(_get(snapshot, "version", 0))
        full = bool(_get(snapshot, "full", False))
        products = list(_get(snapshot, "products", None) or [])
        with self._write() as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            held = int(row[0]) if row else 0
            if not full and version < held:
                log.info("catalogue snapshot %d older than %d held: ignored", version, held)
                return 0
            if full:
                con.execute("DELETE FROM products")
                con.execute("DELETE FROM codes")
                con.execute("DELETE FROM categories")
            for p in products:
                self._put_product(con, _as_dict(p))
            cats = _get(snapshot, "categories", None)
            if cats is not None:
                for c in cats:
                    d = _as_dict(c)
                    con.execute("INSERT OR REPLACE INTO categories (id, data) VALUES (?, ?)",
                                (int(d["id"]), json.dumps(d, ensure_ascii=False)))
            for key in ("levels", "membership", "shop", "promotions"):
                value = _get(snapshot, key, None)
                if value is not None:
                    con.execute("INSERT OR REPLACE INTO settings (key, data) VALUES (?, ?)",
                                (key, json.dumps(_as_dict(value), ensure_ascii=False)))
            con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)",
                        (str(version),))
        return len(products)

    @staticmethod
    def _put_product(con: sqlite3.Connection, d: dict[str, Any]) -> None:
        pid = int(d["id"])
        name = str(d.get("name") or "")
        pinyin = str(d.get("pinyin") or "") or pinyin_initials(name)
        sku = d.get("sku") or None
        con.execute(
            "INSERT OR REPLACE INTO products (id, name, pinyin, sku, active, favourite, "
            "favourite_order, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (pid, name, pinyin.lower(), sku, 1 if d.get("active", True) else 0,
             1 if d.get("favourite") else 0, int(d.get("favourite_order") or 0),
             json.dumps(d, ensure_ascii=False)))
        con.execute("DELETE FROM codes WHERE product_id = ?", (pid,))
        codes: list[tuple[str, int, int]] = [
            (str(b), KIND_BARCODE, pid) for b in d.get("barcodes") or [] if b]
        if sku:
            codes.append((str(sku), KIND_SKU, pid))
        # a code moved from another product: this product (the newer row) takes it
        con.executemany("INSERT OR REPLACE INTO codes (code, kind, product_id) "
                        "VALUES (?, ?, ?)", codes)

    # --- looking up ------------------------------------------------------------------------

    def _product(self, data: str) -> Any:
        return self.product_model.model_validate_json(data)

    def by_code(self, code: str) -> Any | None:
        """The active product with this barcode (else with this SKU); None if none."""
        code = (code or "").strip()
        if not code:
            return None
        row = self._con().execute(
            "SELECT p.data FROM codes c JOIN products p ON p.id = c.product_id "
            "WHERE c.code = ? AND p.active = 1 ORDER BY c.kind LIMIT 1", (code,)).fetchone()
        return self._product(row[0]) if row else None

    def get(self, product_id: int) -> Any | None:
        """A product by id, active or not (a held order or a replay may name an old one)."""
        row = self._con().execute("SELECT data FROM products WHERE id = ?",
                                  (int(product_id),)).fetchone()
        return self._product(row[0]) if row else None

    def search(self, q: str, limit: int = 30) -> list[Any]:
        """Active products matching ``q``: an exact barcode/SKU first, then pinyin initials
        (prefix), name (prefix, then part), SKU prefix; favourites before others."""
        q = (q or "").strip()
        if not q or limit <= 0:
            return []
        out: list[Any] = []
        seen: set[int] = set()
        exact = self.by_code(q)
        if exact is not None:
            out.append(exact)
            seen.add(int(exact.id))
        prefix, part = _like(q) + "%", "%" + _like(q) + "%"
        rows = self._con().execute(
            "SELECT id, data, CASE WHEN pinyin LIKE :p ESCAPE '\\' THEN 1 "
            "WHEN name LIKE :p ESCAPE '\\' THEN 2 WHEN name LIKE :c ESCAPE '\\' THEN 3 "
            "ELSE 4 END AS rank FROM products WHERE active = 1 AND (pinyin LIKE :p ESCAPE '\\' "
            "OR name LIKE :c ESCAPE '\\' OR sku LIKE :p ESCAPE '\\') "
            "ORDER BY rank, favourite DESC, length(name), name, id LIMIT :n",
            {"p": prefix, "c": part, "n": int(limit) + 1}).fetchall()
        for pid, data, _rank in rows:
            if pid not in seen and len(out) < limit:
                out.append(self._product(data))
                seen.add(pid)
        return out

    def favourites(self) -> list[Any]:
        """The counter's touch grid (收银台常用), in grid order."""
        rows = self._con().execute(
            "SELECT data FROM products WHERE active = 1 AND favourite = 1 "
            "ORDER BY favourite_order, id").fetchall()
        return [self._product(r[0]) for r in rows]

    def products(self, include_inactive: bool = False) -> Iterable[Any]:
        where = "" if include_inactive else "WHERE active = 1"
        rows = self._con().execute(f"SELECT data FROM products {where} ORDER BY id").fetchall()
        return [self._product(r[0]) for r in rows]

    def count(self) -> int:
        return int(self._con().execute(
            "SELECT count(*) FROM products WHERE active = 1").fetchone()[0])

    def categories(self) -> list[CategoryOut]:
        rows = self._con().execute("SELECT data FROM categories ORDER BY id").fetchall()
        return [CategoryOut.model_validate_json(r[0]) for r in rows]

    def _setting(self, key: str) -> Any:
        row = self._con().execute("SELECT data FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    @property
    def levels(self) -> list[Any]:
        """The membership levels (``CatalogSnapshotOut.levels``' type), with their discount."""
        raw = self._setting("levels") or []
        model = _field_type("levels")
        return [model.model_validate(x) for x in raw] if model else raw

    @property
    def promotions(self) -> list[pricing.Promotion]:
        """The promotions the last snapshot sent (not ended then), as the pricing engine
        takes them: the counter's preview and its offline sales apply those running."""
        out = []
        for raw in self._setting("promotions") or []:
            try:
                out.append(pricing.Promotion.from_dict(raw))
            except pricing.PricingError as e:  # a newer server's kind: leave it to it
                log.warning("promotion %s not understood: %s", raw.get("promotion_id"), e)
        return out

    @property
    def membership(self) -> Any | None:
        """The membership settings pricing and payment need (None until a snapshot)."""
        return self._typed("membership")

    @property
    def shop(self) -> Any | None:
        """The shop settings (rounding, receipt lines, time zone; None until a snapshot)."""
        return self._typed("shop")

    def _typed(self, key: str) -> Any | None:
        raw = self._setting(key)
        model = _field_type(key)
        if raw is None or model is None:
            return raw
        return model.model_validate(raw)
