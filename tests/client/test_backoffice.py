"""Back office against the real server: paged staff list, search, create/edit dialog,
server errors shown, unlock, audit viewer. Screenshots under test-output/screenshots/."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from client.qt import Qt
from client.shell.main_window import MainWindow
from client.widgets.context import SessionInfo
from common.schemas.base import Role
from server.db.models import Staff
from tests.conftest import TEST_PASSWORD

from .conftest import save_shot

PAGE = 10


@pytest.fixture
def office(qtbot, services, owner):
    res = services.api.login("boss", TEST_PASSWORD)
    win = MainWindow(services, SessionInfo(res.staff, res.counter), page_size=PAGE)
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    return win


def open_staff(qtbot, win):
    screen = win.backoffice.staff
    with qtbot.wait_signal(screen.model.page_loaded, timeout=10_000):
        win.show_backoffice_screen("staff")
    return screen


def test_staff_list_pages_from_the_server(qtbot, office, make_staff, db_session,
                                          screenshots) -> None:
    for i in range(2 * PAGE + 5):
        make_staff(Role.CASHIER, f"cashier{i:02d}")
    total = db_session.scalar(select(func.count()).select_from(Staff))
    assert total == 2 * PAGE + 6
    screen = open_staff(qtbot, office)
    model = screen.model
    assert model.rowCount() == PAGE and model.has_more  # one page, not the whole table
    assert "向下滚动加载更多" in screen.list.footer.text()
    pages = 1
    while model.canFetchMore():
        with qtbot.wait_signal(model.page_loaded, timeout=10_000):
            model.fetchMore()
        pages += 1
    assert pages == 3 and model.rowCount() == total and not model.has_more
    assert len({s.id for s in model.items}) == total
    assert model.data(model.index(0, 0)) == "boss"
    assert model.data(model.index(0, 2)) == "店主"
    assert f"共 {total} 条" in screen.list.footer.text()
    # search on the server
    with qtbot.wait_signal(model.page_loaded, timeout=10_000):
        qtbot.keyClicks(screen.search, "cashier1")
    assert sorted(s.username for s in model.items) == [f"cashier{i}" for i in range(10, 20)]
    with qtbot.wait_signal(model.page_loaded, timeout=10_000):
        screen.search.clear()
    assert model.rowCount() == PAGE and model.item(0).username == "boss" and model.has_more
    save_shot(office, screenshots / "backoffice_staff_1024x768.png")


def test_create_cashier_through_the_dialog(qtbot, office, db_session) -> None:
    screen = open_staff(qtbot, office)
    dlg = screen.new_staff()
    qtbot.addWidget(dlg)
    assert dlg.role.currentData() == "cashier"
    assert dlg.role.count() == 3  # an owner may create every role
    qtbot.keyClicks(dlg.username, "xiaomei")
    dlg.display_name.setText("小美")  # keyClicks is ASCII-only
    qtbot.keyClicks(dlg.password, "pw123456")
    qtbot.keyClicks(dlg.phone, "13800138000")
    with qtbot.wait_signal(dlg.saved, timeout=10_000) as blocker:
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].username == "xiaomei"
    row = db_session.scalars(select(Staff).where(Staff.username == "xiaomei")).one()
    assert (row.display_name, row.role, row.phone) == ("小美", "cashier", "13800138000")
    qtbot.wait_until(lambda: any(s.username == "xiaomei" for s in screen.model.items),
                     timeout=10_000)
    assert not dlg.isVisible()


def test_duplicate_username_shows_the_server_message(qtbot, office, services, cashier) -> None:
    dialogs = services.dialogs
    screen = open_staff(qtbot, office)
    dlg = screen.new_staff()
    qtbot.addWidget(dlg)
    qtbot.keyClicks(dlg.username, "cash")  # taken
    dlg.display_name.setText("重名")  # keyClicks is ASCII-only
    qtbot.keyClicks(dlg.password, "pw123456")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: len(dialogs.errors) == 1, timeout=10_000)
    err = dialogs.errors[0]
    assert err.status == 409 and err.code == "username_taken"
    assert dialogs.error_texts[0].splitlines() == ["用户名“cash”已被使用", "• 用户名：已被使用"]
    assert "Traceback" not in dialogs.error_texts[0]
    assert dlg.isVisible() and dlg.save_button.isEnabled()  # the user can correct it


def test_validation_errors_show_next_to_the_fields(qtbot, office, services) -> None:
    screen = open_staff(qtbot, office)
    dlg = screen.new_staff()
    qtbot.addWidget(dlg)
    qtbot.keyClicks(dlg.username, "a b")
    dlg.display_name.setText("名字")  # keyClicks is ASCII-only
    qtbot.keyClicks(dlg.password, "123")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: len(services.dialogs.errors) == 1, timeout=10_000)
    assert services.dialogs.errors[0].code == "validation_error"
    assert dlg.field_errors["password"].text() == "至少 6 个字符"
    assert not dlg.field_errors["password"].isHidden()
    assert dlg.field_errors["username"].text() == "格式不正确"


def test_manager_cannot_edit_the_owner_and_sees_why(qtbot, services, owner, manager) -> None:
    res = services.api.login("mgr", TEST_PASSWORD)
    win = MainWindow(services, SessionInfo(res.staff, res.counter), page_size=PAGE)
    qtbot.addWidget(win)
    win.show()
    screen = open_staff(qtbot, win)
    boss = next(s for s in screen.model.items if s.username == "boss")
    dlg = screen.edit_staff(boss)
    qtbot.addWidget(dlg)
    dlg.display_name.setText("老板")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: len(services.dialogs.errors) == 1, timeout=10_000)
    err = services.dialogs.errors[0]
    assert err.status == 403 or err.code == "cannot_manage_role"
    assert "您" in services.dialogs.error_texts[0]


def test_unlock_a_locked_account(qtbot, office, cashier, db_session) -> None:
    db_session.execute(update(Staff).where(Staff.id == cashier.id).values(
        locked_until=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=15),
        failed_logins=5))
    db_session.commit()
    screen = open_staff(qtbot, office)
    row = next(i for i, s in enumerate(screen.model.items) if s.id == cashier.id)
    assert "已锁定" in screen.model.data(screen.model.index(row, 4))
    screen.list.table.selectRow(row)
    qtbot.mouseClick(screen.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: "已解锁" in screen.list.footer.text(), timeout=10_000)
    assert screen.model.data(screen.model.index(row, 4)) == "正常"
    db_session.expire_all()
    assert db_session.get(Staff, cashier.id).locked_until is None


def test_audit_viewer_pages_and_filters(qtbot, office, make_staff, screenshots) -> None:
    api = office.services.api
    for i in range(PAGE + 2):
        s = api.create_staff({"username": f"aud{i:02d}", "display_name": f"审计{i}",
                              "role": "cashier", "password": "pw123456"})
    api.update_staff(s.id, {"display_name": "改过的名字"})
    audit = office.backoffice.audit
    with qtbot.wait_signal(audit.model.page_loaded, timeout=10_000):
        office.show_backoffice_screen("audit")
    assert audit.model.rowCount() == PAGE and audit.model.has_more
    assert audit.model.item(0).action == "staff.update"  # newest first
    audit.list.table.selectRow(0)
    assert "改过的名字" in audit.details.toPlainText()
    assert "修改前" in audit.details.toPlainText()
    # the filter lists actions by their label (销售, 修改员工 …); the code is the item's data
    index = audit.action.findData("staff.update")
    assert audit.action.itemText(index) == "修改员工"
    assert audit.list.table.model().data(audit.list.table.model().index(0, 3)) == "修改员工"
    with qtbot.wait_signal(audit.model.page_loaded, timeout=10_000):
        audit.action.setCurrentIndex(index)
        audit.action.activated.emit(index)
    assert audit.model.rowCount() == 1 and not audit.model.has_more
    assert audit.model.item(0).entity_id == str(s.id)
    audit.list.table.selectRow(0)
    assert "修改员工（staff.update）  员工" in audit.details.toPlainText()  # the code kept
    save_shot(office, screenshots / "backoffice_audit_1024x768.png")
