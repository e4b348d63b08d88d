"""The owner's reports on paper and in files (issue #17): the owner picks 上月 (last month),
sees the payment mix as a chart, prints it on A4 (through ``QPrinter``, to a PDF file here:
no printer needed) and exports it to Excel; the PDF's text and the workbook's cells are read
back and equal the server's figures."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import openpyxl
import pypdf
import pytest

from client.backoffice.reports import preset_period
from client.qt import QtCharts, QtWidgets
from client.reports.render import a4_printer
from common.money import format_fen
from common.schemas.base import Role
from common.schemas.sales import SaleIn
from server.clock import shop_clock
from server.domain import sales as sales_domain
from server.domain.audit import Actor
from tests.conftest import TEST_PASSWORD
from tests.test_owner_reports import mgr, shop_data  # noqa: F401 - fixtures: a day of a shop

from .bo_helpers import WAIT, RecordingFiles, open_window
from .conftest import save_shot


def pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(str(path)).pages)


def flat(text: str) -> str:
    return "".join(text.split())  # a PDF's text comes in runs with spaces and breaks


@pytest.fixture
def last_month_sales(app, manager):
    """Six sales on three days of last month: cash, WeChat, Alipay and a member's stored
    value (¥300 recharged this month); the haircuts served by the manager."""
    state = app.extensions["lanpos"]
    clock = shop_clock(state.config)
    a, b = preset_period("last_month", dt.date.today())
    client = app.test_client()
    h = {"Authorization": f"Bearer {manager.token}"}

    def post(path, body):
        r = client.post(f"/api/v1{path}", json=body,
                        headers={**h, "Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code in (200, 201), r.get_json()
        return r.get_json()

    post("/shifts", {"float_amount": 0})  # recharges and sales need the counter's shift
    tea = post("/products", {"name": "绿茶", "price": 500, "cost": 300})
    cut = post("/products", {"name": "精剪", "kind": "service", "price": 6800})
    member = post("/members", {"name": "方强", "phone": "13800138000"})
    post(f"/members/{member['id']}/recharges", {"amount": 30000, "method": "cash"})
    actor = Actor(staff_id=manager.id, username=manager.username, role=Role.MANAGER,
                  counter="01", ip=None)
    plan = [(a, tea, 2, "cash", None), (a, cut, 1, "wechat", None),
            (a + dt.timedelta(days=1), cut, 1, "stored_value", member["id"]),
            (a + dt.timedelta(days=1), tea, 4, "alipay", None),
            (b, cut, 2, "wechat", None), (b, tea, 1, "cash", None)]
    with state.session_factory() as s:
        for day, product, qty, method, mid in plan:
            price = product["price"] * qty
            line = {"product_id": product["id"], "qty": qty}
            if product is cut:  # served by the manager (员工业绩)
                line["staff"] = [{"staff_id": manager.id, "share_bp": 10000}]
            body = {"id": str(uuid.uuid4()), "member_id": mid, "lines": [line],
                    "payments": [{"method": method, "amount": price}]}
            sales_domain.create_sale(s, actor, state.passwords, SaleIn.model_validate(body),
                                     clock=clock, at=dt.datetime.combine(day, dt.time(11)))
        s.commit()
    return a, b


def test_last_month_payment_mix_printed_and_exported(qtbot, services, owner, last_month_sales,
                                                     tmp_path, screenshots) -> None:
    a, b = last_month_sales
    win = open_window(qtbot, services, "boss")
    screen = win.backoffice.reports
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT):
        win.acts["reports"].trigger()
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT):
        screen.list.setCurrentRow(next(i for i in range(screen.list.count())
                                       if screen.list.item(i).text() == "支付方式汇总"))
    with qtbot.wait_signal(screen.doc_shown, timeout=WAIT) as shown:
        screen.preset.setCurrentIndex(screen.preset.findText("上月"))
    doc = shown.args[0]
    rep = services.api.sales_report(a, b, "payment")
    assert screen.report == rep
    by_method = {r.key: r.total for r in rep.rows}
    assert by_method == {"cash": 1500, "wechat": 6800 + 13600, "alipay": 2000,
                         "stored_value": 6800}
    # the chart: one slice per method, each the method's takings
    assert len(screen.view.charts) == 1
    pie = screen.view.charts[0].chart().series()[0]
    assert isinstance(pie, QtCharts.QPieSeries)
    assert sorted(round(sl.value() * 100) for sl in pie.slices()) == sorted(by_method.values())
    assert any(sl.label().startswith("微信 ¥204.00") for sl in pie.slices())
    # the page: shop, title, period, printed by, every method and the total
    shop = services.api.shop_settings().name
    assert (doc.shop, doc.period, doc.printed_by) == (shop, f"{a} 至 {b}", "测试店主")
    save_shot(win, screenshots / "report_payment_mix_1024x768.png")
    win.resize(1920, 1080)
    save_shot(win, screenshots / "report_payment_mix_1920x1080.png")
    win.resize(1024, 768)

    # 打印: the print dialog's printer is a PDF file here
    printed = tmp_path / "printed.pdf"
    screen.view.pick_printer = lambda _parent: a4_printer(printed)
    with qtbot.wait_signal(screen.view.printed, timeout=WAIT):
        screen.view.print_button.click()
    text = flat(pdf_text(printed))
    for expected in (shop, "支付方式汇总", f"{a}至{b}", "制表人", "测试店主", "现金", "微信",
                     "支付宝", "储值", format_fen(rep.totals.total), format_fen(20400)):
        assert flat(expected) in text, expected
    page = pypdf.PdfReader(str(printed)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert "/Image" in str(page["/Resources"]["/XObject"][next(iter(
        page["/Resources"]["/XObject"]))]["/Subtype"])  # the chart is on the page

    # 导出 Excel: the same figures, money as exact yuan
    xlsx = tmp_path / "payment.xlsx"
    screen.files = RecordingFiles(save_path=xlsx)
    screen.view.xlsx_button.click()
    assert xlsx.exists()
    ws = openpyxl.load_workbook(xlsx).active
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert shop in str(cells[0][0]) and "支付方式汇总" in str(cells[0][0])
    assert [f"{a} 至 {b}"] == [r[1] for r in cells if r[0] == "期间"]
    header = next(i for i, r in enumerate(cells) if r[:3] == ["支付方式", "单数", "实收"])
    body = {r[0]: r[2] for r in cells[header + 1:header + 1 + len(rep.rows)]}
    labels = {"cash": "现金", "wechat": "微信", "alipay": "支付宝", "stored_value": "储值"}
    assert {k: round(Decimal(str(body[labels[k]])) * 100) for k in by_method} == by_method
    total_row = cells[header + 1 + len(rep.rows)]
    assert total_row[0] == "合计"
    assert round(Decimal(str(total_row[2])) * 100) == rep.totals.total

    # 导出 PDF from the table's right-click menu, same text as the printed page
    pdf = tmp_path / "payment.pdf"
    screen.files = RecordingFiles(save_path=pdf)
    menu = screen.view.context_menu(screen.table)
    actions = {act.text(): act for act in menu.actions()}
    assert list(actions) == ["复制", "打印…", "导出 PDF", "导出 Excel"]
    actions["导出 PDF"].trigger()
    assert flat(format_fen(rep.totals.total)) in flat(pdf_text(pdf))
    # 复制: the table as tab-separated text with its headings
    copied = screen.view.copy(screen.table)
    assert copied.splitlines()[0].split("\t")[:3] == ["支付方式", "单数", "实收"]
    assert QtWidgets.QApplication.clipboard().text() == copied


def test_every_sales_report_has_a_chart_and_prints(qtbot, services, owner, last_month_sales,
                                                   tmp_path, screenshots) -> None:
    """Each sales grouping over last month: a chart, the table's totals row = the server's
    totals, and an A4 page that has the totals on it."""
    a, b = last_month_sales
    win = open_window(qtbot, services, "boss")
    screen = win.backoffice.reports
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT):
        win.acts["reports"].trigger()
    screen.preset.blockSignals(True)
    screen.preset.setCurrentIndex(screen.preset.findText("上月"))
    screen.preset.blockSignals(False)
    screen._preset_chosen()
    qtbot.wait_until(lambda: screen.doc is not None and screen.doc.period == f"{a} 至 {b}",
                     timeout=WAIT)
    for key in ("sales_day", "sales_hour", "sales_product", "sales_category", "sales_staff",
                "sales_month", "sales_serving"):
        with qtbot.wait_signal(screen.doc_shown, timeout=WAIT) as shown:
            screen.choose(key)
        doc = shown.args[0]
        rep = screen.report
        assert screen.view.charts, key
        last = screen.table.rowCount() - 1
        assert screen.table.item(last, 0).text() == "合计", key
        net_col = [c.key for c in doc.tables[0].columns].index("net")
        assert screen.table.item(last, net_col).text() == format_fen(rep.totals.net), key
        if key != "sales_serving":
            assert rep.totals.total == 1000 + 6800 + 6800 + 2000 + 13600 + 500, key
        out = tmp_path / f"{key}.pdf"
        screen.view.print_to(a4_printer(out))
        assert flat(format_fen(rep.totals.net)) in flat(pdf_text(out)), key
        save_shot(win, screenshots / f"report_{key}_1024x768.png")
    # 数量 in the day view: the units sold (2 + 1 + 1 + 4 + 2 + 1)
    with qtbot.wait_signal(screen.doc_shown, timeout=WAIT):
        screen.choose("sales_day")
    qty_col = [c.key for c in screen.doc.tables[0].columns].index("qty")
    assert screen.table.item(screen.table.rowCount() - 1, qty_col).text() == "11"


def test_day_close_on_a4_and_on_the_receipt_printer(qtbot, services, owner, manager,
                                                    open_counter, printer, tmp_path,
                                                    screenshots) -> None:
    """交班与日结: a shift with two sales is handed over; the day close shows it, prints on
    A4 (PDF here) and on the receipt printer (the virtual printer gets the ESC/POS bytes)."""
    from tests.support.escpos_decoder import decode

    api = services.api
    api.login("mgr", TEST_PASSWORD)
    shift = api.open_shift(5000)
    tea = api.create_product({"name": "绿茶", "price": 500})
    for method, amount in (("cash", 1000), ("wechat", 1500)):
        sid = str(uuid.uuid4())
        api.request("POST", "/sales", key=sid, body={
            "id": sid, "lines": [{"product_id": tea.id, "qty": amount // 500}],
            "payments": [{"method": method, "amount": amount}]})
    closed = api.close_shift(shift.id, {100: 60})  # ¥60: float 50 + cash 10
    assert closed.expected_cash == 6000 and closed.difference == 0
    win = open_counter("boss", focus=False)
    screen = win.backoffice.reports
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT):
        win.acts["reports"].trigger()
    with qtbot.wait_signal(screen.doc_shown, timeout=WAIT) as shown:
        screen.choose("day_close")
    doc = shown.args[0]
    rep = screen.report
    assert (rep.sales_total, rep.expected_cash, rep.counted_cash) == (2500, 6000, 6000)
    assert not screen.date_from.isVisible() and screen.receipt_button.isVisible()
    shifts = screen.table
    assert shifts.item(0, 1).text() == "测试店长"
    assert shifts.item(shifts.rowCount() - 1, 5).text() == "¥25.00"  # 销售额, 合计
    save_shot(win, screenshots / "report_day_close_1024x768.png")
    out = tmp_path / "z.pdf"
    screen.view.print_to(a4_printer(out))
    text = flat(pdf_text(out))
    for expected in ("交班与日结", doc.period, "测试店长", "¥25.00", "¥60.00", "现金", "微信"):
        assert flat(expected) in text, expected
    # the receipt printer: 日结报表 with the day's figures
    with qtbot.wait_signal(screen.receipt_printed, timeout=WAIT) as job:
        screen.receipt_button.click()
    assert job.args[0] is not None and job.args[0].state == "printed"
    receipt = decode(printer.wait_for_jobs(1, timeout=10)[0], "gbk").text
    for expected in ("日结报表", f"营业日：{rep.business_date}", "收银台：全部", "25.00",
                     "60.00", "现金", "微信"):
        assert expected in receipt, (expected, receipt)


def test_stored_value_liability_on_the_page_is_every_members_balance(
        qtbot, services, owner, last_month_sales, app, tmp_path, screenshots) -> None:
    """The Done-when's last clause: the stored-value liability on the printed page and in the
    workbook equals the sum of every member's balance (and of the stored-value ledger)."""
    from sqlalchemy import text

    api = services.api
    api.login("mgr", TEST_PASSWORD)
    for name, phone, amount in (("李娜", "13900139000", 20000), ("王芳", "13700137000", 5500)):
        m = api.create_member({"name": name, "phone": phone})
        api.recharge(m.id, amount, "wechat")
    state = app.extensions["lanpos"]
    with state.session_factory() as s:
        balances = s.execute(text(
            "SELECT SUM(sv_principal), SUM(sv_bonus) FROM members")).one()
        ledger = s.execute(text(
            "SELECT SUM(principal_change), SUM(bonus_change) FROM stored_value_ledger")).one()
    principal, bonus = int(balances[0]), int(balances[1] or 0)
    assert (principal, bonus) == (int(ledger[0]), int(ledger[1] or 0))
    assert principal + bonus == 30000 - 6800 + 20000 + 5500  # the fixture's member spent 68
    win = open_window(qtbot, services, "boss")
    screen = win.backoffice.reports
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT):
        win.acts["reports"].trigger()
    with qtbot.wait_signal(screen.doc_shown, timeout=WAIT) as shown:
        screen.choose("members")
    doc = shown.args[0]
    owed = format_fen(principal + bonus)
    assert ("储值余额（店铺欠会员）", owed) in doc.headline
    assert screen.table.item(screen.table.rowCount() - 1, 1).text() == owed
    # the liability pie; members vs walk-ins has nothing to draw (no sale this month)
    assert [v.chart().title() for v in screen.view.charts] == ["储值余额：本金与赠送"]
    save_shot(win, screenshots / "report_members_1024x768.png")
    out = tmp_path / "members.pdf"
    screen.view.print_to(a4_printer(out))
    assert flat(f"储值余额（店铺欠会员）{owed}") in flat(pdf_text(out))
    xlsx = tmp_path / "members.xlsx"
    screen.files = RecordingFiles(save_path=xlsx)
    screen.view.export_xlsx()
    cells = [[c.value for c in row] for row in openpyxl.load_workbook(xlsx).active.iter_rows()]
    start = next(i for i, r in enumerate(cells) if r[0] == "储值余额（现在）")
    table = cells[start + 2:start + 5]  # 本金, 赠送, 合计
    assert [r[0] for r in table] == ["本金", "赠送", "合计"]
    assert [round(Decimal(str(r[1])) * 100) for r in table] == [principal, bonus,
                                                                 principal + bonus]


@pytest.mark.usefixtures("shop_data")
def test_count_cards_stock_exceptions_member_lists_and_attendance_pages(
        qtbot, services, tmp_path, screenshots) -> None:
    """The owner's other reports on screen and on A4, over a day of a small shop
    (``tests/test_owner_reports.py``'s data): each page's totals are the server's."""
    api = services.api
    win = open_window(qtbot, services, "boss")
    screen = win.backoffice.reports
    with qtbot.wait_signal(screen.report_loaded, timeout=WAIT):
        win.acts["reports"].trigger()
    period = screen.period()

    def page(key: str):
        with qtbot.wait_signal(screen.doc_shown, timeout=WAIT) as shown:
            screen.choose(key)
        out = tmp_path / f"{key}.pdf"
        screen.view.print_to(a4_printer(out))
        save_shot(win, screenshots / f"report_{key}_1024x768.png")
        return shown.args[0], flat(pdf_text(out))

    def totals_row(col: str, table: int = 0) -> str:
        t = screen.view.tables[table]
        keys = [c.key for c in screen.doc.tables[table].columns]
        return t.item(t.rowCount() - 1, keys.index(col)).text()

    cards = api.count_card_report(period.date_from, period.date_to)
    doc, text = page("count_cards")
    assert totals_row("value_left") == format_fen(cards.totals.value_left)
    assert totals_row("uses_left") == str(cards.totals.uses_left)
    assert flat(format_fen(cards.totals.value_left)) in text and screen.view.charts
    stock = api.stock_report(period.date_from, period.date_to)
    doc, text = page("stock")
    assert ("库存成本金额", format_fen(stock.value_at_cost)) in doc.headline
    assert totals_row("value") == format_fen(stock.categories_total.value)
    assert [r["name"] for r in doc.tables[1].rows] == [r.name for r in stock.low_stock]
    assert totals_row("net", 2) == str(stock.movements_total.net)
    assert flat(format_fen(stock.value_at_cost)) in text
    exc = api.exceptions_report(period.date_from, period.date_to)
    doc, text = page("exceptions")
    assert [r["reason"] for r in doc.tables[0].rows] == [r.reason for r in exc.refunds]
    assert totals_row("total") == format_fen(exc.refund_total)
    assert {r["approved_by"] for r in doc.tables[0].rows} == {r.approved_by
                                                              for r in exc.refunds}
    assert [r["kind"] for r in doc.tables[2].rows] == [
        {"coupon": "优惠券", "count_card": "次卡"}[v.kind] for v in exc.voids]
    assert flat("顾客退货") in text and flat("发错了") in text
    new = api.member_list("new", page_size=200, date_from=period.date_from,
                          date_to=period.date_to)
    doc, text = page("member_list")
    assert [r["name"] for r in doc.tables[0].rows] == [m.name for m in new.items]
    assert all("****" in (r["phone"] or "****") for r in doc.tables[0].rows)
    assert "13912345678" not in text and flat("王芳") in text
    with qtbot.wait_signal(screen.doc_shown, timeout=WAIT) as shown:
        screen.kind.setCurrentIndex(screen.kind.findData("dormant"))
        screen.run()
    assert screen.days.isVisible() and shown.args[0].tables[0].title == "60 天未到店的会员"
    month = api.attendance_summary(period.date_to.strftime("%Y-%m"))
    doc, text = page("attendance")
    assert doc.period == month.month and screen.date_to.displayFormat() == "yyyy-MM"
    assert [r["name"] for r in doc.tables[0].rows] == [r.display_name for r in month.staff]
