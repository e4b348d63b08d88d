"""Attendance (考勤) in the client against the real server: the counter's 考勤打卡 dialog clocks
a staff member in with their own PIN (another person's is refused), the back-office 考勤
screen shows the server's month, a staff member's days and takes a correction; the summary
as a report document."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from client.backoffice.attendance import (
    AttendanceScreen,
    CorrectionDialog,
    attendance_doc,
    hours,
    summary_cells,
)
from client.counter.attendance import ClockDialog
from client.qt import Qt
from common.schemas.attendance import SummaryOut
from common.schemas.base import Role
from server.clock import shop_clock
from server.db.attendance import AttendancePunch
from server.db.models import AuditLog
from server.domain import attendance
from server.domain import staff as staff_domain
from server.domain.actor import Actor
from tests.conftest import TEST_PASSWORD

from .bo_helpers import WAIT, dialog_shot, open_window
from .conftest import save_shot


def _pin(app, staff_id: int, pin: str) -> None:
    state = app.extensions["lanpos"]
    with state.session_factory() as s:
        staff_domain.set_pin(staff_domain.get(s, staff_id), state.passwords, pin)
        s.commit()


def _punches(db_session, staff_id: int) -> list[AttendancePunch]:
    db_session.rollback()  # a fresh snapshot (REPEATABLE READ)
    return list(db_session.scalars(select(AttendancePunch)
                                   .where(AttendancePunch.staff_id == staff_id)))


def test_the_counter_dialog_clocks_in_with_the_own_pin(qtbot, app, open_counter, shift_open,
                                                       make_staff, cashier, db_session,
                                                       screenshots):
    anna = make_staff(Role.CASHIER, "anna")
    _pin(app, anna.id, "2468")
    _pin(app, cashier.id, "1357")
    win = open_counter("cash")
    opened: list = []
    win.counter.dialog_opened.connect(opened.append)
    win.counter.acts["attendance"].trigger()
    qtbot.wait_until(lambda: bool(opened), timeout=5000)
    dlg = opened[-1]
    assert isinstance(dlg, ClockDialog) and dlg.windowTitle() == "考勤打卡"
    qtbot.wait_until(lambda: dlg.username.count() >= 2, timeout=WAIT)
    assert any("anna" in dlg.username.itemText(i) and "未上班" in dlg.username.itemText(i)
               for i in range(dlg.username.count()))
    # the cashier at the counter tries anna with the cashier's own PIN: refused
    dlg.choose("anna")
    qtbot.keyClicks(dlg.secret, "1357")
    dlg.buttons["in"].click()
    qtbot.wait_until(lambda: "PIN" in dlg.error.text(), timeout=WAIT)
    assert "本人" in dlg.error.text() and dlg.result.text() == ""
    assert dlg.secret.text() == ""  # cleared for the next try
    assert _punches(db_session, anna.id) == []
    # anna types her own PIN; Enter does what her state suggests: 上班
    dlg.choose("anna")
    qtbot.keyClicks(dlg.secret, "2468")
    with qtbot.wait_signal(dlg.clocked, timeout=WAIT) as done:
        qtbot.keyClick(dlg.secret, Qt.Key.Key_Return)
    res = done.args[0]
    assert res.username == "anna" and res.action == "in" and res.state == "working"
    assert "上班" in dlg.result.text() and res.local_time.strftime("%H:%M") in dlg.result.text()
    rows = _punches(db_session, anna.id)
    assert [(p.kind, p.recorded_by, p.counter) for p in rows] == [("in", cashier.id, "01")]
    # the list shows her at work now
    qtbot.wait_until(lambda: dlg.state_of("anna") == "working", timeout=WAIT)
    dialog_shot(dlg, screenshots / "attendance_clock_dialog.png")
    # typing the username works as well as picking it
    dlg.username.setEditText("anna")
    qtbot.keyClicks(dlg.secret, TEST_PASSWORD)
    with qtbot.wait_signal(dlg.clocked, timeout=WAIT) as done:
        dlg.buttons["break_start"].click()
    assert done.args[0].state == "break" and "开始休息" in dlg.result.text()
    dlg.accept()


JUNE = "2025-06"


@pytest.fixture
def june(app, make_staff, owner):
    """anna's June 2025: planned 09:00–18:00 on the 2nd–4th; in late on the
    3rd, no clock-out on the 4th."""
    anna = make_staff(Role.CASHIER, "anna")
    state = app.extensions["lanpos"]
    config = state.config
    clock = shop_clock(config)
    actor = Actor(staff_id=owner.id, username="boss", role=Role.OWNER, counter="01")
    from common.schemas.attendance import PlanIn

    with state.session_factory() as s:
        attendance.set_plans(s, actor, PlanIn(
            staff_id=anna.id, dates=[dt.date(2025, 6, d) for d in (2, 3, 4)],
            start=dt.time(9), end=dt.time(18), break_minutes=60))
        for day, acts in ((2, [("in", "09:00"), ("out", "18:00")]),
                          (3, [("in", "09:30"), ("out", "18:00")]),
                          (4, [("in", "09:00")])):
            for action, hhmm in acts:
                t = dt.datetime.combine(dt.date(2025, 6, day), dt.time.fromisoformat(hhmm))
                attendance.clock_action(s, actor, state.passwords, state.auth_policy, clock,
                                        "anna", TEST_PASSWORD, action, now=clock.to_stored(t))
        s.commit()
    return anna


def test_the_back_office_screen_shows_the_servers_month(qtbot, services, june, owner,
                                                        db_session, screenshots):
    win = open_window(qtbot, services, "boss")
    screen = win.backoffice.attendance
    assert isinstance(screen, AttendanceScreen)
    with qtbot.wait_signal(screen.summary_loaded, timeout=WAIT):
        win.acts["attendance"].trigger()
    with qtbot.wait_signal(screen.summary_loaded, timeout=WAIT):
        screen.set_month(JUNE)
    assert screen.month_label.text() == "2025-06 考勤"
    server = services.api.attendance_summary(JUNE)
    row = next(r for r in server.staff if r.staff_id == june.id)
    assert (row.days_worked, row.worked_minutes, row.late, row.late_minutes,
            row.missing_out) == (3, 540 + 510, 1, 30, 1)
    # the table shows the server's figures, row by row
    table = screen.table
    assert table.rowCount() == len(server.staff)
    i = [r.staff_id for r in server.staff].index(june.id)
    cells = [table.item(i, c).text() for c in range(table.columnCount())]
    assert cells == summary_cells(row)
    assert cells[3] == "17:30" and cells[4] == "1 次 / 30 分钟" and cells[6] == "1"
    assert table.horizontalHeaderItem(6).text() == "缺下班卡"
    # her days
    with qtbot.wait_signal(screen.days_loaded, timeout=WAIT):
        screen.select_staff(june.id)
    days = screen.days
    assert days is not None and [d.date.day for d in days.days] == [2, 3, 4]
    assert screen.day_table.item(1, 4).text() == "30 分钟"
    assert screen.day_table.item(2, 6).text() == "缺下班卡"
    assert screen.day_table.item(0, 2).text() == "上09:00 下18:00"
    save_shot(win, screenshots / "attendance_backoffice.png")
    # the manager's correction: the missing clock-out of the 4th, with a reason
    screen.select_day(dt.date(2025, 6, 4))
    dlg = screen.correct()
    assert isinstance(dlg, CorrectionDialog)
    dlg.kind.setCurrentIndex(dlg.kind.findData("out"))
    dlg.at.setText("2025-06-04 17:00")
    dlg.submit()  # without a reason: the server's message under the field
    qtbot.wait_until(lambda: dlg.field_errors["reason"].isVisible(), timeout=WAIT)
    dlg.reason.setText("忘记打下班卡")
    with qtbot.wait_signal(screen.summary_loaded, timeout=WAIT):
        dlg.submit()
    dialog_shot(dlg, screenshots / "attendance_correction.png")
    qtbot.wait_until(lambda: screen.table.item(i, 6).text() == "", timeout=WAIT)
    after = next(r for r in services.api.attendance_summary(JUNE).staff
                 if r.staff_id == june.id)
    assert after.missing_out == 0 and after.corrections == 1
    assert after.worked_minutes == row.worked_minutes + 480
    assert screen.table.item(i, 3).text() == hours(after.worked_minutes) == "25:30"
    entry = db_session.scalars(select(AuditLog).where(
        AuditLog.action == "attendance.correct")).one()
    assert entry.reason == "忘记打下班卡" and entry.after["at"] == "2025-06-04 17:00:00"


def test_the_summary_as_a_report_document(client, june, owner):
    r = client.get(f"/api/v1/attendance/summary?month={JUNE}", headers=owner.headers)
    summary = SummaryOut.model_validate(r.get_json())
    doc = attendance_doc(summary, shop="丽人美发", printed_by="boss",
                         printed_at=dt.datetime(2025, 7, 1, 9, 0))
    assert doc.title == "考勤月报" and doc.period == JUNE and doc.shop == "丽人美发"
    assert doc.file_stem == "考勤月报_2025-06"
    (table,) = doc.tables
    assert [r["name"] for r in table.rows] == [s.display_name for s in summary.staff]
    anna = next(r for r in table.rows if r["worked_minutes"] == 1050)
    assert (anna["days_worked"], anna["late"], anna["late_minutes"], anna["missing_out"],
            anna["worked"]) == (3, 1, 30, 1, "17:30")
    cols = {c.key: c for c in table.columns}
    assert cols["worked_minutes"].numeric and not cols["worked"].numeric
    assert table.text(anna, cols["worked_minutes"]) == "1,050"
    # the totals row is the server's
    assert table.totals["worked_minutes"] == summary.totals.worked_minutes == 1050
    assert table.totals["planned_days"] == 3 and table.totals["name"] == "合计"
    assert ("合计工时", "17:30") in doc.headline
    labels, series, money = doc.charts[0].points(doc)
    assert labels == [r["name"] for r in table.rows] and not money
    assert series[0][1] == [r["worked_minutes"] for r in table.rows]
    assert "5 分钟" in doc.notes[0]


def test_the_plan_editor_plans_the_chosen_weekdays(qtbot, services, june, owner):
    win = open_window(qtbot, services, "boss")
    screen = win.backoffice.attendance
    with qtbot.wait_signal(screen.summary_loaded, timeout=WAIT):
        win.acts["attendance"].trigger()
    with qtbot.wait_signal(screen.summary_loaded, timeout=WAIT):
        screen.set_month(JUNE)
    with qtbot.wait_signal(screen.days_loaded, timeout=WAIT):
        screen.select_staff(june.id)
    dlg = screen.plan()
    assert dlg is not None and "测试收银员" in dlg.windowTitle()
    assert dlg.date_from.text() == "2025-06-01" and dlg.date_to.text() == "2025-06-30"
    dlg.date_from.setText("2025-06-09")
    dlg.date_to.setText("2025-06-15")  # Mon–Sun; Saturday ticked too, Sunday not
    dlg.findChild(type(dlg.weekdays[0]), "wd_sat").setChecked(True)
    dlg.start.setText("10:00")
    dlg.end.setText("09:00")
    dlg.submit()  # end before start: the server's message
    qtbot.wait_until(lambda: bool(services.dialogs.errors), timeout=WAIT)
    assert "晚于" in services.dialogs.error_texts[-1]
    dlg.end.setText("19:00")
    with qtbot.wait_signal(screen.days_loaded, timeout=WAIT):
        dlg.submit()
    plans = services.api.attendance_plans(JUNE, june.id)
    assert [(p.business_date.day, p.start.hour, p.end.hour) for p in plans] == [
        (2, 9, 18), (3, 9, 18), (4, 9, 18), *[(d, 10, 19) for d in range(9, 15)]]
    assert [d.date.day for d in screen.days.days] == [2, 3, 4, 9, 10, 11, 12, 13, 14]
    # 排班 deleted from the day list (asked first)
    screen.select_day(dt.date(2025, 6, 14))
    with qtbot.wait_signal(screen.days_loaded, timeout=WAIT):
        screen.delete_plan()
    assert 14 not in [p.business_date.day for p in services.api.attendance_plans(JUNE)]


def test_a_manager_sets_the_pin_in_the_staff_dialog(qtbot, services, make_staff, owner):
    from client.backoffice.staff import StaffDialog

    anna = make_staff(Role.CASHIER, "anna")
    services.api.login("boss", TEST_PASSWORD)
    me = services.api.me().staff
    dlg = StaffDialog(services, me, services.api.get_staff(anna.id))
    qtbot.addWidget(dlg)
    assert dlg.pin.placeholderText().startswith("可选")
    dlg.pin.setText("24a8")
    dlg.submit()  # the server's per-field message under the PIN
    qtbot.wait_until(lambda: not dlg.field_errors["pin"].isHidden(), timeout=WAIT)
    assert dlg.field_errors["pin"].text() == "格式不正确"
    dlg.pin.setText("2468")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT) as saved:
        dlg.submit()
    assert saved.args[0].has_pin is True
    assert services.api.clock("anna", "2468", "in").state == "working"
