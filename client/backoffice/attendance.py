"""Back office: 考勤 — the month's attendance of every staff member (``GET /attendance/summary``:
days worked, hours, late arrivals, early leaves, missing clock-outs, absent planned days), one
staff member's days (``GET /attendance/days``), the planned shifts editor (排班) and the
correction dialog (修改打卡, with a reason). Every figure is the server's.

:func:`attendance_doc` turns a summary into the :class:`~client.reports.document.ReportDoc`
every output reads (screen, A4 print, PDF, xlsx).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.errors import ApiError
from common.schemas.attendance import (
    CLOCK_ACTIONS,
    DayOut,
    DaysOut,
    SummaryOut,
)

from .. import i18n
from ..i18n import role_label, tr
from ..qt import Qt, QtWidgets, Signal
from ..reports.document import Chart, Col, ReportDoc, Table
from ..widgets.context import Services
from .common import FieldError, FormDialog, button, line_edit

#: the summary table's columns (keys of the server's figures)
SUMMARY_COLUMNS = ("name", "planned_days", "days_worked", "worked", "late", "early",
                   "missing_out", "absent", "corrections")
DAY_COLUMNS = ("date", "plan", "punches", "worked", "late", "early", "status")
FIX_ACTIONS = ("add", "change", "remove")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def hours(minutes: int) -> str:
    """492 → '8:12' (hours:minutes)."""
    h, m = divmod(int(minutes), 60)
    return f"{h}:{m:02d}"


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift_month(month: str, delta: int) -> str:
    year, mon = (int(x) for x in month.split("-"))
    n = year * 12 + (mon - 1) + delta
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def times_text(count: int, minutes: int) -> str:
    return tr("att.times", n=count, m=minutes) if count else ""


def summary_cells(row: Any) -> list[str]:
    return [f"{row.display_name}（{row.username}）", str(row.planned_days), str(row.days_worked),
            hours(row.worked_minutes), times_text(row.late, row.late_minutes),
            times_text(row.early, row.early_minutes), str(row.missing_out or ""),
            str(row.absent or ""), str(row.corrections or "")]


def day_status(d: DayOut) -> str:
    parts = []
    if d.working_now:
        parts.append(tr("att.status.working_now"))
    if d.missing_out:
        parts.append(tr("att.status.missing_out"))
    if d.absent:
        parts.append(tr("att.status.absent"))
    if d.corrections:
        parts.append(tr("att.status.corrected", n=d.corrections))
    return "、".join(parts)


def day_cells(d: DayOut) -> list[str]:
    plan = ""
    if d.plan is not None:
        plan = f"{d.plan.start.strftime('%H:%M')}–{d.plan.end.strftime('%H:%M')}"
    short = {"in": tr("att.short.in"), "break_start": tr("att.short.break_start"),
             "break_end": tr("att.short.break_end"), "out": tr("att.short.out")}
    punches = " ".join(f"{short[p.kind]}{p.local_time.strftime('%H:%M')}"
                       + ("*" if p.source == "correction" else "") for p in d.punches)
    return [d.date.strftime("%m-%d"), plan, punches, hours(d.worked_minutes),
            tr("att.minutes", m=d.late_minutes) if d.late else "",
            tr("att.minutes", m=d.early_minutes) if d.early else "", day_status(d)]


def attendance_doc(summary: SummaryOut, shop: str = "", printed_by: str = "",
                   printed_at: dt.datetime | None = None) -> ReportDoc:
    """The month's summary as a report document: one table (a row per staff member and the
    server's totals), the headline figures and a chart of the hours worked."""
    cols = [Col("name", tr("att.col.name")), Col("role", tr("att.col.role")),
            Col("planned_days", tr("att.col.planned_days"), "int"),
            Col("days_worked", tr("att.col.days_worked"), "int"),
            Col("worked", tr("att.col.worked")),
            Col("worked_minutes", tr("att.col.worked_minutes"), "int"),
            Col("late", tr("att.col.late_count"), "int"),
            Col("late_minutes", tr("att.col.late_minutes"), "int"),
            Col("early", tr("att.col.early_count"), "int"),
            Col("early_minutes", tr("att.col.early_minutes"), "int"),
            Col("missing_out", tr("att.col.missing_out"), "int"),
            Col("absent", tr("att.col.absent"), "int"),
            Col("corrections", tr("att.col.corrections"), "int")]
    figures = ("planned_days", "days_worked", "worked_minutes", "late", "late_minutes",
               "early", "early_minutes", "missing_out", "absent", "corrections")
    rows = [{"name": r.display_name, "role": role_label(r.role.value),
             "worked": hours(r.worked_minutes), **{k: getattr(r, k) for k in figures}}
            for r in summary.staff]
    t = summary.totals
    totals = {"name": tr("att.total"), "worked": hours(t.worked_minutes),
              **{k: getattr(t, k) for k in figures}}
    table = Table(tr("att.doc.table"), cols, rows, totals)
    return ReportDoc(
        title=tr("att.doc.title"), shop=shop, period=summary.month,
        printed_at=printed_at or dt.datetime.now(), printed_by=printed_by,
        headline=[(tr("att.doc.staff"), str(len(rows))),
                  (tr("att.doc.worked"), hours(t.worked_minutes)),
                  (tr("att.col.late_count"), str(t.late)),
                  (tr("att.col.early_count"), str(t.early)),
                  (tr("att.col.missing_out"), str(t.missing_out)),
                  (tr("att.col.absent"), str(t.absent))],
        tables=[table],
        charts=[Chart("hbar", tr("att.doc.chart"), 0, "name", ["worked_minutes"])],
        notes=[tr("att.doc.note", grace=summary.grace_minutes)])


def _table(columns: tuple[str, ...], prefix: str, name: str) -> QtWidgets.QTableWidget:
    t = QtWidgets.QTableWidget(0, len(columns))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels([tr(f"{prefix}{c}") for c in columns])
    t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    t.verticalHeader().setVisible(False)
    t.setAlternatingRowColors(True)
    t.horizontalHeader().setSectionResizeMode(
        QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def _fill(table: QtWidgets.QTableWidget, rows: list[list[str]], numeric: set[int]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QtWidgets.QTableWidgetItem(text)
            if c in numeric:
                item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter))
            table.setItem(r, c, item)


class PlanDialog(FormDialog):
    """排班: one shift (start, end, break) on the chosen weekdays between two dates."""

    def __init__(self, services: Services, staff_id: int, staff_name: str, month: str,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("att.plan.title", name=staff_name), "planDialog",
                         parent)
        self.staff_id = staff_id
        first = dt.date.fromisoformat(f"{month}-01")
        last = dt.date.fromisoformat(f"{shift_month(month, 1)}-01") - dt.timedelta(days=1)
        self.date_from = self.add_field("date_from", tr("att.plan.from"),
                                        line_edit(first.isoformat(), "planFrom"))
        self.date_to = self.add_field("date_to", tr("att.plan.to"),
                                      line_edit(last.isoformat(), "planTo"))
        days = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(days)
        row.setContentsMargins(0, 0, 0, 0)
        self.weekdays: list[QtWidgets.QCheckBox] = []
        for wd in WEEKDAYS:
            box = QtWidgets.QCheckBox(tr(f"att.wd.{wd}"))
            box.setObjectName(f"wd_{wd}")
            box.setChecked(wd not in ("sat", "sun"))
            row.addWidget(box)
            self.weekdays.append(box)
        self.add_field("dates", tr("att.plan.weekdays"), days)
        self.start = self.add_field("start", tr("att.plan.start"), line_edit("09:00", "planStart"))
        self.end = self.add_field("end", tr("att.plan.end"), line_edit("18:00", "planEnd"))
        self.break_minutes = self.add_field("break_minutes", tr("att.plan.break"),
                                            line_edit("60", "planBreak"))
        self.note = self.add_field("note", tr("att.plan.note"),
                                   line_edit("", "planNote", max_length=64))

    def dates(self) -> list[str]:
        """The dates the form names (an input helper; the server checks the plan)."""
        try:
            a = dt.date.fromisoformat(self.date_from.text().strip())
        except ValueError:
            raise FieldError("date_from", tr("bo.bad_date")) from None
        try:
            b = dt.date.fromisoformat(self.date_to.text().strip())
        except ValueError:
            raise FieldError("date_to", tr("bo.bad_date")) from None
        out = []
        day = a
        while day <= b and len(out) <= 62:
            if self.weekdays[day.weekday()].isChecked():
                out.append(day.isoformat())
            day += dt.timedelta(days=1)
        if not out:
            raise FieldError("dates", tr("att.plan.no_days"))
        return out

    def body(self) -> dict[str, Any]:
        text = self.break_minutes.text().strip() or "0"
        if not text.isdigit():
            raise FieldError("break_minutes", tr("bo.bad_int"))
        return {"staff_id": self.staff_id, "dates": self.dates(),
                "start": self.start.text().strip(), "end": self.end.text().strip(),
                "break_minutes": int(text), "note": self.note.text().strip() or None}

    def call(self, body: Any, key: str) -> Any:
        return self.services.api.set_attendance_plans(body, key=key)


class CorrectionDialog(FormDialog):
    """修改打卡: add a punch, change a punch's time, or remove a punch — with the reason."""

    def __init__(self, services: Services, staff_id: int, staff_name: str,
                 day: DayOut | None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("att.fix.title", name=staff_name), "correctionDialog",
                         parent)
        self.staff_id = staff_id
        self.day = day
        self.action = QtWidgets.QComboBox()
        for a in FIX_ACTIONS:
            self.action.addItem(tr(f"att.fix.{a}"), a)
        self.add_field("action", tr("att.fix.action"), self.action)
        self.punch = QtWidgets.QComboBox()
        for p in day.punches if day else []:
            self.punch.addItem(f"{tr(f'att.action.{p.kind}')} "
                               f"{p.local_time.strftime('%Y-%m-%d %H:%M')}", p.id)
        self.add_field("punch_id", tr("att.fix.punch"), self.punch)
        self.kind = QtWidgets.QComboBox()
        for k in CLOCK_ACTIONS:
            self.kind.addItem(tr(f"att.action.{k}"), k)
        self.add_field("kind", tr("att.fix.kind"), self.kind)
        default = f"{day.date.isoformat()} 09:00" if day else ""
        self.at = self.add_field("at", tr("att.fix.at"),
                                 line_edit(default, "fixAt", tr("att.fix.at_hint")))
        self.reason = self.add_field("reason", tr("att.fix.reason"),
                                     line_edit("", "fixReason", tr("att.fix.reason_hint"),
                                               max_length=255))
        self.action.currentIndexChanged.connect(lambda _i: self._follow())
        self.punch.currentIndexChanged.connect(lambda _i: self._punch_time())
        self._follow()

    def _punch_time(self) -> None:
        pid = self.punch.currentData()
        p = next((p for p in (self.day.punches if self.day else []) if p.id == pid), None)
        if p is not None and self.action.currentData() == "change":
            self.at.setText(p.local_time.strftime("%Y-%m-%d %H:%M"))

    def _follow(self) -> None:
        a = self.action.currentData()
        self.punch.setEnabled(a != "add")
        self.kind.setEnabled(a == "add")
        self.at.setEnabled(a != "remove")
        self._punch_time()

    def body(self) -> dict[str, Any]:
        a = self.action.currentData()
        body: dict[str, Any] = {"staff_id": self.staff_id, "action": a,
                                "reason": self.reason.text().strip()}
        if a != "add":
            if self.punch.currentData() is None:
                raise FieldError("punch_id", tr("att.fix.no_punch"))
            body["punch_id"] = self.punch.currentData()
        else:
            body["kind"] = self.kind.currentData()
            if self.day is not None:
                body["business_date"] = self.day.date.isoformat()
        if a != "remove":
            text = self.at.text().strip().replace("T", " ")
            try:
                at = dt.datetime.strptime(text, "%Y-%m-%d %H:%M")
            except ValueError:
                raise FieldError("at", tr("att.fix.bad_at")) from None
            body["at"] = at.strftime("%Y-%m-%dT%H:%M")
        return body

    def call(self, body: Any, key: str) -> Any:
        return self.services.api.correct_attendance(body, key=key)


class AttendanceScreen(QtWidgets.QWidget):
    """Month → the summary table; a staff member's row → their days; 排班 / 修改打卡.

    Signals:
        summary_loaded(object): the :class:`SummaryOut` shown.
        days_loaded(object): the :class:`DaysOut` shown.
    """

    summary_loaded = Signal(object)
    days_loaded = Signal(object)

    def __init__(self, services: Services, month: str | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attendanceScreen")
        self.services = services
        self.month = month or month_of(dt.date.today())
        self.summary: SummaryOut | None = None
        self.days: DaysOut | None = None
        self.last_dialog: QtWidgets.QDialog | None = None
        self.month_label = QtWidgets.QLabel()
        self.month_label.setObjectName("attMonth")
        f = self.month_label.font()
        f.setPointSize(f.pointSize() + 3)
        f.setBold(True)
        self.month_label.setFont(f)
        prev_b = button(tr("att.prev"), "attPrev", lambda: self.set_month(
            shift_month(self.month, -1)))
        next_b = button(tr("att.next"), "attNext", lambda: self.set_month(
            shift_month(self.month, 1)))
        self.plan_button = button(tr("att.plan"), "attPlan", self.plan)
        self.fix_button = button(tr("att.fix"), "attFix", self.correct)
        self.unplan_button = button(tr("att.unplan"), "attUnplan", self.delete_plan)
        refresh = button(tr("common.refresh"), "attRefresh", self.load)
        tools = QtWidgets.QHBoxLayout()
        for w in (prev_b, self.month_label, next_b):
            tools.addWidget(w)
        tools.addStretch(1)
        for w in (self.plan_button, self.unplan_button, self.fix_button, refresh):
            tools.addWidget(w)
        self.table = _table(SUMMARY_COLUMNS, "att.col.", "attSummary")
        self.table.itemSelectionChanged.connect(self._selected)
        self.day_title = QtWidgets.QLabel(tr("att.pick_staff"))
        self.day_title.setObjectName("attDayTitle")
        self.day_table = _table(DAY_COLUMNS, "att.day.", "attDays")
        self.note = QtWidgets.QLabel()
        self.note.setObjectName("attNote")
        self.note.setWordWrap(True)
        split = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        lower = QtWidgets.QWidget()
        ll = QtWidgets.QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.day_title)
        ll.addWidget(self.day_table, 1)
        split.addWidget(lower)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(tools)
        lay.addWidget(split, 1)
        lay.addWidget(self.note)
        self._show_month()

    def start(self, reload: bool = False) -> None:
        if reload or self.summary is None:
            self.load()

    def _show_month(self) -> None:
        self.month_label.setText(tr("att.month", month=self.month))

    def set_month(self, month: str) -> None:
        self.month = month
        self._show_month()
        self.load()

    # --- loading ---------------------------------------------------------------------------
    def load(self) -> None:
        self.note.setText(tr("common.loading"))
        api, month = self.services.api, self.month
        self.services.runner.op(lambda: api.attendance_summary(month), self._summary,
                                self._failed, owner=self)

    def _summary(self, s: SummaryOut) -> None:
        if s.month != self.month:
            return  # an older answer
        chosen = self.selected_staff_id()
        self.summary = s
        _fill(self.table, [summary_cells(r) for r in s.staff], {1, 2, 3, 6, 7, 8})
        self.note.setText(tr("att.note", grace=s.grace_minutes))
        self.summary_loaded.emit(s)
        ids = [r.staff_id for r in s.staff]
        if chosen in ids:
            self.table.selectRow(ids.index(chosen))
        elif self.days is not None:
            self.days = None
            self.day_table.setRowCount(0)

    def _failed(self, err: ApiError) -> None:
        self.note.setText(err.message(i18n.language()))
        self.services.dialogs.error(self, err)

    def selected_staff_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or self.summary is None:
            return None
        return self.summary.staff[rows[0].row()].staff_id

    def select_staff(self, staff_id: int) -> None:
        assert self.summary is not None
        ids = [r.staff_id for r in self.summary.staff]
        self.table.selectRow(ids.index(staff_id))

    def _selected(self) -> None:
        sid = self.selected_staff_id()
        if sid is not None:
            self.load_days(sid)

    def load_days(self, staff_id: int) -> None:
        api, month = self.services.api, self.month
        self.services.runner.op(lambda: api.attendance_days(month, staff_id), self._days,
                                self._failed, owner=self)

    def _days(self, d: DaysOut) -> None:
        if d.month != self.month:
            return
        self.days = d
        self.day_title.setText(tr("att.days_of", name=d.display_name, month=d.month))
        _fill(self.day_table, [day_cells(x) for x in d.days], {3})
        self.days_loaded.emit(d)

    def selected_day(self) -> DayOut | None:
        sm = self.day_table.selectionModel()
        rows = sm.selectedRows() if sm else []
        if not rows or self.days is None:
            return None
        return self.days.days[rows[0].row()]

    def select_day(self, date: dt.date) -> None:
        assert self.days is not None
        self.day_table.selectRow([d.date for d in self.days.days].index(date))

    # --- plans and corrections -------------------------------------------------------------
    def _staff_name(self, staff_id: int) -> str:
        assert self.summary is not None
        return next(r.display_name for r in self.summary.staff if r.staff_id == staff_id)

    def _show(self, dlg: FormDialog) -> FormDialog:
        dlg.saved.connect(lambda _r: self._changed())
        self.last_dialog = dlg
        dlg.open()  # window-modal, non-blocking (tests drive it)
        return dlg

    def _changed(self) -> None:
        self.load()
        sid = self.selected_staff_id()
        if sid is not None:
            self.load_days(sid)

    def plan(self) -> FormDialog | None:
        sid = self.selected_staff_id()
        if sid is None:
            self.services.dialogs.info(self, tr("att.pick_staff"))
            return None
        return self._show(PlanDialog(self.services, sid, self._staff_name(sid), self.month,
                                     self))

    def correct(self) -> FormDialog | None:
        sid = self.selected_staff_id()
        if sid is None:
            self.services.dialogs.info(self, tr("att.pick_staff"))
            return None
        return self._show(CorrectionDialog(self.services, sid, self._staff_name(sid),
                                           self.selected_day(), self))

    def delete_plan(self) -> None:
        day = self.selected_day()
        if day is None or day.plan is None:
            self.services.dialogs.info(self, tr("att.pick_plan"))
            return
        if not self.services.dialogs.confirm(self, tr("att.unplan_confirm",
                                                      date=day.date.isoformat())):
            return
        api, plan_id = self.services.api, day.plan.id
        self.services.runner.op(lambda: api.delete_attendance_plan(plan_id),
                                lambda _r: self._changed(), self._failed, owner=self)


__all__ = ["AttendanceScreen", "CorrectionDialog", "PlanDialog", "attendance_doc",
           "day_cells", "hours", "shift_month", "summary_cells"]
