"""``python -m bench offline`` — the counter offline (issue 15): scan → look-up in the local
catalogue at 10,000 products (target p99 < 20 ms) and replay of 1,000 journaled sales to a
real server (target ≥ 20 sales/s, exactly 1,000 on the server afterwards).

lookup: a full snapshot of ``--products`` products (each with a barcode and a SKU) applied to
a fresh :class:`client.offline.catalogue.LocalCatalogue`; then ``--scans`` random barcodes
resolved with ``by_code`` (what a scan does) and a few hundred ``search`` queries (name part,
pinyin initials). replay: a new data directory (``lanpos-server init``: its managed MariaDB),
a real ``lanpos-server run``, ``--sales`` sales journaled with
:class:`client.offline.journal.Journal` (each committed with ``synchronous=FULL``: the
journal's own rate is measured too), then :func:`client.offline.replay.replay` through
:class:`client.api.ApiClient`; the offline sales on the server are counted.
``--skip replay`` measures the look-up only (no server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from .env import ServerProcess, machine_info, open_shift
from .load import percentile
from .pair import OWNER_PW, init_primary, login

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"lookup_p99_ms": 20.0, "replay_sales_per_s": 20.0}
WORDS = ["可乐", "雪碧", "矿泉水", "毛巾", "牙刷", "洗发水", "面包", "饼干", "薯片", "酸奶",
         "洗剪吹", "护发", "染发", "烫发", "按摩", "精油", "香皂", "纸巾", "电池", "口香糖"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _products(n: int, seed: int = 15) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    now = dt.datetime.now(dt.UTC).isoformat()
    out = []
    for i in range(1, n + 1):
        name = f"{rnd.choice(WORDS)}{rnd.choice(WORDS)} {i}号"
        out.append({"id": i, "kind": "product", "sku": f"SKU{i:06d}", "name": name,
                    "pinyin": "", "unit": "件", "category_id": None,
                    "price": rnd.randrange(100, 50_000), "member_price": None, "cost": None,
                    "open_price": False, "discountable": True, "track_stock": False,
                    "stock": 0, "low_stock": None, "commission_kind": "none",
                    "commission_value": 0, "barcodes": [f"69{i:011d}"], "active": True,
                    "updated_at": now, "favourite": i <= 24, "favourite_order": i,
                    "level_prices": {}})
    return out


def scenario_lookup(scratch: Path, n_products: int, n_scans: int) -> dict[str, Any]:
    from client.offline.catalogue import LocalCatalogue

    products = _products(n_products)
    snap = {"version": 1, "full": True, "products": products, "categories": [],
            "levels": [], "membership": {}, "shop": {"name": "bench"}}
    cat = LocalCatalogue(scratch / "catalogue.sqlite3")
    t0 = time.perf_counter()
    cat.apply(snap)
    apply_s = time.perf_counter() - t0
    rnd = random.Random(3)
    codes = [rnd.choice(products)["barcodes"][0] for _ in range(n_scans)]
    for c in codes[:50]:  # warm the page cache as a running counter has it
        cat.by_code(c)
    scan_ms = []
    for c in codes:
        t = time.perf_counter()
        p = cat.by_code(c)
        scan_ms.append((time.perf_counter() - t) * 1000)
        assert p is not None and p.barcodes[0] == c
    queries = [rnd.choice(WORDS) for _ in range(200)] + ["kl", "xjc", "mj", "ys"] * 25
    search_ms = []
    for q in queries:
        t = time.perf_counter()
        cat.search(q, limit=30)
        search_ms.append((time.perf_counter() - t) * 1000)
    cat.close()
    return {"products": n_products, "apply_full_s": round(apply_s, 2), "scans": n_scans,
            "scan_p50_ms": round(percentile(scan_ms, 50), 3),
            "scan_p99_ms": round(percentile(scan_ms, 99), 3),
            "scan_max_ms": round(max(scan_ms), 3),
            "search_p50_ms": round(percentile(search_ms, 50), 2),
            "search_p99_ms": round(percentile(search_ms, 99), 2)}


def _offline_on_server(url: str, token: str) -> int:
    n, page = 0, 1
    while True:
        r = requests.get(url + "/sales", params={"origin": "offline", "page": page,
                                                 "page_size": 200},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
        r.raise_for_status()
        data = r.json()
        n += len(data["items"])
        if not data["has_more"]:
            return n
        page += 1


def scenario_replay(scratch: Path, n_sales: int) -> dict[str, Any]:
    from client.api import ApiClient
    from client.offline.journal import Journal, JournalEntry
    from client.offline.replay import replay
    from common.schemas.sales import SaleIn

    data = scratch / "server"
    log("replay: lanpos-server init (managed MariaDB)")
    init_primary(data)
    server = ServerProcess(data, threads=8, workers=1).start()
    try:
        token = login(server.url)
        open_shift(server.url, token)
        headers = {"Authorization": f"Bearer {token}"}
        pids = []
        for i, (name, price) in enumerate([("矿泉水", 300), ("毛巾", 1200), ("洗发水", 4500)]):
            r = requests.post(server.url + "/products", json={"name": name, "price": price},
                              headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                              timeout=15)
            r.raise_for_status()
            pids.append((r.json()["id"], price, i))
        journal = Journal(scratch / "journal.sqlite3")
        t0 = time.perf_counter()
        start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        for k in range(n_sales):
            lines, amounts = [], []
            for pid, price, i in pids[: 1 + k % 3]:
                qty = 1 + (k + i) % 3
                lines.append({"product_id": pid, "qty": qty})
                amounts.append(price * qty)
            total = sum(amounts)
            sale = SaleIn(id=uuid.uuid4(), lines=lines,
                          payments=[{"method": "cash", "amount": total, "tendered": total}])
            journal.record(JournalEntry(sale=sale, counter="01", cashier="owner",
                                        line_amounts=amounts, total=total,
                                        recorded_at=start + dt.timedelta(seconds=k)))
        journal_s = time.perf_counter() - t0
        api = ApiClient([server.url], counter="01")
        api.login("owner", OWNER_PW)
        t0 = time.perf_counter()
        res = replay(api, journal)
        replay_s = time.perf_counter() - t0
        api.close()
        on_server = _offline_on_server(server.url, token)
        journal.close()
        return {"sales": n_sales, "journal_per_s": round(n_sales / journal_s, 1),
                "replay_s": round(replay_s, 2),
                "replay_sales_per_s": round(res.sent / replay_s, 1) if replay_s else None,
                "sent": res.sent, "remaining": res.remaining, "refused": res.refused,
                "on_server": on_server, "exact": on_server == n_sales == res.sent}
    finally:
        server.stop()  # the supervisor stops its managed MariaDB with it


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench offline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--products", type=int, default=10_000)
    p.add_argument("--scans", type=int, default=5_000)
    p.add_argument("--sales", type=int, default=1_000)
    p.add_argument("--skip", default="", help="lookup and/or replay, comma-separated")
    a = p.parse_args(argv)
    skip = {x.strip() for x in a.skip.split(",") if x.strip()}
    scratch = Path(tempfile.mkdtemp(prefix="lanpos-offline-"))
    result: dict[str, Any] = {"machine": machine_info(), "targets": TARGETS}
    try:
        if "lookup" not in skip:
            log(f"lookup: {a.products} products, {a.scans} scans")
            result["lookup"] = r = scenario_lookup(scratch, a.products, a.scans)
            log(f"  scan p50 {r['scan_p50_ms']} p99 {r['scan_p99_ms']} ms (target < "
                f"{TARGETS['lookup_p99_ms']}); search p99 {r['search_p99_ms']} ms; full "
                f"snapshot applied in {r['apply_full_s']} s")
        if "replay" not in skip:
            log(f"replay: {a.sales} journaled sales")
            result["replay"] = r = scenario_replay(scratch, a.sales)
            log(f"  {r['replay_sales_per_s']} sales/s (target ≥ "
                f"{TARGETS['replay_sales_per_s']}); on the server {r['on_server']} of "
                f"{r['sales']} ({'exact' if r['exact'] else 'NOT EXACT'}); journal "
                f"{r['journal_per_s']} writes/s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"offline-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    out.write_text(json.dumps(result, indent=1, default=str, ensure_ascii=False))
    print(f"\nresult: {out}")
    ok = True
    if "lookup" in result:
        ok &= result["lookup"]["scan_p99_ms"] < TARGETS["lookup_p99_ms"]
    if "replay" in result:
        ok &= bool(result["replay"]["exact"])
        ok &= (result["replay"]["replay_sales_per_s"] or 0) >= TARGETS["replay_sales_per_s"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
