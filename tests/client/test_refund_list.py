"""Refund from the list of sales (F6): by day, member, amount and counter, keyboard only; the
refund slip printed through the print queue; F7 + Enter prints exactly one copy."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from client.counter.refund import RefundDialog, ReprintDialog
from client.qt import Qt, QtWidgets
from server.db.sales import Refund
from tests.conftest import open_shift
from tests.support.escpos_decoder import decode

from .conftest import save_shot
from .test_counter_flows import dialog_of, receipt_file


def _post(client, who, path, body, status=201):
    r = client.post(path, json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


def _sell(client, who, lines, total, member_id=None) -> dict:
    sid = str(uuid.uuid4())
    body = {"id": sid, "lines": lines, "payments": [{"method": "cash", "amount": total}]}
    if member_id:
        body["member_id"] = member_id
    r = client.post("/api/v1/sales", json=body, headers=who.write_headers(sid))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


@pytest.fixture
def sales(client, owner, manager, make_staff) -> dict:
    """Three sales today: two at counter 01 (one of them 张三's), one at counter 02."""
    shampoo = _post(client, manager, "/api/v1/products", {"name": "洗发水", "price": 5800})
    cola = _post(client, manager, "/api/v1/products", {"name": "可口可乐 330ml", "price": 350})
    member = _post(client, manager, "/api/v1/members", {"name": "张三", "phone": "13800001234"})
    _post(client, manager, "/api/v1/members", {"name": "张三丰", "phone": "13900005678"})
    r = client.put("/api/v1/settings/shop", headers=owner.write_headers(),
                   json={"name": "悦享生活馆"})
    assert r.status_code == 200, r.get_json()
    other = make_staff("cashier", "cash2", counter_name="02")
    open_shift(client, manager)
    open_shift(client, other)
    plain = _sell(client, manager, [{"product_id": shampoo["id"], "qty": 1}], 5800)
    theirs = _sell(client, manager, [{"product_id": cola["id"], "qty": 2},
                                     {"product_id": shampoo["id"], "qty": 1}], 6500,
                   member["id"])
    elsewhere = _sell(client, other, [{"product_id": shampoo["id"], "qty": 1}], 5800)
    return {"plain": plain, "theirs": theirs, "elsewhere": elsewhere, "member": member}


def _numbers(dlg: RefundDialog) -> list[str]:
    return [s.number for s in dlg.finder.model.items]


def test_refund_picked_from_the_list_prints_a_slip(qtbot, open_counter, sales, printer, app,
                                                  screenshots, output_dir, dialogs) -> None:
    win = open_counter("mgr")
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F6),
                    RefundDialog)
    finder = dlg.finder
    # today's sales at this counter, newest first
    qtbot.wait_until(lambda: _numbers(dlg) == [sales["theirs"]["number"],
                                               sales["plain"]["number"]], timeout=10_000)
    model = finder.model
    assert model.data(model.index(0, 2)) == "张三" and model.data(model.index(1, 2)) == "—"
    assert model.data(model.index(0, 3)) == "¥65.00"
    assert finder.counter_box.currentText() == "本收银台 01"
    assert "2 笔" in finder.empty.text()
    save_shot(dlg, screenshots / "refund_list_1024x768.png")

    # every counter
    finder.counter_box.setCurrentIndex(1)
    qtbot.wait_until(lambda: len(_numbers(dlg)) == 3, timeout=10_000)
    # by amount (yuan): both ¥58 sales
    qtbot.keyClicks(finder.amount, "58")
    qtbot.keyClick(finder.amount, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: _numbers(dlg) == [sales["elsewhere"]["number"],
                                               sales["plain"]["number"]], timeout=10_000)
    finder.amount.clear()
    # a bad amount says so and keeps the list
    qtbot.keyClicks(finder.amount, "5.8.8")
    qtbot.keyClick(finder.amount, Qt.Key.Key_Return)
    assert "不正确" in dlg.error.text()
    finder.amount.clear()
    finder.counter_box.setCurrentIndex(0)
    # by member: the phone's last 4 digits (one member: taken at once)
    qtbot.keyClicks(finder.member_edit, "1234")
    qtbot.keyClick(finder.member_edit, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: _numbers(dlg) == [sales["theirs"]["number"]], timeout=10_000)
    assert finder.member is not None and finder.member.id == sales["member"]["id"]
    # … two members named 张三…: the cashier picks one
    finder.member_edit.clear()
    qtbot.wait_until(lambda: len(_numbers(dlg)) == 2, timeout=10_000)
    finder.member_edit.setText("张三")  # typed with an input method
    qtbot.keyClick(finder.member_edit, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: finder.member_pick.count() == 2, timeout=10_000)
    assert finder.member_pick.hasFocus() and finder.member.name == "张三"  # the first
    qtbot.wait_until(lambda: _numbers(dlg) == [sales["theirs"]["number"]], timeout=10_000)
    qtbot.keyClick(finder.member_pick, Qt.Key.Key_Down)  # 张三丰: no sale
    assert finder.member.name == "张三丰"
    qtbot.wait_until(lambda: finder.empty.text() == "没有符合条件的销售", timeout=10_000)
    finder.member_edit.clear()
    qtbot.wait_until(lambda: len(_numbers(dlg)) == 2, timeout=10_000)

    # keyboard: ↓ from the number field into the list, ↓ to the second sale, Enter opens it
    dlg.lookup.ref.setFocus()
    qtbot.wait_until(dlg.lookup.ref.hasFocus, timeout=5000)
    qtbot.keyClick(dlg.lookup.ref, Qt.Key.Key_Down)
    assert finder.table.hasFocus() and finder.table.currentIndex().row() == 0
    qtbot.keyClick(finder.table, Qt.Key.Key_Down)
    qtbot.keyClick(finder.table, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: dlg.sale is not None, timeout=10_000)
    assert dlg.sale.number == sales["plain"]["number"] and dlg.isVisible()
    assert dlg.table.rowCount() == 1 and dlg.spins[0].hasFocus()
    # Enter in the quantity does not refund by itself
    qtbot.keyClicks(dlg.spins[0], "1")
    qtbot.keyClick(dlg.spins[0], Qt.Key.Key_Return)
    assert dlg.isVisible() and dlg.amount.text() == "¥58.00"
    with app.extensions["lanpos"].session_factory() as db:
        assert db.scalars(select(Refund)).all() == []
    save_shot(dlg, screenshots / "refund_list_sale_open.png")

    with qtbot.wait_signal(win.counter.refund_completed, timeout=10_000) as done:
        qtbot.mouseClick(dlg.submit_button, Qt.MouseButton.LeftButton)
    res = done.args[0]
    assert res.total == 5800 and res.sale_number == sales["plain"]["number"]

    # the refund slip through the print queue (the drawer opens first: cash back)
    jobs = [decode(j, "gbk") for j in printer.wait_for_jobs(2, timeout=15)]
    assert [j.drawer_pins for j in jobs if j.drawer_pins] == [[2]]
    slip = next(j for j in jobs if j.lines)
    receipt_file(output_dir, "refund_slip.txt", slip.text)
    rows = [r.replace("￥", "¥") for r in slip.texts]
    text = "\n".join(rows)
    assert "悦享生活馆" in text and "退款单" in rows
    assert f"退款单号：{res.number}" in rows and f"原单号：{res.sale_number}" in rows
    row_of = {r.split()[0]: r for r in rows if r.split()}
    assert row_of["洗发水"].split() == ["洗发水", "1", "-58.00"]
    assert row_of["退款合计"].endswith("-¥58.00")
    assert " ".join(row_of["退回方式"].split()[:2]) == "退回方式 现金"
    assert row_of["退回方式"].endswith("¥58.00")
    assert any(r.startswith("收银员：") or "收银员：测试店长" in r for r in rows)
    assert any(r.startswith("时间：") for r in rows)
    assert "原因：顾客退货" in rows and slip.cuts
    assert dialogs.errors == []


def test_reprint_f7_then_enter_prints_one_copy(qtbot, open_counter, sales, printer) -> None:
    win = open_counter("mgr")
    printed: list = []
    win.counter.printed.connect(printed.append)
    dlg = dialog_of(qtbot, win, lambda: qtbot.keyClick(win.checkout.entry, Qt.Key.Key_F7),
                    ReprintDialog)
    # no button of the dialog takes Enter a second time
    assert not any(b.isDefault() or b.autoDefault()
                   for b in dlg.findChildren(QtWidgets.QPushButton))
    qtbot.keyClicks(dlg.lookup.ref, sales["plain"]["number"])
    qtbot.keyClick(dlg.lookup.ref, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: bool(printed), timeout=15_000)
    qtbot.wait(1500)  # a second lookup + print would have arrived by now
    assert len(printed) == 1 and printed[0].state == "printed"
    assert len(win.counter.devices.jobs()) <= 1
    data = printer.wait_for_jobs(1, timeout=10)
    qtbot.wait(300)
    assert len(printer.jobs) == 1
    text = decode(data[0], "gbk").text
    assert sales["plain"]["number"] in text and "重打" in text
