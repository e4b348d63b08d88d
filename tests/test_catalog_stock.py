"""Catalog (products, services, barcodes, search, import/export) and stock ledger."""

from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor

import requests
from openpyxl import Workbook
from sqlalchemy import func, select, text

from server.db.catalog import Product, StockLedger
from server.domain.verify import run_all


def _product(client, who, **kw):
    body = {
        "name": "可口可乐 500ml",
        "price": 350,
        "barcodes": ["6901234567892"],
        "track_stock": True,
        "opening_stock": 24,
        **kw,
    }
    r = client.post("/api/v1/products", json=body, headers=who.write_headers())
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_create_product_with_opening_stock_goes_through_the_ledger(
    assert_invariants, client, manager, db_session
):
    cat = client.post(
        "/api/v1/categories", json={"name": "饮料"}, headers=manager.write_headers()
    ).get_json()
    p = _product(client, manager, category_id=cat["id"], member_price=300)
    assert p["pinyin"] == "kkkl500ml"
    assert p["stock"] == 24
    assert p["barcodes"] == ["6901234567892"]
    rows = db_session.scalars(select(StockLedger).where(StockLedger.product_id == p["id"])).all()
    assert [(r.kind, r.change, r.balance_after) for r in rows] == [("opening", 24, 24)]
    assert_invariants()


def test_cashier_reads_but_cannot_change_the_catalog(client, manager, cashier):
    p = _product(client, manager)
    assert client.get(f"/api/v1/products/{p['id']}", headers=cashier.headers).status_code == 200
    r = client.post(
        "/api/v1/products", json={"name": "x", "price": 1}, headers=cashier.write_headers()
    )
    assert r.status_code == 403
    r = client.patch(
        f"/api/v1/products/{p['id']}", json={"price": 1}, headers=cashier.write_headers()
    )
    assert r.status_code == 403


def test_search_by_barcode_pinyin_and_name_exact_first(client, manager, cashier):
    _product(client, manager, name="可乐", barcodes=["111"], opening_stock=0)
    _product(client, manager, name="可口可乐 500ml", barcodes=["222"], opening_stock=0)
    _product(client, manager, name="百事可乐", barcodes=["333"], opening_stock=0)
    _product(client, manager, name="洗发水", barcodes=["444"], kind="product", opening_stock=0)

    def names(q):
        r = client.get("/api/v1/products", query_string={"q": q}, headers=cashier.headers)
        assert r.status_code == 200
        return [p["name"] for p in r.get_json()["items"]]

    assert names("333") == ["百事可乐"]
    assert names("可乐")[0] == "可乐"  # exact name first
    assert set(names("可乐")) == {"可乐", "可口可乐 500ml", "百事可乐"}
    assert names("kkkl") == ["可口可乐 500ml"]
    assert names("xfs") == ["洗发水"]
    assert names("不存在") == []
    r = client.get("/api/v1/products/barcode/222", headers=cashier.headers)
    assert r.get_json()["name"] == "可口可乐 500ml"
    r = client.get("/api/v1/products/barcode/999", headers=cashier.headers)
    assert r.status_code == 404
    assert "999" in r.get_json()["error"]["message"]


def test_products_page_on_the_server(client, manager, cashier, db_session):
    db_session.execute(
        text(
            "INSERT INTO products (kind, name, pinyin, unit, price, open_price, discountable, "
            "track_stock, stock, commission_kind, commission_value, active, created_at, "
            "updated_at) "
            "SELECT 'product', CONCAT('商品', seq), 'sp', '件', 100, 0, 1, 0, 0, 'none', 0, 1, "
            "NOW(), NOW() FROM seq_1_to_120"
        )
    )
    db_session.commit()
    r = client.get("/api/v1/products?page_size=50&page=3", headers=cashier.headers)
    body = r.get_json()
    assert len(body["items"]) == 20 and body["has_more"] is False
    r = client.get("/api/v1/products?page_size=50&page=2", headers=cashier.headers)
    assert r.get_json()["has_more"] is True


def test_barcode_must_be_unique_and_service_has_no_stock(client, manager):
    _product(client, manager, barcodes=["555"])
    r = client.post(
        "/api/v1/products",
        json={"name": "另一个", "price": 1, "barcodes": ["555"]},
        headers=manager.write_headers(),
    )
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "barcode_taken"
    r = client.post(
        "/api/v1/products",
        json={"name": "剪发", "price": 3000, "kind": "service", "track_stock": True},
        headers=manager.write_headers(),
    )
    assert r.status_code == 400
    assert "库存" in str(r.get_json()["error"]["fields"])
    r = client.post(
        "/api/v1/products", json={"name": "负价", "price": -1}, headers=manager.write_headers()
    )
    assert r.status_code == 400
    r = client.post(
        "/api/v1/products", json={"name": "小数价", "price": 3.5}, headers=manager.write_headers()
    )
    assert r.status_code == 400


def test_purchase_adjust_and_count(assert_invariants, client, manager, db_session):
    p = _product(client, manager, opening_stock=5, cost=200)
    r = client.post(
        "/api/v1/stock/purchases",
        headers=manager.write_headers(),
        json={
            "supplier": "华润批发",
            "lines": [{"product_id": p["id"], "qty": 10, "unit_cost": 210}],
        },
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["total_cost"] == 2100
    r = client.post(
        "/api/v1/stock/adjustments",
        headers=manager.write_headers(),
        json={"product_id": p["id"], "change": -2, "reason": "破损"},
    )
    assert r.status_code == 201
    assert r.get_json()["balance_after"] == 13
    r = client.post(
        "/api/v1/stock/adjustments",
        headers=manager.write_headers(),
        json={"product_id": p["id"], "change": -100, "reason": "错误"},
    )
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "insufficient_stock"
    # count: dry run reports, changes nothing
    body = {"lines": [{"product_id": p["id"], "counted": 11}], "dry_run": True}
    r = client.post("/api/v1/stock/counts", headers=manager.write_headers(), json=body)
    rep = r.get_json()
    assert rep["id"] is None and rep["lines"][0]["difference"] == -2
    assert rep["total_cost_difference"] == -2 * 210
    assert (
        client.get(f"/api/v1/products/{p['id']}", headers=manager.headers).get_json()["stock"] == 13
    )
    body["dry_run"] = False
    r = client.post("/api/v1/stock/counts", headers=manager.write_headers(), json=body)
    assert r.status_code == 201 and r.get_json()["id"]
    led = client.get(f"/api/v1/stock/ledger/{p['id']}", headers=manager.headers).get_json()
    assert [(e["kind"], e["change"], e["balance_after"]) for e in led["items"]] == [
        ("count", -2, 11),
        ("adjust", -2, 13),
        ("purchase", 10, 15),
        ("opening", 5, 5),
    ]
    assert_invariants()


def test_verify_detects_a_tampered_stock_cache(client, owner, manager, db_session):
    p = _product(client, manager)
    db_session.execute(text("UPDATE products SET stock = stock + 1 WHERE id = :i"), {"i": p["id"]})
    db_session.commit()
    bad = [r for r in run_all(db_session) if not r.ok]
    assert [r.name for r in bad] == ["stock: cached stock = stock ledger"]
    assert "stock 25 != ledger sum 24" in bad[0].problems[0]


def test_concurrent_adjustments_never_lose_an_update(
    assert_invariants, live_server, manager, db_session
):
    """20 requests each take one unit of the last 10 through the real HTTP server."""
    p = requests.post(
        live_server.url + "/products",
        headers=manager.write_headers(),
        json={"name": "限量款", "price": 9900, "track_stock": True, "opening_stock": 10},
        timeout=10,
    ).json()

    def take(_):
        return requests.post(
            live_server.url + "/stock/adjustments",
            headers=manager.write_headers(),
            json={"product_id": p["id"], "change": -1, "reason": "出样"},
            timeout=30,
        )

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(take, range(20)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] * 10 + [409] * 10
    db_session.rollback()
    prod = db_session.get(Product, p["id"])
    assert prod.stock == 0
    total = db_session.scalar(
        select(func.sum(StockLedger.change)).where(StockLedger.product_id == p["id"])
    )
    assert total == 0
    assert_invariants()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_import_dry_run_reports_rows_and_real_import_is_all_or_nothing(client, manager, db_session):
    csv_text = (
        "条码,名称,售价,会员价,分类,库存\n"
        "690001,农夫山泉,2.00,1.80,饮料,48\n"
        "690002,,3.00,,饮料,\n"  # row 3: no name
        "690003,雪碧,abc,,饮料,\n"  # row 4: bad price
        "690001,重复条码,1,,饮料,\n"
    )  # row 5: duplicate barcode
    body = {
        "filename": "goods.csv",
        "content_base64": _b64(csv_text.encode("gbk")),
        "dry_run": True,
    }
    r = client.post("/api/v1/products/import", json=body, headers=manager.write_headers())
    assert r.status_code == 200, r.get_json()
    rep = r.get_json()
    assert [e["row"] for e in rep["errors"]] == [3, 4, 5]
    assert "金额" in rep["errors"][1]["message"]
    body["dry_run"] = False
    r = client.post("/api/v1/products/import", json=body, headers=manager.write_headers())
    assert r.status_code == 422
    assert db_session.scalar(select(func.count()).select_from(Product)) == 0


def test_import_xlsx_twice_does_not_duplicate_and_export_roundtrips(
    assert_invariants, client, manager, db_session
):
    wb = Workbook()
    ws = wb.active
    ws.append(["barcode", "name", "price", "cost", "category", "stock"])
    ws.append(["690101", "洗洁精", "12.5", "8", "日化", 10])
    ws.append(["690102", "牙膏", "9.9", "", "日化", None])
    buf = io.BytesIO()
    wb.save(buf)
    body = {"filename": "goods.xlsx", "content_base64": _b64(buf.getvalue()), "dry_run": False}
    r = client.post("/api/v1/products/import", json=body, headers=manager.write_headers())
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["created"], r.get_json()["updated"]) == (2, 0)
    r = client.post("/api/v1/products/import", json=body, headers=manager.write_headers())
    assert (r.get_json()["created"], r.get_json()["updated"]) == (0, 2)
    assert db_session.scalar(select(func.count()).select_from(Product)) == 2
    p = db_session.scalar(select(Product).where(Product.name == "洗洁精"))
    assert (p.price, p.cost, p.stock, p.track_stock) == (1250, 800, 10, True)
    r = client.get("/api/v1/products/export?format=csv", headers=manager.headers)
    data = base64.b64decode(r.get_json()["content_base64"]).decode("utf-8-sig")
    assert "洗洁精" in data and "12.50" in data and "690101" in data
    # the export imports back cleanly as a no-op update
    body = {"filename": "export.csv", "content_base64": _b64(data.encode()), "dry_run": True}
    rep = client.post(
        "/api/v1/products/import", json=body, headers=manager.write_headers()
    ).get_json()
    assert rep["errors"] == [] and rep["updated"] == 2
    assert_invariants()
