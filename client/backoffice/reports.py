"""Back office: 报表 — the owner's reports (``client.reports.catalogue.REPORTS``) on the left,
the period (presets 今天 / 昨天 / 本周 / 本月 / 上月 / 近 30 天 / 今年, or any two dates) on
top, the report below with its chart and the ways out: print on A4, preview, PDF, Excel
(``client.reports.view.ReportView``). All figures come from the server (integer fen)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.errors import ApiError
from common.schemas.shop import ShopSettingsOut
from common.schemas.staff import StaffOut

from .. import i18n
from ..i18n import tr
from ..qt import QtCore, QtWidgets, Signal
from ..reports.catalogue import REPORTS, Options, Period, ReportSpec, make_doc
from ..reports.document import ReportDoc
from ..reports.view import ReportView
from ..widgets.context import Services
from .common import FieldError, FileDialogs, button
from .member_lists import ListOptions

PRESETS = ("today", "yesterday", "week", "month", "last_month", "days30", "year", "custom")


def preset_period(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The business days a preset means (today = the back office's date)."""
    if preset == "yesterday":
        y = today - dt.timedelta(days=1)
        return y, y
    if preset == "week":
        return today - dt.timedelta(days=today.weekday()), today
    if preset == "month":
        return today.replace(day=1), today
    if preset == "last_month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if preset == "days30":
        return today - dt.timedelta(days=29), today
    if preset == "year":
        return today.replace(month=1, day=1), today
    return today, today


def _qdate(d: dt.date) -> QtCore.QDate:
    return QtCore.QDate(d.year, d.month, d.day)


class ReportsScreen(QtWidgets.QWidget):
    """Signals:
        report_loaded(object): the server's answer shown (e.g. ``SalesReportOut``).
        doc_shown(object): the :class:`ReportDoc` on screen (what prints and exports).
        receipt_printed(object): the receipt printer's job of :meth:`print_receipt`.
    """

    report_loaded = Signal(object)
    doc_shown = Signal(object)
    receipt_printed = Signal(object)

    def __init__(self, services: Services, me: StaffOut | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportsScreen")
        self.services = services
        self.me = me
        self.shop: ShopSettingsOut | None = None
        self.report: Any = None
        self.doc: ReportDoc | None = None
        self.files = FileDialogs()
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("reportList")
        for spec in REPORTS:
            item = QtWidgets.QListWidgetItem(spec.title)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, spec.key)
            self.list.addItem(item)
        self.list.setMaximumWidth(190)
        self.preset = QtWidgets.QComboBox()
        self.preset.setObjectName("periodPreset")
        for p in PRESETS:
            self.preset.addItem(tr(f"rep.preset.{p}"), p)
        today = dt.date.today()
        self.date_from = QtWidgets.QDateEdit(_qdate(today.replace(day=1)))
        self.date_to = QtWidgets.QDateEdit(_qdate(today))
        for w, name in ((self.date_from, "dateFrom"), (self.date_to, "dateTo")):
            w.setObjectName(name)
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd")
        self.from_label = QtWidgets.QLabel(tr("rep.from"))
        self.to_label = QtWidgets.QLabel(tr("rep.to"))
        self.lists = ListOptions(self)
        self.kind, self.days = self.lists.kind, self.lists.days
        self.run_button = button(tr("rep.run"), "runReport", self.run)
        self.receipt_button = button(tr("rep.receipt"), "printReceipt", self.print_receipt)
        tools = QtWidgets.QHBoxLayout()
        for w in (self.preset, self.from_label, self.date_from, self.to_label, self.date_to,
                  *self.lists.widgets(), self.run_button):
            tools.addWidget(w)
        tools.addStretch(1)
        tools.addWidget(self.receipt_button)
        self.view = ReportView(lambda *a: self.files.save_path(*a), tools=tools)
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("reportStatus")
        right = QtWidgets.QVBoxLayout()
        right.addLayout(tools)
        right.addWidget(self.view, 1)
        right.addWidget(self.status)
        lay = QtWidgets.QHBoxLayout(self)
        lay.addWidget(self.list)
        lay.addLayout(right, 1)
        self._started = False
        self.preset.setCurrentIndex(PRESETS.index("month"))
        self.preset.currentIndexChanged.connect(lambda _i: self._preset_chosen())
        self.list.setCurrentRow(0)
        self._show_options()
        self.list.currentRowChanged.connect(lambda _r: self._report_chosen())
        self.lists.changed.connect(self._show_options)

    # -- what is asked ------------------------------------------------------------------------
    @property
    def spec(self) -> ReportSpec:
        item = self.list.currentItem()
        key = item.data(QtCore.Qt.ItemDataRole.UserRole) if item else REPORTS[0].key
        return next(s for s in REPORTS if s.key == key)

    def choose(self, key: str) -> None:
        """Show the report ``key`` (runs it)."""
        row = next(i for i, s in enumerate(REPORTS) if s.key == key)
        if self.list.currentRow() == row:
            self.run()
        else:
            self.list.setCurrentRow(row)

    @property
    def table(self) -> QtWidgets.QTableWidget:
        """The report's first table."""
        return self.view.tables[0]

    @property
    def summary(self) -> QtWidgets.QLabel:
        """The headline figures and the report's notes."""
        return self.view.headline

    def period(self) -> Period:
        a = self.date_from.date().toPyDate()
        b = self.date_to.date().toPyDate()
        assert isinstance(a, dt.date) and isinstance(b, dt.date)
        if self.spec.period == "day":
            return Period(b, b, "day")
        if self.spec.period == "month":
            return Period.month_of(b)
        return Period(a, b)

    def options(self) -> Options:
        return self.lists.options() if "kind" in self.spec.options else Options()

    def _show_options(self) -> None:
        spec = self.spec
        single = spec.period != "range"
        self.preset.setVisible(not single)
        self.from_label.setVisible(not single)
        self.date_from.setVisible(not single)
        self.to_label.setText(tr(f"rep.period.{spec.period}"))
        self.date_to.setDisplayFormat("yyyy-MM" if spec.period == "month" else "yyyy-MM-dd")
        self.lists.show_for("kind" in spec.options)
        self.receipt_button.setVisible(spec.receipt is not None)
        self.receipt_button.setEnabled(False)

    def _preset_chosen(self) -> None:
        preset = self.preset.currentData()
        if preset == "custom":
            return
        a, b = preset_period(preset, dt.date.today())
        self.date_from.setDate(_qdate(a))
        self.date_to.setDate(_qdate(b))
        self.run()

    def _report_chosen(self) -> None:
        self._show_options()
        self.run()

    # -- running ----------------------------------------------------------------------------
    def start(self, reload: bool = False) -> None:
        if reload or not self._started:
            self._started = True
            self.run()

    def run(self) -> None:
        try:
            spec, period, options = self.spec, self.period(), self.options()
        except FieldError as e:
            self.status.setText(e.message)
            return
        api = self.services.api
        known_shop = self.shop

        def work() -> tuple[Any, ShopSettingsOut]:
            shop = known_shop or api.shop_settings()
            return spec.fetch(api, period, options), shop

        self.status.setText(tr("rep.running"))
        self.run_button.setEnabled(False)
        self.services.runner.op(work, lambda res: self._show(spec, period, options, *res),
                                self._failed, owner=self)

    def _failed(self, err: ApiError) -> None:
        self.run_button.setEnabled(True)
        self.status.setText(err.message(i18n.language()))
        self.services.dialogs.error(self, err)

    def _show(self, spec: ReportSpec, period: Period, options: Options, data: Any,
              shop: ShopSettingsOut) -> None:
        self.run_button.setEnabled(True)
        self.receipt_button.setEnabled(spec.receipt is not None)
        self.shop = shop
        self.report = data
        self.doc = make_doc(spec, data, period, options, shop=shop.name,
                            printed_by=self.printed_by,
                            printed_at=dt.datetime.now().replace(microsecond=0))
        self.view.show_doc(self.doc)
        self.status.setText("")
        self.report_loaded.emit(data)
        self.doc_shown.emit(self.doc)

    @property
    def printed_by(self) -> str:
        return self.me.display_name if self.me is not None else ""

    def print_receipt(self) -> None:
        """The report shown (the day close) on this counter's receipt printer."""
        spec, devices, shop, data = self.spec, self.services.devices, self.shop, self.report
        if spec.receipt is None or shop is None or data is None:
            return
        if devices is None or not devices.has_printer:
            self.services.dialogs.info(self, tr("rep.no_printer"))
            return
        receipt, by = spec.receipt, self.printed_by

        def work() -> Any:
            return devices.print_document(receipt(data, shop, devices.settings.width, by),
                                          spec.title)

        def done(job: Any) -> None:
            failed = job is None or job.state == "failed"
            self.status.setText(tr("rep.receipt_failed", reason=getattr(job, "last_error", "")
                                   or "") if failed else tr("rep.receipt_done"))
            self.receipt_printed.emit(job)

        self.services.runner.op(work, done, self._failed, owner=self)
