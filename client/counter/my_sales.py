"""我的业绩: the logged-in staff member's own commission (提成) and the lines they served (技师
/ 导购), and the sales they rang up, for today or this month — ``GET /commissions/mine``.
Every figure is the server's (integer fen, shown with ``format_fen``); managers see everyone's
in the back office (报表 → 服务员工).

Keyboard: T today, M this month, Esc / Enter closes.
"""

from __future__ import annotations

import datetime as dt

from common.errors import ApiError
from common.money import format_fen
from common.schemas.sales import CommissionLineOut, MySalesOut

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtGui, QtWidgets, Signal
from ..widgets.approval import big_label, error_label
from ..widgets.context import Services, SessionInfo
from .receipts import local_time

LINE_COLUMNS = ("time", "sale", "item", "amount", "commission")


def period(which: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """``today`` or ``month`` (the 1st of this month to today) as business days."""
    return (today, today) if which == "today" else (today.replace(day=1), today)


def line_cells(ln: CommissionLineOut, zone: str = "") -> list[str]:
    return [local_time(ln.at, zone).strftime("%m-%d %H:%M"), ln.sale_number, ln.item,
            format_fen(ln.served), format_fen(ln.commission)]


class MySalesDialog(QtWidgets.QDialog):
    """Signals:
        loaded(object): the :class:`MySalesOut` shown.
    """

    loaded = Signal(object)

    def __init__(self, services: Services, session: SessionInfo,
                 parent: QtWidgets.QWidget | None = None, *, today: dt.date | None = None,
                 zone: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("mySalesDialog")
        self.services = services
        # the shop's day (its time zone, as the server publishes it)
        self.today = today or local_time(dt.datetime.now(dt.UTC), zone).date()
        self.zone = zone
        self.which = "today"
        self.data: MySalesOut | None = None
        self.setWindowTitle(tr("mysales.title"))
        self.setModal(True)
        lay = QtWidgets.QVBoxLayout(self)
        staff = session.staff
        who = QtWidgets.QLabel(tr("mysales.who", name=staff.display_name,
                                  username=staff.username))
        who.setObjectName("mySalesWho")
        font = who.font()
        font.setPointSize(font.pointSize() + 2)
        font.setBold(True)
        who.setFont(font)
        lay.addWidget(who)

        row = QtWidgets.QHBoxLayout()
        self.today_button = self._period_button(tr("mysales.today"), "today", "T")
        self.month_button = self._period_button(tr("mysales.month"), "month", "M")
        row.addWidget(self.today_button)
        row.addWidget(self.month_button)
        self.period_label = QtWidgets.QLabel()
        self.period_label.setObjectName("mySalesPeriod")
        row.addWidget(self.period_label, 1)
        lay.addLayout(row)

        figures = QtWidgets.QFormLayout()
        self.commission = big_label(format_fen(0), 26, "#1b5e20", "mySalesCommission")
        self.served = big_label("", 16, "#333", "mySalesServed")
        self.cashier = big_label("", 16, "#333", "mySalesCashier")
        figures.addRow(tr("mysales.commission"), self.commission)
        figures.addRow(tr("mysales.served"), self.served)
        figures.addRow(tr("mysales.cashier"), self.cashier)
        lay.addLayout(figures)

        self.table = QtWidgets.QTableWidget(0, len(LINE_COLUMNS))
        self.table.setObjectName("mySalesLines")
        self.table.setHorizontalHeaderLabels([tr(f"mysales.col.{c}") for c in LINE_COLUMNS])
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)
        self.empty = QtWidgets.QLabel(tr("mysales.none"))
        self.empty.setObjectName("mySalesEmpty")
        self.empty.hide()
        lay.addWidget(self.empty)
        self.error = error_label()
        lay.addWidget(self.error)

        self.close_button = QtWidgets.QPushButton(tr("mysales.close"))
        self.close_button.setObjectName("mySalesClose")
        self.close_button.setMinimumHeight(44)
        self.close_button.setDefault(True)
        self.close_button.clicked.connect(self.accept)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        lay.addLayout(bottom)
        self.setMinimumSize(560, 440)
        self.show_period("today")

    def _period_button(self, text: str, which: str, key: str) -> QtWidgets.QPushButton:
        b = QtWidgets.QPushButton(f"{text} ({key})")
        b.setObjectName(f"mySales_{which}")
        b.setCheckable(True)
        b.setAutoDefault(False)
        b.setMinimumHeight(48)
        b.clicked.connect(lambda _c=False: self.show_period(which))
        return b

    def show_period(self, which: str) -> None:
        self.which = which
        self.today_button.setChecked(which == "today")
        self.month_button.setChecked(which == "month")
        start, end = period(which, self.today)
        self.period_label.setText(tr("mysales.period", start=start.isoformat(),
                                     end=end.isoformat()))
        self.error.setText(tr("common.loading"))
        api = self.services.api
        self.services.runner.op(lambda: api.my_sales(start, end), self._show, self._failed,
                                owner=self)

    def _show(self, data: MySalesOut) -> None:
        self.data = data
        self.error.setText("")
        self.commission.setText(format_fen(data.commission))
        self.served.setText(tr("mysales.served_value", n=data.served_sales,
                               amount=format_fen(data.served_amount - data.served_refunds)))
        self.cashier.setText(tr("mysales.cashier_value", n=data.cashier_sales,
                                amount=format_fen(data.cashier_total)))
        self.table.setRowCount(len(data.lines))
        for r, ln in enumerate(data.lines):
            for c, text in enumerate(line_cells(ln, self.zone)):
                item = QtWidgets.QTableWidgetItem(text)
                if LINE_COLUMNS[c] in ("amount", "commission"):
                    item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight
                                              | Qt.AlignmentFlag.AlignVCenter))
                self.table.setItem(r, c, item)
        self.empty.setVisible(not data.lines)
        self.loaded.emit(data)

    def _failed(self, err: ApiError) -> None:
        self.error.setText(err.message(i18n.language()))

    def keyPressEvent(self, event: QtGui.QKeyEvent | None) -> None:
        if event is not None and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            if event.key() == Qt.Key.Key_T:
                self.show_period("today")
                return
            if event.key() == Qt.Key.Key_M:
                self.show_period("month")
                return
        super().keyPressEvent(event)


__all__ = ["MySalesDialog", "line_cells", "period"]
