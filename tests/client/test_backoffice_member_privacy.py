"""Back office 会员 and personal data (issue 16) against the real server, offscreen: the
export button is the owner's only; 注销会员 (owner) asks first, listing what goes and what
stays, then the record shows as anonymised with its balance, editing disabled; declined,
nothing changes. The counter's member panel still finds a member by the full phone and the
last 4 digits and shows the masked number."""

from __future__ import annotations

from sqlalchemy import func, select

from client.counter.member_panel import MemberPanel
from server.db.members import Member
from server.db.models import AuditLog

from .bo_helpers import WAIT, dialog_shot, open_window, show

PHONE = "13812345678"


def test_export_button_is_the_owners_only(qtbot, services, owner, manager) -> None:
    win = open_window(qtbot, services, "mgr")
    screen = show(qtbot, win, "members")
    assert screen.export_button.isHidden()
    win2 = open_window(qtbot, services, "boss")
    screen2 = show(qtbot, win2, "members")
    assert not screen2.export_button.isHidden()


def test_anonymise_asks_then_removes_the_personal_data(qtbot, services, owner, manager,
                                                       db_session, screenshots) -> None:
    api = services.api
    win = open_window(qtbot, services, "boss")
    m = api.create_member({"name": "王小明", "phone": PHONE, "birthday": "1990-05-01",
                           "notes": "住在幸福小区"})
    api.adjust_stored_value(m.id, {"principal_change": 12300, "reason": "迁移"})
    screen = show(qtbot, win, "members")
    screen.list.table.selectRow(0)
    detail = screen.detail()
    qtbot.addWidget(detail)
    assert not detail.anonymise_button.isHidden() and detail.anonymise_button.isEnabled()
    # declined: nothing is sent
    services.dialogs.answer = False
    assert detail.anonymise() is False
    text = services.dialogs.confirms[-1]
    for shown in ("王小明", PHONE, "姓名", "生日", "备注", "¥123.00", "不能撤销"):
        assert shown in text, shown
    db_session.rollback()
    assert db_session.get(Member, m.id).anonymised_at is None
    # confirmed
    services.dialogs.answer = True
    with qtbot.wait_signal(detail.member_changed, timeout=WAIT) as blocker:
        assert detail.anonymise() is True
    new = blocker.args[0]
    assert new.name == f"已注销会员 #{m.id}" and new.phone is None
    assert "已注销" in detail.summary.text() and "¥123.00" in detail.summary.text()
    assert not detail.edit_button.isEnabled() and not detail.anonymise_button.isEnabled()
    assert services.dialogs.infos and new.name in services.dialogs.infos[-1]
    dialog_shot(detail, screenshots / "backoffice_member_anonymised.png")
    # the list shows the anonymised record in place
    qtbot.wait_until(lambda: any(x.name == new.name for x in screen.model.items),
                     timeout=WAIT)
    db_session.rollback()
    row = db_session.get(Member, m.id)
    assert (row.phone, row.birthday, row.notes, row.sv_principal) == (None, None, None, 12300)
    assert db_session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "member.anonymise", AuditLog.entity_id == str(m.id))) == 1


def test_anonymise_is_not_offered_to_a_manager(qtbot, services, owner, manager) -> None:
    services.api.login("boss", "secret123")
    services.api.create_member({"name": "李四", "phone": "13900001111"})
    win = open_window(qtbot, services, "mgr")
    screen = show(qtbot, win, "members")
    screen.list.table.selectRow(0)
    detail = screen.detail()
    qtbot.addWidget(detail)
    assert detail.anonymise_button.isHidden()
    assert screen.list.selected_item().phone == "13900001111"  # a manager sees the number


def test_counter_member_panel_with_masked_phones(qtbot, services, cashier) -> None:
    api = services.api
    api.login("cash", "secret123")
    m = api.create_member({"name": "王小明", "phone": PHONE})
    api.create_member({"name": "王小红", "phone": "13900005678"})
    panel = MemberPanel(services)
    qtbot.addWidget(panel)
    # the full number: one member, attached; the list the server sent is masked
    panel.search.setText(PHONE)
    with qtbot.wait_signal(panel.member_changed, timeout=WAIT) as blocker:
        panel.do_search()
    assert blocker.args[0].id == m.id and blocker.args[0].phone == "138****5678"
    assert "138****5678" in panel.phone.text() and PHONE not in panel.phone.text()
    # offline later, the typed full number still knows the member's name
    assert panel.known[PHONE].id == m.id
    assert not any("*" in k for k in panel.known)
    # the last 4 digits: two members to pick from, both masked
    panel.search.setText("5678")
    panel.do_search()
    qtbot.wait_until(lambda: panel.results.count() == 2, timeout=WAIT)
    texts = [panel.results.item(i).text() for i in range(2)]
    assert all("****5678" in t for t in texts) and not any(PHONE in t for t in texts)
