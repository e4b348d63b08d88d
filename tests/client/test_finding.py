"""Finding products and editing lines at the counter (issue 14 §2): search by name, pinyin
initials and SKU with a keyboard picker; the favourites grid (收银台常用, set in the back
office); open-price items; ``3*`` / ``*3`` quantities and the quantity cell; Delete with
undo. The real client against the real server (live waitress + MariaDB)."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import select

from client.backoffice.products import ProductDialog
from client.counter.checkout import CheckoutScreen
from client.counter.favourites import group_by_category
from client.counter.open_price import OpenPriceDialog, parse_open_price
from client.counter.product_search import (
    PICKER_MAX_HEIGHT,
    EntryCommand,
    EntryError,
    ProductPicker,
    parse_entry,
)
from client.qt import Qt, QtCore, QtWidgets, Signal
from client.shell.main_window import MainWindow
from client.widgets.context import SessionInfo
from common.schemas.catalog import CategoryOut
from server import demo_shop
from server.db.catalog import Product
from server.db.sales import Sale, SaleLine
from server.domain.actor import Actor
from tests.conftest import TEST_PASSWORD

from .conftest import save_shot

WATER, COLA = "6921168509256", "6901234567892"


class FakeWedge(QtCore.QObject):
    """Stands in for client.devices.wedge.WedgeScanFilter (same ``scanned`` signal)."""

    scanned = Signal(str)


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


@pytest.fixture
def catalog(client, manager) -> dict[str, dict]:
    """A salon's services (two 洗剪吹: pinyin xjc…), drinks, an SKU and an open-price item."""
    svc = _post(client, manager, "/api/v1/categories", {"name": "美发服务", "sort_order": 1})
    drinks = _post(client, manager, "/api/v1/categories", {"name": "饮料", "sort_order": 0})
    made = {}
    for key, body in (
            ("xjc", {"kind": "service", "name": "洗剪吹", "price": 5800, "unit": "次",
                     "category_id": svc["id"], "favourite": True, "favourite_order": 1}),
            ("xjc2", {"kind": "service", "name": "洗剪吹（资深发型师）", "price": 8800,
                      "unit": "次", "category_id": svc["id"], "favourite": True,
                      "favourite_order": 2}),
            ("jj", {"kind": "service", "name": "精剪", "price": 6800, "unit": "次",
                    "category_id": svc["id"]}),
            ("water", {"name": "农夫山泉 550ml", "price": 200, "barcodes": [WATER],
                       "category_id": drinks["id"], "favourite": True, "favourite_order": 1}),
            ("cola", {"name": "可口可乐 330ml", "price": 350, "barcodes": [COLA],
                      "sku": "KL-330", "category_id": drinks["id"]}),
            ("other", {"kind": "service", "name": "其他服务（改价）", "price": 0, "unit": "次",
                       "open_price": True, "barcodes": ["S099"], "category_id": svc["id"],
                       "favourite": True, "favourite_order": 9})):
        made[key] = _post(client, manager, "/api/v1/products", body)
    return made


@pytest.fixture
def counter(qtbot, services, cashier):
    res = services.api.login("cash", TEST_PASSWORD)
    services.api.open_shift(0)  # a sale needs the counter's open shift
    wedge = FakeWedge()
    made = []

    def _open(size=(1024, 768)) -> MainWindow:
        win = MainWindow(services, SessionInfo(res.staff, res.counter), scan_source=wedge)
        win.wedge = wedge
        qtbot.addWidget(win)
        made.append(win)
        win.resize(*size)
        win.show()
        qtbot.wait_exposed(win)
        win.activateWindow()
        win.checkout.entry.setFocus()
        qtbot.wait_until(win.checkout.entry.hasFocus, timeout=5000)
        return win

    yield _open
    for w in made:
        w.counter.shutdown()


def type_into(qtbot, edit: QtWidgets.QLineEdit, text: str) -> None:
    """Keys for ASCII; Chinese arrives as an input method's commit (QTest has no keys)."""
    if text.isascii():
        qtbot.keyClicks(edit, text)
    else:
        edit.insert(text)


def enter(qtbot, screen: CheckoutScreen, text: str) -> None:
    screen.entry.setFocus()
    type_into(qtbot, screen.entry, text)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Return)


def enter_and_wait(qtbot, screen: CheckoutScreen, text: str) -> None:
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=10_000):
        enter(qtbot, screen, text)


def picker_of(qtbot, screen: CheckoutScreen, text: str) -> ProductPicker:
    with qtbot.wait_signal(screen.dialog_opened, timeout=10_000) as opened:
        enter(qtbot, screen, text)
    picker = opened.args[0]
    assert isinstance(picker, ProductPicker)
    qtbot.wait_until(picker.isVisible, timeout=5000)
    return picker


def lines(screen: CheckoutScreen) -> list[tuple[str, int]]:
    return [(ln.name, ln.qty) for ln in screen.cart_model.cart.lines]


def inside(widget: QtWidgets.QWidget, win: QtWidgets.QWidget) -> bool:
    """The widget is shown and wholly inside the window's client area."""
    top_left = widget.mapTo(win, QtCore.QPoint(0, 0))
    rect = QtCore.QRect(top_left, widget.size())
    return widget.isVisible() and win.rect().contains(rect)


# --- the entry's grammar ------------------------------------------------------------------

def test_entry_grammar() -> None:
    assert parse_entry("6921168509256") == EntryCommand(code="6921168509256")
    assert parse_entry(" xjc ") == EntryCommand(code="xjc")
    assert parse_entry("3*") == EntryCommand(qty=3)
    assert parse_entry("3*6921168509256") == EntryCommand(code="6921168509256", qty=3)
    assert parse_entry("2＊洗剪吹") == EntryCommand(code="洗剪吹", qty=2)  # full-width star
    assert parse_entry("6921168509256*4") == EntryCommand(code="6921168509256", qty=4)
    assert parse_entry("*5") == EntryCommand(qty=5, set_qty=True)
    assert parse_entry("×12") == EntryCommand(qty=12, set_qty=True)
    for bad in ("0*", "*0", "10000*abc", "*123456"):
        with pytest.raises(EntryError, match="数量应为 1 到 9999"):
            parse_entry(bad)


def test_open_price_parsing() -> None:
    assert parse_open_price("88") == 8800
    assert parse_open_price(" 88.5 ") == 8850
    assert parse_open_price("¥128.50") == 12850
    assert parse_open_price("12。30") == 1230  # a Chinese full stop from the input method
    for bad, msg in (("abc", "请输入正确的金额"), ("1.234", "请输入正确的金额"),
                     ("0", "价格必须大于 0"), ("-5", "价格必须大于 0"),
                     ("2000000", "价格不能超过")):
        with pytest.raises(ValueError, match=msg):
            parse_open_price(bad)


# --- search and the picker ----------------------------------------------------------------

def test_search_by_pinyin_name_and_sku(qtbot, counter, catalog, screenshots) -> None:
    win = counter()
    screen = win.checkout
    # pinyin initials with one match ("jj" → 精剪): added at once
    enter_and_wait(qtbot, screen, "jj")
    assert lines(screen) == [("精剪", 1)]
    # an SKU (the barcode fast path answers SKUs too)
    enter_and_wait(qtbot, screen, "KL-330")
    assert lines(screen)[-1] == ("可口可乐 330ml", 1)
    # an exact barcode: still the fast path, the barcode kept on the line
    enter_and_wait(qtbot, screen, WATER)
    assert screen.cart_model.cart.lines[-1].barcode == WATER
    # a name part in Chinese with one match
    enter_and_wait(qtbot, screen, "农夫")
    assert lines(screen)[-1] == ("农夫山泉 550ml", 2)
    # nothing found: said clearly (not "找不到条码"), as the red banner, nothing added
    enter(qtbot, screen, "zzq")
    qtbot.wait_until(lambda: screen.status.text() == "没有找到商品：zzq", timeout=10_000)
    assert "条码" not in screen.status.text() and screen.status.property("error")
    assert len(screen.cart_model.cart.lines) == 3
    assert screen.entry.text() == "" and screen.entry.hasFocus()
    save_shot(win, screenshots / "finding_not_found_1024x768.png")
    assert screen.totals.total.text() == "¥75.50"  # 68 + 3.50 + 2 × 2.00


def test_picker_keyboard_arrows_enter_digits_esc(qtbot, counter, catalog,
                                                screenshots) -> None:
    win = counter()
    screen = win.checkout
    size = win.size()
    picker = picker_of(qtbot, screen, "xjc")
    # both 洗剪吹 (pinyin xjc…), numbered; Chinese only
    rows = [picker.list.item(i).text() for i in range(picker.list.count())]
    assert len(rows) == 2
    assert rows[0].startswith("1. 洗剪吹") and "¥58.00 / 次" in rows[0]
    assert rows[1].startswith("2. 洗剪吹（资深发型师）")
    assert (picker.add_button.text(), picker.close_button.text()) == ("加入", "关闭")
    assert picker.list.hasFocus()
    save_shot(picker, screenshots / "finding_picker.png")
    # ↓ then Enter adds the second
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=5000):
        qtbot.keyClick(picker.list, Qt.Key.Key_Down)
        qtbot.keyClick(picker.list, Qt.Key.Key_Return)
    assert not picker.isVisible()
    assert lines(screen) == [("洗剪吹（资深发型师）", 1)]
    qtbot.wait_until(screen.entry.hasFocus, timeout=5000)
    # a digit picks directly, the pending quantity applies: 2*xjc, then "1"
    picker = picker_of(qtbot, screen, "2*xjc")
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=5000):
        qtbot.keyClick(picker.list, Qt.Key.Key_1)
    assert lines(screen)[-1] == ("洗剪吹", 2)
    # Chinese name part: the same picker; a digit out of range does nothing; Esc closes
    picker = picker_of(qtbot, screen, "洗剪吹")
    assert picker.list.count() == 2
    qtbot.keyClick(picker.list, Qt.Key.Key_7)
    assert picker.isVisible()
    qtbot.keyClick(picker.list, Qt.Key.Key_Escape)
    qtbot.wait_until(lambda: not picker.isVisible(), timeout=5000)
    qtbot.wait_until(screen.entry.hasFocus, timeout=5000)
    assert len(screen.cart_model.cart.lines) == 2
    assert win.size() == size  # the window never grew


def test_picker_has_a_fixed_height_and_scrolls(qtbot, counter, client, manager,
                                               screenshots) -> None:
    for i in range(40):
        _post(client, manager, "/api/v1/products", {"name": f"洗发水 {i:02d} 号",
                                                    "price": 1000 + i})
    win = counter()
    screen = win.checkout
    size = win.size()
    picker = picker_of(qtbot, screen, "xfs")
    assert picker.list.count() == 30  # the first 30, and it says so
    more = picker.findChild(QtWidgets.QLabel, "pickerMore")
    assert more is not None and "只显示前 30 个结果" in more.text()
    assert picker.height() <= PICKER_MAX_HEIGHT
    assert picker.list.verticalScrollBar().maximum() > 0  # it scrolls instead of growing
    # items 10+ carry no digit; End + Enter adds the last
    assert not picker.list.item(9).text().startswith("10.")
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=5000):
        qtbot.keyClick(picker.list, Qt.Key.Key_End)
        qtbot.keyClick(picker.list, Qt.Key.Key_Return)
    assert lines(screen) == [("洗发水 29 号", 1)]
    assert win.size() == size
    save_shot(win, screenshots / "finding_after_picker_1024x768.png")


def test_a_scan_while_the_picker_is_open_goes_on(qtbot, counter, catalog) -> None:
    win = counter()
    screen = win.checkout
    picker = picker_of(qtbot, screen, "xjc")
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=10_000):
        win.wedge.scanned.emit(WATER)  # the wedge: the modal picker gets it, closes, passes
    assert not picker.isVisible()
    assert lines(screen) == [("农夫山泉 550ml", 1)]


# --- quantities -----------------------------------------------------------------------------

def test_quantity_by_star_and_in_the_cell(qtbot, counter, catalog, screenshots) -> None:
    win = counter()
    screen = win.checkout
    assert "3*" in screen.entry.placeholderText() and "*3" in screen.entry.placeholderText()
    # "3*" then Enter: the next item comes 3 times
    enter(qtbot, screen, "3*")
    assert screen.status.text() == "数量 3：请扫码或搜索商品"
    enter_and_wait(qtbot, screen, WATER)
    assert lines(screen) == [("农夫山泉 550ml", 3)]
    # in one go, and added to the same line
    enter_and_wait(qtbot, screen, f"2*{WATER}")
    assert lines(screen) == [("农夫山泉 550ml", 5)]
    assert screen.status.text() == "已加入：农夫山泉 550ml × 2"
    # "4*" typed, then the wedge scanner's burst (the code is not left in the entry)
    qtbot.keyClicks(screen.entry, "4*")
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=10_000):
        win.wedge.scanned.emit(COLA)
    assert lines(screen)[-1] == ("可口可乐 330ml", 4) and screen.entry.text() == ""
    # "*3": the selected line
    screen.table.selectRow(0)
    enter(qtbot, screen, "*3")
    assert lines(screen) == [("农夫山泉 550ml", 3), ("可口可乐 330ml", 4)]
    assert screen.status.text() == "农夫山泉 550ml 数量改为 3"
    assert screen.totals.total.text() == "¥20.00"
    # a bad quantity is refused clearly
    enter(qtbot, screen, "0*")
    assert screen.status.text() == "数量应为 1 到 9999 之间的整数"
    assert screen.status.property("error")
    # the quantity cell: F11 opens its editor (Enter commits)
    screen.table.selectRow(1)
    qtbot.keyClick(screen.entry, Qt.Key.Key_F11)
    editor = QtWidgets.QApplication.focusWidget()
    assert isinstance(editor, QtWidgets.QLineEdit) and editor is not screen.entry
    assert editor.text() == "4"
    editor.selectAll()
    qtbot.keyClicks(editor, "6")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits queued
    qtbot.wait_until(lambda: lines(screen)[1] == ("可口可乐 330ml", 6), timeout=5000)
    qtbot.wait_until(screen.entry.hasFocus, timeout=5000)  # the keyboard back at the entry
    # bad input in the cell: refused, said, nothing changed
    screen.say("")
    qtbot.keyClick(screen.entry, Qt.Key.Key_F11)
    editor = QtWidgets.QApplication.focusWidget()
    editor.selectAll()
    type_into(qtbot, editor, "两个")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: screen.status.text() == "数量应为 1 到 9999 之间的整数",
                     timeout=5000)
    assert lines(screen)[1] == ("可口可乐 330ml", 6) and screen.status.property("error")
    qtbot.wait_until(screen.entry.hasFocus, timeout=5000)
    # a double-click on the cell opens the editor too
    model = screen.cart_model
    qty_col = model.COLUMNS.index("qty")
    rect = screen.table.visualRect(model.index(0, qty_col))
    qtbot.mouseClick(screen.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(screen.table.viewport(), Qt.MouseButton.LeftButton,
                      pos=rect.center())
    assert screen.table.state() == QtWidgets.QAbstractItemView.State.EditingState
    editors = [e for e in screen.table.viewport().findChildren(QtWidgets.QLineEdit)
               if e.isVisible()]
    assert len(editors) == 1 and editors[0].text() == "3"
    editor = editors[0]
    editor.selectAll()
    qtbot.keyClicks(editor, "10")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: lines(screen)[0] == ("农夫山泉 550ml", 10), timeout=5000)
    assert screen.totals.total.text() == "¥41.00"
    save_shot(win, screenshots / "finding_quantity_1024x768.png")


# --- Delete with undo -----------------------------------------------------------------------

def test_delete_shows_undo_and_restores_the_same_line(qtbot, counter, catalog,
                                                     screenshots) -> None:
    win = counter()
    screen = win.checkout
    model = screen.cart_model
    for code in ("jj", WATER, COLA):
        enter_and_wait(qtbot, screen, code)
    cart = model.cart
    # the middle line: quantity 3 and a 10% line discount
    cart.lines[1] = dataclasses.replace(cart.lines[1], qty=3, manual_discount_bp=1000)
    model.changed()
    before = list(cart.lines)
    total = screen.totals.total.text()
    screen.table.selectRow(1)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Delete)
    assert [ln.name for ln in cart.lines] == ["精剪", "可口可乐 330ml"]
    assert screen.status.text() == "已删除 农夫山泉 550ml · Ctrl+Z 撤销"
    assert screen.undo_button.isVisible() and screen.undo_button.text() == "撤销"
    assert inside(screen.undo_button, win)
    save_shot(win, screenshots / "finding_deleted_undo_1024x768.png")
    # Ctrl+Z: back at its row, the same line (staff, discount, quantity, price, id)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert cart.lines == before
    assert screen.totals.total.text() == total
    assert screen.status.text() == "已恢复：农夫山泉 550ml"
    assert not screen.undo_button.isVisible()
    # the button does the same; a second undo has nothing to restore
    screen.table.selectRow(0)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Delete)
    assert len(cart.lines) == 2
    qtbot.mouseClick(screen.undo_button, Qt.MouseButton.LeftButton)
    assert cart.lines == before
    qtbot.keyClick(screen.entry, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert cart.lines == before
    # the offer ends with the next change of message (e.g. the next item)
    screen.table.selectRow(2)
    qtbot.keyClick(screen.entry, Qt.Key.Key_Delete)
    enter_and_wait(qtbot, screen, "KL-330")
    assert not screen.undo_button.isVisible()
    qtbot.keyClick(screen.entry, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [ln.name for ln in cart.lines] == ["精剪", "农夫山泉 550ml", "可口可乐 330ml"]


# --- open price ------------------------------------------------------------------------------

def test_open_price_item_is_priced_at_the_counter_and_sold(qtbot, counter, catalog, services,
                                                         app, screenshots) -> None:
    win = counter()
    screen = win.checkout
    with qtbot.wait_signal(screen.dialog_opened, timeout=10_000) as opened:
        enter(qtbot, screen, "2*S099")
    dlg = opened.args[0]
    assert isinstance(dlg, OpenPriceDialog)
    qtbot.wait_until(dlg.price.hasFocus, timeout=5000)
    assert (dlg.ok.text(), dlg.cancel.text()) == ("确定", "取消")
    # bad input: a clear message, the dialog stays, nothing added
    type_into(qtbot, dlg.price, "八十")
    qtbot.keyClick(dlg.price, Qt.Key.Key_Return)
    assert dlg.isVisible() and dlg.error.text() == "请输入正确的金额，例如 88 或 88.50"
    assert screen.cart_model.rowCount() == 0
    dlg.price.clear()
    qtbot.keyClicks(dlg.price, "0")
    qtbot.keyClick(dlg.price, Qt.Key.Key_Return)
    assert dlg.error.text() == "价格必须大于 0"
    save_shot(dlg, screenshots / "finding_open_price.png")
    dlg.price.clear()
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=5000):
        qtbot.keyClicks(dlg.price, "128.5")
        qtbot.keyClick(dlg.price, Qt.Key.Key_Return)
    assert not dlg.isVisible()
    line = screen.cart_model.cart.lines[0]
    assert (line.name, line.qty, line.open_price) == ("其他服务（改价）", 2, 12850)
    model = screen.cart_model
    assert model.data(model.index(0, model.COLUMNS.index("price"))) == "128.50 (改价)"
    assert screen.totals.total.text() == "¥257.00"  # the engine's open price × 2
    # a second one gets its own line with its own price
    with qtbot.wait_signal(screen.dialog_opened, timeout=10_000) as opened:
        enter(qtbot, screen, "S099")
    dlg = opened.args[0]
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=5000):
        qtbot.keyClicks(dlg.price, "30")
        qtbot.keyClick(dlg.price, Qt.Key.Key_Return)
    assert [ln.open_price for ln in screen.cart_model.cart.lines] == [12850, 3000]
    assert screen.totals.total.text() == "¥287.00"
    # Esc in the dialog adds nothing
    with qtbot.wait_signal(screen.dialog_opened, timeout=10_000) as opened:
        enter(qtbot, screen, "S099")
    dlg = opened.args[0]
    qtbot.keyClick(dlg.price, Qt.Key.Key_Escape)
    qtbot.wait_until(screen.entry.hasFocus, timeout=5000)
    assert screen.cart_model.rowCount() == 2
    save_shot(win, screenshots / "finding_open_price_cart_1024x768.png")

    # the server prices the line the same way and sells it (the counter's shift is open)
    body = screen.cart_model.cart.to_cart_in()
    assert (body["lines"][0]["product_id"], body["lines"][0]["qty"],
            body["lines"][0]["open_price"]) == (catalog["other"]["id"], 2, 12850)
    q = services.api.quote_cart(body)
    assert q.total == 28700 and [ln.unit_price for ln in q.lines] == [12850, 3000]
    sale_id = str(uuid.uuid4())
    sale = services.api.create_sale({"id": sale_id, **body, "payments": [
        {"method": "cash", "amount": 28700, "tendered": 30000}]}, key=sale_id)
    assert sale.total == 28700 and sale.change == 1300
    factory = app.extensions["lanpos"].session_factory
    with factory() as db:
        row = db.scalars(select(Sale).where(Sale.uuid == sale_id)).one()
        prices = sorted(ln.unit_price for ln in db.scalars(
            select(SaleLine).where(SaleLine.sale_id == row.id)))
    assert prices == [3000, 12850]


# --- favourites -------------------------------------------------------------------------------

def test_favourite_flag_and_filter_on_the_server(client, manager, cashier, catalog) -> None:
    r = client.get("/api/v1/products?favourite=true", headers=cashier.headers)
    assert r.status_code == 200
    names = [p["name"] for p in r.get_json()["items"]]
    # favourites only, in their order (then name)
    assert names == ["农夫山泉 550ml", "洗剪吹", "洗剪吹（资深发型师）", "其他服务（改价）"]
    assert all(p["favourite"] for p in r.get_json()["items"])
    jj = catalog["jj"]
    assert jj["favourite"] is False and jj["favourite_order"] == 0
    r = client.patch(f"/api/v1/products/{jj['id']}", headers=manager.write_headers(),
                     json={"favourite": True, "favourite_order": 0})
    assert r.status_code == 200 and r.get_json()["favourite"] is True
    r = client.get("/api/v1/products?favourite=true", headers=cashier.headers)
    assert r.get_json()["items"][0]["name"] == "精剪"
    r = client.get("/api/v1/products?favourite=false&q=xjc", headers=cashier.headers)
    assert r.get_json()["items"] == []
    # a cashier cannot set the flag (products are the managers')
    r = client.patch(f"/api/v1/products/{jj['id']}", headers=cashier.write_headers(),
                     json={"favourite": False})
    assert r.status_code == 403
    r = client.patch(f"/api/v1/products/{jj['id']}", headers=manager.write_headers(),
                     json={"favourite_order": -1})
    assert r.status_code in (400, 422)


def test_grouping_keeps_category_order_and_puts_the_rest_last() -> None:
    from common.schemas.catalog import ProductOut

    def p(pid, cat):
        return ProductOut(id=pid, kind="product", sku=None, name=f"p{pid}", pinyin="", unit="件",
                          category_id=cat, price=100, member_price=None, cost=None,
                          open_price=False, discountable=True, track_stock=False, stock=0,
                          low_stock=None, commission_kind="none", commission_value=0,
                          barcodes=[], active=True, updated_at="2026-01-01T00:00:00Z")

    cats = [CategoryOut(id=7, name="饮料", sort_order=0, active=True),
            CategoryOut(id=3, name="服务", sort_order=1, active=True)]
    groups = group_by_category([p(1, 3), p(2, None), p(3, 7), p(4, 3), p(5, 99)], cats)
    assert [(name, [x.id for x in items]) for name, items in groups] == [
        ("饮料", [3]), ("服务", [1, 4]), ("其他", [2, 5])]


@pytest.fixture
def demo_catalog(app) -> None:
    """The demo shop's catalogue (its favourites marked in server/demo_shop.py)."""
    factory = app.extensions["lanpos"].session_factory
    with factory() as db:
        demo_shop.load_catalog(db, Actor.system("demo"))
        db.commit()
        assert db.scalars(select(Product).where(Product.favourite.is_(True))).first()


@pytest.mark.parametrize("size", [(1024, 768), (1920, 1080)])
def test_favourites_grid_of_the_demo_shop(qtbot, counter, demo_catalog, screenshots,
                                          size) -> None:
    win = counter(size)
    screen = win.checkout
    fav = screen.favourites
    qtbot.wait_until(lambda: bool(fav.buttons), timeout=10_000)
    # a tab per category, in the shop's order; Chinese only
    assert fav.tab_names() == ["饮料", "零食", "日化", "美发服务"]
    assert fav.toggle.text() == "常用商品 ▾"
    for b in fav.buttons.values():
        assert b.minimumHeight() >= 48
    fav.tabs.setCurrentIndex(3)
    qtbot.wait(50)
    services = fav.tabs.currentWidget().widget()
    names = [b.text().split("\n")[0] for b in services.findChildren(QtWidgets.QPushButton)]
    assert names[:2] == ["洗剪吹", "精剪"]
    button = next(b for b in services.findChildren(QtWidgets.QPushButton)
                  if b.text().startswith("洗剪吹"))
    assert button.text() == "洗剪吹\n¥58.00" and button.height() >= 48
    assert inside(button, win)
    # the grid leaves the cart, the totals and the function-key bar on screen
    for w in (screen.table, screen.totals, screen.totals.total,
              screen.findChild(QtWidgets.QToolButton, "key_pay"),
              screen.findChild(QtWidgets.QToolButton, "key_back"), screen.entry):
        assert inside(w, win), w.objectName()
    assert screen.table.height() >= 150
    # a tap adds it; the keyboard stays at the entry
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=5000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert lines(screen) == [("洗剪吹", 1)] and screen.entry.hasFocus()
    # "3*" then a tap: 3 of it
    enter(qtbot, screen, "3*")
    fav.tabs.setCurrentIndex(0)
    water = next(b for b in fav.tabs.currentWidget().widget().findChildren(
        QtWidgets.QPushButton) if b.text().startswith("农夫山泉"))
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=5000):
        qtbot.mouseClick(water, Qt.MouseButton.LeftButton)
    assert lines(screen)[-1] == ("农夫山泉 550ml", 3)
    w, h = size
    save_shot(win, screenshots / f"finding_favourites_{w}x{h}.png")
    # collapsible: the cart gets the room back
    table_h = screen.table.height()
    qtbot.mouseClick(fav.toggle, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    assert not fav.tabs.isVisible() and fav.toggle.text() == "常用商品 ▸"
    assert screen.table.height() > table_h
    assert inside(fav.toggle, win)
    save_shot(win, screenshots / f"finding_favourites_collapsed_{w}x{h}.png")
    # the open-price favourite asks its price
    qtbot.mouseClick(fav.toggle, Qt.MouseButton.LeftButton)
    fav.tabs.setCurrentIndex(3)
    other = next(b for b in fav.tabs.currentWidget().widget().findChildren(
        QtWidgets.QPushButton) if b.text().startswith("其他服务"))
    assert other.text() == "其他服务（改价）\n现场定价"
    with qtbot.wait_signal(screen.dialog_opened, timeout=5000) as opened:
        qtbot.mouseClick(other, Qt.MouseButton.LeftButton)
    assert isinstance(opened.args[0], OpenPriceDialog)
    opened.args[0].reject()


def test_back_office_editor_sets_the_favourite_flag(qtbot, services, manager, catalog,
                                                    dialogs) -> None:
    services.api.login(manager.username, TEST_PASSWORD)
    product = services.api.get_product(catalog["jj"]["id"])
    cats = services.api.list_categories()
    dlg = ProductDialog(services, cats, product)
    qtbot.addWidget(dlg)
    assert dlg.favourite.text() == "收银台常用" and not dlg.favourite.isChecked()
    assert not dlg.favourite_order.isEnabled()
    dlg.favourite.setChecked(True)
    assert dlg.favourite_order.isEnabled()
    dlg.favourite_order.setValue(3)
    assert dlg.body() == {"favourite": True, "favourite_order": 3}
    saved = dlg.call(dlg.body(), str(uuid.uuid4()))
    assert saved.favourite is True and saved.favourite_order == 3
    assert [p.name for p in services.api.favourite_products()][:2] == ["农夫山泉 550ml",
                                                                      "洗剪吹"]
    assert "精剪" in [p.name for p in services.api.favourite_products()]
    # a new product: the flag goes into its create body
    new = ProductDialog(services, cats, None)
    qtbot.addWidget(new)
    new.name.setText("发胶")
    new.price.setText("25")
    new.favourite.setChecked(True)
    body = new.body()
    assert body["favourite"] is True and body["favourite_order"] == 0


def test_an_open_price_line_survives_hold_and_resume(qtbot, counter, catalog) -> None:
    from client.counter.held import HeldOrdersDialog

    win = counter()
    screen = win.checkout
    enter_and_wait(qtbot, screen, WATER)
    with qtbot.wait_signal(screen.dialog_opened, timeout=10_000) as opened:
        enter(qtbot, screen, "S099")
    dlg = opened.args[0]
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=5000):
        qtbot.keyClicks(dlg.price, "66")
        qtbot.keyClick(dlg.price, Qt.Key.Key_Return)
    qtbot.wait_until(screen.entry.hasFocus, timeout=5000)
    with qtbot.wait_signal(win.counter.held, timeout=10_000):
        qtbot.keyClick(screen.entry, Qt.Key.Key_F4)
    assert screen.cart_model.rowCount() == 0
    dialogs: list = []
    win.counter.dialog_opened.connect(dialogs.append)
    qtbot.keyClick(screen.entry, Qt.Key.Key_F5)
    qtbot.wait_until(lambda: bool(dialogs), timeout=5000)
    held = dialogs[-1]
    assert isinstance(held, HeldOrdersDialog)
    qtbot.wait_until(lambda: held.table.rowCount() == 1, timeout=10_000)
    with qtbot.wait_signal(win.counter.resumed, timeout=10_000):
        qtbot.mouseClick(held.resume_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: screen.cart_model.rowCount() == 2, timeout=10_000)
    assert [(ln.name, ln.open_price) for ln in screen.cart_model.cart.lines] == [
        ("农夫山泉 550ml", None), ("其他服务（改价）", 6600)]
    assert screen.totals.total.text() == "¥68.00"
