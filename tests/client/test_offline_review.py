"""Back office 离线单核对 and the offline line of the sales report, against the real server:
two sales made offline at the old price are replayed after the price went up; the screen lists
their differences in Chinese (newest first, by day), the report counts them."""

from __future__ import annotations

import datetime as dt
import uuid

from client.qt import QtCore
from server.clock import ShopClock

from .bo_helpers import WAIT, open_window, show
from .conftest import save_shot
from .test_strings import english_words, visible_texts


def replay(api, product_id: int, qty: int, amount: int, number: str, at: dt.datetime) -> str:
    """A sale the counter journaled offline at ``amount``, sent as the replay sends it."""
    sid = str(uuid.uuid4())
    sale = api.request("POST", "/sales", key=sid, body={
        "id": sid, "lines": [{"product_id": product_id, "qty": qty}],
        "payments": [{"method": "cash", "amount": amount}],
        "offline": {"number": number, "recorded_at": at.astimezone(dt.UTC).isoformat(),
                    "total": amount, "line_amounts": [amount]}})
    assert (sale["origin"], sale["offline_number"], sale["total"]) == ("offline", number, amount)
    return sale["number"]


def test_offline_review_lists_the_price_changes_in_chinese(qtbot, services, manager,
                                                           screenshots) -> None:
    win = open_window(qtbot, services, "mgr")
    api = services.api
    tea = api.create_product({"name": "绿茶", "price": 300})
    clock = ShopClock("")
    today = clock.today()
    yesterday = today - dt.timedelta(days=1)
    api.open_shift(0)  # the replayed sales go to it (else a 无班次 difference too)
    # the counter sold tea at 3.00 yesterday and today while no server answered; meanwhile
    # the tea went up to 4.00
    api.update_product(tea.id, {"price": 400})
    old = replay(api, tea.id, 2, 600, "01-L000001",
                 dt.datetime.combine(yesterday, dt.time(15, 0), tzinfo=clock.tz))
    new = replay(api, tea.id, 1, 300, "01-L000002", dt.datetime.now(dt.UTC)
                 - dt.timedelta(minutes=1))
    sid = str(uuid.uuid4())  # an online sale is not in the offline figures
    api.request("POST", "/sales", key=sid, body={
        "id": sid, "lines": [{"product_id": tea.id, "qty": 1}],
        "payments": [{"method": "wechat", "amount": 400}]})

    screen = show(qtbot, win, "offline_review")
    m = screen.model
    rows = [[m.data(m.index(r, c)) for c in range(m.columnCount())] for r in range(m.rowCount())]
    price = [r for r in rows if r[4] == "价格已变"]
    assert [(r[1], r[2], r[5], r[6]) for r in price] == [
        (new, "01-L000002", "¥3.00", "¥4.00"), (old, "01-L000001", "¥6.00", "¥8.00")]
    assert {r[4] for r in rows} == {"价格已变", "金额不同"}
    assert all("绿茶" in r[7] or r[4] == "金额不同" for r in rows)
    english = sorted({f"{n}: {t!r}" for n, t in visible_texts(screen) if english_words(t)})
    assert english == []
    qtbot.wait_exposed(win)
    save_shot(win, screenshots / "backoffice_offline_review_1024x768.png")

    # one day: only yesterday's sale
    screen.day.setDate(screen.day.date().addDays(-1))
    with qtbot.wait_signal(m.page_loaded, timeout=WAIT):
        screen.by_day.setChecked(True)
    assert {m.data(m.index(r, 1)) for r in range(m.rowCount())} == {old}
    with qtbot.wait_signal(m.page_loaded, timeout=WAIT):
        screen.by_day.setChecked(False)
    assert {m.data(m.index(r, 1)) for r in range(m.rowCount())} == {old, new}

    # the sales report: 3 sales, 2 of them offline (¥9.00), in every grouping
    for group in ("day", "payment", "serving"):
        report = api.sales_report(yesterday, today, group=group)
        assert (report.offline_sales, report.offline_total) == (2, 900), group
    assert api.sales_report(today, today).offline_sales == 1
    day = api.sales_report(yesterday, today)
    assert (day.totals.sales, day.totals.total) == (3, 1300)
    reports = win.backoffice.reports
    reports.date_from.setDate(QtCore.QDate(yesterday.year, yesterday.month, yesterday.day))
    with qtbot.wait_signal(reports.report_loaded, timeout=WAIT):
        win.acts["reports"].trigger()
    assert "其中离线单 2 笔 ¥9.00" in reports.summary.text()
    with qtbot.wait_signal(reports.report_loaded, timeout=WAIT):
        reports.date_from.setDate(reports.date_to.date())
        reports.run()
    assert "其中离线单 1 笔 ¥3.00" in reports.summary.text()
