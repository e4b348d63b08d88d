"""预约 at the counter (收银操作 → 预约, F12): the day view by staff (columns) × time (rows,
half-hour slots), and the booking, move and cancel dialogs; the lists of today's and
tomorrow's bookings to call.

Keyboard first: the arrows move over the grid; Enter on an empty slot books it (that staff
member, that time), Enter on a booking checks it in (到店: the controller turns it into the
cart); F3 moves the booking, Delete cancels it (each with a reason), F8 marks a no-show (a
manager); PgUp / PgDn change the day, Home goes to today. A booking spans its slots; a
stylist's hours off are greyed. Every rule (overlaps, hours, class places) is the server's:
its refusal is shown as it says it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from common.errors import ApiError
from common.money import format_fen
from common.schemas.appointments import (
    MINUTE_STEP,
    AppointmentOut,
    CheckInOut,
    DayOut,
    DayServiceOut,
    DayStaffOut,
)
from common.schemas.members import MemberOut

from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal
from ..widgets.approval import error_label
from ..widgets.context import Services
from ..widgets.dialogs import EnterDialog, accept_cancel, error_text

CLASS_COLUMN = -1  # the staff id of the 团课 column
ID_ROLE = Qt.ItemDataRole.UserRole


def weekday(d: dt.date) -> str:
    return tr("appt.weekday").split(",")[d.weekday()]


def day_text(d: dt.date) -> str:
    return tr("appt.date", date=d.isoformat(), weekday=weekday(d))


def slots(day: DayOut) -> list[dt.time]:
    """The rows of the day: every ``slot_minutes`` from the first slot until the last end."""
    out = []
    t = dt.datetime.combine(day.date, day.open_from)
    end = dt.datetime.combine(day.date, day.open_to)
    while t < end:
        out.append(t.time())
        t += dt.timedelta(minutes=day.slot_minutes)
    return out


def services_text(a: AppointmentOut) -> str:
    return "、".join(s.name for s in a.services)


def cell_text(a: AppointmentOut) -> str:
    if a.status == "booked":
        return tr("appt.cell", customer=a.customer_name, services=services_text(a))
    return tr("appt.cell_status", customer=a.customer_name,
              status=tr(f"appt.status.{a.status}"), services=services_text(a))


class AppointmentDayDialog(EnterDialog):
    """See module doc.

    Signals:
        checked_in(object): a :class:`CheckInOut` — the controller fills the cart.
        loaded(): a day arrived (tests).
        changed(object): a booking was made, moved, cancelled or marked (its
            :class:`AppointmentOut`).
    """

    checked_in = Signal(object)
    loaded = Signal()
    changed = Signal(object)

    def __init__(self, services: Services, *, is_manager: bool = False,
                 cart_busy: Callable[[], bool] = lambda: False, day: dt.date | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("appointmentDayDialog")
        self.services = services
        self.is_manager = is_manager
        self.cart_busy = cart_busy
        self.day_date: dt.date | None = day
        self.day: DayOut | None = None
        self.server_today: dt.date | None = None
        self.columns: list[DayStaffOut | None] = []  # None: the classes' column
        self.rows: list[dt.time] = []
        self.by_id: dict[int, AppointmentOut] = {}
        self.dialog: QtWidgets.QDialog | None = None
        self.setWindowTitle(tr("appt.title"))
        self.setModal(True)

        lay = QtWidgets.QVBoxLayout(self)
        top = QtWidgets.QHBoxLayout()
        self.prev_button = QtWidgets.QPushButton(tr("appt.prev_day"))
        self.prev_button.setObjectName("apptPrev")
        self.prev_button.clicked.connect(lambda: self.shift_day(-1))
        self.today_button = QtWidgets.QPushButton(tr("appt.today"))
        self.today_button.setObjectName("apptToday")
        self.today_button.clicked.connect(lambda: self.load(None))
        self.next_button = QtWidgets.QPushButton(tr("appt.next_day"))
        self.next_button.setObjectName("apptNext")
        self.next_button.clicked.connect(lambda: self.shift_day(1))
        self.date_label = QtWidgets.QLabel(tr("appt.loading"))
        self.date_label.setObjectName("apptDate")
        f = self.date_label.font()
        f.setPointSize(f.pointSize() + 3)
        f.setBold(True)
        self.date_label.setFont(f)
        for b in (self.prev_button, self.today_button, self.next_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        top.addWidget(self.prev_button)
        top.addWidget(self.date_label, 1, Qt.AlignmentFlag.AlignCenter)
        top.addWidget(self.today_button)
        top.addWidget(self.next_button)
        lay.addLayout(top)

        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("apptTabs")
        self.grid = QtWidgets.QTableWidget(0, 0)
        self.grid.setObjectName("apptGrid")
        self.grid.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setWordWrap(True)
        self.grid.horizontalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.grid.verticalHeader().setDefaultSectionSize(34)
        self.grid.installEventFilter(self)
        self.grid.doubleClicked.connect(lambda _i: self.enter())
        self.tabs.addTab(self.grid, tr("appt.tab.day"))
        self.call = QtWidgets.QTableWidget(0, 7)
        self.call.setObjectName("apptCallList")
        self.call.setHorizontalHeaderLabels([tr(f"appt.col.{c}") for c in (
            "date", "time", "customer", "phone", "services", "staff", "no_shows")])
        self.call.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.call.horizontalHeader().setSectionResizeMode(
            4, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.tabs.addTab(self.call, tr("appt.tab.call"))
        self.tabs.currentChanged.connect(self._tab)
        lay.addWidget(self.tabs, 1)

        hint = QtWidgets.QLabel(tr("appt.keys"))
        hint.setObjectName("apptKeys")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("apptStatus")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.error = error_label()
        lay.addWidget(self.error)
        row = QtWidgets.QHBoxLayout()

        def button(key: str, name: str, slot: Callable[[], object]) -> QtWidgets.QPushButton:
            b = QtWidgets.QPushButton(tr(key))
            b.setObjectName(name)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(slot)
            row.addWidget(b)
            return b

        self.new_button = button("appt.new", "apptNew", self.new_booking)
        self.check_in_button = button("appt.check_in", "apptCheckIn", self.check_in)
        self.move_button = button("appt.move", "apptMove", self.move)
        self.cancel_button = button("appt.cancel", "apptCancel", self.cancel)
        self.no_show_button = button("appt.no_show", "apptNoShow", self.no_show)
        if not is_manager:
            self.no_show_button.setEnabled(False)
            self.no_show_button.setToolTip(tr("appt.manager_only"))
        row.addStretch(1)
        button("appt.close", "apptClose", self.reject)
        lay.addLayout(row)
        self.resize(980, 680)
        self.load(day)

    # --- loading ----------------------------------------------------------------------
    def shift_day(self, days: int) -> None:
        base = self.day.date if self.day else (self.day_date or dt.date.today())
        self.load(base + dt.timedelta(days=days))

    def load(self, day: dt.date | None) -> None:
        api = self.services.api
        self.status.setText(tr("appt.loading"))

        def loaded(d: DayOut) -> None:
            if day is None:
                self.server_today = d.date  # the shop's business day, as the server has it
            self._loaded(d)

        self.services.runner.op(lambda: api.appointment_day(day), loaded, self._failed,
                                owner=self)

    def _loaded(self, day: DayOut) -> None:
        keep = self.grid.currentRow(), self.grid.currentColumn()
        same_day = self.day is not None and self.day.date == day.date
        self.day, self.day_date = day, day.date
        self.date_label.setText(day_text(day.date))
        self.columns = [*day.staff, *([None] if day.classes else [])]
        self.rows = slots(day)
        self.by_id = {a.id: a for a in day.appointments}
        g = self.grid
        g.clearSpans()
        g.clear()
        g.setColumnCount(len(self.columns))
        g.setRowCount(len(self.rows))
        g.setHorizontalHeaderLabels([
            (c.display_name + ("" if c.start else f"（{tr('appt.off')}）")) if c is not None
            else tr("appt.classes") for c in self.columns])
        g.setVerticalHeaderLabels([t.strftime("%H:%M") for t in self.rows])
        off = QtGui.QBrush(QtGui.QColor("#e6e6e6"))
        for ci, col in enumerate(self.columns):
            for ri, t in enumerate(self.rows):
                item = QtWidgets.QTableWidgetItem("")
                if col is not None and not (col.start and col.end and col.start <= t < col.end):
                    item.setBackground(off)
                g.setItem(ri, ci, item)
        for a in day.appointments:
            if a.staff_id is None:
                continue
            ci = next((i for i, c in enumerate(self.columns)
                       if c is not None and c.id == a.staff_id), None)
            if ci is not None:
                self._place(ci, a.local_start.time(), a.local_end.time(), cell_text(a), a.id,
                            a.status)
        if day.classes:
            ci = len(self.columns) - 1
            for c in day.classes:
                self._place(ci, c.start, c.end, tr("appt.class_cell", name=c.name,
                                                   booked=c.booked, capacity=c.capacity),
                            None, "class", class_id=c.product_id)
        live = [a for a in day.appointments if a.status != "cancelled"]
        self.status.setText(tr("appt.count", n=len(live)) if live else tr("appt.none_today"))
        self.error.clear()
        if same_day and keep[0] >= 0:
            g.setCurrentCell(min(keep[0], g.rowCount() - 1), min(keep[1], g.columnCount() - 1))
        elif g.rowCount() and g.columnCount():
            g.setCurrentCell(0, 0)
        g.setFocus()
        self.loaded.emit()
        if self.tabs.currentIndex() == 1:
            self.load_call_list()

    def _place(self, ci: int, start: dt.time, end: dt.time, text: str, aid: int | None,
               status: str, class_id: int | None = None) -> None:
        rows = [i for i, t in enumerate(self.rows) if start <= t < end
                or (i + 1 < len(self.rows) and t < start < self.rows[i + 1])]
        if not rows:
            return
        item = QtWidgets.QTableWidgetItem(text)
        item.setData(ID_ROLE, aid)
        item.setData(ID_ROLE + 1, class_id)
        colour = {"booked": "#cfe8ff", "checked_in": "#d4f5d4", "no_show": "#f8d0d0",
                  "class": "#fff1c2"}.get(status, "#ffffff")
        item.setBackground(QtGui.QBrush(QtGui.QColor(colour)))
        item.setToolTip(text)
        self.grid.setItem(rows[0], ci, item)
        if len(rows) > 1:
            self.grid.setSpan(rows[0], ci, len(rows), 1)

    def load_call_list(self) -> None:
        """Today's and tomorrow's bookings still to come, with the phone to call."""
        api = self.services.api
        today = self.server_today or dt.date.today()

        def fetch() -> list[AppointmentOut]:
            return [a for d in (today, today + dt.timedelta(days=1))
                    for a in api.appointments(d, status="booked", page_size=200).items]

        self.services.runner.op(fetch, self._call_list, self._failed, owner=self)

    def _call_list(self, items: list[AppointmentOut]) -> None:
        self.call.setRowCount(len(items))
        for r, a in enumerate(items):
            cells = (a.business_date.isoformat(), a.local_start.strftime("%H:%M"),
                     a.customer_name, a.phone or "", services_text(a),
                     a.staff_name or tr("appt.classes"),
                     str(a.no_show_count) if a.no_show_count else "")
            for c, text in enumerate(cells):
                self.call.setItem(r, c, QtWidgets.QTableWidgetItem(text))

    def _tab(self, index: int) -> None:
        if index == 1:
            self.load_call_list()
            self.call.setFocus()
        else:
            self.grid.setFocus()

    def _failed(self, err: ApiError) -> None:
        self.status.clear()
        self.error.setText(error_text(err))

    # --- the selected cell ------------------------------------------------------------
    def selected(self) -> AppointmentOut | None:
        item = self.grid.currentItem()
        aid = item.data(ID_ROLE) if item is not None else None
        return self.by_id.get(aid) if aid is not None else None

    def selected_slot(self) -> tuple[DayStaffOut | None, dt.datetime] | None:
        """(staff column or None for the classes, the slot's start) of the current cell."""
        if self.day is None or self.grid.currentRow() < 0 or self.grid.currentColumn() < 0:
            return None
        col = self.columns[self.grid.currentColumn()]
        start = dt.datetime.combine(self.day.date, self.rows[self.grid.currentRow()])
        item = self.grid.currentItem()
        if col is None and item is not None and item.data(ID_ROLE + 1) is not None:
            klass = next(c for c in self.day.classes if c.product_id == item.data(ID_ROLE + 1))
            start = dt.datetime.combine(self.day.date, klass.start)
        return col, start

    def eventFilter(self, obj: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if obj is self.grid and event is not None and event.type() == QtCore.QEvent.Type.KeyPress:
            assert isinstance(event, QtGui.QKeyEvent)
            key = event.key()
            actions: dict[int, Callable[[], object]] = {
                Qt.Key.Key_F3: self.move, Qt.Key.Key_Delete: self.cancel,
                Qt.Key.Key_F8: self.no_show, Qt.Key.Key_PageUp: lambda: self.shift_day(-1),
                Qt.Key.Key_PageDown: lambda: self.shift_day(1),
                Qt.Key.Key_Home: lambda: self.load(None), Qt.Key.Key_Insert: self.new_booking}
            if key in actions:
                actions[key]()
                return True
        return super().eventFilter(obj, event)

    def enter(self) -> None:
        if self.tabs.currentIndex() != 0:
            return
        if self.selected() is not None:
            self.check_in()
        else:
            self.new_booking()

    # --- actions ----------------------------------------------------------------------
    def _open(self, dlg: QtWidgets.QDialog) -> None:
        self.dialog = dlg
        dlg.finished.connect(lambda _r: self.grid.setFocus())
        dlg.open()

    def new_booking(self) -> None:
        if self.day is None:
            return
        slot = self.selected_slot()
        col, start = slot if slot else (None, dt.datetime.combine(self.day.date, dt.time(10)))
        services = [s for s in self.day.services if (col is None) == s.is_class]
        dlg = BookDialog(self.services, services, list(self.day.staff), start,
                         staff_id=col.id if col is not None else None,
                         is_class=col is None and bool(self.day.classes), parent=self)
        dlg.booked.connect(self._booked)
        self._open(dlg)

    def _booked(self, a: AppointmentOut) -> None:
        self.changed.emit(a)
        self.load(a.business_date)
        self.status.setText(tr("appt.booked", customer=a.customer_name,
                               time=a.local_start.strftime("%m-%d %H:%M"),
                               staff=a.staff_name or tr("appt.classes")))

    def _need_booking(self) -> AppointmentOut | None:
        a = self.selected()
        if a is None:
            self.error.setText(tr("appt.pick_booking"))
        return a

    def check_in(self) -> None:
        a = self._need_booking()
        if a is None:
            return
        if self.cart_busy():
            self.error.setText(tr("appt.cart_busy"))
            return
        api = self.services.api
        self.services.runner.op(lambda: api.check_in_appointment(a.id), self._checked_in,
                                self._failed, owner=self)

    def _checked_in(self, res: CheckInOut) -> None:
        self.changed.emit(res.appointment)
        self.checked_in.emit(res)
        self.accept()

    def move(self) -> None:
        a = self._need_booking()
        if a is None or self.day is None:
            return
        dlg = MoveDialog(self.services, a, list(self.day.staff), parent=self)
        dlg.moved.connect(lambda m: (self.changed.emit(m), self.load(m.business_date),
                                     self.status.setText(tr(
                                         "appt.moved", time=m.local_start.strftime(
                                             "%m-%d %H:%M"), staff=m.staff_name or ""))))
        self._open(dlg)

    def cancel(self) -> None:
        a = self._need_booking()
        if a is None:
            return
        dlg = CancelDialog(self.services, a, parent=self)
        dlg.cancelled.connect(lambda c: (self.changed.emit(c), self.load(c.business_date),
                                         self.status.setText(tr(
                                             "appt.cancelled", customer=c.customer_name))))
        self._open(dlg)

    def no_show(self) -> None:
        if not self.is_manager:
            self.error.setText(tr("appt.manager_only"))
            return
        a = self._need_booking()
        if a is None:
            return
        api = self.services.api

        def done(m: AppointmentOut) -> None:
            self.changed.emit(m)
            self.load(m.business_date)
            self.status.setText(tr("appt.marked_no_show", customer=m.customer_name))

        self.services.runner.op(lambda: api.no_show_appointment(a.id), done, self._failed,
                                owner=self)


def _staff_combo(staff: list[DayStaffOut], first: str, pick: int | None
                 ) -> QtWidgets.QComboBox:
    combo = QtWidgets.QComboBox()
    combo.addItem(first, None)
    for s in staff:
        combo.addItem(s.display_name, s.id)
    if pick is not None:
        combo.setCurrentIndex(max(0, combo.findData(pick)))
    return combo


def _time_edit(t: dt.time) -> QtWidgets.QTimeEdit:
    edit = QtWidgets.QTimeEdit(QtCore.QTime(t.hour, t.minute))
    edit.setDisplayFormat("HH:mm")
    return edit


def _snap(t: QtCore.QTime) -> dt.time:
    return dt.time(t.hour(), t.minute() - t.minute() % MINUTE_STEP)


class BookDialog(EnterDialog):
    """新预约: a member (found by phone, its last 4 digits or card) or a walk-in (name +
    phone), the services (Space ticks), the staff member or anyone, the day and time.

    Signals:
        booked(object): the :class:`AppointmentOut` the server made.
    """

    booked = Signal(object)

    def __init__(self, services: Services, offered: list[DayServiceOut],
                 staff: list[DayStaffOut], start: dt.datetime, *, staff_id: int | None = None,
                 is_class: bool = False, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bookDialog")
        self.services = services
        self.offered = offered
        self.member: MemberOut | None = None
        self.setWindowTitle(tr("appt.book_title"))
        self.setModal(True)
        form = QtWidgets.QFormLayout(self)
        self.member_search = QtWidgets.QLineEdit()
        self.member_search.setObjectName("apptMemberSearch")
        self.member_search.setPlaceholderText(tr("appt.member_hint"))
        form.addRow(tr("appt.member"), self.member_search)
        self.member_label = QtWidgets.QLabel("")
        self.member_label.setObjectName("apptMemberFound")
        form.addRow("", self.member_label)
        self.walk_in_name = QtWidgets.QLineEdit()
        self.walk_in_name.setObjectName("apptWalkInName")
        self.walk_in_name.setMaxLength(64)
        form.addRow(tr("appt.walk_in_name"), self.walk_in_name)
        self.walk_in_phone = QtWidgets.QLineEdit()
        self.walk_in_phone.setObjectName("apptWalkInPhone")
        self.walk_in_phone.setMaxLength(20)
        form.addRow(tr("appt.walk_in_phone"), self.walk_in_phone)
        self.service_list = QtWidgets.QListWidget()
        self.service_list.setObjectName("apptServices")
        for s in offered:
            item = QtWidgets.QListWidgetItem(tr(
                "appt.class_row" if s.is_class else "appt.service_row", name=s.name,
                minutes=s.minutes, price=format_fen(s.price)))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setData(ID_ROLE, s.id)
            self.service_list.addItem(item)
        if offered:
            self.service_list.setCurrentRow(0)
        self.service_list.setMaximumHeight(150)
        self.service_list.installEventFilter(self)  # Enter there books (the view eats it)
        form.addRow(tr("appt.services"), self.service_list)
        self.staff = _staff_combo(staff, tr("appt.anyone"), staff_id)
        self.staff.setObjectName("apptStaff")
        self.staff.setEnabled(not is_class)
        form.addRow(tr("appt.staff"), self.staff)
        self.date = QtWidgets.QDateEdit(QtCore.QDate(start.year, start.month, start.day))
        self.date.setObjectName("apptDay")
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setCalendarPopup(True)
        form.addRow(tr("appt.day"), self.date)
        self.time = _time_edit(start.time())
        self.time.setObjectName("apptTime")
        form.addRow(tr("appt.time"), self.time)
        self.note = QtWidgets.QLineEdit()
        self.note.setObjectName("apptNote")
        self.note.setMaxLength(255)
        form.addRow(tr("appt.note"), self.note)
        self.error = error_label()
        form.addRow(self.error)
        box, self.ok = accept_cancel(self, tr("appt.book_ok"), "apptBookOk")
        box.accepted.disconnect()
        box.accepted.connect(self.enter)
        form.addRow(box)
        self.member_search.setFocus()

    def search_member(self) -> None:
        q = self.member_search.text().strip()
        if not q:
            return
        api = self.services.api

        def found(items: list[MemberOut]) -> None:
            self.member = items[0] if len(items) == 1 else None
            if self.member is None:
                self.member_label.setText(tr("appt.member_none"))
                self.walk_in_name.setFocus()
            else:
                self.member_label.setText(tr("appt.member_found", name=self.member.name,
                                             phone=self.member.phone or ""))
                self.service_list.setFocus()

        self.services.runner.op(lambda: list(api.list_members(q=q, page_size=5).items), found,
                                lambda e: self.error.setText(error_text(e)), owner=self)

    def picked(self) -> list[int]:
        return [int(self.service_list.item(i).data(ID_ROLE))
                for i in range(self.service_list.count())
                if self.service_list.item(i).checkState() == Qt.CheckState.Checked]

    def eventFilter(self, obj: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if (obj is self.service_list and event is not None
                and event.type() == QtCore.QEvent.Type.KeyPress):
            assert isinstance(event, QtGui.QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.enter()
                return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event: QtGui.QKeyEvent | None) -> None:
        if (event is not None and event.key() == Qt.Key.Key_Space
                and self.service_list.hasFocus()):
            item = self.service_list.currentItem()
            if item is not None:
                item.setCheckState(Qt.CheckState.Unchecked
                                   if item.checkState() == Qt.CheckState.Checked
                                   else Qt.CheckState.Checked)
            return
        super().keyPressEvent(event)

    def body(self) -> dict:
        d = self.date.date()
        start = dt.datetime.combine(dt.date(d.year(), d.month(), d.day()),
                                    _snap(self.time.time()))
        body: dict = {"product_ids": self.picked(), "staff_id": self.staff.currentData(),
                      "starts_at": start.isoformat(), "note": self.note.text().strip() or None}
        if self.member is not None:
            body["member_id"] = self.member.id
        else:
            body["customer_name"] = self.walk_in_name.text().strip() or None
            body["phone"] = self.walk_in_phone.text().strip() or None
        return body

    def enter(self) -> None:
        if self.member_search.hasFocus() and self.member_search.text().strip() and (
                self.member is None or self.member_label.text() == ""):
            self.search_member()
            return
        if self.member is None and not (self.walk_in_name.text().strip()
                                        and self.walk_in_phone.text().strip()):
            self.error.setText(tr("appt.need_customer"))
            (self.walk_in_phone if self.walk_in_name.text().strip()
             else self.walk_in_name).setFocus()
            return
        if not self.picked():
            self.error.setText(tr("appt.need_service"))
            self.service_list.setFocus()
            return
        body = self.body()
        api = self.services.api
        self.ok.setEnabled(False)

        def failed(err: ApiError) -> None:
            self.ok.setEnabled(True)
            self.error.setText(error_text(err))

        self.services.runner.op(lambda: api.book(body), self._done, failed, owner=self)

    def _done(self, a: AppointmentOut) -> None:
        self.booked.emit(a)
        self.accept()


class MoveDialog(EnterDialog):
    """改约: a new day / time and maybe another staff member, with the reason.

    Signals:
        moved(object): the moved :class:`AppointmentOut`.
    """

    moved = Signal(object)

    def __init__(self, services: Services, a: AppointmentOut, staff: list[DayStaffOut],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("moveDialog")
        self.services = services
        self.appointment = a
        self.setWindowTitle(tr("appt.move_title"))
        self.setModal(True)
        form = QtWidgets.QFormLayout(self)
        form.addRow(QtWidgets.QLabel(tr("appt.move_of", customer=a.customer_name,
                                        time=a.local_start.strftime("%m-%d %H:%M"),
                                        services=services_text(a))))
        s = a.local_start
        self.date = QtWidgets.QDateEdit(QtCore.QDate(s.year, s.month, s.day))
        self.date.setObjectName("moveDay")
        self.date.setDisplayFormat("yyyy-MM-dd")
        form.addRow(tr("appt.day"), self.date)
        self.time = _time_edit(s.time())
        self.time.setObjectName("moveTime")
        form.addRow(tr("appt.time"), self.time)
        self.staff = _staff_combo(staff, tr("appt.same_staff"), None)
        self.staff.setObjectName("moveStaff")
        self.staff.setEnabled(a.staff_id is not None)
        form.addRow(tr("appt.staff"), self.staff)
        self.reason = QtWidgets.QLineEdit()
        self.reason.setObjectName("moveReason")
        self.reason.setMaxLength(255)
        form.addRow(tr("appt.reason"), self.reason)
        self.error = error_label()
        form.addRow(self.error)
        box, self.ok = accept_cancel(self, tr("appt.move_ok"), "moveOk")
        box.accepted.disconnect()
        box.accepted.connect(self.enter)
        form.addRow(box)
        self.time.setFocus()

    def enter(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            self.error.setText(tr("appt.need_reason"))
            self.reason.setFocus()
            return
        d = self.date.date()
        start = dt.datetime.combine(dt.date(d.year(), d.month(), d.day()),
                                    _snap(self.time.time()))
        body = {"starts_at": start.isoformat(), "staff_id": self.staff.currentData(),
                "reason": reason}
        api, aid = self.services.api, self.appointment.id
        self.services.runner.op(lambda: api.move_appointment(aid, body), self._done,
                                lambda e: self.error.setText(error_text(e)), owner=self)

    def _done(self, a: AppointmentOut) -> None:
        self.moved.emit(a)
        self.accept()


class CancelDialog(EnterDialog):
    """取消预约 with the reason.

    Signals:
        cancelled(object): the cancelled :class:`AppointmentOut`.
    """

    cancelled = Signal(object)

    def __init__(self, services: Services, a: AppointmentOut,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cancelBookingDialog")
        self.services = services
        self.appointment = a
        self.setWindowTitle(tr("appt.cancel_title"))
        self.setModal(True)
        form = QtWidgets.QFormLayout(self)
        form.addRow(QtWidgets.QLabel(tr("appt.move_of", customer=a.customer_name,
                                        time=a.local_start.strftime("%m-%d %H:%M"),
                                        services=services_text(a))))
        self.reason = QtWidgets.QLineEdit()
        self.reason.setObjectName("cancelReason")
        self.reason.setMaxLength(255)
        form.addRow(tr("appt.reason"), self.reason)
        self.error = error_label()
        form.addRow(self.error)
        box, self.ok = accept_cancel(self, tr("appt.cancel_ok"), "cancelOk")
        box.accepted.disconnect()
        box.accepted.connect(self.enter)
        form.addRow(box)
        self.reason.setFocus()

    def enter(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            self.error.setText(tr("appt.need_reason"))
            return
        api, aid = self.services.api, self.appointment.id
        self.services.runner.op(lambda: api.cancel_appointment(aid, reason), self._done,
                                lambda e: self.error.setText(error_text(e)), owner=self)

    def _done(self, a: AppointmentOut) -> None:
        self.cancelled.emit(a)
        self.accept()
