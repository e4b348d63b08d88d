"""The back office's booking fields (预约) against the real server: a service's duration and a
group class in the product dialog, a stylist's bookable flag and weekly hours in the staff
dialog; the 当日预约 report page from the server's bookings, the phones masked."""

from __future__ import annotations

import datetime as dt

from client.backoffice.products import ProductDialog
from client.backoffice.staff import StaffDialog
from client.qt import QtCore
from client.reports.catalogue import REPORTS, Options, Period
from common.schemas.base import Role
from tests.conftest import TEST_PASSWORD
from tests.support.salon import book, make_salon, post

from .bo_helpers import WAIT, dialog_shot


def test_a_service_gets_a_duration_and_a_class_its_places(qtbot, services, manager,
                                                          screenshots) -> None:
    services.api.login(manager.username, TEST_PASSWORD)
    dlg = ProductDialog(services, [])
    qtbot.addWidget(dlg)
    dlg.kind.setCurrentIndex(dlg.kind.findData("service"))
    assert dlg.duration.isEnabled() and not dlg.class_start.isEnabled()
    dlg.name.setText("瑜伽团课")
    qtbot.keyClicks(dlg.price, "60")
    dlg.duration.setValue(60)
    dlg.capacity.setValue(12)
    assert dlg.class_start.isEnabled()
    dlg.class_start.setTime(QtCore.QTime(19, 30))
    dialog_shot(dlg, screenshots / "backoffice_product_class.png")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT) as saved:
        dlg.submit()
    p = saved.args[0]
    assert (p.duration_minutes, p.capacity, p.class_start) == (60, 12, dt.time(19, 30))
    # editing: the class becomes a plain 45-minute service
    dlg = ProductDialog(services, [], services.api.get_product(p.id))
    qtbot.addWidget(dlg)
    assert (dlg.duration.value(), dlg.capacity.value()) == (60, 12)
    dlg.duration.setValue(45)
    dlg.capacity.setValue(0)
    with qtbot.wait_signal(dlg.saved, timeout=WAIT) as saved:
        dlg.submit()
    p = saved.args[0]
    assert (p.duration_minutes, p.capacity, p.class_start) == (45, None, None)


def test_a_stylist_is_made_bookable_with_weekly_hours(qtbot, services, make_staff, owner,
                                                      screenshots) -> None:
    amei = make_staff(Role.CASHIER, "amei")
    services.api.login("boss", TEST_PASSWORD)
    me = services.api.me().staff
    dlg = StaffDialog(services, me, services.api.get_staff(amei.id))
    qtbot.addWidget(dlg)
    assert not dlg.bookable.isChecked()
    dlg.bookable.setChecked(True)
    dlg.work_start.setTime(QtCore.QTime(11, 0))
    dlg.work_end.setTime(QtCore.QTime(20, 0))
    dlg.days[1].setChecked(False)  # not on Tuesdays
    dialog_shot(dlg, screenshots / "backoffice_staff_hours.png")
    with qtbot.wait_signal(dlg.saved, timeout=WAIT) as saved:
        dlg.submit()
    s = saved.args[0]
    assert (s.bookable, s.work_start, s.work_end, s.work_days) == (
        True, dt.time(11), dt.time(20), 0b1111101)
    # the end before the start: the server's message under the hours
    dlg = StaffDialog(services, me, services.api.get_staff(amei.id))
    qtbot.addWidget(dlg)
    dlg.work_end.setTime(QtCore.QTime(10, 0))
    dlg.submit()
    qtbot.wait_until(lambda: not dlg.field_errors["work_start"].isHidden(), timeout=WAIT)
    assert "晚于开始" in dlg.field_errors["work_start"].text()


def test_the_day_report_lists_the_bookings_with_masked_phones(services, client, manager,
                                                              cashier, make_staff, monkeypatch,
                                                              app) -> None:
    s = make_salon(client, manager, make_staff, monkeypatch, app)
    member = post(client, cashier, "/members", {"name": "张三", "phone": "13800001234"})
    book(client, cashier, [s.wash["id"]], f"{s.day}T10:00:00", s.amei.id,
         member_id=member["id"])
    book(client, cashier, [s.dye["id"]], f"{s.day}T11:00:00", s.xiaobo.id)
    services.api.login(manager.username, TEST_PASSWORD)
    spec = next(r for r in REPORTS if r.key == "appointments")
    period = Period(s.day, s.day, "day")
    parts = spec.build(spec.fetch(services.api, period, Options()), period, Options())
    rows = parts.tables[0].rows
    assert [(r["appt_time"], r["customer"], r["phone"], r["services"], r["staff_name"])
            for r in rows] == [("10:00–11:00", "张三", "138****1234", "洗剪吹", "阿美"),
                               ("11:00–12:30", "王女士", "139****5678", "染发", "小波")]
    assert parts.headline[0][1] == "2 人"
