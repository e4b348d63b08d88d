"""``python -m bench failover --runs 20`` — pull the primary's plug while counters sell.

Each run: a fresh primary + standby pair (real ``lanpos-server run`` processes, own managed
MariaDB each), 20 counters ringing sales through both (same key until acknowledged, to the next
server when one refuses or is gone), kill -9 of the primary's lanpos and mariadbd, the owner's
promotion (``POST /replication/promote``), and then: every sale acknowledged with 2xx must be on
the new primary exactly once, ``lanpos-server verify`` must pass there, and the time from the
owner's confirmation to the first sale acknowledged by the new primary is recorded (target
< 15 s). Before the first run: checkout latency on the primary alone, then with the standby
attached (semi-sync AFTER_SYNC) — the cost of losing nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from .env import ServerProcess, machine_info, open_shift
from .load import percentile
from .pair import OWNER_PW, Pair, cli, finish, init_primary, kill_hard, login, ring, sale_counts

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_RESUME_S = 15.0
TARGET_SEMI_SYNC_P50_MS = 5.0


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _sales_latency(url: str, token: str, product: int, n: int) -> list[float]:
    http = requests.Session()
    out = []
    for _ in range(n):
        sid = str(uuid.uuid4())
        t0 = time.perf_counter()
        r = http.post(url + "/sales", json={
            "id": sid, "lines": [{"product_id": product, "qty": 1}],
            "payments": [{"method": "cash", "amount": 300}]},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": sid}, timeout=15)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 201, r.text
    return out


def semi_sync_cost(root: Path, n: int) -> dict[str, Any]:
    """Checkout latency, one counter, on the same primary: alone, then with a standby."""
    pair = Pair(root)
    init_primary(pair.p_dir)
    pair.primary = ServerProcess(pair.p_dir, threads=8, workers=2).start()
    pair.token = login(pair.primary.url)
    open_shift(pair.primary.url, pair.token)
    try:
        product = pair.product()
        _sales_latency(pair.primary.url, pair.token, product, 30)  # warm up
        alone = _sales_latency(pair.primary.url, pair.token, product, n)
        s_port = pair.primary.port + 1
        t0 = time.monotonic()
        r = cli("standby", "init", "--primary", pair.primary.url, "--data-dir", str(pair.s_dir),
                "--port", str(s_port), "--username", "owner", "--password", OWNER_PW,
                "--advertise", f"http://127.0.0.1:{s_port}")
        assert r.returncode == 0, r.stdout + r.stderr
        seed_s = time.monotonic() - t0
        pair.standby = ServerProcess(pair.s_dir, port=s_port, threads=8, workers=2).start()
        for _ in range(100):  # semi-sync switches on with the first sale the standby acks
            _sales_latency(pair.primary.url, pair.token, product, 1)
            if pair.health(pair.primary)["replication"]["semi_sync"] == "on":
                break
            time.sleep(0.2)
        _sales_latency(pair.primary.url, pair.token, product, 30)
        attached = _sales_latency(pair.primary.url, pair.token, product, n)
        h = pair.health(pair.primary)
        assert h["replication"]["semi_sync"] == "on", h["replication"]
    finally:
        pair.stop()
    res = {"n": n, "alone_p50": statistics.median(alone), "alone_p99": percentile(alone, 99),
           "attached_p50": statistics.median(attached),
           "attached_p99": percentile(attached, 99), "pair_seed_seconds": round(seed_s, 2)}
    res["cost_p50"] = res["attached_p50"] - res["alone_p50"]
    return res


def one_run(root: Path, counters: int, sell_seconds: float) -> dict[str, Any]:
    pair = Pair(root).start()
    try:
        product = pair.product()
        stop, cs = ring([pair.primary.url, pair.standby.url], pair.token, product, counters)
        try:
            time.sleep(sell_seconds)
            kill_hard(pair.primary)
            killed = time.monotonic()
            time.sleep(0.5)  # the owner notices, opens the back office, confirms
            confirmed = time.monotonic()
            r = pair.promote()
            promoted = time.monotonic()
            ok = r.status_code == 200
            time.sleep(3.0)
        finally:
            acked, errors = finish(stop, cs)
        resumed = min((t for c in cs for t in c.acked_at if t > confirmed), default=None)
        counts = sale_counts(pair.s_dir)
        lost = sum(1 for s in acked if counts.get(s, 0) == 0)
        doubled = sum(1 for s in acked if counts.get(s, 0) > 1)
        v = cli("verify", "--data-dir", str(pair.s_dir))
        return {"promoted": ok, "promote_error": None if ok else r.text[:300],
                "acknowledged": len(acked), "lost": lost, "doubled": doubled,
                "errors": errors[:3], "verify_ok": v.returncode == 0,
                "promote_seconds": round(promoted - confirmed, 3),
                "resume_seconds": round(resumed - confirmed, 3) if resumed else None,
                "kill_to_confirm_seconds": round(confirmed - killed, 3)}
    finally:
        pair.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench failover", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--counters", type=int, default=20)
    p.add_argument("--sell-seconds", type=float, default=3.0)
    p.add_argument("--latency-sales", type=int, default=300)
    a = p.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="lanpos-failover-"))
    t0 = time.monotonic()
    result: dict[str, Any] = {"machine": machine_info(), "runs": []}
    try:
        log("semi-sync cost: one counter, the primary alone, then with the standby")
        result["semi_sync"] = s = semi_sync_cost(base / "cost", a.latency_sales)
        log(f"  alone p50 {s['alone_p50']:.1f} p99 {s['alone_p99']:.1f} ms; with standby p50 "
            f"{s['attached_p50']:.1f} p99 {s['attached_p99']:.1f} ms (+{s['cost_p50']:.1f})")
        for i in range(a.runs):
            root = base / f"run{i}"
            res = one_run(root, a.counters, a.sell_seconds)
            result["runs"].append(res)
            log(f"run {i + 1}/{a.runs}: {res['acknowledged']} acknowledged, lost "
                f"{res['lost']}, doubled {res['doubled']}, verify "
                f"{'ok' if res['verify_ok'] else 'FAILED'}, promote {res['promote_seconds']}s, "
                f"selling again {res['resume_seconds']}s after the confirmation"
                + (f" ERRORS {res['errors']}" if res["errors"] else "")
                + ("" if res["promoted"] else f" PROMOTE FAILED {res['promote_error']}"))
            shutil.rmtree(root, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    runs = result["runs"]
    clean = [r for r in runs if r["promoted"] and not r["lost"] and not r["doubled"]
             and r["verify_ok"] and not r["errors"]]
    resume = [r["resume_seconds"] for r in runs if r["resume_seconds"] is not None]
    result["summary"] = {
        "runs": len(runs), "clean_runs": len(clean),
        "acknowledged_total": sum(r["acknowledged"] for r in runs),
        "lost_total": sum(r["lost"] for r in runs),
        "doubled_total": sum(r["doubled"] for r in runs),
        "resume_max_s": max(resume) if resume else None,
        "resume_median_s": statistics.median(resume) if resume else None,
        "total_seconds": round(time.monotonic() - t0, 1)}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"failover-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    out.write_text(json.dumps(result, indent=1, default=str, ensure_ascii=False))
    sm, s = result["summary"], result["semi_sync"]
    print()
    print(f"failover: {sm['clean_runs']} of {sm['runs']} runs with 0 acknowledged sales lost "
          f"or doubled ({sm['acknowledged_total']} acknowledged; lost {sm['lost_total']}, "
          f"doubled {sm['doubled_total']})")
    met = sm["resume_max_s"] is not None and sm["resume_max_s"] < TARGET_RESUME_S
    print(f"selling again after the owner's confirmation: median {sm['resume_median_s']} s, "
          f"max {sm['resume_max_s']} s (target < {TARGET_RESUME_S:.0f} s "
          f"{'OK' if met else 'MISSED'})")
    print(f"checkout, one counter: alone p50 {s['alone_p50']:.1f} / p99 {s['alone_p99']:.1f} ms;"
          f" with the standby p50 {s['attached_p50']:.1f} / p99 {s['attached_p99']:.1f} ms: "
          f"semi-sync +{s['cost_p50']:.1f} ms p50 (target <= +{TARGET_SEMI_SYNC_P50_MS:.0f} "
          f"{'OK' if s['cost_p50'] <= TARGET_SEMI_SYNC_P50_MS else 'MISSED'})")
    print(f"result: {out}")
    return 0 if len(clean) == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
