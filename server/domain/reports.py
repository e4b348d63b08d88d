"""Sales reports (报表) from the sales tables, set-based SQL, with a per-day cache.

A period is a range of business days. Sales count on their own business day, refunds on the
refund's business day (a sale of the 30th refunded on the 2nd lowers the 2nd), so a closed
day never changes afterwards. Per group:

- ``total`` = sales' totals (after every discount), ``list_total`` − ``discount`` = ``total``;
- ``refunds`` = money refunded, ``net`` = ``total`` − ``refunds``;
- ``cost``/``margin``: only lines with a known unit cost (``sale_lines.cost``, the product's
  cost at the time of the sale); refunded units give their cost back.

Every figure is computed per (business day, dimension, key) — dimension ``day`` (the day's
totals), ``staff`` (the cashier), ``payment``, ``category``, ``product``, ``hour`` (the UTC
hour of the sale or refund, turned into the shop's hour of the day by the report, so the cache
does not depend on the time zone), ``serving`` (by serving staff, 技师 / 导购: the sales they
served, their share of the lines and of the refunded lines, their commission:
``staff_sales``) — and then added up over the period. Because a closed day never changes,
its figures are kept in
``report_days`` (built by the nightly job, or by the first report that needs them) and a
month's report reads ~30 rows per key instead of ~1M sale lines (bench/README.md: over 10M
sale lines, a month of every grouping in well under a second). Today and yesterday are
always computed live (a sale in flight at midnight still lands on yesterday).
``report_days`` is a cache: ``verify`` compares it with the live figures, ``invalidate``
drops a day (back-dated demo sales), and deleting the table's rows is always safe.

Live figures read covering indexes (migration 0006): ``ix_sales_business_date_report`` for
the sales-level figures, ``ix_sale_lines_sale_id_report`` for the lines of the period's sales,
``ix_sale_payments_sale_id_method`` and ``ix_refunds_business_date``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from common.schemas.reports import ReportRowOut, SalesReportOut, SalesReportQuery
from common.schemas.sales import PAYMENT_LABELS_ZH

from . import staff_sales

DIMS = ("day", "staff", "payment", "category", "product", "hour", "serving")
GROUP_DIM = {"day": "day", "month": "day", "staff": "staff", "payment": "payment",
             "category": "category", "product": "product", "hour": "hour",
             "serving": "serving"}
#: the hour dimension's key: the sale's (refund's) UTC hour, 2026-11-30T16 — the cache does
#: not depend on the shop's time zone; the report turns it into the shop's hour of day
_UTC_HOUR = "DATE_FORMAT({}, '%Y-%m-%dT%H')"
LIVE_DAYS = 2  # today and yesterday: always live
BUILD_CHUNK_DAYS = 31
_FIELDS = ("sales", "qty", "list_total", "total", "refunds", "cost", "margin_base",
           "refund_cost", "refund_margin_base", "commission")


@dataclass
class _Acc:
    key: str
    label: str = ""
    sales: int = 0
    qty: int = 0
    list_total: int = 0
    total: int = 0
    refunds: int = 0
    cost: int = 0
    margin_base: int = 0
    refund_cost: int = 0
    refund_margin_base: int = 0
    commission: int = 0  # the serving dimension: net commission (提成)
    sort: Any = field(default=None)

    def add(self, other: _Acc) -> None:
        for f in _FIELDS:
            setattr(self, f, getattr(self, f) + getattr(other, f))

    def figures(self) -> tuple[int, ...]:
        return tuple(getattr(self, f) for f in _FIELDS)

    def out(self) -> ReportRowOut:
        net = self.total - self.refunds
        base = self.margin_base - self.refund_margin_base
        cost = self.cost - self.refund_cost
        return ReportRowOut(key=self.key, label=self.label or self.key, sales=self.sales,
                            qty=self.qty, list_total=self.list_total,
                            discount=self.list_total - self.total, total=self.total,
                            refunds=self.refunds, net=net, cost=cost, margin=base - cost,
                            margin_base=base, commission=self.commission)


def _i(v: Any) -> int:
    return int(v or 0)


def last_closed_day(today: dt.date) -> dt.date:
    """The newest day served from the cache; ``today`` is the shop's business day
    (``server.clock``)."""
    return today - dt.timedelta(days=LIVE_DAYS)


# -- live figures per (day, key) -----------------------------------------------------------
DayFigures = dict[tuple[dt.date, str], _Acc]

# sales-level dimensions: key expression on sales s, on refunds r
_SALE_KEYS = {"day": ("''", "''"), "staff": ("s.staff_id", "r.staff_id")}
# line-level dimensions: key expression on sale_lines l
_LINE_KEYS = {
    "category": "COALESCE(l.category_id, 0)",
    "product": "COALESCE(l.product_id, -l.count_card_template_id, 0)",
}


def _live(session: Session, dim: str, a: dt.date, b: dt.date) -> DayFigures:
    """The figures of business days a..b for one dimension, straight from the sales tables."""
    p = {"a": a, "b": b}
    out: DayFigures = {}

    def get(day: dt.date, k: Any) -> _Acc:
        key = (day, str(k))
        if key not in out:
            out[key] = _Acc(str(k))
        return out[key]

    if dim in _SALE_KEYS:
        skey, rkey = _SALE_KEYS[dim]
        for d, k, n, lt, tot in session.execute(text(
                f"SELECT s.business_date, {skey}, COUNT(*), SUM(s.list_total), SUM(s.total) "
                "FROM sales s WHERE s.business_date BETWEEN :a AND :b GROUP BY 1, 2"), p):
            x = get(d, k)
            x.sales, x.list_total, x.total = _i(n), _i(lt), _i(tot)
        for d, k, qty, base, cost in session.execute(text(
                f"SELECT s.business_date, {skey}, SUM(l.qty), "
                "SUM(CASE WHEN l.cost IS NOT NULL THEN l.amount END), SUM(l.cost * l.qty) "
                "FROM sales s JOIN sale_lines l ON l.sale_id = s.id "
                "WHERE s.business_date BETWEEN :a AND :b GROUP BY 1, 2"), p):
            x = get(d, k)
            x.qty, x.margin_base, x.cost = _i(qty), _i(base), _i(cost)
        for d, k, tot in session.execute(text(
                f"SELECT r.business_date, {rkey}, SUM(r.total) FROM refunds r "
                "WHERE r.business_date BETWEEN :a AND :b GROUP BY 1, 2"), p):
            get(d, k).refunds = _i(tot)
        for d, k, base, cost in session.execute(text(
                f"SELECT r.business_date, {rkey}, SUM(rl.amount), SUM(l.cost * rl.qty) "
                "FROM refunds r JOIN refund_lines rl ON rl.refund_id = r.id "
                "JOIN sale_lines l ON l.id = rl.sale_line_id "
                "WHERE r.business_date BETWEEN :a AND :b AND l.cost IS NOT NULL "
                "GROUP BY 1, 2"), p):
            x = get(d, k)
            x.refund_margin_base, x.refund_cost = _i(base), _i(cost)
    elif dim == "serving":  # by serving staff (staff_sales): sales served, shares, commission
        for (d, sid), f in staff_sales.served_by_day(session, a, b).items():
            x = get(d, sid)
            x.sales, x.list_total, x.total = len(f.sales), f.amount, f.amount
            x.refunds, x.commission = f.refunds, f.commission
    elif dim == "hour":
        for d, k, n, lt, tot in session.execute(text(
                f"SELECT s.business_date, {_UTC_HOUR.format('s.created_at')}, COUNT(*), "
                "SUM(s.list_total), SUM(s.total) FROM sales s "
                "WHERE s.business_date BETWEEN :a AND :b GROUP BY 1, 2"), p):
            x = get(d, k)
            x.sales, x.list_total, x.total = _i(n), _i(lt), _i(tot)
        for d, k, tot in session.execute(text(
                f"SELECT r.business_date, {_UTC_HOUR.format('r.created_at')}, SUM(r.total) "
                "FROM refunds r WHERE r.business_date BETWEEN :a AND :b GROUP BY 1, 2"), p):
            get(d, k).refunds = _i(tot)
    elif dim == "payment":
        for d, method, n, amount in session.execute(text(
                "SELECT s.business_date, sp.method, COUNT(*), SUM(sp.amount) FROM sales s "
                "JOIN sale_payments sp ON sp.sale_id = s.id "
                "WHERE s.business_date BETWEEN :a AND :b GROUP BY 1, 2"), p):
            x = get(d, method)
            x.sales, x.list_total, x.total = _i(n), _i(amount), _i(amount)
        for d, method, amount in session.execute(text(
                "SELECT r.business_date, rp.method, SUM(rp.amount) FROM refunds r "
                "JOIN refund_payments rp ON rp.refund_id = r.id "
                "WHERE r.business_date BETWEEN :a AND :b GROUP BY 1, 2"), p):
            get(d, method).refunds = _i(amount)
    else:
        key = _LINE_KEYS[dim]
        for d, k, n, qty, lt, tot, base, cost in session.execute(text(
                f"SELECT s.business_date, {key}, COUNT(*), SUM(l.qty), SUM(l.list_amount), "
                "SUM(l.amount), SUM(CASE WHEN l.cost IS NOT NULL THEN l.amount END), "
                "SUM(l.cost * l.qty) FROM sales s JOIN sale_lines l ON l.sale_id = s.id "
                "WHERE s.business_date BETWEEN :a AND :b GROUP BY 1, 2"), p):
            x = get(d, int(k))
            x.sales, x.qty, x.list_total, x.total = _i(n), _i(qty), _i(lt), _i(tot)
            x.margin_base, x.cost = _i(base), _i(cost)
        for d, k, amount, base, cost in session.execute(text(
                f"SELECT r.business_date, {key}, SUM(rl.amount), "
                "SUM(CASE WHEN l.cost IS NOT NULL THEN rl.amount END), SUM(l.cost * rl.qty) "
                "FROM refunds r JOIN refund_lines rl ON rl.refund_id = r.id "
                "JOIN sale_lines l ON l.id = rl.sale_line_id "
                "WHERE r.business_date BETWEEN :a AND :b GROUP BY 1, 2"), p):
            x = get(d, int(k))
            x.refunds, x.refund_margin_base, x.refund_cost = _i(amount), _i(base), _i(cost)
    return out


# -- the per-day cache ---------------------------------------------------------------------
def _days(a: dt.date, b: dt.date) -> Iterator[dt.date]:
    d = a
    while d <= b:
        yield d
        d += dt.timedelta(days=1)


def _runs(days: list[dt.date], longest: int) -> Iterator[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) ranges of at most ``longest`` days."""
    start = prev = None
    for d in days:
        if start is None:
            start = prev = d
        elif d == prev + dt.timedelta(days=1) and (d - start).days < longest:
            prev = d
        else:
            yield start, prev
            start = prev = d
    if start is not None:
        yield start, prev


def built_days(session: Session, a: dt.date, b: dt.date) -> set[dt.date]:
    return set(session.scalars(text(
        "SELECT business_date FROM report_days WHERE dim = 'day' "
        "AND business_date BETWEEN :a AND :b"), {"a": a, "b": b}))


def build(session: Session, a: dt.date, b: dt.date, *, today: dt.date,
          commit: bool = False) -> int:
    """Build the cache for the closed days of a..b that are not built yet; returns how many
    days it built. Idempotent (a concurrent builder writes the same figures). ``commit``:
    after every chunk of days (the nightly job over a long history: a report asked for
    meanwhile waits for one chunk's row locks at most, not for the whole history)."""
    b = min(b, last_closed_day(today))
    if a > b:
        return 0
    have = built_days(session, a, b)
    missing = [d for d in _days(a, b) if d not in have]
    for first, last in _runs(missing, BUILD_CHUNK_DAYS):
        rows: list[dict[str, Any]] = []
        for dim in DIMS:
            figures = _live(session, dim, first, last)
            if dim == "day":  # the marker row of every day, sales or not
                for d in _days(first, last):
                    figures.setdefault((d, ""), _Acc(""))
            for (d, k), x in figures.items():
                if d in have:
                    continue
                rows.append({"dim": dim, "d": d, "k": k,
                             **{f: getattr(x, f) for f in _FIELDS}})
        for i in range(0, len(rows), 1000):
            session.execute(text(
                "INSERT INTO report_days (dim, business_date, k, " + ", ".join(_FIELDS)
                + ", built_at) VALUES (:dim, :d, :k, " + ", ".join(f":{f}" for f in _FIELDS)
                + ", UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE "
                + ", ".join(f"{f} = VALUES({f})" for f in _FIELDS)), rows[i:i + 1000])
        if commit:
            session.commit()
    return len(missing)


def build_all(session: Session, today: dt.date) -> int:
    """Every closed day since the first sale (the nightly job; after a bulk import)."""
    first = session.scalar(text("SELECT MIN(business_date) FROM sales"))
    return build(session, first, last_closed_day(today), today=today, commit=True) \
        if first else 0


def invalidate(session: Session, day: dt.date) -> None:
    """Forget a day's cached figures (a sale written with a past business day)."""
    session.execute(text("DELETE FROM report_days WHERE business_date = :d"), {"d": day})


def _cached(session: Session, dim: str, a: dt.date, b: dt.date, by_day: bool
            ) -> Iterable[tuple[Any, str, _Acc]]:
    """Cached figures of days a..b: per (day, key) when ``by_day``, else summed per key."""
    cols = ", ".join(f"SUM({f})" for f in _FIELDS)
    day_col = "business_date" if by_day else "NULL"
    group = "business_date, k" if by_day else "k"
    for row in session.execute(text(
            f"SELECT {day_col}, k, {cols} FROM report_days WHERE dim = :dim "
            f"AND business_date BETWEEN :a AND :b GROUP BY {group}"),
            {"dim": dim, "a": a, "b": b}):
        x = _Acc(row[1])
        for f, v in zip(_FIELDS, row[2:], strict=True):
            setattr(x, f, _i(v))
        yield row[0], row[1], x


def figures(session: Session, dim: str, a: dt.date, b: dt.date, *, by_day: bool,
            today: dt.date, cache: bool = True) -> Iterator[tuple[Any, str, _Acc]]:
    """(day or None, key, figures) of a..b: closed days from the cache (built on the way
    when ``cache``), the rest live."""
    live_from = a
    if cache:
        closed = min(b, last_closed_day(today))
        if a <= closed:
            build(session, a, closed, today=today)
            yield from _cached(session, dim, a, closed, by_day)
            live_from = closed + dt.timedelta(days=1)
    if live_from <= b:
        for (d, k), x in _live(session, dim, live_from, b).items():
            yield (d if by_day else None), k, x


# -- the report ----------------------------------------------------------------------------
def sales_report(session: Session, q: SalesReportQuery, *, today: dt.date,
                 cache: bool = True, tz: dt.tzinfo = dt.UTC) -> SalesReportOut:
    """``today``: the shop's business day (what is closed, hence cached); ``cache``: read
    (and build) ``report_days``; off on a read-only standby; ``tz``: the shop's time zone
    (the hour group's hours of the day)."""
    group, a, b = q.group, q.date_from, q.date_to
    dim = GROUP_DIM[group]
    acc: dict[str, _Acc] = {}
    totals = _Acc("total", "合计")
    for d, k, x in figures(session, dim, a, b, by_day=group in ("day", "month"),
                           today=today, cache=cache):
        if group == "day":
            key, sort = d.isoformat(), d
        elif group == "month":
            key = sort = d.strftime("%Y-%m")
        elif group == "payment":
            key, sort = k, k
        elif group == "hour":
            sort = _shop_hour(k, tz)
            key = f"{sort:02d}"
        else:
            key, sort = str(int(k)), int(k)
        row = acc.get(key)
        if row is None:
            row = acc[key] = _Acc(key, sort=sort)
        row.add(x)
        if dim in ("day", "serving"):  # serving: its totals add up its rows
            totals.add(x)
    if dim not in ("day", "serving"):
        for _d, _k, x in figures(session, "day", a, b, by_day=False, today=today,
                                 cache=cache):
            totals.add(x)
    rows = [r for r in acc.values() if any(r.figures())]  # not the empty days' marker rows
    if group in ("payment", "hour", "serving"):  # no quantity of goods
        for r in rows:
            r.qty = 0
        totals.qty = 0
    truncated = False
    if group == "serving":
        names = _names(session, "staff", "display_name", [int(r.sort) for r in rows])
        for r in rows:
            r.label = names.get(int(r.sort), r.key)
        rows.sort(key=lambda r: (-(r.total - r.refunds), int(r.sort)))
    elif group == "staff":
        names = _names(session, "staff", "display_name", [int(r.sort) for r in rows if r.sort])
        for r in rows:
            r.label = names.get(int(r.sort), r.key)
        rows.sort(key=lambda r: int(r.sort))
    elif group == "payment":
        order = list(PAYMENT_LABELS_ZH)
        for r in rows:
            r.label = PAYMENT_LABELS_ZH.get(r.key, r.key)
        rows.sort(key=lambda r: (order.index(r.key) if r.key in order else len(order), r.key))
    elif group in ("category", "product"):
        rows.sort(key=lambda r: (-(r.total - r.refunds), r.sort))
        if group == "product":
            truncated = len(rows) > q.top
            rows = rows[:q.top]
            _product_labels(session, rows)
        else:
            names = dict(session.execute(text("SELECT id, name FROM categories")).all())
            for r in rows:
                r.label = names.get(r.sort, "未分类") if r.sort else "未分类"
    elif group == "hour":
        rows = _every_hour(rows)
    else:
        rows.sort(key=lambda r: r.sort)
    n, amount = offline_figures(session, a, b)
    return SalesReportOut(date_from=a, date_to=b, group=group, rows=[r.out() for r in rows],
                          totals=totals.out(), truncated=truncated, offline_sales=n,
                          offline_total=amount)


def _shop_hour(utc_hour: str, tz: dt.tzinfo) -> int:
    """'2026-11-30T16' (a UTC hour) → the shop's hour of the day (0 in Asia/Shanghai)."""
    t = dt.datetime.strptime(utc_hour, "%Y-%m-%dT%H").replace(tzinfo=dt.UTC)
    return t.astimezone(tz).hour


def _every_hour(rows: list[_Acc]) -> list[_Acc]:
    """The hours from the first to the last with sales, the quiet ones in between as zero
    rows (a chart by hour of day reads the gaps), labelled 09:00–10:00."""
    by_hour = {int(r.sort): r for r in rows}
    out: list[_Acc] = []
    if by_hour:
        for h in range(min(by_hour), max(by_hour) + 1):
            r = by_hour.get(h) or _Acc(f"{h:02d}", sort=h)
            r.label = f"{h:02d}:00–{(h + 1) % 24:02d}:00"
            out.append(r)
    return out


def offline_figures(session: Session, a: dt.date, b: dt.date) -> tuple[int, int]:
    """How many of the period's sales (business days a..b) were made offline at a counter and
    replayed, and their total (fen). Live: offline sales are few (``ix_sales_origin_id``)."""
    n, total = session.execute(text(
        "SELECT COUNT(*), SUM(total) FROM sales WHERE origin = 'offline' "
        "AND business_date BETWEEN :a AND :b"), {"a": a, "b": b}).one()
    return _i(n), _i(total)


def _names(session: Session, table: str, column: str, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {int(i): n for i, n in session.execute(
        text(f"SELECT id, {column} FROM {table} WHERE id IN :ids")
        .bindparams(bindparam("ids", expanding=True)), {"ids": ids})}


def _product_labels(session: Session, rows: list[_Acc]) -> None:
    """Names of the shown products (and of count-card packages sold: negative keys)."""
    names = _names(session, "products", "name", [a.sort for a in rows if a.sort > 0])
    names.update((-i, n) for i, n in _names(session, "count_card_templates", "name",
                                            [-a.sort for a in rows if a.sort < 0]).items())
    for a in rows:
        a.label = names.get(a.sort, "其他" if a.sort == 0 else a.key)


# -- verify --------------------------------------------------------------------------------
def check_cache(session: Session, days: int = 31) -> list[str]:
    """The cached figures of the newest ``days`` built days equal the live ones."""
    newest = list(session.scalars(text(
        "SELECT business_date FROM report_days WHERE dim = 'day' "
        "ORDER BY business_date DESC LIMIT :n"), {"n": days}))
    problems: list[str] = []
    if not newest:
        return problems
    a, b = min(newest), max(newest)
    for dim in DIMS:
        cached = {(d, k): x.figures() for d, k, x in _cached(session, dim, a, b, True)
                  if d in newest}
        live = {key: x.figures() for key, x in _live(session, dim, a, b).items()
                if key[0] in newest}
        for key in sorted(set(cached) | set(live)):
            zero = (0,) * len(_FIELDS)
            if cached.get(key, zero) != live.get(key, zero):
                problems.append(f"report_days {dim} {key[0]} {key[1]!r}: cached "
                                f"{cached.get(key)} != live {live.get(key)}")
    return problems[:20]
