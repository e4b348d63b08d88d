"""Back office (owner): backups — list, back up now with a progress bar, verify, restore with a
typed confirmation, extra destinations, and the backup passphrase that encrypts the copies in
those destinations (set up once with a recovery sheet shown once; changed later).

Long work runs on the server as a job; this screen polls ``GET /backups/jobs/<id>`` (readable
without login, so a restore can be followed while the API is in maintenance and the login
tokens are being replaced).
"""

from __future__ import annotations

from common.errors import ApiError
from common.schemas.backups import (
    BACKUP_PASSPHRASE_MIN,
    BackupJobOut,
    BackupKeyOut,
    BackupListOut,
    BackupOut,
    BackupSettingsOut,
)

from .. import labels
from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtPrintSupport, QtWidgets, Signal
from ..widgets.context import Services
from ..widgets.dialogs import accept_cancel
from .staff import local_time

COLUMNS = ("backup.col.time", "backup.col.id", "backup.col.size", "backup.col.rows",
           "backup.col.verified", "backup.col.reason")


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{max(n, 0) / 1024:.0f} KB"


def reason_text(reason: str | None) -> str:
    """'manual-before-inventory' → '手动 before-inventory'; unknown reasons as they are."""
    if not reason:
        return ""
    for key in ("scheduled-daily", "scheduled-interval", "pre-restore", "pre-migration",
                "manual"):
        if reason == key or reason.startswith(key + "-"):
            rest = reason[len(key) + 1:]
            return tr(f"backup.reason.{key}") + (f" {rest}" if rest else "")
    return reason


def verified_text(b: BackupOut) -> str:
    return tr({True: "backup.verified.yes", False: "backup.verified.no",
               None: "backup.verified.none"}[b.verified])


class RestoreDialog(QtWidgets.QDialog):
    """Typed confirmation: the restore button is enabled only when the id is typed exactly."""

    def __init__(self, backup: BackupOut, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("restoreDialog")
        self.backup = backup
        self.setWindowTitle(tr("backup.restore.title"))
        text = QtWidgets.QLabel(tr("backup.restore.warning", id=backup.id,
                                   time=local_time(backup.started_at)))
        text.setWordWrap(True)
        self.confirm_edit = QtWidgets.QLineEdit()
        self.confirm_edit.setObjectName("confirmId")
        self.confirm_edit.setPlaceholderText(backup.id)
        self.force = QtWidgets.QCheckBox(tr("backup.restore.force"))
        self.force.setObjectName("force")
        self.force.setVisible(backup.verified is not True)
        buttons, self.ok_button = accept_cancel(self, tr("backup.restore.ok"), "restoreOk")
        layout = QtWidgets.QVBoxLayout(self)
        for w in (text, self.confirm_edit, self.force, buttons):
            layout.addWidget(w)
        self.confirm_edit.textChanged.connect(self._update)
        self.force.toggled.connect(self._update)
        self._update()

    def _update(self, *_: object) -> None:
        typed = self.confirm_edit.text().strip() == self.backup.id
        self.ok_button.setEnabled(typed and (self.backup.verified is True
                                             or self.force.isChecked()))


class KeyDialog(QtWidgets.QDialog):
    """The backup passphrase, typed twice (and, to change it, the current passphrase or the
    recovery key). OK only when both agree and are long enough (``BACKUP_PASSPHRASE_MIN``, the
    server's rule too)."""

    def __init__(self, change: bool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyDialog")
        self.change = change
        self.setWindowTitle(tr("backup.key.title.change" if change else "backup.key.title.setup"))
        explain = QtWidgets.QLabel(tr("backup.key.explain", min=BACKUP_PASSPHRASE_MIN))
        explain.setWordWrap(True)
        form = QtWidgets.QFormLayout()

        def secret(name: str) -> QtWidgets.QLineEdit:
            e = QtWidgets.QLineEdit()
            e.setObjectName(name)
            e.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
            e.textChanged.connect(self._update)
            return e

        self.old_edit = secret("oldPassphrase")
        self.pass_edit = secret("passphrase")
        self.again_edit = secret("passphraseAgain")
        if change:
            form.addRow(tr("backup.key.old"), self.old_edit)
        form.addRow(tr("backup.key.passphrase"), self.pass_edit)
        form.addRow(tr("backup.key.again"), self.again_edit)
        self.hint = QtWidgets.QLabel()
        self.hint.setObjectName("keyHint")
        self.hint.setStyleSheet("color: #b00020;")
        buttons, self.ok_button = accept_cancel(self, tr("common.ok"), "keyOk")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(buttons)
        self._update()

    def _update(self, *_: object) -> None:
        p, again = self.pass_edit.text(), self.again_edit.text()
        hint = ""
        if p and len(p) < BACKUP_PASSPHRASE_MIN:
            hint = tr("backup.key.too_short", min=BACKUP_PASSPHRASE_MIN)
        elif again and p != again:
            hint = tr("backup.key.mismatch")
        self.hint.setText(hint)
        self.ok_button.setEnabled(len(p) >= BACKUP_PASSPHRASE_MIN and p == again
                                  and (not self.change or bool(self.old_edit.text().strip())))

    def unlock(self) -> dict[str, str | None]:
        """The current secret, as the API takes it: a recovery key or a passphrase."""
        old = self.old_edit.text()
        if "AGE-SECRET-KEY-1" in "".join(old.split()).upper():
            return {"old_passphrase": None, "recovery_key": old}
        return {"old_passphrase": old, "recovery_key": None}


class RecoverySheetDialog(QtWidgets.QDialog):
    """The recovery key, shown once with a clear warning, printable on the office printer.
    Closing needs the box "I printed or copied it down" ticked."""

    def __init__(self, key: BackupKeyOut, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recoverySheet")
        self.setWindowTitle(tr("backup.sheet.title"))
        warning = QtWidgets.QLabel(tr("backup.sheet.warning"))
        warning.setObjectName("sheetWarning")
        warning.setWordWrap(True)
        warning.setStyleSheet("color: #b00020; font-weight: bold;")
        self.sheet_text = tr("backup.sheet.text", shop=key.shop_name or "",
                             date=local_time(key.created_at), recipient=key.recipient or "",
                             secret=key.recovery_key or "")
        self.text = QtWidgets.QPlainTextEdit(self.sheet_text)
        self.text.setObjectName("sheetText")
        self.text.setReadOnly(True)
        self.text.setFont(QtGui.QFontDatabase.systemFont(
            QtGui.QFontDatabase.SystemFont.FixedFont))
        self.print_button = QtWidgets.QPushButton(tr("backup.sheet.print"))
        self.print_button.setObjectName("printSheet")
        self.print_button.clicked.connect(self.print_dialog)
        self.kept = QtWidgets.QCheckBox(tr("backup.sheet.kept"))
        self.kept.setObjectName("sheetKept")
        self.close_button = QtWidgets.QPushButton(tr("backup.sheet.close"))
        self.close_button.setObjectName("sheetClose")
        self.close_button.setEnabled(False)
        self.kept.toggled.connect(self.close_button.setEnabled)
        self.close_button.clicked.connect(self.accept)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.print_button)
        row.addStretch(1)
        row.addWidget(self.kept)
        row.addWidget(self.close_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(warning)
        layout.addWidget(self.text, 1)
        layout.addLayout(row)
        self.resize(640, 360)

    def print_to(self, printer: QtPrintSupport.QPrinter) -> None:
        doc = QtGui.QTextDocument()
        doc.setDefaultFont(QtGui.QFontDatabase.systemFont(
            QtGui.QFontDatabase.SystemFont.FixedFont))
        doc.setPlainText(self.sheet_text)
        doc.print(printer)

    def print_dialog(self) -> None:
        printer = QtPrintSupport.QPrinter()
        dlg = QtPrintSupport.QPrintDialog(printer, self)
        if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.print_to(printer)

    def reject(self) -> None:
        if self.kept.isChecked():  # Esc / the window's close button: only once it is kept
            super().reject()


class BackupScreen(QtWidgets.QWidget):
    """Signals:
        list_loaded(object): the BackupListOut shown.
        job_finished(object): a job this screen started ended (BackupJobOut).
        settings_saved(object): BackupSettingsOut after saving the destinations.
        key_changed(object): BackupKeyOut after the backup passphrase was set up or changed.
    """

    list_loaded = Signal(object)
    job_finished = Signal(object)
    settings_saved = Signal(object)
    key_changed = Signal(object)

    POLL_MS = 400

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backupScreen")
        self.services = services
        self.backups: list[BackupOut] = []
        self.job: BackupJobOut | None = None
        self._loaded = False

        self.now_button = QtWidgets.QPushButton(tr("backup.now"))
        self.now_button.setObjectName("backupNow")
        self.verify_button = QtWidgets.QPushButton(tr("backup.verify"))
        self.verify_button.setObjectName("verifyBackup")
        self.restore_button = QtWidgets.QPushButton(tr("backup.restore"))
        self.restore_button.setObjectName("restoreBackup")
        self.refresh_button = QtWidgets.QPushButton(tr("common.refresh"))
        self.refresh_button.setObjectName("refreshBackups")
        self.now_button.clicked.connect(self.backup_now)
        self.verify_button.clicked.connect(self.verify_selected)
        self.restore_button.clicked.connect(self.restore_selected)
        self.refresh_button.clicked.connect(lambda: self.start(reload=True))
        tools = QtWidgets.QHBoxLayout()
        for b in (self.now_button, self.verify_button, self.restore_button):
            tools.addWidget(b)
        tools.addStretch(1)
        tools.addWidget(self.refresh_button)

        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("backupProgress")
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.job_label = QtWidgets.QLabel()
        self.job_label.setObjectName("jobLabel")

        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("backupTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        assert header is not None
        header.setStretchLastSection(True)
        vheader = self.table.verticalHeader()
        assert vheader is not None
        vheader.setVisible(False)

        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("backupSummary")
        self.summary.setWordWrap(True)
        self.warnings = QtWidgets.QLabel()
        self.warnings.setObjectName("backupWarnings")
        self.warnings.setStyleSheet("color: #b00020;")
        self.warnings.setWordWrap(True)

        self.destinations = QtWidgets.QLineEdit()
        self.destinations.setObjectName("destinations")
        self.destinations.setPlaceholderText("/media/usb/lanpos; /mnt/nas/lanpos")
        self.save_destinations = QtWidgets.QPushButton(tr("backup.destinations.save"))
        self.save_destinations.setObjectName("saveDestinations")
        self.save_destinations.clicked.connect(self.save_destination_settings)
        self.dest_status = QtWidgets.QLabel()
        self.dest_status.setObjectName("destinationStatus")
        self.dest_status.setWordWrap(True)
        dest_row = QtWidgets.QHBoxLayout()
        dest_row.addWidget(self.destinations, 1)
        dest_row.addWidget(self.save_destinations)
        dest_box = QtWidgets.QGroupBox(tr("backup.destinations"))
        dest_layout = QtWidgets.QVBoxLayout(dest_box)
        dest_layout.addLayout(dest_row)
        dest_layout.addWidget(self.dest_status)

        self.key_status = QtWidgets.QLabel()
        self.key_status.setObjectName("keyStatus")
        self.key_status.setWordWrap(True)
        self.key_button = QtWidgets.QPushButton(tr("backup.key.setup"))
        self.key_button.setObjectName("keyButton")
        self.key_button.clicked.connect(self.edit_key)
        self.key: BackupKeyOut | None = None
        self.key_dialog: KeyDialog | None = None
        self.sheet: RecoverySheetDialog | None = None
        key_box = QtWidgets.QGroupBox(tr("backup.key.box"))
        key_row = QtWidgets.QHBoxLayout(key_box)
        key_row.addWidget(self.key_status, 1)
        key_row.addWidget(self.key_button)
        dest_layout.addWidget(key_box)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.progress)
        layout.addWidget(self.job_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.warnings)
        layout.addWidget(dest_box)

        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(self.POLL_MS)
        self.timer.timeout.connect(self._poll)
        self._polling = False

    # -- loading ---------------------------------------------------------------------------
    def start(self, reload: bool = False) -> None:
        if reload or not self._loaded:
            self._loaded = True
            api = self.services.api
            self.services.runner.op(api.list_backups, on_success=self._show_list, owner=self)
            self.services.runner.op(api.backup_settings, on_success=self._show_settings,
                                    owner=self)
            self.services.runner.op(api.backup_key, on_success=self._show_key, owner=self)

    def _show_list(self, data: BackupListOut) -> None:
        self.backups = list(data.items)
        self.table.setRowCount(len(self.backups))
        for row, b in enumerate(self.backups):
            values = (local_time(b.started_at), b.id, size_text(b.size), str(b.total_rows),
                      verified_text(b), reason_text(b.reason))
            for col, value in enumerate(values):
                item = QtWidgets.QTableWidgetItem(value)
                if col in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        newest = tr("backup.summary.none")
        if data.newest_verified:
            newest = data.newest_verified
            if data.newest_verified_age_seconds is not None:
                hours = data.newest_verified_age_seconds // 3600
                newest += "（" + tr("backup.age", hours=hours) + "）"
        self.summary.setText(tr("backup.summary", folder=data.folder, newest=newest))
        self.warnings.setText("\n".join(labels.bilingual(w) for w in data.warnings))
        lines = []
        for d in data.destinations:
            key = ("backup.dest.none" if d.ok is None else
                   "backup.dest.ok" if d.ok else "backup.dest.failed")
            lines.append(tr(key, path=d.path, error=d.error or ""))
        self.dest_status.setText("\n".join(lines))
        self.list_loaded.emit(data)

    def _show_settings(self, s: BackupSettingsOut) -> None:
        self.destinations.setText("; ".join(s.destinations))

    def _show_key(self, key: BackupKeyOut) -> None:
        self.key = key
        if key.configured:
            self.key_status.setText(tr("backup.key.ok", created=local_time(key.created_at),
                                       changed=local_time(key.changed_at)))
            self.key_status.setStyleSheet("")
            self.key_button.setText(tr("backup.key.change"))
        else:
            self.key_status.setText(tr("backup.key.none"))
            self.key_status.setStyleSheet("color: #b00020;")
            self.key_button.setText(tr("backup.key.setup"))

    def edit_key(self) -> KeyDialog:
        """Set up (first time) or change the backup passphrase (the dialog is returned; tests
        drive it)."""
        change = bool(self.key and self.key.configured)
        dlg = KeyDialog(change, self)
        self.key_dialog = dlg
        dlg.accepted.connect(lambda: self._save_key(dlg))
        dlg.setModal(True)
        dlg.show()
        return dlg

    def _save_key(self, dlg: KeyDialog) -> None:
        api = self.services.api
        passphrase = dlg.pass_edit.text()
        if dlg.change:
            unlock = dlg.unlock()
            self.services.runner.op(
                lambda: api.change_backup_key(passphrase, **unlock),
                on_success=self._key_changed, on_error=self._key_failed, owner=self)
        else:
            self.services.runner.op(lambda: api.setup_backup_key(passphrase),
                                    on_success=self._key_set_up, on_error=self._key_failed,
                                    owner=self)

    def _key_failed(self, err: ApiError) -> None:
        self.services.dialogs.error(self, err)

    def _key_set_up(self, key: BackupKeyOut) -> None:
        self.sheet = RecoverySheetDialog(key, self)
        self.sheet.setModal(True)
        self.sheet.show()
        self._show_key(key.model_copy(update={"recovery_key": None}))
        self.key_changed.emit(key)
        self.start(reload=True)

    def _key_changed(self, key: BackupKeyOut) -> None:
        self._show_key(key)
        self.services.dialogs.info(self, tr("backup.key.changed"))
        self.key_changed.emit(key)
        self.start(reload=True)

    def selected(self) -> BackupOut | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        row = rows.pop()
        return self.backups[row] if 0 <= row < len(self.backups) else None

    # -- actions ---------------------------------------------------------------------------
    def backup_now(self) -> None:
        api = self.services.api
        self._set_busy(True)
        self.services.runner.op(api.start_backup, on_success=self._follow,
                                on_error=self._start_failed, owner=self)

    def verify_selected(self) -> None:
        b = self.selected()
        if b is None:
            self.services.dialogs.info(self, tr("backup.select_first"))
            return
        api = self.services.api
        self._set_busy(True)
        self.services.runner.op(lambda: api.verify_backup(b.id), on_success=self._follow,
                                on_error=self._start_failed, owner=self)

    def restore_selected(self) -> RestoreDialog | None:
        """Open the typed-confirmation dialog (returned; tests drive it)."""
        b = self.selected()
        if b is None:
            self.services.dialogs.info(self, tr("backup.select_first"))
            return None
        dlg = RestoreDialog(b, self)
        dlg.accepted.connect(lambda: self._restore(dlg))
        dlg.setModal(True)
        dlg.show()
        return dlg

    def _restore(self, dlg: RestoreDialog) -> None:
        api = self.services.api
        bid, typed, force = dlg.backup.id, dlg.confirm_edit.text().strip(), dlg.force.isChecked()
        self._set_busy(True)
        self.services.runner.op(lambda: api.restore_backup(bid, typed, force),
                                on_success=self._follow, on_error=self._start_failed,
                                owner=self)

    def save_destination_settings(self) -> None:
        raw = self.destinations.text().replace("；", ";")
        paths = [p.strip() for p in raw.split(";") if p.strip()]
        api = self.services.api
        self.services.runner.op(
            lambda: api.update_backup_settings({"destinations": paths}),
            on_success=self._settings_saved, owner=self)

    def _settings_saved(self, s: BackupSettingsOut) -> None:
        self._show_settings(s)
        self.settings_saved.emit(s)
        self.start(reload=True)

    # -- following a job -------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        for b in (self.now_button, self.verify_button, self.restore_button):
            b.setEnabled(not busy)

    def _start_failed(self, err: ApiError) -> None:
        self._set_busy(False)
        self.services.dialogs.error(self, err)

    def _follow(self, job: BackupJobOut) -> None:
        self.job = job
        self.progress.setVisible(True)
        self._show_job(job)
        self.timer.start()

    def _poll(self) -> None:
        if self.job is None or self._polling:
            return
        self._polling = True
        job_id = self.job.id
        api = self.services.api
        self.services.runner.op(lambda: api.backup_job(job_id), on_success=self._job_update,
                                on_error=self._poll_failed, owner=self)

    def _poll_failed(self, _err: ApiError) -> None:
        self._polling = False  # the server may be busy restoring: keep polling

    def _job_update(self, job: BackupJobOut) -> None:
        self._polling = False
        self.job = job
        self._show_job(job)
        if job.state not in ("done", "failed"):
            return
        self.timer.stop()
        self._set_busy(False)
        if job.state == "failed":
            self.services.dialogs.error(self, ApiError(job.error_code or "backup_failed",
                                                       status=409, message=job.error))
        elif job.kind in ("restore", "restore_to"):
            safety = (job.result or {}).get("safety_backup") or "—"
            self.services.dialogs.info(self, tr("backup.restore.done", safety=safety))
        elif job.kind == "verify" and job.result is not None:
            key = "backup.verify.done.ok" if job.result.get("ok") else "backup.verify.done.bad"
            self.services.dialogs.info(self, tr(key, id=job.backup_id or "",
                                                problems="\n".join(job.result.get("problems",
                                                                                  [])[:10])))
        self.job_finished.emit(job)
        self.start(reload=True)

    def _show_job(self, job: BackupJobOut) -> None:
        self.progress.setValue(round(job.progress * 100))
        state = {"done": tr("backup.job.done"), "failed": tr("backup.job.failed")}.get(
            job.state, labels.job_step(job.message))
        self.job_label.setText(f"{tr('backup.job.' + job.kind)}：{state}")
