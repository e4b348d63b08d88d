"""The owner's backup screen against the real server: back up now with progress, verify,
restore with a typed confirmation, destinations. Screenshot under test-output/screenshots/."""

from __future__ import annotations

import dataclasses

import pytest

from client.backoffice.backups import BackupScreen
from client.qt import Qt
from server.config import BackupSection, Config
from server.runtime import Runtime
from tests.conftest import TEST_PASSWORD, attach_backups

from .conftest import save_shot


@pytest.fixture
def backup_service(app, runtime, tmp_path):
    settings = BackupSection(verify_after_backup=True)
    cfg = dataclasses.replace(runtime.config, data_dir=tmp_path, backup=settings)
    rt = Runtime(cfg, mariadb=runtime.mariadb, engine=runtime.engine)
    rt._factory = runtime.session_factory
    svc = attach_backups(app, rt)
    svc.drain_seconds = 0.2
    return svc


@pytest.fixture
def screen(qtbot, services, owner, backup_service):
    services.api.login("boss", TEST_PASSWORD)
    w = BackupScreen(services)
    qtbot.addWidget(w)
    w.resize(1024, 600)
    w.show()
    with qtbot.wait_signal(w.list_loaded, timeout=10_000):
        w.start()
    return w


def _run_job(qtbot, screen, action):
    with qtbot.wait_signal(screen.job_finished, timeout=120_000) as blocker:
        action()
    return blocker.args[0]


def test_backup_now_verify_and_restore_with_typed_confirmation(qtbot, screen, services,
                                                               dialogs, backup_service,
                                                               screenshots):
    assert screen.table.rowCount() == 0
    assert "还没有通过还原验证的备份" in screen.warnings.text()
    job = _run_job(qtbot, screen, lambda: qtbot.mouseClick(screen.now_button,
                                                           Qt.MouseButton.LeftButton))
    assert job.state == "done" and job.kind == "backup"
    assert screen.progress.value() == 100
    qtbot.wait_until(lambda: screen.table.rowCount() == 1, timeout=10_000)
    bid = job.backup_id
    assert screen.table.item(0, 1).text() == bid
    assert screen.table.item(0, 4).text() == "✔ 已验证"
    qtbot.wait_until(lambda: "还没有" not in screen.warnings.text(), timeout=10_000)

    screen.table.selectRow(0)
    job = _run_job(qtbot, screen, screen.verify_selected)
    assert job.state == "done" and job.result["ok"] is True
    assert any("通过还原验证" in t for t in dialogs.infos)

    screen.table.selectRow(0)
    dlg = screen.restore_selected()
    qtbot.addWidget(dlg)
    assert not dlg.ok_button.isEnabled()
    qtbot.keyClicks(dlg.confirm_edit, "lanpos-wrong")
    assert not dlg.ok_button.isEnabled()
    dlg.confirm_edit.setText(bid)
    assert dlg.ok_button.isEnabled()
    save_shot(dlg, screenshots / "backup_restore_confirm.png")
    job = _run_job(qtbot, screen, lambda: qtbot.mouseClick(dlg.ok_button,
                                                           Qt.MouseButton.LeftButton))
    assert job.state == "done", job.error
    assert job.kind == "restore" and job.result["invariants_ok"] is True
    assert any("还原完成" in t and job.result["safety_backup"] in t for t in dialogs.infos)
    qtbot.wait_until(lambda: screen.table.rowCount() == 2, timeout=10_000)  # + safety backup
    save_shot(screen, screenshots / "backoffice_backups_1024x600.png")


def test_destinations_are_saved_and_a_missing_one_is_shown(qtbot, screen, tmp_path, dialogs,
                                                           backup_service):
    backup_service.setup_key("correct horse battery")  # copies are encrypted (issue 16)
    usb = tmp_path / "usb"
    usb.mkdir()
    gone = tmp_path / "unplugged"
    screen.destinations.setText(f"{usb}；{gone}")
    with qtbot.wait_signal(screen.settings_saved, timeout=10_000) as blocker:
        qtbot.mouseClick(screen.save_destinations, Qt.MouseButton.LeftButton)
    assert blocker.args[0].destinations == [str(usb), str(gone)]
    assert Config.load(tmp_path).backup.destinations == [str(usb), str(gone)]
    job = _run_job(qtbot, screen, screen.backup_now)
    assert job.state == "done"
    qtbot.wait_until(lambda: "✘" in screen.dest_status.text(), timeout=10_000)
    assert f"✔ {usb}" in screen.dest_status.text()
    assert str(gone) in screen.warnings.text()
    assert (usb / f"{job.backup_id}.sql.gz.age").exists()
    assert not (usb / f"{job.backup_id}.sql.gz").exists()
    # nothing selected: a hint, no request
    screen.table.clearSelection()
    assert screen.restore_selected() is None
    assert dialogs.infos[-1] == "请先选择一个备份"


def test_only_the_owner_gets_the_backup_screen(qtbot, services, owner, make_staff,
                                               backup_service):
    from client.shell.main_window import MainWindow
    from client.widgets.context import SessionInfo
    from common.schemas.base import Role

    res = services.api.login("boss", TEST_PASSWORD)
    win = MainWindow(services, SessionInfo(res.staff, res.counter))
    qtbot.addWidget(win)
    assert win.backoffice is not None and win.backoffice.backups is not None
    assert "backups" in win.acts
    with qtbot.wait_signal(win.backoffice.backups.list_loaded, timeout=10_000):
        win.acts["backups"].trigger()
    assert win.backoffice.currentWidget() is win.backoffice.backups

    make_staff(Role.MANAGER, "mgr1")
    res = services.api.login("mgr1", TEST_PASSWORD)
    win2 = MainWindow(services, SessionInfo(res.staff, res.counter))
    qtbot.addWidget(win2)
    assert win2.backoffice is not None and win2.backoffice.backups is None
    assert "backups" not in win2.acts


def test_owner_sets_up_the_backup_passphrase_and_sees_the_recovery_sheet_once(
        qtbot, screen, services, tmp_path, dialogs, backup_service, screenshots):
    import pyrage

    from client.backoffice.backups import RecoverySheetDialog
    from client.qt import QtPrintSupport

    qtbot.wait_until(lambda: screen.key is not None, timeout=10_000)
    assert "还没有设置备份口令" in screen.key_status.text()
    usb = tmp_path / "usb"
    usb.mkdir()
    screen.destinations.setText(str(usb))
    with qtbot.wait_signal(screen.settings_saved, timeout=10_000):
        qtbot.mouseClick(screen.save_destinations, Qt.MouseButton.LeftButton)
    job = _run_job(qtbot, screen, screen.backup_now)
    assert job.state == "done"
    assert list(usb.iterdir()) == []  # no key: nothing written to the stick in the clear
    qtbot.wait_until(lambda: "还没有备份密钥" in screen.warnings.text(), timeout=10_000)

    dlg = screen.edit_key()
    qtbot.addWidget(dlg)
    assert not dlg.change and not dlg.old_edit.isVisible()
    qtbot.keyClicks(dlg.pass_edit, "short")
    assert "至少 10 个字符" in dlg.hint.text() and not dlg.ok_button.isEnabled()
    dlg.pass_edit.setText("店里的 backup 口令 2026")
    dlg.again_edit.setText("店里的 backup 口令 2025")
    assert "不一样" in dlg.hint.text() and not dlg.ok_button.isEnabled()
    dlg.again_edit.setText("店里的 backup 口令 2026")
    assert dlg.ok_button.isEnabled() and dlg.hint.text() == ""
    with qtbot.wait_signal(screen.key_changed, timeout=20_000) as blocker:
        qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    key = blocker.args[0]
    sheet = screen.sheet
    assert isinstance(sheet, RecoverySheetDialog) and sheet.isVisible()
    assert key.recovery_key and key.recovery_key in sheet.text.toPlainText()
    assert key.shop_name and key.shop_name in sheet.text.toPlainText()
    assert "只显示这一次" in sheet.windowTitle()
    save_shot(sheet, screenshots / "backup_recovery_sheet.png")
    # it does not go away before the owner says it is kept
    assert not sheet.close_button.isEnabled()
    sheet.reject()
    assert sheet.isVisible()
    pdf = tmp_path / "sheet.pdf"
    printer = QtPrintSupport.QPrinter()
    printer.setOutputFormat(QtPrintSupport.QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(pdf))
    sheet.print_to(printer)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    sheet.kept.setChecked(True)
    qtbot.mouseClick(sheet.close_button, Qt.MouseButton.LeftButton)
    assert not sheet.isVisible()

    # the server has the key (not the secret); the copy that waited went to the stick
    assert backup_service.key.configured
    assert screen.key.recovery_key is None
    qtbot.wait_until(lambda: "已加密" in screen.key_status.text(), timeout=10_000)
    assert screen.key_button.text() == "更改备份口令…"
    ct = usb / f"{job.backup_id}.sql.gz.age"
    assert ct.is_file()
    ident = pyrage.x25519.Identity.from_str(key.recovery_key)
    assert pyrage.decrypt(ct.read_bytes(), [ident]) == backup_service.get(
        job.backup_id).path.read_bytes()
    qtbot.wait_until(lambda: "备份密钥" not in screen.warnings.text(), timeout=10_000)

    # changing it: the current passphrase (or the recovery key), then the new one twice
    dlg = screen.edit_key()
    qtbot.addWidget(dlg)
    assert dlg.change
    dlg.pass_edit.setText("新的口令 new one 99")
    dlg.again_edit.setText("新的口令 new one 99")
    assert not dlg.ok_button.isEnabled()  # the current one is missing
    dlg.old_edit.setText(key.recovery_key)
    assert dlg.unlock() == {"old_passphrase": None, "recovery_key": key.recovery_key}
    with qtbot.wait_signal(screen.key_changed, timeout=20_000):
        qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert any("以前的备份副本用新口令也能打开" in t for t in dialogs.infos)
