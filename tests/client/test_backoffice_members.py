"""Back office 会员 against the real server: the list pages on the server (proved by the
requests that went over the wire), one search box, create/edit, the member detail with its
ledgers, stored-value and points adjustments with a required reason (ledger and audit rows in
the database), import with a dry-run preview."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from client.qt import Qt, QtWidgets
from client.widgets.context import Services
from server.db.members import Member, PointsLedger, StoredValueLedger
from server.db.models import AuditLog

from .bo_helpers import PAGE, WAIT, RecordingFiles, dialog_shot, open_window, show
from .conftest import save_shot


def click(qtbot, w) -> None:
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton)


def member_requests(proxy) -> list[dict[str, list[str]]]:
    """Query strings of the GET /members list requests that reached the server."""
    out = []
    for line, _key in list(proxy.requests):
        method, target, _ = line.split(" ", 2)
        parts = urlsplit(target)
        if method == "GET" and parts.path == "/api/v1/members":
            out.append(parse_qs(parts.query))
    return out


@pytest.fixture
def proxied(proxy, runner, dialogs, make_api) -> Services:
    """Services whose API goes through the recording proxy (the real server behind it)."""
    return Services(api=make_api([proxy.url], counter="01"), runner=runner, dialogs=dialogs)


def test_member_list_fetches_one_page_at_a_time(qtbot, proxied, proxy, owner, screenshots
                                                ) -> None:
    api = proxied.api
    api.login("boss", "secret123")
    total = 3 * PAGE + 5
    for i in range(total):
        api.create_member({"name": f"会员{i:02d}", "phone": f"1380013{i:04d}"})
    api.create_member({"name": "张三丰", "phone": "13912345678"})
    win = open_window(qtbot, proxied, "boss")
    screen = show(qtbot, win, "members")
    model = screen.model
    assert model.rowCount() == PAGE and model.has_more  # one page, not the whole table
    qtbot.wait_until(lambda: not model.loading, timeout=WAIT)
    reqs = member_requests(proxy)
    # every request asked for one page of PAGE rows, pages in order, none twice
    assert all(r["page_size"] == [str(PAGE)] for r in reqs)
    pages = [int(r["page"][0]) for r in reqs]
    assert pages == list(range(1, len(pages) + 1))
    assert len(pages) <= 2  # only what the view shows (the first screenful)
    assert model.rowCount() == PAGE * len(pages)
    # scrolling to the end fetches the next page, one at a time
    while model.has_more:
        before = len(member_requests(proxy))
        with qtbot.wait_signal(model.page_loaded, timeout=WAIT):
            screen.list.table.scrollToBottom()
            model.fetchMore()
        assert len(member_requests(proxy)) == before + 1
    assert model.rowCount() == total + 1
    assert [int(r["page"][0]) for r in member_requests(proxy)] == [1, 2, 3, 4]
    assert f"共 {total + 1} 条" in screen.list.footer.text()
    # one search box: last four digits of the phone, searched on the server
    with qtbot.wait_signal(model.page_loaded, timeout=WAIT):
        qtbot.keyClicks(screen.search, "5678")
    assert [m.name for m in model.items] == ["张三丰"]
    assert member_requests(proxy)[-1]["q"] == ["5678"]
    with qtbot.wait_signal(model.page_loaded, timeout=WAIT):
        screen.search.clear()
    qtbot.wait_until(lambda: not model.loading, timeout=WAIT)
    save_shot(win, screenshots / "backoffice_members_1024x768.png")


def test_create_and_edit_member(qtbot, services, manager, db_session) -> None:
    api = services.api
    win = open_window(qtbot, services, "mgr")
    gold = api.create_level({"name": "金卡", "rank": 2, "discount_bp": 9000})
    screen = show(qtbot, win, "members")
    qtbot.wait_until(lambda: len(screen.levels) == 1, timeout=WAIT)
    dlg = screen.new()
    qtbot.addWidget(dlg)
    dlg.name.setText("李四")
    qtbot.keyClicks(dlg.phone, "1381234")  # too short: the server's message by the field
    dlg.level.setCurrentIndex(dlg.level.findData(gold.id))
    dlg.birthday.setText("1990-02-30")
    click(qtbot, dlg.save_button)
    assert dlg.field_errors["birthday"].text() == "日期格式应为 2024-05-01"
    dlg.birthday.setText("1990-02-28")
    click(qtbot, dlg.save_button)
    qtbot.wait_until(lambda: len(services.dialogs.errors) == 1, timeout=WAIT)
    assert services.dialogs.errors[0].code == "validation_error"
    assert not dlg.field_errors["phone"].isHidden() and dlg.field_errors["phone"].text()
    dlg.phone.setText("13812345678")
    dlg.tags.setText("VIP，常客")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT) as blocker:
        click(qtbot, dlg.save_button)
    m = blocker.args[0]
    row = db_session.get(Member, m.id)
    assert (row.name, row.phone, row.level_id, row.tags) == ("李四", "13812345678", gold.id,
                                                             ["VIP", "常客"])
    qtbot.wait_until(lambda: any(x.id == m.id for x in screen.model.items), timeout=WAIT)
    edit = screen.edit(next(x for x in screen.model.items if x.id == m.id))
    qtbot.addWidget(edit)
    edit.notes.setText("喜欢安静")
    with qtbot.wait_signal(edit.saved, timeout=WAIT):
        click(qtbot, edit.save_button)
    assert edit._last[0] == {"notes": "喜欢安静"}  # only the change is sent
    qtbot.wait_until(lambda: any(x.notes == "喜欢安静" for x in screen.model.items),
                     timeout=WAIT)


def test_adjust_stored_value_with_reason_writes_ledger_and_audit(qtbot, services, manager,
                                                                 db_session,
                                                                 screenshots) -> None:
    api = services.api
    win = open_window(qtbot, services, "mgr")
    m = api.create_member({"name": "王五", "phone": "13700001111"})
    screen = show(qtbot, win, "members")
    screen.list.table.selectRow(0)
    detail = screen.detail()
    qtbot.addWidget(detail)
    qtbot.wait_until(lambda: detail.ledgers["stored_value"].pages_loaded == 1, timeout=WAIT)
    assert detail.ledgers["stored_value"].rowCount() == 0
    dlg = detail.adjust_stored_value()
    qtbot.addWidget(dlg)
    qtbot.keyClicks(dlg.principal, "50")
    qtbot.keyClicks(dlg.bonus, "-0")
    click(qtbot, dlg.save_button)  # no reason: refused next to the field, nothing sent
    assert dlg.field_errors["reason"].text() == "必填"
    assert not dlg.field_errors["reason"].isHidden()
    assert db_session.scalar(select(func.count()).select_from(StoredValueLedger)) == 0
    dlg.reason.setText("系统迁移补录")
    dialog_shot(dlg, screenshots / "backoffice_stored_value_adjust_dialog.png")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT) as blocker:
        click(qtbot, dlg.save_button)
    assert blocker.args[0].stored_value == 5000
    db_session.rollback()  # a new snapshot (REPEATABLE READ)
    led = db_session.scalars(select(StoredValueLedger).where(
        StoredValueLedger.member_id == m.id)).all()
    assert [(e.kind, e.principal_change, e.bonus_change, e.principal_after) for e in led] == [
        ("adjust", 5000, 0, 5000)]
    audit = db_session.scalars(select(AuditLog).where(
        AuditLog.action == "stored_value.adjust", AuditLog.entity_id == str(m.id))).all()
    assert len(audit) == 1 and audit[0].reason == "系统迁移补录"
    assert audit[0].username == "mgr"
    # the detail shows the new balance and the ledger row
    qtbot.wait_until(lambda: "储值 ¥50.00" in detail.summary.text(), timeout=WAIT)
    model = detail.ledgers["stored_value"]
    qtbot.wait_until(lambda: model.rowCount() == 1, timeout=WAIT)
    assert [model.data(model.index(0, c)) for c in (1, 2, 4)] == ["手工调整", "+¥50.00",
                                                                 "¥50.00"]
    # points: the same, on the points tab
    pts = detail.adjust_points()
    qtbot.addWidget(pts)
    pts.change.setText("-5")
    pts.reason.setText("测试")
    click(qtbot, pts.save_button)  # more than the member has: the server's message
    qtbot.wait_until(lambda: len(services.dialogs.errors) == 1, timeout=WAIT)
    assert services.dialogs.errors[0].status in (409, 422)
    pts.change.setText("120")
    pts.reason.setText("生日赠送")
    with qtbot.wait_signal(pts.saved, timeout=WAIT):
        click(qtbot, pts.save_button)
    pmodel = detail.ledgers["points"]
    qtbot.wait_until(lambda: pmodel.rowCount() == 1, timeout=WAIT)
    assert detail.tabs.currentIndex() == 1
    assert pmodel.data(pmodel.index(0, 2)) == "+120"
    db_session.rollback()
    assert db_session.scalar(select(PointsLedger.balance_after).where(
        PointsLedger.member_id == m.id)) == 120
    qtbot.wait_until(lambda: screen.model.items and screen.model.items[0].points == 120,
                     timeout=WAIT)
    detail.tabs.setCurrentIndex(0)
    win.resize(1024, 768)
    QtWidgets.QApplication.processEvents()
    save_shot(detail, screenshots / "backoffice_member_detail_dialog.png")


def test_import_members_preview_then_commit(qtbot, services, manager, db_session,
                                            tmp_path) -> None:
    win = open_window(qtbot, services, "mgr")
    screen = show(qtbot, win, "members")
    bad = tmp_path / "members.csv"
    bad.write_text("姓名,手机号,储值余额,积分\n赵六,13600001234,100,50\n孙七,12345,,\n",
                   encoding="utf-8")
    screen.files = RecordingFiles(open_path=bad)
    dlg = screen.import_members()
    qtbot.addWidget(dlg)
    with qtbot.wait_signal(dlg.checked, timeout=WAIT):
        dlg.choose()
    assert dlg.errors.rowCount() == 1 and dlg.errors.item(0, 0).text() == "3"
    assert dlg.errors.item(0, 1).text()  # the server's reason
    assert not dlg.commit_button.isEnabled()
    assert db_session.scalar(select(func.count()).select_from(Member)) == 0
    bad.write_text("姓名,手机号,储值余额,积分\n赵六,13600001234,100,50\n孙七,13600005678,,\n",
                   encoding="utf-8")
    with qtbot.wait_signal(dlg.checked, timeout=WAIT):
        dlg.choose()
    assert dlg.commit_button.isEnabled()
    with qtbot.wait_signal(dlg.imported, timeout=WAIT):
        click(qtbot, dlg.commit_button)
    db_session.rollback()
    rows = {m.name: m for m in db_session.scalars(select(Member))}
    assert set(rows) == {"赵六", "孙七"} and rows["赵六"].sv_principal == 10000
    qtbot.wait_until(lambda: screen.model.rowCount() == 2, timeout=WAIT)
