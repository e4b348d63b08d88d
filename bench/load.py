"""The load runner: K counters doing real checkouts against ``lanpos-server run`` over HTTP.

A checkout is what a counter does: scan each item (``GET /products/barcode/<code>``), attach a
member by the last 4 digits of the phone (``GET /members?q=1234``; the full phone when the
member is not on the first page), price the cart locally with ``common.pricing`` (as the
client does for its preview), pay (stored value for part when the member has a balance, the
rest cash with change / WeChat / Alipay), ``POST /sales`` with the sale UUID as
``Idempotency-Key``, and now and then a refund of the whole sale by a manager.

Counters are threads spread over worker processes (the GIL: one process would make the client
the bottleneck); each keeps one HTTP/1.1 keep-alive connection (``http.client``: far lighter
than ``requests``). Each operation's latency is taken on the client (HTTP) and from the
server's ``Server-Timing: app;dur=…`` header (the time inside Flask).
"""

from __future__ import annotations

import http.client
import json
import math
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from common import pricing

OPS = ("scan", "member_search", "sale", "refund", "checkout")


@dataclass
class LoadSpec:
    url: str
    counters: int = 20
    seconds: float = 20.0
    processes: int = 2
    lines: int | None = 5  # None: 1-8 like the generator
    member_share: float = 1.0
    refund_share: float = 0.02
    think_ms: float = 0.0  # pause between a counter's operations (0 = flat out)
    password: str = "bench1234"
    seed: int = 1


@dataclass
class Sample:
    barcodes: list[str]  # popular first, repeated by popularity
    members: list[tuple[int, str]]  # (id, phone)


class Http:
    def __init__(self, url: str) -> None:
        u = urlsplit(url)
        self.host, self.port, self.prefix = u.hostname or "127.0.0.1", u.port or 80, u.path
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.token = ""

    def call(self, method: str, path: str, body: Any = None, key: str | None = None,
             token: str | None = None) -> tuple[int, Any, float, float]:
        headers = {"Accept": "application/json"}
        tok = token if token is not None else self.token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        t0 = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, self.prefix + path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
        ms = (time.perf_counter() - t0) * 1000
        st = resp.getheader("Server-Timing") or ""
        server_ms = float(st.split("dur=")[1]) if "dur=" in st else math.nan
        return resp.status, (json.loads(raw) if raw else None), ms, server_ms

    def login(self, username: str, password: str, counter: str) -> str:
        status, body, _ms, _s = self.call("POST", "/auth/login", {
            "username": username, "password": password, "counter": counter}, token="")
        if status != 200:
            raise RuntimeError(f"login {username}: {status} {body}")
        return body["token"]


class Counter:
    def __init__(self, spec: LoadSpec, sample: Sample, no: int, out: list[tuple],
                 errors: list[str], manager_token: str) -> None:
        self.spec, self.sample, self.out, self.errors = spec, sample, out, errors
        self.rnd = random.Random(spec.seed * 1000 + no)
        self.http = Http(spec.url)
        self.counter = f"{no:02d}"
        self.http.token = self.http.login(f"c{no:02d}", spec.password, self.counter)
        st, res, _ms, _s = self.http.call("POST", "/shifts", {"float_amount": 0},
                                          key=f"shift-{uuid.uuid4()}")  # sales need one
        if st != 201 and (res or {}).get("error", {}).get("code") != "shift_already_open":
            raise RuntimeError(f"open shift at counter {self.counter}: {st} {res}")
        self.manager_token = manager_token

    def _rec(self, op: str, status: int, ms: float, server_ms: float, ok: tuple[int, ...],
             body: Any) -> bool:
        good = status in ok
        self.out.append((op, ms, server_ms, good))
        if not good:
            self.errors.append(f"{op} {status} {str(body)[:300]}")
        return good

    def _think(self) -> None:
        if self.spec.think_ms:
            time.sleep(self.rnd.expovariate(1 / self.spec.think_ms) / 1000)

    def checkout(self) -> None:
        rnd, spec, h = self.rnd, self.spec, self.http
        t0 = time.perf_counter()
        n = spec.lines or rnd.choices(range(1, 9), (22, 20, 17, 13, 10, 8, 6, 4))[0]
        codes: list[str] = []
        while len(codes) < n:  # distinct products: one line each
            c = rnd.choice(self.sample.barcodes)
            if c not in codes:
                codes.append(c)
        products = []
        for code in codes:
            self._think()
            st, body, ms, sms = h.call("GET", f"/products/barcode/{quote(code)}")
            if not self._rec("scan", st, ms, sms, (200,), body):
                return
            products.append(body)
        member = None
        if rnd.random() < spec.member_share:
            mid, phone = rnd.choice(self.sample.members)
            self._think()
            st, body, ms, sms = h.call("GET", f"/members?q={phone[-4:]}")
            if not self._rec("member_search", st, ms, sms, (200,), body):
                return
            member = next((m for m in body["items"] if m["id"] == mid), None)
            if member is None:  # not on the first page: the cashier types the whole number
                st, body, ms, sms = h.call("GET", f"/members?q={phone}")
                if not self._rec("member_search", st, ms, sms, (200,), body):
                    return
                member = next((m for m in body["items"] if m["id"] == mid), None)
                if member is None:
                    self.errors.append(f"member {mid} not found by phone {phone}")
                    return
        lines = [pricing.PriceLine(line_id=str(i), product_id=p["id"], qty=1,
                                   list_price=p["price"], kind=p["kind"],
                                   category_id=p["category_id"], member_price=p["member_price"],
                                   discountable=p["discountable"])
                 for i, p in enumerate(products)]
        pm = pricing.Member(level_id=member["level_id"], level_discount_bp=member["discount_bp"],
                            member_id=member["id"]) if member else None
        total = pricing.quote(lines, pm).total
        payments = []
        rest = total
        if member and member["stored_value"] > 0 and rnd.random() < 0.7:
            sv = min(member["stored_value"], max(1, total // 2))
            payments.append({"method": "stored_value", "amount": sv})
            rest -= sv
        if rest > 0:
            if rnd.random() < 0.5:
                tendered = -(-rest // 1000) * 1000
                payments.append({"method": "cash", "amount": rest, "tendered": tendered})
            else:
                payments.append({"method": rnd.choice(("wechat", "alipay")), "amount": rest,
                                 "reference": f"{rnd.getrandbits(48):015d}"})
        sale_id = str(uuid.uuid4())
        body = {"id": sale_id, "lines": [{"product_id": p["id"], "qty": 1} for p in products],
                "member_id": member["id"] if member else None, "payments": payments}
        self._think()
        st, res, ms, sms = h.call("POST", "/sales", body, key=sale_id)
        if not self._rec("sale", st, ms, sms, (201,), res):
            return
        if res["total"] != total:
            self.errors.append(f"sale total {res['total']} != client preview {total}")
        self.out.append(("checkout", (time.perf_counter() - t0) * 1000, math.nan, True))
        if rnd.random() < spec.refund_share:
            rid = str(uuid.uuid4())
            st, res, ms, sms = h.call("POST", f"/sales/{sale_id}/refunds",
                                      {"id": rid, "reason": "顾客退货"}, key=rid,
                                      token=self.manager_token)
            self._rec("refund", st, ms, sms, (201,), res)


def _worker(spec: LoadSpec, sample: Sample, counter_nos: list[int], start_at: float,
            outq: Any) -> None:
    out: list[tuple] = []
    errors: list[str] = []
    mh = Http(spec.url)
    manager_token = mh.login("manager", spec.password, f"m{counter_nos[0]:02d}")
    counters = [Counter(spec, sample, no, out, errors, manager_token) for no in counter_nos]
    stop_at = start_at + spec.seconds

    def run(c: Counter) -> None:
        time.sleep(max(0.0, start_at - time.time()))
        while time.time() < stop_at:
            try:
                c.checkout()
            except Exception as e:
                errors.append(f"{type(e).__name__}: {e}")
                time.sleep(0.1)

    threads = [threading.Thread(target=run, args=(c,)) for c in counters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outq.put((out, errors))


@dataclass
class OpStats:
    count: int
    per_second: float
    p50: float
    p95: float
    p99: float
    max: float
    server_p50: float | None = None
    server_p95: float | None = None
    server_p99: float | None = None


@dataclass
class LoadResult:
    seconds: float
    counters: int
    ops: dict[str, OpStats] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def summarize(samples: list[tuple], seconds: float) -> dict[str, OpStats]:
    out = {}
    for op in OPS:
        rows = [r for r in samples if r[0] == op and r[3]]
        if not rows:
            continue
        ms = [r[1] for r in rows]
        sv = [r[2] for r in rows if not math.isnan(r[2])]
        out[op] = OpStats(len(rows), len(rows) / seconds, percentile(ms, 50),
                          percentile(ms, 95), percentile(ms, 99), max(ms),
                          percentile(sv, 50) if sv else None,
                          percentile(sv, 95) if sv else None,
                          percentile(sv, 99) if sv else None)
    return out


def run_load(spec: LoadSpec, sample: Sample) -> LoadResult:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    outq = ctx.Queue()
    procs = max(1, min(spec.processes, spec.counters))
    groups = [list(range(1 + i, spec.counters + 1, procs)) for i in range(procs)]
    start_at = time.time() + 3.0 + 0.3 * spec.counters / procs  # logins first
    ps = [ctx.Process(target=_worker, args=(spec, sample, g, start_at, outq), daemon=True)
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


def load_sample(conn: Any, *, members: int = 5000, barcodes: int = 3000,
                seed: int = 5) -> Sample:
    """Barcodes by popularity (the best sellers of the data, repeated by sales) and members."""
    rnd = random.Random(seed)
    with conn.cursor() as cur:
        cur.execute("SELECT b.barcode, COUNT(*) FROM (SELECT product_id FROM sale_lines "
                    "ORDER BY id DESC LIMIT 200000) l JOIN product_barcodes b "
                    "ON b.product_id = l.product_id JOIN products p ON p.id = l.product_id "
                    "WHERE p.active GROUP BY b.barcode ORDER BY 2 DESC LIMIT %s", (barcodes,))
        rows = cur.fetchall()
        if not rows:
            cur.execute("SELECT barcode, 1 FROM product_barcodes LIMIT %s", (barcodes,))
            rows = cur.fetchall()
        codes: list[str] = []
        for code, n in rows:
            codes += [code] * max(1, min(50, int(n) // 20))
        cur.execute("SELECT MIN(id), MAX(id) FROM members")
        lo, hi = cur.fetchone()
        ids = sorted({rnd.randint(lo, hi) for _ in range(members)})
        cur.execute("SELECT id, phone FROM members WHERE active AND phone IS NOT NULL "
                    "AND id IN (" + ",".join(map(str, ids)) + ")")
        mem = [(int(i), p) for i, p in cur.fetchall()]
    return Sample(codes, mem)
