"""Back office 商品与服务 against the real server: create a product with a barcode through
the dialog, field errors, filters, stock adjustment / purchase / count with the dry-run
report, CSV import with a dry-run preview (bad row → row number and reason, nothing written;
fixed → committed), export through an injected file dialog."""

from __future__ import annotations

from sqlalchemy import func, select

from client.qt import Qt
from server.db.catalog import Product, ProductBarcode, StockLedger
from server.db.models import AuditLog

from .bo_helpers import WAIT, RecordingFiles, dialog_shot, open_window, show
from .conftest import save_shot


def click(qtbot, w) -> None:
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton)


def test_create_product_with_barcode_through_the_dialog(qtbot, services, owner, db_session,
                                                        screenshots) -> None:
    api = services.api
    win = open_window(qtbot, services, "boss")
    api.create_category({"name": "饮料"})
    screen = show(qtbot, win, "products")
    qtbot.wait_until(lambda: screen.category.count() == 2, timeout=WAIT)
    dlg = screen.new()
    qtbot.addWidget(dlg)
    dlg.name.setText("可口可乐 330ml")
    qtbot.keyClicks(dlg.barcodes, "6901234567892, 6901234567893")
    qtbot.keyClicks(dlg.price, "3.5")
    qtbot.keyClicks(dlg.member_price, "3")
    qtbot.keyClicks(dlg.cost, "1.80")
    dlg.category.setCurrentIndex(dlg.category.findText("饮料"))
    dlg.track_stock.setChecked(True)
    qtbot.keyClicks(dlg.opening_stock, "24")
    qtbot.keyClicks(dlg.low_stock, "5")
    dlg.commission_kind.setCurrentIndex(dlg.commission_kind.findData("percent"))
    qtbot.keyClicks(dlg.commission_value, "2.5")
    dialog_shot(dlg, screenshots / "backoffice_product_dialog.png")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT) as blocker:
        click(qtbot, dlg.save_button)
    created = blocker.args[0]
    assert services.dialogs.errors == []
    # found through the server by its barcode, with integer-fen money
    found = api.product_by_barcode("6901234567893")
    assert found.id == created.id and found.name == "可口可乐 330ml"
    assert (found.price, found.member_price, found.cost) == (350, 300, 180)
    assert (found.track_stock, found.stock, found.low_stock) == (True, 24, 5)
    assert (found.commission_kind, found.commission_value) == ("percent", 250)
    row = db_session.get(Product, created.id)
    assert row.price == 350 and row.category_id is not None
    assert sorted(db_session.scalars(select(ProductBarcode.barcode).where(
        ProductBarcode.product_id == created.id))) == ["6901234567892", "6901234567893"]
    qtbot.wait_until(lambda: any(p.id == created.id for p in screen.model.items), timeout=WAIT)
    row_no = next(i for i, p in enumerate(screen.model.items) if p.id == created.id)
    m = screen.model
    assert m.data(m.index(row_no, 4)) == "¥3.50"
    assert m.data(m.index(row_no, 3)) == "饮料"
    for i in range(12):
        api.create_product({"name": f"洗剪吹 {i}", "kind": "service", "price": 3000 + i})
    # the filters are sent to the server: kind, category, low stock
    with qtbot.wait_signal(m.page_loaded, timeout=WAIT):
        screen.kind.setCurrentIndex(screen.kind.findData("product"))
    assert [p.name for p in m.items] == ["可口可乐 330ml"]
    with qtbot.wait_signal(m.page_loaded, timeout=WAIT):
        screen.kind.setCurrentIndex(screen.kind.findData("service"))
    assert m.rowCount() == 10 and m.has_more and {p.kind for p in m.items} == {"service"}
    with qtbot.wait_signal(m.page_loaded, timeout=WAIT):
        screen.kind.setCurrentIndex(0)
    with qtbot.wait_signal(m.page_loaded, timeout=WAIT):
        screen.category.setCurrentIndex(screen.category.findText("饮料"))
    assert [p.name for p in m.items] == ["可口可乐 330ml"]
    with qtbot.wait_signal(m.page_loaded, timeout=WAIT):
        screen.category.setCurrentIndex(0)
    with qtbot.wait_signal(m.page_loaded, timeout=WAIT):
        screen.low.setChecked(True)
    assert m.rowCount() == 0  # 24 in stock, warning at 5
    with qtbot.wait_signal(m.page_loaded, timeout=WAIT):
        screen.low.setChecked(False)
    qtbot.wait_until(lambda: not m.loading and m.rowCount() >= 10, timeout=WAIT)
    save_shot(win, screenshots / "backoffice_products_1024x768.png")


def test_edit_sends_only_changes_and_field_errors_show(qtbot, services, manager,
                                                       db_session) -> None:
    api = services.api
    win = open_window(qtbot, services, "mgr")
    a = api.create_product({"name": "毛巾", "price": 1000, "barcodes": ["A100"]})
    api.create_product({"name": "牙刷", "price": 500, "barcodes": ["B200"]})
    screen = show(qtbot, win, "products")
    # a local error (not an amount) next to the field, nothing sent
    dlg = screen.edit(next(p for p in screen.model.items if p.id == a.id))
    qtbot.addWidget(dlg)
    dlg.price.setText("12.345")
    click(qtbot, dlg.save_button)
    assert dlg.field_errors["price"].text() == "金额格式不正确，例如 12.50"
    assert not dlg.field_errors["price"].isHidden()
    # the server's error: a barcode that belongs to another product
    dlg.price.setText("12")
    dlg.barcodes.setText("A100, B200")
    click(qtbot, dlg.save_button)
    qtbot.wait_until(lambda: len(services.dialogs.errors) == 1, timeout=WAIT)
    err = services.dialogs.errors[0]
    assert err.code == "barcode_taken" and "B200" in services.dialogs.error_texts[0]
    assert dlg.isVisible()
    dlg.barcodes.setText("A100, A101")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT):
        click(qtbot, dlg.save_button)
    db_session.rollback()  # a new snapshot (REPEATABLE READ)
    assert db_session.get(Product, a.id).price == 1200
    audit = db_session.scalars(select(AuditLog).where(
        AuditLog.entity == "product", AuditLog.entity_id == str(a.id),
        AuditLog.action.like("%update%"))).all()
    assert len(audit) == 1 and audit[0].after["price"] == 1200
    assert set(dlg._last[0]) == {"price", "barcodes"}  # only what changed was sent
    # filters go to the server
    with qtbot.wait_signal(screen.model.page_loaded, timeout=WAIT):
        qtbot.keyClicks(screen.search, "B200")
    assert [p.name for p in screen.model.items] == ["牙刷"]


def test_stock_adjust_purchase_and_count_with_difference_report(qtbot, services, manager,
                                                                 db_session,
                                                                 screenshots) -> None:
    api = services.api
    win = open_window(qtbot, services, "mgr")
    p = api.create_product({"name": "洗发水", "price": 4500, "cost": 2000, "track_stock": True,
                            "opening_stock": 10, "barcodes": ["SH01"]})
    screen = show(qtbot, win, "products")
    screen.list.table.selectRow(0)
    adj = screen.adjust_stock()
    qtbot.addWidget(adj)
    qtbot.keyClicks(adj.change, "-2")
    click(qtbot, adj.save_button)  # the reason is required: the server says so by the field
    qtbot.wait_until(lambda: len(services.dialogs.errors) == 1, timeout=WAIT)
    assert not adj.field_errors["reason"].isHidden()
    adj.reason.setText("破损")
    with qtbot.wait_signal(adj.saved, timeout=WAIT):
        click(qtbot, adj.save_button)
    qtbot.wait_until(lambda: [x.stock for x in screen.model.items] == [8], timeout=WAIT)

    pur = screen.purchase()
    qtbot.addWidget(pur)
    qtbot.wait_until(lambda: pur.picker.current() is not None, timeout=WAIT)
    assert pur.unit_cost.text() == "20.00"  # the product's cost, prefilled
    pur.qty.setText("5")
    pur.unit_cost.setText("18.5")
    click(qtbot, pur.findChild(type(pur.save_button), "addLine"))
    assert pur.total.text() == "合计进货金额：¥92.50"
    pur.supplier.setText("联合日化")
    with qtbot.wait_signal(pur.saved, timeout=WAIT):
        click(qtbot, pur.save_button)

    cnt = screen.stock_count()
    qtbot.addWidget(cnt)
    qtbot.keyClicks(cnt.picker.edit, "SH01")
    with qtbot.wait_signal(cnt.picker.results, timeout=WAIT):
        qtbot.keyClick(cnt.picker.edit, Qt.Key.Key_Return)
    cnt.counted.setText("11")
    cnt.add_line()
    with qtbot.wait_signal(cnt.previewed, timeout=WAIT) as blocker:
        click(qtbot, cnt.preview_button)
    report = blocker.args[0]
    assert [(ln.expected, ln.counted, ln.difference) for ln in report.lines] == [(13, 11, -2)]
    assert cnt.table.item(0, 3).text() == "-2"
    assert cnt.totals.text() == "合计差异 -2 件，金额 -¥37.00"  # at the new cost ¥18.50
    db_session.rollback()  # a new snapshot (REPEATABLE READ)
    assert db_session.get(Product, p.id).stock == 13  # the preview wrote nothing
    dialog_shot(cnt, screenshots / "backoffice_stock_count_dialog.png")
    with qtbot.wait_signal(cnt.saved, timeout=WAIT):
        click(qtbot, cnt.save_button)
    db_session.rollback()  # a new snapshot (REPEATABLE READ)
    assert db_session.get(Product, p.id).stock == 11
    kinds = db_session.scalars(select(StockLedger.kind).where(
        StockLedger.product_id == p.id).order_by(StockLedger.id)).all()
    assert kinds == ["opening", "adjust", "purchase", "count"]

    qtbot.wait_until(lambda: [x.stock for x in screen.model.items] == [11], timeout=WAIT)
    screen.list.table.selectRow(0)
    led = screen.show_ledger()
    qtbot.addWidget(led)
    qtbot.wait_until(lambda: led.model.rowCount() == 4, timeout=WAIT)
    assert led.model.data(led.model.index(0, 1)) == "盘点"
    assert led.model.data(led.model.index(0, 2)) == "-2"
    assert led.model.data(led.model.index(2, 4)) == "破损"


CSV_BAD = ("条码,名称,售价,会员价,分类,库存\n"
           "IMP001,护发素,39.00,35,洗护,12\n"
           "IMP002,发膜,abc,,洗护,\n"
           "IMP003,梳子,9.9,,,\n")


def test_import_csv_preview_then_commit(qtbot, services, manager, db_session, tmp_path,
                                        screenshots) -> None:
    win = open_window(qtbot, services, "mgr")
    screen = show(qtbot, win, "products")
    bad = tmp_path / "商品.csv"
    bad.write_text(CSV_BAD, encoding="utf-8")
    screen.files = RecordingFiles(open_path=bad)
    dlg = screen.import_products()
    qtbot.addWidget(dlg)
    with qtbot.wait_signal(dlg.checked, timeout=WAIT):
        click(qtbot, dlg.findChild(type(dlg.commit_button), "chooseFile"))
    assert dlg.errors.rowCount() == 1
    assert dlg.errors.item(0, 0).text() == "3"  # the sheet row (header = row 1)
    assert dlg.errors.item(0, 1).text() == "金额格式不正确：abc"
    assert "错误 1" in dlg.summary.text()
    assert not dlg.commit_button.isEnabled()
    dialog_shot(dlg, screenshots / "backoffice_import_preview_dialog.png")
    assert db_session.scalar(select(func.count()).select_from(Product)) == 0  # nothing written

    good = tmp_path / "商品-改.csv"
    good.write_text(CSV_BAD.replace("abc", "59"), encoding="utf-8")
    dlg.files.open_answer = good
    with qtbot.wait_signal(dlg.checked, timeout=WAIT):
        dlg.choose()
    assert dlg.errors.rowCount() == 0 and dlg.commit_button.isEnabled()
    assert "新建 3" in dlg.summary.text()
    assert db_session.scalar(select(func.count()).select_from(Product)) == 0
    with qtbot.wait_signal(dlg.imported, timeout=WAIT):
        click(qtbot, dlg.commit_button)
    db_session.rollback()  # a new snapshot (REPEATABLE READ)
    rows = {p.name: p for p in db_session.scalars(select(Product))}
    assert set(rows) == {"护发素", "发膜", "梳子"}
    assert rows["发膜"].price == 5900 and rows["梳子"].price == 990
    assert rows["护发素"].stock == 12 and rows["护发素"].member_price == 3500
    assert "导入完成：新建 3" in dlg.summary.text()
    qtbot.wait_until(lambda: screen.model.rowCount() == 3, timeout=WAIT)


def test_export_writes_the_chosen_file(qtbot, services, manager, tmp_path) -> None:
    win = open_window(qtbot, services, "mgr")
    services.api.create_product({"name": "发蜡", "price": 6800, "barcodes": ["EXP01"]})
    screen = show(qtbot, win, "products")
    target = tmp_path / "out" / "商品导出.csv"
    target.parent.mkdir()
    screen.files = RecordingFiles(save_path=target)
    screen.export_products()
    qtbot.wait_until(lambda: len(services.dialogs.infos) == 1, timeout=WAIT)
    assert screen.files.asked == [("save", "products.csv")]
    text = target.read_bytes().decode("utf-8-sig")
    assert "EXP01" in text and "发蜡" in text and "68.00" in text
    assert services.dialogs.infos[0] == f"已导出到 {target}"
    # cancelling the file dialog does nothing
    screen.files = RecordingFiles(save_path=None)
    screen.export_products()
    assert len(services.dialogs.infos) == 1
