"""Realistic shop data at scale, bulk-loaded fast.

``generate(conn_factory, GenSpec(...))`` writes, into an (empty or already used) lanpos
database at schema head:

- staff: ``owner``, ``manager`` and one cashier per counter (``c01`` …), password
  ``BENCH_PASSWORD``;
- member levels, N members (Chinese names from common surnames / given names, unique mainland
  mobile phones, ``phone_last4``, pinyin initials from ``common.text.pinyin_initials``, birthdays,
  member numbers, physical cards for ~60 %), opening stored value and points WITH their opening
  ledger entries;
- categories, M products (barcodes, cost, ~70 % stock-tracked with an opening stock entry) and
  services;
- count cards (次卡) of two packages for every 20th member, bought and partly used in the
  period;
- a year of sales ending yesterday: 1–8 lines, popular products (Zipf), busier weekends and
  evenings, about half with a member (level discounts / member prices, points earned, stored
  value and points payments, recharges before some sales), mixed payments, cash change, ~1 %
  whole refunds and ~0.3 % one-line refunds that move every ledger back.

Every cached balance equals its ledger (stored value, points, stock) and every sale adds up, so
``lanpos-server verify`` passes on the result (``tests/test_bench_generate.py`` checks it).

Loading: rows are written as tab-separated chunks to files under ``/dev/shm`` (or the temp dir)
and loaded with ``LOAD DATA LOCAL INFILE`` by a second thread (its own connection, autocommit
off, one commit per chunk), so that Python generates the next chunk on one core while MariaDB
parses and indexes the previous one on the other. Nothing that matters for correctness is
switched off: foreign keys and unique checks stay on; the binary log stays on unless
``GenSpec.binlog`` is False (then the loading session sets ``sql_log_bin = 0``, which needs an
admin connection — the throwaway bench instance).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import random
import tempfile
import time
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from common.membership_rules import points_earned
from common.pricing import (
    SOURCE_LEVEL_DISCOUNT,
    SOURCE_LIST,
    SOURCE_MEMBER_PRICE,
    points_value_fen,
)
from common.text import pinyin_initials

BENCH_PASSWORD = "bench1234"
POINTS_PER_YUAN_REDEEM = 100  # the membership setting's default

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方")
GIVEN_CHARS = (
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉萍红玲兰飞鹏辉建国志梅琳波斌宇浩凯"
    "晨晓欣怡佳雪婷颖慧洁雯倩琪瑶嘉俊杰子轩浩然梓涵一诺欣妍宇航思远雨萱博文诗涵天佑"
)
LEVELS = (  # name, rank, discount_bp (RATE paid), points_per_yuan, share of members
    ("普通会员", 0, 10_000, 1, 60), ("银卡", 1, 9_500, 1, 25), ("金卡", 2, 9_000, 2, 12),
    ("钻石卡", 3, 8_800, 3, 3))
CATEGORIES = ("饮料", "零食", "日化", "洗护", "烟酒", "粮油", "冷冻", "文具", "美容护理",
              "理发", "按摩", "美甲")
SERVICE_CATEGORIES = ("美容护理", "理发", "按摩", "美甲")
PRODUCT_WORDS = ("可乐", "雪碧", "矿泉水", "酸奶", "薯片", "饼干", "方便面", "洗发水", "沐浴露",
                 "牙膏", "纸巾", "洗衣液", "大米", "食用油", "速冻水饺", "啤酒", "白酒", "笔记本",
                 "护手霜", "面膜", "巧克力", "口香糖", "火腿肠", "绿茶", "果汁")
SERVICE_WORDS = ("精剪", "洗吹", "烫发", "染发", "头部按摩", "足疗", "全身推拿", "基础美甲",
                 "面部护理", "采耳")
PHONE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                  "152", "155", "157", "158", "159", "166", "173", "177", "180", "181", "182",
                  "183", "185", "186", "187", "188", "189", "191", "198", "199")
LINE_COUNT_WEIGHTS = (22, 20, 17, 13, 10, 8, 6, 4)  # 1..8 lines; mean 3.37
HOUR_WEIGHTS = {9: 3, 10: 5, 11: 7, 12: 8, 13: 6, 14: 5, 15: 5, 16: 6, 17: 8, 18: 11, 19: 12,
                20: 10, 21: 6}


@dataclass
class GenSpec:
    members: int = 20_000
    products: int = 2_000
    services: int = 60
    sale_lines: int = 200_000
    days: int = 365
    counters: int = 20
    seed: int = 42
    member_share: float = 0.5  # sales with a member attached
    refund_share: float = 0.01  # whole refunds
    partial_refund_share: float = 0.003  # one-line refunds
    recharge_share: float = 0.03  # member sales preceded by a recharge
    chunk_rows: int = 100_000
    binlog: bool = True
    end_date: dt.date | None = None  # last business day (default: yesterday)
    tmp_dir: str | None = None


@dataclass
class GenResult:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    generate_seconds: float = 0.0  # Python time spent producing rows
    load_wait_seconds: float = 0.0  # time the generator waited for the loader
    finish_seconds: float = 0.0  # final member balances (UPDATE … JOIN)
    first_date: str = ""
    last_date: str = ""
    members: int = 0
    sales: int = 0
    sale_lines: int = 0

    @property
    def total_rows(self) -> int:
        return sum(v for k, v in self.rows.items() if k in COLUMNS)

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0


# -- loading -------------------------------------------------------------------------------
COLUMNS: dict[str, tuple[str, ...]] = {
    "members": ("id", "number", "name", "pinyin", "phone", "phone_last4", "gender", "birthday",
                "birth_md", "level_id", "tags", "active", "sv_principal", "sv_bonus", "points",
                "total_spent", "visit_count", "last_visit_at", "pin_failures", "created_at",
                "updated_at"),
    "member_cards": ("id", "card_no", "member_id", "status", "issued_at"),
    "stored_value_ledger": ("id", "member_id", "kind", "principal_change", "bonus_change",
                            "principal_after", "bonus_after", "method", "ref_type", "ref_id",
                            "note", "staff_id", "at"),
    "points_ledger": ("id", "member_id", "kind", "change", "balance_after", "ref_type",
                      "ref_id", "note", "staff_id", "at"),
    "products": ("id", "kind", "sku", "name", "pinyin", "unit", "category_id", "price",
                 "member_price", "cost", "open_price", "discountable", "track_stock", "stock",
                 "low_stock", "commission_kind", "commission_value", "active", "created_at",
                 "updated_at"),
    "product_barcodes": ("barcode", "product_id"),
    "stock_ledger": ("id", "product_id", "change", "balance_after", "kind", "ref_type",
                     "ref_id", "staff_id", "at"),
    "sales": ("id", "uuid", "number", "status", "business_date", "counter", "staff_id",
              "member_id", "list_total", "member_discount", "manual_discount",
              "count_card_discount", "coupon_discount", "order_discount", "rounding_discount",
              "total", "paid_total", "change", "refunded_total", "points_earned", "created_at"),
    "sale_lines": ("id", "sale_id", "line_no", "product_id", "name", "kind", "category_id",
                   "qty", "unit_price", "list_amount", "member_discount", "manual_discount",
                   "count_card_discount", "coupon_discount", "order_discount",
                   "rounding_discount", "amount", "price_source", "cost", "refunded_qty",
                   "refunded_amount"),
    "sale_payments": ("id", "sale_id", "method", "amount", "tendered", "change", "reference",
                      "points", "principal", "bonus", "refunded"),
    "refunds": ("id", "uuid", "number", "sale_id", "business_date", "counter", "staff_id",
                "total", "points_reversed", "reason", "created_at"),
    "refund_lines": ("id", "refund_id", "sale_line_id", "qty", "amount"),
    "refund_payments": ("id", "refund_id", "sale_payment_id", "method", "amount", "points"),
}
# parents before children (foreign keys stay on): a chunk is loaded only after every chunk
# of the tables before it that was queued earlier
TABLE_ORDER = ("members", "member_cards", "products", "product_barcodes", "sales", "sale_lines",
               "sale_payments", "refunds", "refund_lines", "refund_payments",
               "stored_value_ledger", "points_ledger", "stock_ledger")


def _cell(v: Any) -> str:
    if v is None:
        return "\\N"
    if v is True:
        return "1"
    if v is False:
        return "0"
    return str(v)


def _load_worker(conn_factory: Callable[[], Any], binlog: bool, inq: Any, outq: Any) -> None:
    """The loader process: LOAD DATA LOCAL each chunk file, one commit per chunk. (A thread
    would be starved by the generator holding the GIL: pymysql sends the file in 16 KB
    packets.)"""
    conn = conn_factory()
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")
            if not binlog:
                cur.execute("SET SESSION sql_log_bin = 0")
        conn.autocommit(False)
        failed = False
        while True:
            item = inq.get()
            if item is None:
                break
            table, path, rows = item
            try:
                if not failed:
                    cols = ", ".join(f"`{c}`" for c in COLUMNS[table])
                    with conn.cursor() as cur:
                        cur.execute(
                            f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE `{table}` "
                            f"CHARACTER SET utf8mb4 ({cols})")
                        if cur.rowcount != rows:
                            raise RuntimeError(f"{table}: loaded {cur.rowcount} of {rows} rows")
                        cur.execute("SHOW WARNINGS LIMIT 3")
                        warns = cur.fetchall()
                        if warns:
                            raise RuntimeError(f"{table}: warnings while loading: {warns}")
                    conn.commit()
                    outq.put(("ok", table, rows))
            except Exception as e:
                failed = True
                conn.rollback()
                outq.put(("error", table, f"{type(e).__name__}: {e}"))
            finally:
                os.unlink(path)
    finally:
        conn.close()
        outq.put(("done", "", 0))


class Loader:
    """Buffers rows per table; full chunks go to a file that a loader process LOADs."""

    def __init__(self, conn_factory: Callable[[], Any], spec: GenSpec,
                 result: GenResult) -> None:
        import multiprocessing as mp

        self.spec = spec
        self.result = result
        self.buffers: dict[str, list[str]] = {t: [] for t in COLUMNS}
        base = spec.tmp_dir or ("/dev/shm" if os.path.isdir("/dev/shm")
                                and os.access("/dev/shm", os.W_OK) else None)
        self.tmp = Path(tempfile.mkdtemp(prefix="lanpos-bench-", dir=base))
        ctx = mp.get_context("spawn")
        self.inq = ctx.Queue(maxsize=4)
        self.outq = ctx.Queue()
        self.proc = ctx.Process(target=_load_worker, name="bench-loader",
                                args=(conn_factory, spec.binlog, self.inq, self.outq),
                                daemon=True)
        self.proc.start()
        self.error: str | None = None
        self.n = 0
        self.closed = False

    def add(self, table: str, row: str) -> None:
        buf = self.buffers[table]
        buf.append(row)
        if len(buf) >= self.spec.chunk_rows:
            self.flush_dependents(table)

    def flush_dependents(self, table: str) -> None:
        """Flush ``table`` and, first, every table it may reference (parents first)."""
        idx = TABLE_ORDER.index(table)
        for t in TABLE_ORDER[: idx + 1]:
            self._flush(t)

    def _drain(self, block: bool = False) -> bool:
        """Collect the loader's reports; True once it said 'done'."""
        while True:
            try:
                kind, table, info = self.outq.get(block=block, timeout=None)
            except queue.Empty:
                return False
            if kind == "ok":
                self.result.rows[table] = self.result.rows.get(table, 0) + info
            elif kind == "error":
                self.error = self.error or info
            else:
                return True

    def _flush(self, table: str) -> None:
        buf = self.buffers[table]
        if not buf:
            return
        self._drain()
        if self.error is not None:
            raise RuntimeError(f"bulk load failed: {self.error}")
        self.n += 1
        path = self.tmp / f"{self.n:06d}-{table}.tsv"
        with path.open("w", encoding="utf-8") as f:
            f.write("\n".join(buf))
            f.write("\n")
        rows = len(buf)
        buf.clear()
        t0 = time.perf_counter()
        self._put((table, str(path), rows))
        self.result.load_wait_seconds += time.perf_counter() - t0

    def _put(self, item: Any) -> None:
        while True:
            try:
                self.inq.put(item, timeout=1)
                return
            except queue.Full:
                if not self.proc.is_alive():
                    raise RuntimeError("the bulk-load process died") from None

    def close(self, flush: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if flush and self.error is None:
                for t in TABLE_ORDER:
                    self._flush(t)
        finally:
            self._put(None)
            while self.proc.is_alive() or not self.outq.empty():
                try:
                    kind, table, info = self.outq.get(timeout=1)
                except queue.Empty:
                    continue
                if kind == "ok":
                    self.result.rows[table] = self.result.rows.get(table, 0) + info
                elif kind == "error":
                    self.error = self.error or info
                else:
                    break
            self.proc.join(timeout=60)
        if self.error is not None:
            raise RuntimeError(f"bulk load failed: {self.error}")


# -- helpers -------------------------------------------------------------------------------
def _uuid4(bits: int) -> str:
    """A random (version 4, RFC 4122 variant) UUID string from 128 random bits, fast."""
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[bits & 3]}{h[17:20]}-{h[20:32]}"


def _ts(t: dt.datetime) -> str:
    return t.isoformat(" ", "seconds")


def _max_id(cur: Any, table: str) -> int:
    cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM `{table}`")
    return int(cur.fetchone()[0])


class _Ids:
    def __init__(self, cur: Any) -> None:
        self.next = {t: _max_id(cur, t) + 1 for t in COLUMNS if t != "product_barcodes"}

    def take(self, table: str) -> int:
        i = self.next[table]
        self.next[table] = i + 1
        return i


def ensure_reference_data(session_factory: Any, passwords: Any, counters: int
                          ) -> dict[str, Any]:
    """Staff, levels, categories (through the domain code / ORM, idempotent)."""
    from sqlalchemy import select

    from common.schemas.base import Role
    from server.db.catalog import Category
    from server.db.members import MemberLevel
    from server.domain import staff as staff_domain

    with session_factory() as s:
        owner = staff_domain.create_initial(s, passwords, "owner", BENCH_PASSWORD, Role.OWNER,
                                            "店主")
        manager = staff_domain.create_initial(s, passwords, "manager", BENCH_PASSWORD,
                                              Role.MANAGER, "店长")
        cashiers = {}
        for i in range(1, counters + 1):
            c = staff_domain.create_initial(s, passwords, f"c{i:02d}", BENCH_PASSWORD,
                                            Role.CASHIER, f"收银员{i:02d}")
            cashiers[f"{i:02d}"] = c.id
        levels = []
        for name, rank, bp, ppy, share in LEVELS:
            lv = s.scalars(select(MemberLevel).where(MemberLevel.name == name)).one_or_none()
            if lv is None:
                lv = MemberLevel(name=name, rank=rank, discount_bp=bp, points_per_yuan=ppy,
                                 active=True)
                s.add(lv)
                s.flush()
            levels.append((lv.id, lv.discount_bp, lv.points_per_yuan, share))
        cats = {}
        for i, name in enumerate(CATEGORIES):
            c = s.scalars(select(Category).where(Category.name == name)).one_or_none()
            if c is None:
                c = Category(name=name, sort_order=i, active=True)
                s.add(c)
                s.flush()
            cats[name] = c.id
        s.commit()
        return {"owner": owner.id, "manager": manager.id, "cashiers": cashiers,
                "levels": levels, "categories": cats}


# -- the generator -------------------------------------------------------------------------
def generate(conn_factory: Callable[[], Any], session_factory: Any, passwords: Any,
             spec: GenSpec, progress: Callable[[str], None] = lambda _m: None) -> GenResult:
    """Generate and load. ``conn_factory`` makes a pymysql connection to the shop database
    (``local_infile=True``); ``session_factory``/``passwords`` are the app's (staff, levels)."""
    t_start = time.perf_counter()
    rnd = random.Random(spec.seed)
    result = GenResult()
    ref = ensure_reference_data(session_factory, passwords, spec.counters)
    c0 = conn_factory()
    with c0.cursor() as cur:
        ids = _Ids(cur)
        cur.execute("SELECT COUNT(*) FROM product_barcodes")
    c0.close()
    loader = Loader(conn_factory, spec, result)
    gen_t = 0.0
    try:
        t = time.perf_counter()
        end = spec.end_date or (dt.date.today() - dt.timedelta(days=1))
        start = end - dt.timedelta(days=spec.days - 1)
        result.first_date, result.last_date = start.isoformat(), end.isoformat()
        utc_off = dt.datetime.now().astimezone().utcoffset() or dt.timedelta(0)
        opening_at = dt.datetime.combine(start, dt.time(8, 0)) - utc_off
        members = _members(rnd, spec, ref, ids, loader, opening_at, progress)
        products = _products(rnd, spec, ref, ids, loader, opening_at)
        gen_t += time.perf_counter() - t
        g = _sales(rnd, spec, ref, ids, loader, members, products, start, utc_off, progress,
                   result)
        gen_t += g
        t = time.perf_counter()
        loader.close()
        gen_t += time.perf_counter() - t
        t = time.perf_counter()
        result.rows["members (final balances)"] = _finish_members(members, conn_factory, spec,
                                                                  loader.tmp)
        _finish_products(products, conn_factory, spec)
        result.rows["member_count_cards"] = _count_cards(
            conn_factory, spec, members, start, end, utc_off)
        _analyze(conn_factory)
        result.finish_seconds = time.perf_counter() - t
    except BaseException:
        with contextlib.suppress(Exception):  # report the first error
            loader.close(flush=False)
        raise
    finally:
        import shutil

        shutil.rmtree(loader.tmp, ignore_errors=True)
    result.seconds = time.perf_counter() - t_start
    result.generate_seconds = gen_t - result.load_wait_seconds
    return result


@dataclass
class _Members:
    n: int
    first_id: int
    level_idx: list[int]
    sv_p: list[int]
    sv_b: list[int]
    points: list[int]
    spent: list[int]
    visits: list[int]
    last_visit: list[str | None]
    changed: bytearray  # balances moved after the opening


def _members(rnd: random.Random, spec: GenSpec, ref: dict[str, Any], ids: _Ids, loader: Loader,
             opening_at: dt.datetime, progress: Callable[[str], None]) -> _Members:
    n = spec.members
    levels = ref["levels"]
    level_cum = list(accumulate(lv[3] for lv in levels))
    first_id = ids.next["members"]
    ids.next["members"] += n
    # unique phones: distinct 8-digit suffixes, then a prefix each
    suffixes = rnd.sample(range(100_000_000), n)
    pinyin_cache: dict[str, str] = {}
    m = _Members(n, first_id, [0] * n, [0] * n, [0] * n, [0] * n, [0] * n, [0] * n, [None] * n,
                 bytearray(n))
    sv_ts = _ts(opening_at)
    surnames = list(SURNAMES)
    for i in range(n):
        mid = first_id + i
        if rnd.random() < 0.01:
            sur = rnd.choice(COMPOUND_SURNAMES)
        else:
            sur = surnames[min(int(rnd.expovariate(1 / 18)), len(surnames) - 1)]
        given = rnd.choice(GIVEN_CHARS) + (rnd.choice(GIVEN_CHARS) if rnd.random() < 0.75
                                           else "")
        name = sur + given
        # initials of the parts (cached): the same as pinyin_initials(name) for these lists
        # (checked over every surname in tests/test_bench_generate.py), 100× faster
        py_s = pinyin_cache.get(sur)
        if py_s is None:
            py_s = pinyin_cache[sur] = pinyin_initials(sur)
        py_g = pinyin_cache.get(given)
        if py_g is None:
            py_g = pinyin_cache[given] = pinyin_initials(given)
        py = py_s + py_g
        phone = PHONE_PREFIXES[rnd.randrange(len(PHONE_PREFIXES))] + f"{suffixes[i]:08d}"
        lvl = bisect(level_cum, rnd.random() * level_cum[-1])
        m.level_idx[i] = lvl
        year = rnd.randint(1955, 2006)
        month = rnd.randint(1, 12)
        day = rnd.randint(1, 28)
        gender = "F" if rnd.random() < 0.62 else "M"
        joined = opening_at - dt.timedelta(days=rnd.randint(0, 1500))
        created = _ts(joined)
        head = "\t".join((
            str(mid), f"M{mid:07d}", name, py, phone, phone[-4:], gender,
            f"{year}-{month:02d}-{day:02d}", str(month * 100 + day), str(levels[lvl][0]), "[]",
            "1"))
        # opening balances (the member row goes first: its cards and ledger rows reference
        # it, and any of their chunks may be flushed right after they are added)
        card = rnd.random() < 0.6
        p = b = pts = 0
        if rnd.random() < 0.35:
            p = rnd.choice((10_000, 20_000, 30_000, 50_000, 100_000, 200_000)) \
                - rnd.randrange(0, 10_000)
            b = p // 10 if rnd.random() < 0.5 else 0
        if rnd.random() < 0.7:
            pts = rnd.randrange(10, 6000)
        m.sv_p[i], m.sv_b[i], m.points[i] = p, b, pts
        loader.add("members", f"{head}\t{p}\t{b}\t{pts}\t0\t0\t\\N\t0\t{created}\t{created}")
        if card:
            loader.add("member_cards", f"{ids.take('member_cards')}\t8{mid:09d}\t{mid}\tactive"
                                       f"\t{created}")
        if p or b:
            loader.add("stored_value_ledger",
                       f"{ids.take('stored_value_ledger')}\t{mid}\topening\t{p}\t{b}\t{p}\t{b}"
                       f"\t\\N\t\\N\t\\N\t期初余额\t\\N\t{sv_ts}")
        if pts:
            loader.add("points_ledger",
                       f"{ids.take('points_ledger')}\t{mid}\topening\t{pts}\t{pts}\t\\N\t\\N"
                       f"\t期初积分\t\\N\t{sv_ts}")
        if i and i % 200_000 == 0:
            progress(f"members {i:,}")
    return m


def _finish_members(m: _Members, conn_factory: Callable[[], Any], spec: GenSpec,
                    tmp: Path) -> int:
    """Members were loaded first (sales and ledgers reference them) with their opening
    balances; now that every ledger row is written, set the cached balances and aggregates
    to the ledgers' final state: one LOAD into a temporary table + one UPDATE … JOIN."""
    from server.domain import member_totals

    path = tmp / "member-final.tsv"
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for i in range(m.n):
            if m.visits[i] or m.changed[i]:
                f.write(f"{m.first_id + i}\t{m.sv_p[i]}\t{m.sv_b[i]}\t{m.points[i]}"
                        f"\t{m.spent[i]}\t{m.visits[i]}\t{_cell(m.last_visit[i])}\n")
                n += 1
    conn = conn_factory()
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")
            if not spec.binlog:
                cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("CREATE TEMPORARY TABLE bench_member_final (id BIGINT PRIMARY KEY, "
                        "sv_p BIGINT, sv_b BIGINT, points BIGINT, spent BIGINT, visits INT, "
                        "last_visit DATETIME(6)) ENGINE=InnoDB")
            cur.execute(f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE bench_member_final")
            cur.execute("UPDATE members m JOIN bench_member_final f ON f.id = m.id SET "
                        "m.sv_principal = f.sv_p, m.sv_bonus = f.sv_b, m.points = f.points, "
                        "m.total_spent = f.spent, m.visit_count = f.visits, "
                        "m.last_visit_at = f.last_visit")
            cur.execute("DROP TEMPORARY TABLE bench_member_final")
            for sql in member_totals.RECOUNT_SQL:  # the members' totals from the final rows
                cur.execute(sql)
        conn.commit()
    finally:
        conn.close()
        path.unlink(missing_ok=True)
    return n


COUNT_CARD_TEMPLATES = (("护理10次卡", "护理", 10, 365, 48_000),
                        ("按摩5次卡", "按摩", 5, None, 20_000))


def _count_cards(conn_factory: Callable[[], Any], spec: GenSpec, m: _Members,
                 start: dt.date, end: dt.date, utc_off: dt.timedelta) -> int:
    """Count cards (次卡) for the count-card report: every 20th new member holds one of two
    packages, bought on a day of the period (spread by id), some uses taken a week later
    (one ``use`` entry of all of them; the ledger sum = the cached ``remaining_uses``, so
    ``verify`` holds). Set-based SQL after the load: a few seconds at 1M members."""
    if not m.n:
        return 0
    first = dt.datetime.combine(start, dt.time(10, 0)) - utc_off
    last = dt.datetime.combine(end, dt.time(18, 0)) - utc_off
    conn = conn_factory()
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")
            if not spec.binlog:
                cur.execute("SET SESSION sql_log_bin = 0")
            tids = []
            for name, service, uses, days, price in COUNT_CARD_TEMPLATES:
                cur.execute("INSERT INTO count_card_templates (name, service_name, uses, "
                            "validity_days, price, active, created_at) VALUES "
                            "(%s, %s, %s, %s, %s, 1, %s)",
                            (name, service, uses, days, price, first))
                tids.append(cur.lastrowid)
            cur.execute("SELECT MAX(id) FROM member_count_cards")
            after = cur.fetchone()[0] or 0
            bought = "(%s + INTERVAL (m.id MOD %s) DAY)"
            cur.execute(
                "INSERT INTO member_count_cards (member_id, template_id, name, service_name, "
                "total_uses, remaining_uses, price, method, purchased_at, expires_at, status) "
                "SELECT m.id, t.id, t.name, t.service_name, t.uses, "
                "t.uses - (m.id DIV 40) MOD (t.uses + 1), t.price, 'cash', "
                f"{bought}, IF(t.validity_days IS NULL, NULL, {bought} + INTERVAL "
                "t.validity_days DAY), 'active' FROM members m JOIN count_card_templates t "
                "ON t.id = IF(m.id MOD 40 = 0, %s, %s) "
                "WHERE m.id BETWEEN %s AND %s AND m.id MOD 20 = 0",
                (first, spec.days, first, spec.days, tids[0], tids[1], m.first_id,
                 m.first_id + m.n - 1))
            n = cur.rowcount
            cur.execute("INSERT INTO count_card_ledger (card_id, member_id, kind, `change`, "
                        "balance_after, note, at) SELECT id, member_id, 'purchase', "
                        "total_uses, total_uses, '购卡', purchased_at FROM member_count_cards "
                        "WHERE id > %s ORDER BY id", (after,))
            cur.execute("INSERT INTO count_card_ledger (card_id, member_id, kind, `change`, "
                        "balance_after, note, at) SELECT id, member_id, 'use', "
                        "remaining_uses - total_uses, remaining_uses, '消费', "
                        "LEAST(purchased_at + INTERVAL 7 DAY, %s) FROM member_count_cards "
                        "WHERE id > %s AND remaining_uses < total_uses ORDER BY id",
                        (last, after))
        conn.commit()
    finally:
        conn.close()
    return n


def _analyze(conn_factory: Callable[[], Any]) -> None:
    """Fresh optimizer statistics. InnoDB recalculates them in the background after a table
    changed by 10 %, but after a bulk load they can still say "1 row" when the first queries
    run, and MariaDB then scans 1M members for an ``id IN (…)`` of 21 ids (13 ms at 20k
    members). A shop's tables grow gradually; a freshly loaded one needs this."""
    conn = conn_factory()
    try:
        with conn.cursor() as cur:
            cur.execute("ANALYZE TABLE " + ", ".join(
                f"`{t}`" for t in (*COLUMNS, "member_count_cards", "count_card_ledger")))
            cur.fetchall()
    finally:
        conn.close()


def _finish_products(products: list[list[Any]], conn_factory: Callable[[], Any],
                     spec: GenSpec) -> None:
    """The cached stock of tracked products = their ledger's final balance."""
    conn = conn_factory()
    try:
        with conn.cursor() as cur:
            if not spec.binlog:
                cur.execute("SET SESSION sql_log_bin = 0")
            cur.executemany("UPDATE products SET stock = %s WHERE id = %s",
                            [(p[9], p[0]) for p in products if p[7]])
        conn.commit()
    finally:
        conn.close()


def _products(rnd: random.Random, spec: GenSpec, ref: dict[str, Any], ids: _Ids,
              loader: Loader, opening_at: dt.datetime) -> list[tuple]:
    cats = ref["categories"]
    retail_cats = [c for c in CATEGORIES if c not in SERVICE_CATEGORIES]
    out = []
    ts = _ts(opening_at)
    total = spec.products + spec.services
    for i in range(total):
        pid = ids.take("products")
        service = i >= spec.products
        if service:
            cat = rnd.choice(SERVICE_CATEGORIES)
            name = f"{rnd.choice(SERVICE_WORDS)}{i - spec.products + 1:03d}"
            price = rnd.choice((1500, 2000, 3000, 3800, 5000, 6800, 8800, 12800, 19800))
            cost = None
            member_price = None
            track = False
            kind = "service"
        else:
            cat = rnd.choice(retail_cats)
            name = f"{rnd.choice(PRODUCT_WORDS)} {i + 1:05d}"
            price = max(100, int(rnd.lognormvariate(7.3, 0.9)) // 10 * 10)
            cost = int(price * rnd.uniform(0.5, 0.8))
            member_price = price * 9 // 10 if rnd.random() < 0.1 else None
            track = rnd.random() < 0.7
            kind = "product"
        stock = 1_000_000 if track else 0
        py = pinyin_initials(name)
        row = (pid, kind, f"SKU{pid:07d}", name, py, "次" if service else "件", cats[cat],
               price, member_price, cost, False, True, track, stock, None, "none", 0, True, ts,
               ts)
        loader.add("products", "\t".join(_cell(v) for v in row))
        barcode = None
        if not service:
            barcode = f"69{pid:011d}"
            loader.add("product_barcodes", f"{barcode}\t{pid}")
        if track:
            loader.add("stock_ledger", f"{ids.take('stock_ledger')}\t{pid}\t{stock}\t{stock}"
                                       f"\topening\t\\N\t\\N\t\\N\t{ts}")
        # (id, name, kind, category, price, member_price, cost, track, barcode)
        out.append([pid, name, kind, cats[cat], price, member_price, cost, track, barcode,
                    stock])
    loader.flush_dependents("product_barcodes")
    return out


def _sales(rnd: random.Random, spec: GenSpec, ref: dict[str, Any], ids: _Ids, loader: Loader,
           m: _Members, products: list[list[Any]], start: dt.date, utc_off: dt.timedelta,
           progress: Callable[[str], None], result: GenResult) -> float:
    """The year of sales. Returns the Python seconds spent (incl. waiting for the loader)."""
    t0 = time.perf_counter()
    levels = ref["levels"]
    cashiers = ref["cashiers"]
    counters = sorted(cashiers)
    n_members = m.n
    mean_lines = sum((i + 1) * w for i, w in enumerate(LINE_COUNT_WEIGHTS)) \
        / sum(LINE_COUNT_WEIGHTS)
    n_sales = max(1, round(spec.sale_lines / mean_lines))
    # days: weekends ×1.4, a festive bump in the last weeks of the (lunar-ish) year
    day_w = []
    for d in range(spec.days):
        day = start + dt.timedelta(days=d)
        w = 1.4 if day.weekday() >= 5 else 1.0
        if (day.month == 1 and day.day >= 15) or (day.month == 2 and day.day <= 10):
            w *= 1.3
        day_w.append(w)
    tot_w = sum(day_w)
    per_day = [int(n_sales * w / tot_w) for w in day_w]
    per_day[-1] += n_sales - sum(per_day)
    hours = list(HOUR_WEIGHTS)
    hour_cum = list(accumulate(HOUR_WEIGHTS.values()))
    # popular products (Zipf-like); services are chosen in 12 % of lines
    retail = [p for p in products if p[2] == "product"]
    services = [p for p in products if p[2] == "service"]
    order = list(range(len(retail)))
    rnd.shuffle(order)
    retail = [retail[i] for i in order]
    retail_cum = list(accumulate(1 / (r + 1) ** 0.9 for r in range(len(retail))))
    service_cum = list(accumulate(1 / (r + 1) ** 0.7 for r in range(len(services))))
    line_cum = list(accumulate(LINE_COUNT_WEIGHTS))
    line_tot, retail_tot = line_cum[-1], retail_cum[-1]
    service_tot = service_cum[-1] if service_cum else 0.0
    n_counters = len(counters)
    randrange = rnd.randrange
    first_mid = m.first_id
    sv_p, sv_b, pts_bal = m.sv_p, m.sv_b, m.points
    spent, visits, last_visit = m.spent, m.visits, m.last_visit
    level_idx = m.level_idx
    changed = m.changed
    add = loader.add
    take = ids.take
    # a per-run salt: two runs with the same seed never make the same UUIDs
    salt = int.from_bytes(os.urandom(16), "big")

    def getrandbits(k: int, _g=rnd.getrandbits) -> int:
        return _g(k) ^ (salt & ((1 << k) - 1))
    random_ = rnd.random
    choices = rnd.choices
    seq: dict[tuple[str, str], int] = {}
    done = 0
    lines_done = 0
    rounds_cash = (1000, 2000, 5000, 10000)
    for d, count in enumerate(per_day):
        day = start + dt.timedelta(days=d)
        dstr = day.isoformat()
        dnum = f"{day:%Y%m%d}"
        midnight = dt.datetime.combine(day, dt.time(0, 0)) - utc_off
        secs = sorted(h * 3600 + rnd.randrange(3600)
                      for h in choices(hours, cum_weights=hour_cum, k=count))
        for s in secs:
            created = midnight + dt.timedelta(seconds=s, microseconds=randrange(1, 1_000_000))
            cts = created.isoformat(" ")
            counter = counters[randrange(n_counters)]
            staff_id = cashiers[counter]
            k = (counter, "sale")
            no = seq.get(k, 0) + 1
            seq[k] = no
            number = f"{dnum}-{counter}-{no:04d}"
            sale_uuid = _uuid4(getrandbits(128))
            sale_id = take("sales")
            member = None
            if random_() < spec.member_share:
                member = int(n_members * random_() ** 2)  # loyal members come more often
                lv = levels[level_idx[member]]
                mid = first_mid + member
            nlines = bisect(line_cum, random_() * line_tot) + 1
            lines = []
            list_total = member_disc = 0
            for ln_no in range(1, nlines + 1):
                if services and random_() < 0.12:
                    p = services[bisect(service_cum, random_() * service_tot)]
                else:
                    p = retail[bisect(retail_cum, random_() * retail_tot)]
                qty = 1 if random_() < 0.8 else (2 if random_() < 0.7 else 3)
                price = p[4]
                list_amount = price * qty
                amount, source, unit = list_amount, SOURCE_LIST, price
                if member is not None:
                    mp = p[5]
                    if mp is not None and mp < price:
                        amount, source, unit = mp * qty, SOURCE_MEMBER_PRICE, mp
                    if lv[1] < 10_000:
                        pct = (list_amount * lv[1] + 5000) // 10_000
                        if pct < amount:
                            amount, source, unit = pct, SOURCE_LEVEL_DISCOUNT, price
                list_total += list_amount
                member_disc += list_amount - amount
                lines.append((take("sale_lines"), ln_no, p, qty, unit, list_amount,
                              list_amount - amount, amount, source))
            total = list_total - member_disc
            # payments
            pays = []  # (method, amount, tendered, change, reference, points, principal, bonus)
            rest = total
            if member is not None:
                i = member
                changed[i] = 1
                if random_() < spec.recharge_share:
                    amt = rnd.choice((20_000, 50_000, 100_000))
                    bonus = amt // 10 if amt >= 50_000 else 0
                    sv_p[i] += amt
                    sv_b[i] += bonus
                    add("stored_value_ledger",
                        f"{take('stored_value_ledger')}\t{mid}\trecharge\t{amt}\t{bonus}"
                        f"\t{sv_p[i]}\t{sv_b[i]}\t{rnd.choice(('cash', 'wechat', 'alipay'))}"
                        f"\t\\N\t\\N\t\\N\t{staff_id}\t{cts}")
                bal = sv_p[i] + sv_b[i]
                r = random_()
                if bal > 0 and r < 0.45:
                    sv_amt = rest if bal >= rest else (bal if random_() < 0.5 else 0)
                    if sv_amt > 0:
                        p_part = min(sv_amt, sv_p[i])
                        b_part = sv_amt - p_part
                        sv_p[i] -= p_part
                        sv_b[i] -= b_part
                        add("stored_value_ledger",
                            f"{take('stored_value_ledger')}\t{mid}\tpayment\t{-p_part}"
                            f"\t{-b_part}\t{sv_p[i]}\t{sv_b[i]}\t\\N\tsale\t{sale_uuid}\t\\N"
                            f"\t{staff_id}\t{cts}")
                        pays.append(["stored_value", sv_amt, None, 0, None, None, p_part,
                                     b_part])
                        rest -= sv_amt
                if rest > 0 and pts_bal[i] >= 500 and random_() < 0.12:
                    use = min(pts_bal[i] // 100 * 100, rest * POINTS_PER_YUAN_REDEEM // 100)
                    use = use // 100 * 100
                    value = points_value_fen(use, POINTS_PER_YUAN_REDEEM)
                    if use > 0 and 0 < value <= rest:
                        pts_bal[i] -= use
                        add("points_ledger",
                            f"{take('points_ledger')}\t{mid}\tredeem\t{-use}\t{pts_bal[i]}"
                            f"\tsale\t{sale_uuid}\t\\N\t{staff_id}\t{cts}")
                        pays.append(["points", value, None, 0, None, use, None, None])
                        rest -= value
            if rest > 0:
                r = random_()
                if r < 0.35:
                    tendered = rest
                    if random_() < 0.7:
                        unit_c = rounds_cash[rnd.randrange(4)]
                        tendered = -(-rest // unit_c) * unit_c
                    pays.append(["cash", rest, tendered, tendered - rest, None, None, None,
                                 None])
                elif r < 0.40 and rest > 200:
                    cash = rest // 2 // 100 * 100 or 100
                    pays.append(["cash", cash, cash, 0, None, None, None, None])
                    pays.append(["wechat", rest - cash, None, 0,
                                 f"42{getrandbits(40):012d}", None, None, None])
                else:
                    method = ("wechat", "alipay", "card")[
                        0 if r < 0.72 else (1 if r < 0.95 else 2)]
                    pays.append([method, rest, None, 0, f"{getrandbits(48):015d}", None, None,
                                 None])
            earned = 0
            if member is not None:
                points_paid = sum(p[1] for p in pays if p[0] == "points")
                earned = points_earned(total - points_paid, lv[2])
                if earned > 0:
                    pts_bal[member] += earned
                    add("points_ledger",
                        f"{take('points_ledger')}\t{mid}\tearn\t{earned}\t{pts_bal[member]}"
                        f"\tsale\t{sale_uuid}\t\\N\t{staff_id}\t{cts}")
                spent[member] += total
                visits[member] += 1
                last_visit[member] = cts
            # refunds (right after the sale: simple, and the ledgers stay in order)
            refund_kind = None
            r = random_()
            only_plain = all(p[0] not in ("stored_value", "points") for p in pays)
            if r < spec.refund_share:
                refund_kind = "all"
            elif r < spec.refund_share + spec.partial_refund_share and len(pays) == 1 \
                    and only_plain and nlines > 1:
                refund_kind = "line"
            change_total = sum(p[3] for p in pays)
            pay_ids = [take("sale_payments") for _p in pays]
            refunded_total = 0
            status = "completed"
            refund_rows: list[tuple] = []
            if refund_kind is not None:
                rk = (counter, "refund")
                rno = seq.get(rk, 0) + 1
                seq[rk] = rno
                r_at = created + dt.timedelta(minutes=rnd.randint(2, 90))
                rts = r_at.isoformat(" ")
                refund_id = take("refunds")
                r_uuid = _uuid4(getrandbits(128))
                r_number = f"R{dnum}-{counter}-{rno:04d}"
                if refund_kind == "all":
                    back_lines = lines
                    back_total = total
                    pay_parts = [p[1] for p in pays]
                    status = "refunded"
                else:
                    back_lines = [lines[-1]]
                    back_total = lines[-1][7]
                    pay_parts = [back_total]
                    status = "part_refunded"
                refunded_total = back_total
                refund_rows.append((refund_id, r_uuid, r_number, rts, back_lines, back_total,
                                    pay_parts))
            # rows: sale, lines, payments (refund fields filled in), ledgers
            add("sales", f"{sale_id}\t{sale_uuid}\t{number}\t{status}\t{dstr}\t{counter}"
                         f"\t{staff_id}\t{mid if member is not None else chr(92) + 'N'}"
                         f"\t{list_total}\t{member_disc}\t0\t0\t0\t0\t0\t{total}\t{total}"
                         f"\t{change_total}\t{refunded_total}\t{earned}\t{cts}")
            back_ids = {x[0] for x in refund_rows[0][4]} if refund_rows else ()
            for lid, ln_no, p, qty, unit, list_amount, mdisc, amount, source in lines:
                back = lid in back_ids
                add("sale_lines",
                    f"{lid}\t{sale_id}\t{ln_no}\t{p[0]}\t{p[1]}\t{p[2]}\t{p[3]}\t{qty}\t{unit}"
                    f"\t{list_amount}\t{mdisc}\t0\t0\t0\t0\t0\t{amount}\t{source}"
                    f"\t{_cell(p[6])}\t{qty if back else 0}\t{amount if back else 0}")
                if p[7]:
                    p[9] -= qty
                    add("stock_ledger", f"{take('stock_ledger')}\t{p[0]}\t{-qty}\t{p[9]}\tsale"
                                        f"\tsale\t{number}\t{staff_id}\t{cts}")
            parts = refund_rows[0][6] if refund_rows else [0] * len(pays)
            for pid_, p, part in zip(pay_ids, pays, parts, strict=True):
                add("sale_payments",
                    f"{pid_}\t{sale_id}\t{p[0]}\t{p[1]}\t{_cell(p[2])}\t{p[3]}\t{_cell(p[4])}"
                    f"\t{_cell(p[5])}\t{_cell(p[6])}\t{_cell(p[7])}\t{part}")
            if refund_rows:
                refund_id, r_uuid, r_number, rts, back_lines, back_total, pay_parts = \
                    refund_rows[0]
                reversed_pts = 0
                if member is not None:
                    if earned > 0 and refund_kind == "all":
                        reversed_pts = earned
                        pts_bal[member] -= earned
                        add("points_ledger",
                            f"{take('points_ledger')}\t{mid}\treverse\t{-earned}"
                            f"\t{pts_bal[member]}\tsale\t{sale_uuid}\t退款 {r_number}"
                            f"\t{ref['manager']}\t{rts}")
                    spent[member] -= back_total
                add("refunds", f"{refund_id}\t{r_uuid}\t{r_number}\t{sale_id}\t{dstr}"
                               f"\t{counter}\t{ref['manager']}\t{back_total}\t{reversed_pts}"
                               f"\t顾客退货\t{rts}")
                for lid, _n, p, qty, _u, _la, _md, amount, _s in back_lines:
                    add("refund_lines", f"{take('refund_lines')}\t{refund_id}\t{lid}\t{qty}"
                                        f"\t{amount}")
                    if p[7]:
                        p[9] += qty
                        add("stock_ledger", f"{take('stock_ledger')}\t{p[0]}\t{qty}\t{p[9]}"
                                            f"\trefund\trefund\t{r_number}\t{ref['manager']}"
                                            f"\t{rts}")
                for pid_, p, part in zip(pay_ids, pays, pay_parts, strict=True):
                    if part <= 0:
                        continue
                    add("refund_payments", f"{take('refund_payments')}\t{refund_id}\t{pid_}"
                                           f"\t{p[0]}\t{part}\t{_cell(p[5])}")
                    if p[0] == "stored_value":
                        sv_p[member] += p[6]
                        sv_b[member] += p[7]
                        add("stored_value_ledger",
                            f"{take('stored_value_ledger')}\t{mid}\tpayment_refund\t{p[6]}"
                            f"\t{p[7]}\t{sv_p[member]}\t{sv_b[member]}\t\\N\tsale\t{sale_uuid}"
                            f"\t退款 {r_number}\t{ref['manager']}\t{rts}")
                    elif p[0] == "points":
                        pts_bal[member] += p[5]
                        add("points_ledger",
                            f"{take('points_ledger')}\t{mid}\treverse\t{p[5]}"
                            f"\t{pts_bal[member]}\tsale\t{sale_uuid}\t退款 {r_number}"
                            f"\t{ref['manager']}\t{rts}")
            done += 1
            lines_done += nlines
            if done % 500_000 == 0:
                progress(f"sales {done:,} / {n_sales:,} ({lines_done:,} lines)")
    result.sales = done
    result.sale_lines = lines_done
    result.members = n_members
    return time.perf_counter() - t0
