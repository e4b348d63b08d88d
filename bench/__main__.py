"""``python -m bench quick|full|failover|seeding|offline`` — the lanpos benchmark (bench/README.md).

quick: small data, every scenario, under 2 minutes.   full: 1M members, 10M sale lines.
Both print a table and write bench/results/<mode>-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .env import ServerProcess, conn_factory, machine_info, open_runtime, passwords_for
from .generate import BENCH_PASSWORD, GenSpec, generate
from .load import Http, LoadResult, LoadSpec, load_sample, percentile, run_load

RESULTS = Path(__file__).resolve().parent / "results"

SIZES = {
    "quick": dict(gen=GenSpec(members=20_000, products=1_000, services=40, sale_lines=100_000,
                              chunk_rows=50_000, binlog=False),
                  load_seconds=10, paced_seconds=15, realistic_seconds=0, search_n=100,
                  counters=20),
    "full": dict(gen=GenSpec(members=1_000_000, products=5_000, services=200,
                             sale_lines=10_000_000, binlog=False),
                 load_seconds=60, paced_seconds=60, realistic_seconds=60, search_n=1000,
                 counters=20),
}
# the checkout p99 target is judged at shop pace: 20 counters whose cashiers scan an item,
# look up the member and take the payment about once a second each (exponential pauses, mean
# 1 s: ~3 checkouts/s, a very busy shop); flat out (no pauses) measures the capacity and the
# API / floor ratio, and its latency is the queue (Little's law), not the code
PACE_MS = 1000
TARGETS = {"search_server_p99_ms": 20, "checkout_p99_ms": 50, "api_floor_ratio": 0.5,
           "report_ms": 1000}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _f(x: float | None, nd: int = 1) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


# -- scenarios -----------------------------------------------------------------------------
def scenario_search(url: str, conn: Any, n: int, seed: int = 3) -> dict[str, Any]:
    """Member search over HTTP, one query at a time: by last 4 digits, card number, pinyin
    initials, full phone. Server time from Server-Timing."""
    rnd = random.Random(seed)
    with conn.cursor() as cur:
        cur.execute("SELECT MIN(id), MAX(id) FROM members")
        lo, hi = cur.fetchone()
        ids = [rnd.randint(lo, hi) for _ in range(n)]
        cur.execute("SELECT m.id, m.phone, m.pinyin, c.card_no FROM members m LEFT JOIN "
                    "member_cards c ON c.member_id = m.id WHERE m.id IN ("
                    + ",".join(map(str, ids)) + ")")
        rows = cur.fetchall()
    h = Http(url)
    h.token = h.login("c01", BENCH_PASSWORD, "01")
    queries: dict[str, list[str]] = {
        "phone_last4": [f"{rnd.randrange(10_000):04d}" for _ in range(n)],
        "card": [r[3] for r in rows if r[3]][:n],
        "pinyin": [r[2][:rnd.choice((2, 3))] for r in rows if len(r[2] or "") >= 2][:n],
        "phone": [r[1] for r in rows][:n],
    }
    out: dict[str, Any] = {}
    for kind, qs in queries.items():
        http_ms, server_ms, hits = [], [], []
        for q in qs:
            st, body, ms, sms = h.call("GET", f"/members?q={q}")
            if st != 200:
                raise RuntimeError(f"search {q}: {st} {body}")
            http_ms.append(ms)
            server_ms.append(sms)
            hits.append(len(body["items"]))
        out[kind] = {"n": len(qs), "http_p50": percentile(http_ms, 50),
                     "http_p99": percentile(http_ms, 99), "server_p50": percentile(server_ms, 50),
                     "server_p95": percentile(server_ms, 95),
                     "server_p99": percentile(server_ms, 99),
                     "avg_hits": sum(hits) / max(1, len(hits))}
    return out


def scenario_reports(url: str, last_day: dt.date) -> dict[str, Any]:
    """Daily (the last day of data) and monthly (the last calendar month, and the last 30
    days) reports, every grouping; the owner's reports (members, count cards, stock,
    exceptions) over the month and the 30 days, and the member lists' first page; first call
    (cold) and the best of 3 (warm)."""
    h = Http(url)
    h.token = h.login("manager", BENCH_PASSWORD, "bo")
    month_end = last_day.replace(day=1) - dt.timedelta(days=1)
    periods = {"day": (last_day, last_day), "month": (month_end.replace(day=1), month_end),
               "30 days": (last_day - dt.timedelta(days=29), last_day)}
    out: dict[str, Any] = {}
    for pname, (a, b) in periods.items():
        for group in ("day", "month", "hour", "payment", "category", "product", "staff",
                      "serving"):
            times, stimes = [], []
            for _ in range(4):
                st, body, ms, sms = h.call(
                    "GET", f"/reports/sales?date_from={a}&date_to={b}&group={group}")
                if st != 200:
                    raise RuntimeError(f"report {pname} {group}: {st} {body}")
                times.append(ms)
                stimes.append(sms)
            out[f"{pname}/{group}"] = {"from": str(a), "to": str(b), "cold_ms": times[0],
                                       "warm_ms": min(times[1:]), "server_cold_ms": stimes[0],
                                       "server_warm_ms": min(stimes[1:]),
                                       "sales": body["totals"]["sales"]}
    # the owner's reports (#17) over the last month and the last 30 days; the member lists'
    # first page. "sales" column: the report's main count (what it found)
    owner: dict[str, tuple[str, Any]] = {
        "members": ("/reports/members?date_from={a}&date_to={b}",
                    lambda x: x["member_sales"]),
        "count-cards": ("/reports/count-cards?date_from={a}&date_to={b}",
                        lambda x: x["totals"]["uses"]),
        "stock": ("/reports/stock?date_from={a}&date_to={b}",
                  lambda x: x["movements_total"]["entries"]),
        "exceptions": ("/reports/exceptions?date_from={a}&date_to={b}",
                       lambda x: x["refund_count"] + x["discount_count"]),
    }
    lists = {"member-list new": ("/reports/member-list?kind=new&date_from={a}&date_to={b}",
                                 lambda x: x["total"]),
             "member-list dormant": ("/reports/member-list?kind=dormant&days=60",
                                     lambda x: len(x["items"])),
             "member-list birthdays": ("/reports/member-list?kind=birthdays",
                                       lambda x: x["total"]),
             # 会员关怀 (#18): stored value below ¥50, count cards with ≤ 2 uses left or
             # expiring within 30 days; the count a bulk coupon shows before it issues
             "member-list low_balance": ("/reports/member-list?kind=low_balance"
                                         "&threshold=5000", lambda x: x["total"]),
             "member-list card_low": ("/reports/member-list?kind=card_low&uses=2",
                                      lambda x: x["total"]),
             "member-list card_expiring": ("/reports/member-list?kind=card_expiring&days=30",
                                           lambda x: x["total"]),
             "member-list count dormant": ("/reports/member-list/count?kind=dormant&days=60",
                                           lambda x: x["count"])}
    jobs = [(f"{pname}/{name}", a, b, spec) for pname in ("month", "30 days")
            for name, spec in owner.items()]
    jobs += [(name, *periods["month"], spec) for name, spec in lists.items()]
    for key, a, b, (path, count) in jobs:
        times, stimes = [], []
        for _ in range(4):
            st, body, ms, sms = h.call("GET", path.format(a=a, b=b))
            if st != 200:
                raise RuntimeError(f"report {key}: {st} {body}")
            times.append(ms)
            stimes.append(sms)
        out[key] = {"from": str(a), "to": str(b), "cold_ms": times[0],
                    "warm_ms": min(times[1:]), "server_cold_ms": stimes[0],
                    "server_warm_ms": min(stimes[1:]), "sales": int(count(body) or 0)}
    return out


def scenario_backup(rt: Any, work: Path) -> dict[str, Any]:
    """Our backup (server.backup.dumpfile.dump_to_file) vs plain ``mariadb-dump | gzip``;
    our restore (load_file) vs plain ``zcat | mariadb``, each into a fresh database."""
    from server.backup import dumpfile as b

    target = b.DbTarget.managed(rt.mariadb, rt.config.database.name)
    level = rt.config.backup.compress_level
    out: dict[str, Any] = {"compress_level": level}
    ours = work / "ours.sql.gz"
    t = time.perf_counter()
    res = b.dump_to_file(target, ours, level=level)
    out["ours_backup_s"] = time.perf_counter() - t
    out["ours_size_mb"] = res.size / 1e6
    out["raw_mb"] = res.raw_bytes / 1e6
    plain = work / "plain.sql.gz"
    with target.defaults_file() as cnf:
        t = time.perf_counter()
        subprocess.run(f"mariadb-dump --defaults-file={cnf} {' '.join(b.DUMP_FLAGS)} "
                       f"{target.database} | gzip > {plain}", shell=True, check=True)
        out["plain_backup_s"] = time.perf_counter() - t
    out["plain_size_mb"] = plain.stat().st_size / 1e6
    admin = conn_factory(rt)()
    try:
        with admin.cursor() as cur:
            for db in ("bench_restore_ours", "bench_restore_plain"):
                cur.execute(f"DROP DATABASE IF EXISTS {db}")
                cur.execute(f"CREATE DATABASE {db} CHARACTER SET utf8mb4 "
                            "COLLATE utf8mb4_unicode_ci")
        t = time.perf_counter()
        b.load_file(target, b.iter_sql(ours), database="bench_restore_ours")
        out["ours_restore_s"] = time.perf_counter() - t
        with target.defaults_file() as cnf:
            t = time.perf_counter()
            subprocess.run(f"zcat {plain} | mariadb --defaults-file={cnf} bench_restore_plain",
                           shell=True, check=True)
            out["plain_restore_s"] = time.perf_counter() - t
        with admin.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM bench_restore_ours.sale_lines")
            out["restored_sale_lines"] = cur.fetchone()[0]
            for db in ("bench_restore_ours", "bench_restore_plain"):
                cur.execute(f"DROP DATABASE IF EXISTS {db}")
    finally:
        admin.close()
        ours.unlink(missing_ok=True)
        plain.unlink(missing_ok=True)
    return out


# -- the run -------------------------------------------------------------------------------
def _load_dict(r: LoadResult) -> dict[str, Any]:
    return {"seconds": r.seconds, "counters": r.counters, "error_count": r.error_count,
            "errors": r.errors, "ops": {k: dataclasses.asdict(v) for k, v in r.ops.items()}}


SCENARIOS = ("search", "checkout", "reports", "backup", "floor")


def ensure_generated(rt: Any, gen: GenSpec, marker: Path) -> dict[str, Any]:
    """Generate the bench data once per data dir (``bench-generated.json`` marks it done)."""
    if not marker.exists():
        log(f"generating: {gen.members:,} members, {gen.sale_lines:,} sale lines …")
        g = generate(conn_factory(rt), rt.session_factory, passwords_for(rt), gen,
                     progress=log)
        gd = {"spec": dataclasses.asdict(gen), "rows": g.rows, "seconds": g.seconds,
              "rows_per_second": g.rows_per_second, "python_seconds": g.generate_seconds,
              "wait_for_loader_seconds": g.load_wait_seconds,
              "final_balances_seconds": g.finish_seconds, "total_rows": g.total_rows,
              "sales": g.sales, "sale_lines": g.sale_lines, "members": g.members,
              "first_date": g.first_date, "last_date": g.last_date}
        marker.write_text(json.dumps(gd, default=str, indent=1))
        log(f"generated {g.total_rows:,} rows in {g.seconds:.1f} s = "
            f"{g.rows_per_second:,.0f} rows/s")
    return json.loads(marker.read_text())


def run(mode: str, data_dir: Path | None, keep: bool, regenerate: bool, scale: float,
        seconds: float | None, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    size = SIZES[mode]
    gen: GenSpec = dataclasses.replace(size["gen"])
    if scale != 1.0:
        gen.members = int(gen.members * scale)
        gen.sale_lines = int(gen.sale_lines * scale)
    load_seconds = seconds or size["load_seconds"]
    own_dir = data_dir is None
    data_dir = data_dir or Path(tempfile.gettempdir()) / f"lanpos-bench-{mode}"
    marker = data_dir / "bench-generated.json"
    if regenerate or (own_dir and not marker.exists()):
        shutil.rmtree(data_dir, ignore_errors=True)
    result: dict[str, Any] = {"mode": mode, "date": dt.datetime.now(dt.UTC).isoformat(),
                              "data_dir": str(data_dir), "targets": TARGETS,
                              "skipped": sorted(skip)}
    t_all = time.perf_counter()
    rt = open_runtime(data_dir)
    server: ServerProcess | None = None
    try:
        result["machine"] = machine_info(rt)
        result["generate"] = gd = ensure_generated(rt, gen, marker)
        with contextlib.closing(conn_factory(rt)()) as c, c.cursor() as cur:
            cur.execute("SELECT (SELECT COUNT(*) FROM members), (SELECT COUNT(*) FROM "
                        "sale_lines), (SELECT COUNT(*) FROM sales)")
            result["data"] = dict(zip(("members", "sale_lines", "sales"), cur.fetchone(),
                                      strict=True))
            cur.execute("SELECT table_name, ROUND((data_length + index_length) / 1e6) FROM "
                        "information_schema.tables WHERE table_schema = DATABASE() "
                        "ORDER BY 2 DESC LIMIT 8")
            result["data"]["table_mb"] = {t: float(mb) for t, mb in cur.fetchall()}
        if mode == "quick":
            t = time.perf_counter()
            from server.domain.verify import run_all

            with rt.session_factory() as s:
                bad = [(r.name, r.problems[:3]) for r in run_all(s) if not r.ok]
            result["verify"] = {"seconds": time.perf_counter() - t, "problems": bad}
            log(f"verify: {bad if bad else 'OK'}")
        # the report cache of the closed days, as the shop's nightly job keeps it
        from server.clock import shop_clock
        from server.domain import reports as reports_domain

        t = time.perf_counter()
        with rt.session_factory() as s:
            built = reports_domain.build_all(s, shop_clock(rt.config).today())
            s.commit()
        result["report_days"] = {"built": built, "seconds": time.perf_counter() - t}
        log(f"report cache: {built} days built in {time.perf_counter() - t:.1f} s")
        with contextlib.closing(conn_factory(rt)()) as c:
            sample = load_sample(c)
        rt.stop_database()  # the server owns the database while it runs
        log("starting lanpos-server run …")
        server = ServerProcess(data_dir, threads=16).start()
        # 1. member search
        if "search" not in skip:
            with contextlib.closing(_admin_conn(data_dir)) as c:
                log("member search …")
                result["search"] = scenario_search(server.url, c, size["search_n"])
        # 2. checkout, 5-line member sale, mixed payments, 20 counters, flat out
        api = None
        if "checkout" not in skip:
            api = _checkouts(server.url, size, load_seconds, sample, result)
        # 3. reports
        if "reports" not in skip:
            log("reports …")
            result["reports"] = scenario_reports(server.url,
                                                 dt.date.fromisoformat(gd["last_date"]))
        server.stop()
        server = None
        rt = open_runtime(data_dir)
        # 4. backup / restore
        if "backup" not in skip:
            log("backup / restore …")
            with tempfile.TemporaryDirectory(dir=data_dir) as work:
                result["backup"] = scenario_backup(rt, Path(work))
        # 5. the database floor (last: its replay writes synthetic rows)
        if "floor" not in skip:
            _floor(rt, size, load_seconds, sample, api, result)
    finally:
        if server is not None:
            server.stop()
        rt.stop_database()
    result["total_seconds"] = time.perf_counter() - t_all
    if own_dir and not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def _checkouts(url: str, size: dict[str, Any], load_seconds: float, sample: Any,
               result: dict[str, Any]) -> LoadResult:
    log(f"checkout load: {size['counters']} counters × {load_seconds:.0f} s …")
    api = run_load(LoadSpec(url, counters=size["counters"], seconds=load_seconds,
                            lines=5, member_share=1.0, refund_share=0.02), sample)
    result["checkout"] = _load_dict(api)
    log(f"checkout at shop pace: {size['counters']} counters, {PACE_MS} ms between "
        f"operations, {size['paced_seconds']} s …")
    paced = run_load(LoadSpec(url, counters=size["counters"],
                              seconds=size["paced_seconds"], lines=5, member_share=1.0,
                              refund_share=0.02, think_ms=PACE_MS, seed=3), sample)
    result["paced"] = _load_dict(paced)
    if size["realistic_seconds"]:
        log("realistic mix: 1-8 lines, half with a member, 300 ms think time …")
        mix = run_load(LoadSpec(url, counters=size["counters"],
                                seconds=size["realistic_seconds"], lines=None,
                                member_share=0.5, refund_share=0.01, think_ms=300,
                                seed=2), sample)
        result["realistic"] = _load_dict(mix)
    return api


def _floor(rt: Any, size: dict[str, Any], load_seconds: float, sample: Any,
           api: LoadResult | None, result: dict[str, Any]) -> None:
    log("database floor: capture one checkout, replay at the same concurrency …")
    from server.app import create_app

    from .floor import FloorSpec, capture, floor_pool, run_floor

    app = create_app(rt.config, rt.connect())
    with contextlib.closing(conn_factory(rt)()) as c:
        pool = floor_pool(c, sample.members, sample.barcodes)
    # identities that cannot be mistaken for other values in the statements (the replay
    # swaps values): a member id and product ids above 1000 / 100
    by_product = pool["barcode_of"]
    codes = _distinct([c for c in sample.barcodes
                       if any(by_product.get(p) == c for p in by_product if p > 100)], 5)
    member = max(sample.members)
    cap = capture(app, BENCH_PASSWORD, member, codes)
    result["floor_capture"] = {"statements": cap.statements, "transactions": len(cap.txs),
                               "shapes": cap.shapes()}
    fl = run_floor(cap, conn_factory(rt), pool,
                   FloorSpec(counters=size["counters"], seconds=load_seconds))
    result["floor"] = _load_dict(fl)
    if api is not None:
        api_rate = api.ops["checkout"].per_second if "checkout" in api.ops else 0
        floor_rate = fl.ops["checkout"].per_second if "checkout" in fl.ops else 0
        result["api_floor_ratio"] = api_rate / floor_rate if floor_rate else None


def _distinct(codes: list[str], n: int) -> list[str]:
    out: list[str] = []
    for c in codes:
        if c not in out:
            out.append(c)
        if len(out) == n:
            break
    return out


def _reopen(data_dir: Path) -> Any:
    """A Runtime for connection settings only (the server process owns the database)."""
    from server.config import Config
    from server.runtime import Runtime

    rt = Runtime(Config.load(data_dir))
    rt.mariadb = rt.managed_instance()
    return rt


def _admin_conn(data_dir: Path) -> Any:
    return conn_factory(_reopen(data_dir))()


# -- output --------------------------------------------------------------------------------
def table(r: dict[str, Any]) -> str:
    T = r["targets"]
    lines = []
    add = lines.append
    m = r.get("machine", {})
    d = r.get("data", {})
    add(f"lanpos bench ({r['mode']}) {r['date'][:19]}Z — {m.get('nproc')} cores, "
        f"{m.get('ram_gb')} GB RAM, MariaDB {m.get('mariadb')}, buffer pool "
        f"{m.get('innodb_buffer_pool_mb')} MB")
    add(f"data: {d.get('members', 0):,} members, {d.get('sales', 0):,} sales, "
        f"{d.get('sale_lines', 0):,} sale lines")
    g = r.get("generate", {})
    if g:
        add(f"generate+load: {g['total_rows']:,} rows in {g['seconds']:.1f} s = "
            f"{g['rows_per_second']:,.0f} rows/s (Python {g['python_seconds']:.1f} s)")
    add("")
    add(f"{'scenario':44s} {'n':>7s} {'/s':>7s} {'p50':>7s} {'p95':>7s} {'p99':>7s}  "
        f"{'srv p50':>7s} {'srv p99':>7s}  target")
    for kind, s in r.get("search", {}).items():
        ok = "OK" if s["server_p99"] < T["search_server_p99_ms"] else "MISSED"
        add(f"{'search ' + kind:44s} {s['n']:7d} {'':>7s} {_f(s['http_p50'])} "
            f"{'':>7s} {_f(s['http_p99']):>7s}  {_f(s['server_p50']):>7s} "
            f"{_f(s['server_p99']):>7s}  srv p99<{T['search_server_p99_ms']} {ok}")
    titles = {"paced": "shop pace", "checkout": "flat out", "realistic": "mix",
              "floor": "floor"}
    for name in ("paced", "checkout", "realistic", "floor"):
        x = r.get(name)
        if not x:
            continue
        for op, s in x["ops"].items():
            tgt = ""
            if name == "paced" and op == "sale":
                tgt = f"p99<{T['checkout_p99_ms']} " + (
                    "OK" if s["p99"] < T["checkout_p99_ms"] else "MISSED")
            elif name == "checkout" and op == "checkout":
                tgt = "capacity (saturated: latency = queue)"
            add(f"{titles[name] + ' ' + op:44s} {s['count']:7d} {s['per_second']:7.1f} "
                f"{_f(s['p50']):>7s} {_f(s['p95']):>7s} {_f(s['p99']):>7s}  "
                f"{_f(s['server_p50']):>7s} {_f(s['server_p99']):>7s}  {tgt}")
        add(f"{titles[name] + ' errors':44s} {x['error_count']:7d}" + (
            "  " + "; ".join(x["errors"][:2]) if x["errors"] else ""))
    if r.get("api_floor_ratio") is not None:
        ratio = r["api_floor_ratio"]
        add(f"{'API / floor checkout throughput':44s} {ratio:7.2f}  target >= "
            f"{T['api_floor_ratio']} {'OK' if ratio >= T['api_floor_ratio'] else 'MISSED'}")
    for key, s in r.get("reports", {}).items():
        ok = "OK" if s["cold_ms"] < T["report_ms"] else "MISSED"
        add(f"{'report ' + key:44s} {s['sales']:7d} {'':>7s} cold {_f(s['cold_ms']):>7s} "
            f"warm {_f(s['warm_ms']):>7s}  <{T['report_ms']} {ok}")
    b = r.get("backup")
    if b:
        add(f"{'backup ours (gzip -' + str(b['compress_level']) + ')':44s} "
            f"{b['ours_backup_s']:7.1f} s {b['ours_size_mb']:8.1f} MB")
        add(f"{'backup plain mariadb-dump | gzip':44s} {b['plain_backup_s']:7.1f} s "
            f"{b['plain_size_mb']:8.1f} MB  ours "
            f"{'OK' if b['ours_backup_s'] <= b['plain_backup_s'] else 'SLOWER'}")
        add(f"{'restore ours':44s} {b['ours_restore_s']:7.1f} s")
        add(f"{'restore plain zcat | mariadb':44s} {b['plain_restore_s']:7.1f} s  ours "
            f"{'OK' if b['ours_restore_s'] <= b['plain_restore_s'] else 'SLOWER'}")
    add(f"total {r.get('total_seconds', 0):.0f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "failover":  # python -m bench failover --runs 20 (bench/failover.py)
        from .failover import main as failover_main

        return failover_main(args[1:])
    if args and args[0] == "offline":  # python -m bench offline (bench/offline.py)
        from .offline import main as offline_main

        return offline_main(args[1:])
    if args and args[0] == "tls":  # python -m bench tls (bench/tls.py)
        from .tls import main as tls_main

        return tls_main(args[1:])
    if args and args[0] == "seeding":  # python -m bench seeding (bench/seeding.py)
        from .seeding import main as seeding_main

        return seeding_main(args[1:])
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=sorted(SIZES))
    p.add_argument("--data-dir", type=Path, help="use (and keep) this lanpos data dir")
    p.add_argument("--keep", action="store_true", help="keep the generated data dir")
    p.add_argument("--regenerate", action="store_true")
    p.add_argument("--scale", type=float, default=1.0, help="members and lines × this")
    p.add_argument("--seconds", type=float, help="load duration per scenario")
    p.add_argument("--skip", default="", help="comma-separated scenarios to leave out: "
                   + ", ".join(SCENARIOS))
    a = p.parse_args(argv)
    skip = frozenset(x.strip() for x in a.skip.split(",") if x.strip())
    if skip - set(SCENARIOS):
        p.error(f"unknown scenario(s): {', '.join(sorted(skip - set(SCENARIOS)))}")
    r = run(a.mode, a.data_dir, a.keep, a.regenerate, a.scale, a.seconds, skip)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{a.mode}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    out.write_text(json.dumps(r, indent=1, default=str, ensure_ascii=False))
    print()
    print(table(r))
    print(f"\nresult: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
