"""The database floor: the SQL a checkout issues, replayed straight through pymysql.

1. ``capture()`` runs ONE real checkout in-process (Flask test client on the bench database,
   the same code ``lanpos-server run`` serves) with SQLAlchemy cursor events recording every
   statement, its parameters, the ids its INSERTs produced, and where each request's
   transaction committed or rolled back.
2. ``run_floor()`` replays those statements with the same concurrency as the API run (threads
   in worker processes, one pymysql connection each): per checkout, each request's statements
   in one transaction (the sale's in ONE transaction, as the API does), with the identities
   swapped for fresh ones — a new sale UUID / idempotency key / sale number, another member,
   other products (same count, same id order), this worker's counter, and the ids each INSERT
   returns — so it does exactly the database work of a checkout, minus HTTP, Flask, pydantic,
   the ORM and pricing in Python.

The replay writes rows whose cached balances do not follow the ledgers (the captured
``UPDATE members SET sv_principal = <absolute>`` goes to another member): run it last on a
throwaway bench database (the bench does), never on a shop's.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .load import LoadResult, summarize


@dataclass
class Stmt:
    sql: str
    params: Any
    many: bool
    lastrowid: int | None


@dataclass
class Tx:
    request: str
    stmts: list[Stmt] = field(default_factory=list)
    end: str = "commit"


@dataclass
class Capture:
    txs: list[Tx]
    member_id: int
    product_ids: list[int]
    barcodes: list[str]
    phone_last4: str
    sale_uuid: str
    sale_number: str
    counter: str

    @property
    def statements(self) -> int:
        return sum(len(t.stmts) for t in self.txs)

    def shapes(self) -> list[str]:
        return [f"{t.request}: {s.sql.split(chr(10))[0][:160]}" for t in self.txs
                for s in t.stmts]


def capture(app: Any, password: str, member: tuple[int, str], barcodes: list[str]) -> Capture:
    """One 5-line member checkout (stored value + cash) through the app, statements recorded."""
    from sqlalchemy import event

    from common import pricing

    state = app.extensions["lanpos"]
    engine = state.engine
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"username": "c01", "password": password,
                                                 "counter": "01"})
    assert r.status_code == 200, r.get_json()
    token = r.get_json()["token"]
    hdr = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/v1/shifts", json={"float_amount": 0},  # sales need the shift
                    headers={**hdr, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201 or r.get_json()["error"]["code"] == "shift_already_open", \
        r.get_json()
    txs: list[Tx] = []
    current: dict[str, Any] = {"tx": None, "req": ""}

    def before(conn, cursor, statement, parameters, context, executemany):
        if current["tx"] is None:
            current["tx"] = Tx(current["req"])
            txs.append(current["tx"])
        current["tx"].stmts.append(Stmt(statement, parameters, executemany, None))

    def after(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT") and current["tx"] is not None:
            current["tx"].stmts[-1].lastrowid = cursor.lastrowid

    def on_commit(conn):
        if current["tx"] is not None:
            current["tx"].end = "commit"
            current["tx"] = None

    def on_rollback(conn):
        if current["tx"] is not None:
            current["tx"].end = "rollback"
            current["tx"] = None

    mid, phone = member
    products = []
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    try:
        for code in barcodes:
            current["req"] = "scan"
            r = client.get(f"/api/v1/products/barcode/{code}", headers=hdr)
            assert r.status_code == 200, r.get_json()
            products.append(r.get_json())
        current["req"] = "member_search"
        r = client.get(f"/api/v1/members?q={phone[-4:]}", headers=hdr)
        found = next((m for m in r.get_json()["items"] if m["id"] == mid), None)
        if found is None:
            current["req"] = "member_search"
            r = client.get(f"/api/v1/members?q={phone}", headers=hdr)
            found = next(m for m in r.get_json()["items"] if m["id"] == mid)
        lines = [pricing.PriceLine(line_id=str(i), product_id=p["id"], qty=1,
                                   list_price=p["price"], kind=p["kind"],
                                   category_id=p["category_id"], member_price=p["member_price"],
                                   discountable=p["discountable"])
                 for i, p in enumerate(products)]
        total = pricing.quote(lines, pricing.Member(level_id=found["level_id"],
                                                    level_discount_bp=found["discount_bp"],
                                                    member_id=mid)).total
        sv = min(found["stored_value"], max(1, total // 2))
        pays = ([{"method": "stored_value", "amount": sv}] if sv > 0 else [])
        if total - max(sv, 0) > 0:
            pays.append({"method": "cash", "amount": total - max(sv, 0),
                         "tendered": -(-(total - max(sv, 0)) // 1000) * 1000})
        sale_id = str(uuid.uuid4())
        current["req"] = "sale"
        r = client.post("/api/v1/sales", json={
            "id": sale_id, "member_id": mid, "payments": pays,
            "lines": [{"product_id": p["id"], "qty": 1} for p in products]},
            headers={**hdr, "Idempotency-Key": sale_id})
        assert r.status_code == 201, r.get_json()
        number = r.get_json()["number"]
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "rollback", on_rollback)
    txs = [t for t in txs if t.stmts]
    return Capture(txs, mid, sorted(p["id"] for p in products), barcodes, phone[-4:],
                   sale_id, number, "01")


@dataclass
class FloorSpec:
    counters: int = 20
    seconds: float = 20.0
    processes: int = 2


def _swap(v: Any, m: dict) -> Any:
    if isinstance(v, (str, int)) and not isinstance(v, bool):
        return m.get((type(v), v), v)
    return v


def _params(p: Any, m: dict, many: bool) -> Any:
    if many:
        return [_params(x, m, False) for x in p]
    if isinstance(p, dict):
        return {k: _swap(v, m) for k, v in p.items()}
    if isinstance(p, (list, tuple)):
        return type(p)(_swap(v, m) for v in p)
    return p


class Replayer:
    def __init__(self, cap: Capture, conn_factory: Any, worker: int, pool: dict[str, Any],
                 out: list[tuple], errors: list[str], seed: int) -> None:
        self.cap, self.out, self.errors = cap, out, errors
        self.conn = conn_factory()
        self.conn.autocommit(False)
        with self.conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")
        self.rnd = random.Random(seed)
        self.pool = pool
        self.counter = f"F{worker:02d}"
        self.n = 0

    def checkout(self) -> None:
        cap, rnd = self.cap, self.rnd
        self.n += 1
        new_uuid = str(uuid.uuid4())
        members = self.pool["members"]
        mid, phone = members[rnd.randrange(len(members))]
        prods = sorted(rnd.sample(self.pool["products"], len(cap.product_ids)))
        m: dict[tuple[type, Any], Any] = {
            (str, cap.sale_uuid): new_uuid,
            (str, cap.sale_number): f"F{uuid.uuid4().hex[:20]}",
            (str, cap.counter): self.counter,
            (int, cap.member_id): mid,
            (str, cap.phone_last4): phone[-4:],
        }
        for old, new in zip(cap.product_ids, prods, strict=True):
            m[(int, old)] = new[0]
        for old_code, new in zip(cap.barcodes, [self.pool["barcode_of"][p[0]] for p in prods],
                                 strict=True):
            m[(str, old_code)] = new
        t_checkout = time.perf_counter()
        for tx in cap.txs:
            t0 = time.perf_counter()
            with self.conn.cursor() as cur:
                for s in tx.stmts:
                    many = s.many and isinstance(s.params, (list, tuple))
                    params = _params(s.params, m, many)
                    if many:
                        cur.executemany(s.sql, params)
                    else:
                        cur.execute(s.sql, params)
                        if cur.description:
                            cur.fetchall()
                    if s.lastrowid:
                        m[(int, s.lastrowid)] = cur.lastrowid
            if tx.end == "commit":
                self.conn.commit()
            else:
                self.conn.rollback()
            self.out.append((tx.request, (time.perf_counter() - t0) * 1000, float("nan"), True))
        self.out.append(("checkout", (time.perf_counter() - t_checkout) * 1000, float("nan"),
                         True))


def _floor_worker(cap: Capture, conn_factory: Any, pool: dict[str, Any], workers: list[int],
                  seconds: float, start_at: float, outq: Any) -> None:
    out: list[tuple] = []
    errors: list[str] = []
    reps = [Replayer(cap, conn_factory, w, pool, out, errors, w) for w in workers]
    stop_at = start_at + seconds

    def run(r: Replayer) -> None:
        time.sleep(max(0.0, start_at - time.time()))
        while time.time() < stop_at:
            try:
                r.checkout()
            except Exception as e:
                errors.append(f"{type(e).__name__}: {e}"[:300])
                r.conn.rollback()

    threads = [threading.Thread(target=run, args=(r,)) for r in reps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outq.put((out, errors))


def floor_pool(conn: Any, members: list[tuple[int, str]], barcodes: list[str]
               ) -> dict[str, Any]:
    with conn.cursor() as cur:
        cur.execute("SELECT product_id, barcode FROM product_barcodes WHERE barcode IN ("
                    + ",".join(["%s"] * len(set(barcodes))) + ")", sorted(set(barcodes)))
        rows = cur.fetchall()
    return {"members": members, "products": sorted({(int(p),) for p, _b in rows}),
            "barcode_of": {int(p): b for p, b in rows}}


def run_floor(cap: Capture, conn_factory: Any, pool: dict[str, Any], spec: FloorSpec
              ) -> LoadResult:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    outq = ctx.Queue()
    procs = max(1, min(spec.processes, spec.counters))
    groups = [list(range(1 + i, spec.counters + 1, procs)) for i in range(procs)]
    start_at = time.time() + 3.0
    ps = [ctx.Process(target=_floor_worker, args=(cap, conn_factory, pool, g, spec.seconds,
                                                  start_at, outq), daemon=True)
          for g in groups if g]
    for p in ps:
        p.start()
    samples: list[tuple] = []
    errors: list[str] = []
    for _ in ps:
        out, errs = outq.get(timeout=spec.seconds + 600)
        samples += out
        errors += errs
    for p in ps:
        p.join(timeout=30)
    return LoadResult(spec.seconds, spec.counters, summarize(samples, spec.seconds),
                      errors[:20], len(errors))
