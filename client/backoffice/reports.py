"""Back office: 报表 — a period's sales from ``GET /reports/sales`` grouped by day, month,
payment method, category, product (top N), cashier or serving staff (技师 / 导购: what they
served and their commission), with a totals row. All figures come from the server (integer
fen, shown with ``format_fen``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.errors import ApiError

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtCore, QtWidgets, Signal
from ..widgets.context import Services
from .common import button, money

COLUMNS = ("label", "sales", "qty", "list_total", "discount", "total", "refunds", "net",
           "margin")
#: by serving staff: what they served (their share of the lines), refunds, net, commission
SERVING_COLUMNS = ("label", "sales", "total", "refunds", "net", "commission")
MONEY = {"list_total", "discount", "total", "refunds", "net", "margin", "commission"}


def columns_of(group: str) -> tuple[str, ...]:
    return SERVING_COLUMNS if group == "serving" else COLUMNS


class ReportsScreen(QtWidgets.QWidget):
    """Period + grouping → one request → a table with a totals row.

    Signals:
        report_loaded(object): the report shown (``SalesReportOut``).
    """

    report_loaded = Signal(object)

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportsScreen")
        self.services = services
        self.report: Any = None
        today = QtCore.QDate.currentDate()
        self.date_from = QtWidgets.QDateEdit(QtCore.QDate(today.year(), today.month(), 1))
        self.date_to = QtWidgets.QDateEdit(today)
        for w, name in ((self.date_from, "dateFrom"), (self.date_to, "dateTo")):
            w.setObjectName(name)
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd")
        self.group = QtWidgets.QComboBox()
        self.group.setObjectName("group")
        for g in ("day", "month", "payment", "category", "product", "staff", "serving"):
            self.group.addItem(tr(f"rep.group.{g}"), g)
        self.run_button = button(tr("rep.run"), "runReport", self.run)
        tools = QtWidgets.QHBoxLayout()
        for w in (QtWidgets.QLabel(tr("rep.from")), self.date_from,
                  QtWidgets.QLabel(tr("rep.to")), self.date_to,
                  QtWidgets.QLabel(tr("rep.group")), self.group, self.run_button):
            tools.addWidget(w)
        tools.addStretch(1)
        tools.addWidget(button(tr("rep.today"), "today", lambda: self.set_period(0)))
        tools.addWidget(button(tr("rep.month"), "thisMonth", lambda: self.set_period(1)))
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("reportTable")
        self.table.setHorizontalHeaderLabels([tr(f"rep.col.{c}") for c in COLUMNS])
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("reportSummary")
        self.summary.setWordWrap(True)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(tools)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.summary)
        self._started = False
        self.group.currentIndexChanged.connect(lambda _i: self.run())

    def start(self, reload: bool = False) -> None:
        if reload or not self._started:
            self._started = True
            self.run()

    def set_period(self, which: int) -> None:
        today = QtCore.QDate.currentDate()
        self.date_to.setDate(today)
        self.date_from.setDate(today if which == 0 else QtCore.QDate(today.year(),
                                                                     today.month(), 1))
        self.run()

    def run(self) -> None:
        start = self.date_from.date().toPyDate()
        end = self.date_to.date().toPyDate()
        assert isinstance(start, dt.date) and isinstance(end, dt.date)
        group = self.group.currentData()
        top = 50 if group == "product" else None
        api = self.services.api
        self.summary.setText(tr("rep.running"))
        self.run_button.setEnabled(False)
        self.services.runner.op(lambda: api.sales_report(start, end, group, top),
                                self._show, self._failed, owner=self)

    def _failed(self, err: ApiError) -> None:
        self.run_button.setEnabled(True)
        self.summary.setText(err.message(i18n.language()))
        self.services.dialogs.error(self, err)

    def _cell(self, row: int, col: int, text: str, right: bool, bold: bool = False) -> None:
        item = QtWidgets.QTableWidgetItem(text)
        if right:
            item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter))
        if bold:
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        self.table.setItem(row, col, item)

    def _show(self, report: Any) -> None:
        self.run_button.setEnabled(True)
        self.report = report
        rows = [*report.rows, report.totals]
        columns = columns_of(report.group)
        self.table.setColumnCount(len(columns))
        serving = report.group == "serving"  # its total is what they served, not takings
        self.table.setHorizontalHeaderLabels([
            tr("rep.col.served") if serving and c == "total" else tr(f"rep.col.{c}")
            for c in columns])
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            last = r == len(rows) - 1
            for c, key in enumerate(columns):
                value = getattr(row, key)
                if key == "label":
                    text = tr("rep.totals") if last else str(value)
                elif key in MONEY:
                    text = money(value)
                else:
                    text = str(value)
                self._cell(r, c, text, key != "label", bold=last)
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        t = report.totals
        if report.group == "serving":
            text = tr("rep.serving_summary", start=report.date_from.isoformat(),
                      end=report.date_to.isoformat(), total=money(t.total),
                      refunds=money(t.refunds), net=money(t.net),
                      commission=money(t.commission))
        else:
            text = tr("rep.summary", start=report.date_from.isoformat(),
                      end=report.date_to.isoformat(), total=money(t.total),
                      refunds=money(t.refunds), net=money(t.net), margin=money(t.margin))
        if report.offline_sales:
            text += "　" + tr("rep.offline", n=report.offline_sales,
                             total=money(report.offline_total))
        if report.truncated:
            text += "　" + tr("rep.truncated", n=len(report.rows))
        self.summary.setText(text)
        self.report_loaded.emit(report)
