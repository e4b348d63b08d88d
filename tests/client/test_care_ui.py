"""会员关怀 in the back office against the real server — the issue's "Done when": the owner
sees the members who have not come back in 60 days, a page at a time, and sends each of them
a coupon; the server holds exactly one per member of the list. Screenshots at 1024×768."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from client.backoffice.care import CareCouponDialog, CareScreen
from client.qt import Qt
from server.clock import shop_clock

from .bo_helpers import PAGE, WAIT, RecordingFiles, dialog_shot, open_window
from .conftest import save_shot


def click(qtbot, w) -> None:
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton)


def _shop(app, db_session, n: int = 26) -> list[int]:
    """``n`` members; every third came 10 days ago, the others 61..90 days ago or never
    (joined half a year ago): the dormant ones, longest away first."""
    from server.domain import member_bulk

    state = app.extensions["lanpos"]
    with state.session_factory() as s:
        first, last = member_bulk.generate(s, n, seed=4, extras=False)
        s.commit()
    clock = shop_clock(state.config)
    today = clock.today()
    for k, mid in enumerate(range(first, last + 1)):
        days = 10 if k % 3 == 0 else 61 + k
        visit = None if k % 5 == 1 else clock.day_start(today - dt.timedelta(days=days))
        db_session.execute(text("UPDATE members SET last_visit_at = :v, created_at = :c "
                                "WHERE id = :i"),
                           {"v": visit, "c": clock.day_start(today - dt.timedelta(days=180)),
                            "i": mid})
    db_session.commit()
    cut = clock.day_start(today - dt.timedelta(days=60))
    return sorted(r[0] for r in db_session.execute(text(
        "SELECT id FROM members WHERE active = 1 AND (last_visit_at < :c OR "
        "(last_visit_at IS NULL AND created_at < :c))"), {"c": cut}))


def test_the_owner_sends_a_coupon_to_members_not_seen_for_60_days(
        qtbot, app, services, owner, db_session, screenshots, tmp_path) -> None:
    dormant = _shop(app, db_session)
    assert PAGE < len(dormant) < 2 * PAGE + 1
    api = services.api
    win = open_window(qtbot, services, "boss")
    api.create_coupon_template({"name": "老友回归券", "kind": "amount", "amount_fen": 3000,
                                "threshold_fen": 10000, "valid_to": "2099-12-31"})
    screen = win.backoffice.care
    assert isinstance(screen, CareScreen)
    with qtbot.wait_signal(screen.page_loaded, timeout=WAIT) as first:
        win.acts["care"].trigger()
    # the list opens on 沉睡会员, 60 days: the server's first page, phones masked
    assert screen.lists.current == "dormant" and screen.lists.days.value() == 60
    assert screen.lists.days.isVisible() and not screen.lists.threshold.isVisible()
    page = first.args[0]
    assert [m.id for m in page.items] == [m.id for m in api.member_list(
        "dormant", days=60, page_size=PAGE).items]
    assert screen.table.rowCount() == PAGE and screen.doc is not None
    assert screen.doc.tables[0].title == "60 天未到店的会员"
    keys = [c.key for c in screen.doc.tables[0].columns]
    shown = [screen.table.item(r, keys.index("name")).text() for r in range(PAGE)]
    assert shown == [m.name for m in page.items]
    assert all("****" in screen.table.item(r, keys.index("phone")).text()
               for r in range(PAGE))
    assert screen.page_label.text() == "第 1 页"
    assert screen.doc.headline == [("60 天未到店的会员", f"{PAGE} 人以上")]
    assert screen.next_button.isEnabled() and not screen.prev_button.isEnabled()
    save_shot(win, screenshots / "care_dormant_1024x768.png")
    seen = [m.id for m in page.items]
    while screen.next_button.isEnabled():  # a page at a time from the server
        with qtbot.wait_signal(screen.page_loaded, timeout=WAIT) as nxt:
            click(qtbot, screen.next_button)
        seen += [m.id for m in nxt.args[0].items]
    assert sorted(seen) == dormant and len(seen) == len(set(seen))
    assert screen.prev_button.isEnabled()
    assert screen.doc.headline == [("60 天未到店的会员", f"{len(dormant)} 人")]
    # 发券: the template, how many it reaches, confirm
    dlg = screen.issue_coupon()
    assert isinstance(dlg, CareCouponDialog)
    qtbot.addWidget(dlg)
    qtbot.wait_until(lambda: dlg.save_button.isEnabled(), timeout=WAIT)
    assert dlg.template.currentText() == "老友回归券"
    assert dlg.reach.text() == f"将给 {len(dormant)} 位会员各发一张"
    assert dlg.list_label.text() == "60 天未到店的会员"
    dialog_shot(dlg, screenshots / "care_coupon_dialog.png")
    with qtbot.wait_signal(screen.issued, timeout=WAIT) as done:
        click(qtbot, dlg.save_button)
    res = done.args[0]
    assert res.issued == len(dormant) and not res.already
    assert screen.status.text() == f"已发放 {len(dormant)} 张优惠券"
    db_session.rollback()
    rows = db_session.execute(text("SELECT member_id FROM coupons WHERE batch = :b"),
                              {"b": res.batch}).all()
    assert sorted(r[0] for r in rows) == dormant
    assert res.batch == dlg.batch_id.replace("-", "")
    # saving the same dialog again (an answer lost): the batch is not issued twice
    again = api.issue_coupons(dlg.body(), key=dlg.batch_id)
    assert again.issued == len(dormant)
    db_session.rollback()
    assert db_session.scalar(text("SELECT COUNT(*) FROM coupons")) == len(dormant)
    save_shot(win, screenshots / "care_coupon_sent_1024x768.png")
    # the owner exports the list to call them: every member of it, full phones (audited)
    out = tmp_path / "dormant.xlsx"
    screen.files = RecordingFiles(save_path=out)
    with qtbot.wait_signal(screen.exported, timeout=WAIT):
        click(qtbot, screen.export_button)
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    phones = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    db_session.rollback()
    want = dict(db_session.execute(text("SELECT id, phone FROM members")).all())
    assert sorted(phones) == sorted(want[i] for i in dormant)
    assert db_session.scalar(text("SELECT COUNT(*) FROM audit_log WHERE action = "
                                  "'member.export'")) == 1


def test_other_lists_and_their_settings(qtbot, app, services, manager, db_session) -> None:
    _shop(app, db_session, n=8)
    win = open_window(qtbot, services, "mgr")
    screen = win.backoffice.care
    with qtbot.wait_signal(screen.page_loaded, timeout=WAIT):
        win.acts["care"].trigger()
    assert not screen.export_button.isVisible()  # the contacts export is the owner's
    with qtbot.wait_signal(screen.page_loaded, timeout=WAIT) as got:
        screen.lists.choose("low_balance")
    assert screen.lists.threshold.isVisible() and not screen.lists.days.isVisible()
    assert got.args[0].items == [] and screen.page_label.text() == "第 1 页，共 0 人"
    assert not screen.coupon_button.isEnabled()
    with qtbot.wait_signal(screen.page_loaded, timeout=WAIT):
        screen.lists.choose("card_expiring")
    assert screen.lists.days.value() == 30 and screen.lists.days_label.text() == "到期不超过"
    assert [c.key for c in screen.doc.tables[0].columns][5:8] == [
        "card", "card_uses_left", "card_expires_at"]
    with qtbot.wait_signal(screen.page_loaded, timeout=WAIT):
        screen.lists.choose("low_balance")
    screen.lists.threshold.setText("abc")
    screen.run(1)
    assert screen.status.text() == "金额格式不正确，例如 12.50"
