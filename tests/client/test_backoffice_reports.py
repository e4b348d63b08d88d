"""Back office 报表 against the real server: today's sales by day, by payment method and by
product, with a totals row; a bad period shows the server's message."""

from __future__ import annotations

import uuid

from .bo_helpers import WAIT, open_window
from .conftest import save_shot


def sell(api, product_id: int, qty: int, method: str, amount: int) -> None:
    sid = str(uuid.uuid4())
    api.request("POST", "/sales", key=sid, body={
        "id": sid, "lines": [{"product_id": product_id, "qty": qty}],
        "payments": [{"method": method, "amount": amount}]})


def test_sales_report_screen(qtbot, services, manager, screenshots) -> None:
    win = open_window(qtbot, services, "mgr")
    api = services.api
    cola = api.create_product({"name": "可乐", "price": 350, "cost": 150})
    cut = api.create_product({"name": "精剪", "kind": "service", "price": 6800})
    api.open_shift(0)  # a sale needs the counter's open shift
    sell(api, cola.id, 2, "cash", 700)
    sell(api, cut.id, 1, "wechat", 6800)
    screen = win.backoffice.reports
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT) as blocker:
        win.acts["reports"].trigger()
    report = blocker.args[0]
    assert report.totals.total == 7500
    t = screen.table
    last = t.rowCount() - 1
    assert t.item(last, 0).text() == "合计"
    assert t.item(last, 5).text() == "¥75.00"  # 实收
    assert t.item(last, 1).text() == "2"
    assert "实收 ¥75.00" in screen.summary.text()
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT):
        screen.choose("sales_payment")
    t = screen.table  # what each method took: 支付方式, 单数, 实收, 退款, 净额
    assert [t.horizontalHeaderItem(c).text() for c in range(3)] == ["支付方式", "单数", "实收"]
    labels = {t.item(r, 0).text(): t.item(r, 2).text() for r in range(t.rowCount() - 1)}
    assert sorted(labels.values()) == ["¥68.00", "¥7.00"]
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT):
        screen.choose("sales_product")
    t = screen.table
    rows = {t.item(r, 0).text(): (t.item(r, 2).text(), t.item(r, 5).text())
            for r in range(t.rowCount() - 1)}
    assert rows == {"可乐": ("2", "¥7.00"), "精剪": ("1", "¥68.00")}
    save_shot(win, screenshots / "backoffice_reports_1024x768.png")
    # the end before the start: the server's message
    screen.date_to.setDate(screen.date_from.date().addDays(-1))
    screen.run()
    qtbot.wait_until(lambda: len(services.dialogs.errors) == 1, timeout=WAIT)
    assert "结束日期不能早于开始日期" in services.dialogs.error_texts[0]
    assert screen.run_button.isEnabled()
