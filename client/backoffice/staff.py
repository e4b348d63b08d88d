"""Back office: staff accounts (list, search, create, edit, unlock)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from common.errors import ApiError
from common.schemas.base import Role
from common.schemas.staff import StaffOut

from ..i18n import role_label, tr
from ..qt import QtCore, QtWidgets, Signal
from ..widgets.context import Services
from ..widgets.listview import PagedListView, search_box
from ..widgets.paged import Column, PagedTableModel


def local_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def is_locked(s: StaffOut) -> bool:
    if s.locked_until is None:
        return False
    until = s.locked_until if s.locked_until.tzinfo else s.locked_until.replace(tzinfo=dt.UTC)
    return until > dt.datetime.now(dt.UTC)


def staff_status(s: StaffOut) -> str:
    if not s.active:
        return tr("staff.inactive")
    if is_locked(s):
        return tr("staff.locked", until=local_time(s.locked_until))
    return tr("staff.active")


STAFF_COLUMNS = (
    Column("username", "staff.col.username", lambda s: s.username),
    Column("name", "staff.col.name", lambda s: s.display_name),
    Column("role", "staff.col.role", lambda s: role_label(s.role.value)),
    Column("phone", "staff.col.phone", lambda s: s.phone or ""),
    Column("status", "staff.col.status", staff_status),
    Column("created", "staff.col.created", lambda s: local_time(s.created_at)),
)


def manageable_roles(me: StaffOut) -> list[Role]:
    """Roles the UI offers: an owner any, a manager cashiers (the server enforces anyway)."""
    if me.role == Role.OWNER:
        return [Role.CASHIER, Role.MANAGER, Role.OWNER]
    return [Role.CASHIER]


class StaffDialog(QtWidgets.QDialog):
    """Create (``staff=None``) or edit a staff account.

    The body is sent as entered; the server validates it and its per-field messages are shown
    next to the fields. Pressing save again with the same content reuses the Idempotency-Key.

    Signals:
        saved(object): the :class:`StaffOut` the server returned.
    """

    saved = Signal(object)

    def __init__(self, services: Services, me: StaffOut, staff: StaffOut | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staffDialog")
        self.services = services
        self.staff = staff
        self._last: tuple[dict[str, Any], str] | None = None
        self.setWindowTitle(tr("staff.dialog_edit", username=staff.username) if staff
                            else tr("staff.dialog_new"))

        self.username = QtWidgets.QLineEdit(staff.username if staff else "")
        self.username.setObjectName("username")
        self.username.setReadOnly(staff is not None)
        self.display_name = QtWidgets.QLineEdit(staff.display_name if staff else "")
        self.display_name.setObjectName("display_name")
        self.role = QtWidgets.QComboBox()
        self.role.setObjectName("role")
        roles = manageable_roles(me)
        if staff is not None and staff.role not in roles:
            roles.append(staff.role)
        for r in roles:
            self.role.addItem(role_label(r.value), r.value)
        if staff is not None:
            self.role.setCurrentIndex(self.role.findData(staff.role.value))
        self.password = QtWidgets.QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        if staff is not None:
            self.password.setPlaceholderText(tr("staff.password_keep"))
        self.phone = QtWidgets.QLineEdit(staff.phone or "" if staff else "")
        self.phone.setObjectName("phone")
        self.pin = QtWidgets.QLineEdit()
        self.pin.setObjectName("pin")
        self.pin.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(8)
        self.pin.setPlaceholderText(tr("staff.pin_keep") if staff is not None and staff.has_pin
                                    else tr("staff.pin_hint"))
        self.active = QtWidgets.QCheckBox(tr("staff.is_active"))
        self.active.setObjectName("active")
        self.active.setChecked(staff.active if staff else True)
        self.active.setVisible(staff is not None)

        self.field_errors: dict[str, QtWidgets.QLabel] = {}
        form = QtWidgets.QFormLayout()
        for key, label, w in (("username", "staff.col.username", self.username),
                              ("display_name", "staff.col.name", self.display_name),
                              ("role", "staff.col.role", self.role),
                              ("password", "staff.password", self.password),
                              ("phone", "staff.col.phone", self.phone),
                              ("pin", "staff.pin", self.pin)):
            form.addRow(tr(label), w)
            err = QtWidgets.QLabel()
            err.setObjectName(f"error_{key}")
            err.setStyleSheet("color: #b00020;")
            err.setVisible(False)
            form.addRow("", err)
            self.field_errors[key] = err
        form.addRow("", self.active)
        # 预约: bookable (a stylist, a coach) and the weekly hours
        self.bookable = QtWidgets.QCheckBox(tr("bo.staff.bookable"))
        self.bookable.setObjectName("bookable")
        self.bookable.setChecked(bool(staff and staff.bookable))
        form.addRow("", self.bookable)
        start = staff.work_start if staff and staff.work_start else dt.time(10)
        end = staff.work_end if staff and staff.work_end else dt.time(19)
        self.work_start = QtWidgets.QTimeEdit(QtCore.QTime(start.hour, start.minute))
        self.work_start.setObjectName("work_start")
        self.work_end = QtWidgets.QTimeEdit(QtCore.QTime(end.hour, end.minute))
        self.work_end.setObjectName("work_end")
        hours = QtWidgets.QHBoxLayout()
        hours.setContentsMargins(0, 0, 0, 0)
        for w in (self.work_start, self.work_end):
            w.setDisplayFormat("HH:mm")
        hours.addWidget(self.work_start)
        hours.addWidget(QtWidgets.QLabel("–"))
        hours.addWidget(self.work_end)
        hours.addStretch(1)
        hh = QtWidgets.QWidget()
        hh.setLayout(hours)
        form.addRow(tr("bo.staff.hours"), hh)
        days_row = QtWidgets.QHBoxLayout()
        days_row.setContentsMargins(0, 0, 0, 0)
        mask = staff.work_days if staff else 127
        self.days: list[QtWidgets.QCheckBox] = []
        for i, name in enumerate(tr("appt.weekday").split(",")):
            box = QtWidgets.QCheckBox(name)
            box.setObjectName(f"work_day_{i}")
            box.setChecked(bool(mask >> i & 1))
            days_row.addWidget(box)
            self.days.append(box)
        dh = QtWidgets.QWidget()
        dh.setLayout(days_row)
        form.addRow(tr("bo.staff.work_days"), dh)
        note = QtWidgets.QLabel(tr("bo.staff.hours_note"))
        note.setWordWrap(True)
        form.addRow("", note)
        err = QtWidgets.QLabel()
        err.setObjectName("error_work_start")
        err.setStyleSheet("color: #b00020;")
        err.setVisible(False)
        form.addRow("", err)
        self.field_errors["work_start"] = err
        self.field_errors["work_end"] = err
        self.field_errors["work_days"] = err

        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Save
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(tr("common.save"))
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel).setText(
            tr("common.cancel"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)

    def body(self) -> dict[str, Any]:
        role = self.role.currentData()
        if self.staff is None:
            body: dict[str, Any] = {"username": self.username.text().strip(),
                                    "display_name": self.display_name.text().strip(),
                                    "role": role, "password": self.password.text()}
            if self.phone.text().strip():
                body["phone"] = self.phone.text().strip()
            if self.pin.text():
                body["pin"] = self.pin.text()
            if self.bookable.isChecked():
                body.update(bookable=True, **self.hours())
            return body
        s = self.staff
        body = {}
        if self.display_name.text().strip() != s.display_name:
            body["display_name"] = self.display_name.text().strip()
        if role != s.role.value:
            body["role"] = role
        if self.password.text():
            body["password"] = self.password.text()
        if self.phone.text().strip() != (s.phone or ""):
            body["phone"] = self.phone.text().strip() or None
        if self.active.isChecked() != s.active:
            body["active"] = self.active.isChecked()
        if self.pin.text():
            body["pin"] = self.pin.text()
        if self.bookable.isChecked() != s.bookable:
            body["bookable"] = self.bookable.isChecked()
        if self.bookable.isChecked():
            hours = self.hours()
            now = {"work_start": s.work_start.isoformat() if s.work_start else None,
                   "work_end": s.work_end.isoformat() if s.work_end else None,
                   "work_days": s.work_days}
            body.update({k: v for k, v in hours.items() if now[k] != v})
        return body

    def hours(self) -> dict[str, Any]:
        """The weekly hours as the API reads them (``10:00:00``, the weekday bits)."""
        def t(edit: QtWidgets.QTimeEdit) -> str:
            q = edit.time()
            return dt.time(q.hour(), q.minute()).isoformat()

        return {"work_start": t(self.work_start), "work_end": t(self.work_end),
                "work_days": sum(1 << i for i, b in enumerate(self.days) if b.isChecked())}

    def submit(self) -> None:
        body = self.body()
        if self.staff is not None and not body:
            self.accept()
            return
        key = self._last[1] if self._last and self._last[0] == body else str(uuid.uuid4())
        self._last = (body, key)
        for label in self.field_errors.values():
            label.setVisible(False)
        self.save_button.setEnabled(False)
        api, staff = self.services.api, self.staff
        if staff is None:
            def fn() -> StaffOut:
                return api.create_staff(body, key=key)
        else:
            def fn() -> StaffOut:
                return api.update_staff(staff.id, body, key=key)
        self.services.runner.op(fn, self._saved, self._failed, owner=self)

    def _saved(self, staff: StaffOut) -> None:
        self.save_button.setEnabled(True)
        self.saved.emit(staff)
        self.accept()

    def _failed(self, err: ApiError) -> None:
        self.save_button.setEnabled(True)
        for key, msg in err.fields.items():
            label = self.field_errors.get(key.split(".")[0])
            if label is not None:
                label.setText(msg)
                label.setVisible(True)
        self.services.dialogs.error(self, err)


class StaffScreen(QtWidgets.QWidget):
    """Staff list with search, new / edit / unlock (owner and manager).

    ``dialog_factory`` makes the edit dialog (tests pass one that records it).
    """

    def __init__(self, services: Services, me: StaffOut, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staffScreen")
        self.services = services
        self.me = me
        api = services.api
        self.model = PagedTableModel(
            services.runner,
            lambda page, size, f: api.list_staff(page, size, q=f.get("q"),
                                                 include_inactive=bool(f.get("inactive"))),
            STAFF_COLUMNS, page_size=page_size)
        self.list = PagedListView(services, self.model)
        self.search = search_box(tr("staff.search"), self._search, self)
        self.search.setObjectName("staffSearch")
        self.inactive = QtWidgets.QCheckBox(tr("staff.include_inactive"))
        self.inactive.setObjectName("includeInactive")
        self.inactive.toggled.connect(lambda _on: self._search(self.search.text().strip()))
        self.new_button = QtWidgets.QPushButton(tr("staff.new"))
        self.new_button.setObjectName("newStaff")
        self.new_button.clicked.connect(self.new_staff)
        self.edit_button = QtWidgets.QPushButton(tr("staff.edit"))
        self.edit_button.setObjectName("editStaff")
        self.edit_button.clicked.connect(lambda: self.edit_staff(self.list.selected_item()))
        self.unlock_button = QtWidgets.QPushButton(tr("staff.unlock"))
        self.unlock_button.setObjectName("unlockStaff")
        self.unlock_button.clicked.connect(lambda: self.unlock(self.list.selected_item()))
        refresh = QtWidgets.QPushButton(tr("common.refresh"))
        refresh.clicked.connect(self.model.reload)
        t = self.list.tools
        for w in (self.search, self.inactive):
            t.addWidget(w)
        t.addStretch(1)
        for w in (self.new_button, self.edit_button, self.unlock_button, refresh):
            t.addWidget(w)
        self.list.activated.connect(self.edit_staff)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        self.last_dialog: StaffDialog | None = None

    def start(self, reload: bool = False) -> None:
        """Load the first page when first shown (``reload``: fetch it again)."""
        if reload or (self.model.pages_loaded == 0 and not self.model.loading):
            self.model.reload()

    def _search(self, text: str) -> None:
        self.model.set_filters(q=text, inactive=self.inactive.isChecked())

    def _open(self, staff: StaffOut | None) -> StaffDialog:
        dlg = StaffDialog(self.services, self.me, staff, self)
        dlg.saved.connect(self._saved)
        self.last_dialog = dlg
        dlg.open()  # window-modal, non-blocking (tests drive it)
        return dlg

    def new_staff(self) -> StaffDialog:
        return self._open(None)

    def edit_staff(self, staff: object | None) -> StaffDialog | None:
        if not isinstance(staff, StaffOut):
            self.services.dialogs.info(self, tr("staff.select_first"))
            return None
        return self._open(staff)

    def _saved(self, staff: StaffOut) -> None:
        if any(s.id == staff.id for s in self.model.items):
            self.model.replace_item(lambda s: s.id == staff.id, staff)
        else:
            self.model.reload()

    def unlock(self, staff: object | None) -> None:
        if not isinstance(staff, StaffOut):
            self.services.dialogs.info(self, tr("staff.select_first"))
            return
        api = self.services.api
        self.services.runner.op(lambda: api.update_staff(staff.id, {"unlock": True}),
                                self._unlocked, lambda e: self.services.dialogs.error(self, e),
                                owner=self)

    def _unlocked(self, staff: StaffOut) -> None:
        self.model.replace_item(lambda s: s.id == staff.id, staff)
        self.list.footer.setText(tr("staff.unlocked", username=staff.username))


