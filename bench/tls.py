"""``python -m bench tls`` — what the TLS front costs a counter (issue 16).

A new data directory (``lanpos-server init``) served by a real ``lanpos-server run`` (its
managed nginx in front); the counter's own :class:`client.api.ApiClient` rings ``--sales``
sales and looks up ``--lookups`` products, once over plain HTTP on 127.0.0.1 (no TLS: only
this machine may) and once over https with the server's CA pinned, as a counter on the LAN
does — each on one kept-alive connection, the counter's way. Also the cost of a *new*
connection (the TLS handshake: ``--handshakes`` fresh clients asking ``/health``).
Both on loopback: the figures are the proxy's and TLS's own cost, not the network's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from client.api import ApiClient
from server.ops.tls import TlsFiles

from .env import ServerProcess, machine_info, open_shift
from .load import percentile
from .pair import init_primary, login

RESULTS = Path(__file__).resolve().parent / "results"


def _ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 50) * 1000, 2),
            "p99_ms": round(percentile(values, 99) * 1000, 2),
            "mean_ms": round(sum(values) / len(values) * 1000, 2)}


def _run_client(url: str, pins: dict[str, str] | None, token: str, product: int, sales: int,
                lookups: int) -> dict[str, Any]:
    api = ApiClient([url], counter="01", pins=pins, max_attempts=1)
    api.token = token
    try:
        api.request("GET", "/health")  # the connection is made (and kept) before timing
        sale_t, look_t = [], []
        for _ in range(lookups):
            t0 = time.perf_counter()
            api.request("GET", "/products", params={"q": "矿泉水"})
            look_t.append(time.perf_counter() - t0)
        for _ in range(sales):
            sid = str(uuid.uuid4())
            t0 = time.perf_counter()
            api.request("POST", "/sales", key=sid, body={
                "id": sid, "lines": [{"product_id": product, "qty": 1}],
                "payments": [{"method": "cash", "amount": 300}]})
            sale_t.append(time.perf_counter() - t0)
        return {"sale": _ms(sale_t), "lookup": _ms(look_t)}
    finally:
        api.close()


def _handshakes(url: str, pins: dict[str, str] | None, n: int) -> dict[str, float]:
    took = []
    for _ in range(n):
        api = ApiClient([url], pins=pins, max_attempts=1)
        t0 = time.perf_counter()
        api.request("GET", "/health")
        took.append(time.perf_counter() - t0)
        api.close()
    return _ms(took)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench tls", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sales", type=int, default=300)
    p.add_argument("--lookups", type=int, default=300)
    p.add_argument("--handshakes", type=int, default=100)
    a = p.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="lanpos-bench-tls-"))
    server = None
    try:
        data = root / "shop"
        init_primary(data)
        server = ServerProcess(data, threads=8, workers=2).start()
        token = login(server.url)
        open_shift(server.url, token)
        import requests

        r = requests.post(server.url + "/products", json={"name": "矿泉水", "price": 300},
                          headers={"Authorization": f"Bearer {token}",
                                   "Idempotency-Key": str(uuid.uuid4())}, timeout=10)
        r.raise_for_status()
        product = r.json()["id"]
        https = server.https_url()
        pins = {https: TlsFiles(data / "tls").ca_pem()}
        out: dict[str, Any] = {"machine": machine_info(), "args": vars(a)}
        for name, url, pin in (("http_loopback", server.url, None), ("https_pinned", https, pins)):
            out[name] = _run_client(url, pin, token, product, a.sales, a.lookups)
            out[name]["new_connection"] = _handshakes(url, pin, a.handshakes)
        for what in ("sale", "lookup", "new_connection"):
            h, t = out["http_loopback"][what], out["https_pinned"][what]
            out.setdefault("tls_cost_ms", {})[what] = {
                k: round(t[k] - h[k], 2) for k in ("p50_ms", "p99_ms")}
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    res = RESULTS / f"tls-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    res.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    for name in ("http_loopback", "https_pinned"):
        row = out[name]
        print(f"{name:<14} sale p50 {row['sale']['p50_ms']:7.2f} p99 {row['sale']['p99_ms']:7.2f}"
              f" | lookup p50 {row['lookup']['p50_ms']:6.2f} p99 {row['lookup']['p99_ms']:6.2f}"
              f" | new connection p50 {row['new_connection']['p50_ms']:6.2f} ms")
    print(f"TLS cost (ms): {out['tls_cost_ms']}\nresult: {res}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
