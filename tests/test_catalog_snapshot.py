"""``GET /catalog/snapshot``: the catalogue a counter keeps to sell offline — full, and
incremental by version (price change, deactivation, new barcode, level price, import)."""

from __future__ import annotations

import base64
import threading

import requests


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


def _patch(client, who, path, body):
    r = client.patch(path, json=body, headers=who.write_headers())
    assert r.status_code == 200, (path, r.get_json())
    return r.get_json()


def _snap(client, who, since=None):
    url = "/api/v1/catalog/snapshot" + ("" if since is None else f"?since={since}")
    r = client.get(url, headers=who.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _by_id(snap):
    return {p["id"]: p for p in snap["products"]}


def test_full_snapshot_has_what_offline_pricing_needs(client, manager, cashier):
    cat = _post(client, manager, "/api/v1/categories", {"name": "饮料"})
    cola = _post(client, manager, "/api/v1/products", {
        "name": "可口可乐", "sku": "KL330", "price": 350, "member_price": 300,
        "category_id": cat["id"], "barcodes": ["6901234567892"], "favourite": True})
    cut = _post(client, manager, "/api/v1/products", {
        "name": "精剪", "kind": "service", "price": 3000, "open_price": True})
    gold = _post(client, manager, "/api/v1/levels", {"name": "金卡", "rank": 2,
                                                     "discount_bp": 9000})
    r = client.put(f"/api/v1/levels/{gold['id']}/prices",
                   json={"prices": [{"product_id": cola["id"], "price": 280}]},
                   headers=manager.write_headers())
    assert r.status_code == 200, r.get_json()

    snap = _snap(client, cashier)  # every staff member may read it
    assert snap["full"] is True and snap["version"] >= 1
    got = _by_id(snap)
    assert set(got) == {cola["id"], cut["id"]}
    c = got[cola["id"]]
    assert (c["barcodes"], c["sku"], c["member_price"], c["favourite"], c["active"]) == (
        ["6901234567892"], "KL330", 300, True, True)
    assert c["level_prices"] == {str(gold["id"]): 280}
    assert got[cut["id"]]["open_price"] is True and got[cut["id"]]["level_prices"] == {}
    assert [x["name"] for x in snap["categories"]] == ["饮料"]
    assert [(lv["name"], lv["discount_bp"]) for lv in snap["levels"]] == [("金卡", 9000)]
    assert snap["membership"]["points_per_yuan_redeem"] >= 1
    assert snap["shop"]["max_rounding"] == "none" and "timezone" in snap["shop"]


def test_incremental_snapshot_carries_each_kind_of_change(client, manager, cashier):
    cola = _post(client, manager, "/api/v1/products", {"name": "可乐", "price": 350,
                                                       "barcodes": ["111"]})
    tea = _post(client, manager, "/api/v1/products", {"name": "绿茶", "price": 300})
    water = _post(client, manager, "/api/v1/products", {"name": "矿泉水", "price": 200})
    gold = _post(client, manager, "/api/v1/levels", {"name": "金卡", "rank": 1})
    v0 = _snap(client, cashier)["version"]

    # nothing changed: an empty increment at the same version
    same = _snap(client, cashier, since=v0)
    assert (same["full"], same["version"], same["products"]) == (False, v0, [])

    _patch(client, manager, f"/api/v1/products/{cola['id']}", {"price": 400})
    s1 = _snap(client, cashier, since=v0)
    assert s1["full"] is False and s1["version"] > v0
    assert [(p["id"], p["price"]) for p in s1["products"]] == [(cola["id"], 400)]

    _patch(client, manager, f"/api/v1/products/{tea['id']}", {"active": False})
    s2 = _snap(client, cashier, since=s1["version"])
    assert [(p["id"], p["active"]) for p in s2["products"]] == [(tea["id"], False)]
    assert s2["version"] > s1["version"]

    _patch(client, manager, f"/api/v1/products/{water['id']}", {"barcodes": ["222", "333"]})
    s3 = _snap(client, cashier, since=s2["version"])
    assert [(p["id"], p["barcodes"]) for p in s3["products"]] == [(water["id"], ["222", "333"])]

    r = client.put(f"/api/v1/levels/{gold['id']}/prices",
                   json={"prices": [{"product_id": cola["id"], "price": 320}]},
                   headers=manager.write_headers())
    assert r.status_code == 200
    s4 = _snap(client, cashier, since=s3["version"])
    assert [(p["id"], p["level_prices"]) for p in s4["products"]] == [
        (cola["id"], {str(gold["id"]): 320})]
    # setting the same level prices again changes nothing a counter must learn
    r = client.put(f"/api/v1/levels/{gold['id']}/prices",
                   json={"prices": [{"product_id": cola["id"], "price": 320}]},
                   headers=manager.write_headers())
    assert r.status_code == 200
    assert _snap(client, cashier, since=s4["version"])["products"] == []

    # an older version gets every change after it, each product once, in id order
    since_v0 = _snap(client, cashier, since=v0)
    assert [p["id"] for p in since_v0["products"]] == sorted([cola["id"], tea["id"],
                                                               water["id"]])
    assert since_v0["version"] == s4["version"]

    # a new product and an import are changes too
    csv = "名称,售价,条码\n可乐,4.50,111\n雪碧,3.50,444\n".encode()
    r = client.post("/api/v1/products/import", json={
        "filename": "p.csv", "content_base64": base64.b64encode(csv).decode(),
        "dry_run": False}, headers=manager.write_headers())
    assert r.status_code == 200, r.get_json()
    s5 = _snap(client, cashier, since=s4["version"])
    names = {p["name"]: p["price"] for p in s5["products"]}
    assert names == {"可乐": 450, "雪碧": 350}
    assert s5["version"] > s4["version"]


def test_a_version_the_server_cannot_diff_gets_a_full_answer(client, manager, cashier):
    p = _post(client, manager, "/api/v1/products", {"name": "可乐", "price": 350})
    v = _snap(client, cashier)["version"]
    for since in (0, v + 1000):  # nothing yet / from another (or a restored) server
        s = _snap(client, cashier, since=since)
        assert s["full"] is True and [x["id"] for x in s["products"]] == [p["id"]]
        assert s["version"] == v
    r = client.get("/api/v1/catalog/snapshot?since=-1", headers=cashier.headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"
    assert client.get("/api/v1/catalog/snapshot").status_code == 401


def test_concurrent_catalogue_writes_get_distinct_growing_versions(live_server, manager,
                                                                  cashier):
    """Ten managers' edits at once: each change gets its own version, and a counter that
    syncs by version while they run misses none of them."""
    base = live_server.url
    made = [requests.post(base + "/products", json={"name": f"商品{i}", "price": 100 + i},
                          headers=manager.write_headers(), timeout=30).json()
            for i in range(10)]
    start = requests.get(base + "/catalog/snapshot", headers=cashier.headers,
                         timeout=30).json()["version"]
    seen: dict[int, int] = {}
    versions = [start]
    stop = threading.Event()

    def sync() -> None:
        while not stop.is_set():
            s = requests.get(base + f"/catalog/snapshot?since={versions[-1]}",
                             headers=cashier.headers, timeout=30).json()
            assert s["version"] >= versions[-1]
            for p in s["products"]:
                seen[p["id"]] = p["price"]
            versions.append(s["version"])

    def edit(p) -> int:
        r = requests.patch(base + f"/products/{p['id']}", json={"price": p["price"] + 1000},
                           headers=manager.write_headers(), timeout=30)
        assert r.status_code == 200, r.text
        return r.status_code

    t = threading.Thread(target=sync)
    t.start()
    threads = [threading.Thread(target=edit, args=(p,)) for p in made]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stop.set()
    t.join()
    final = requests.get(base + f"/catalog/snapshot?since={versions[-1]}",
                         headers=cashier.headers, timeout=30).json()
    for p in final["products"]:
        seen[p["id"]] = p["price"]
    assert seen == {p["id"]: p["price"] + 1000 for p in made}
    assert final["version"] == start + 10  # one version per edit
    assert versions == sorted(versions)
