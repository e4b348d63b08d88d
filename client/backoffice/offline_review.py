"""Back office: 离线单核对 — what the sales a counter made offline (and replayed later) did
otherwise than the server would charge today (``GET /sales/offline-differences``): price
changed, product no longer sold, member not found, total differs, stock below zero … Newest
first, paged on the server, filtered by the sales' shop day. The sales stand as the counter
made them: this screen is for the manager to look at, it changes nothing."""

from __future__ import annotations

import datetime as dt

from .. import labels
from ..i18n import tr
from ..qt import QtCore, QtWidgets
from ..widgets.context import Services
from ..widgets.listview import PagedListView
from ..widgets.paged import Column, PagedTableModel
from .common import money
from .staff import local_time

OFFLINE_REVIEW_COLUMNS = (
    Column("at", "offline.review.col.at", lambda d: local_time(d.recorded_at)),
    Column("sale", "offline.review.col.sale", lambda d: d.sale_number),
    Column("local", "offline.review.col.local", lambda d: d.offline_number or ""),
    Column("counter", "offline.review.col.counter", lambda d: d.counter),
    Column("kind", "offline.review.col.kind", lambda d: labels.offline_difference(d.kind)),
    Column("counter_amount", "offline.review.col.counter_amount",
           lambda d: money(d.counter_amount), align_right=True),
    Column("server_amount", "offline.review.col.server_amount",
           lambda d: money(d.server_amount), align_right=True),
    Column("message", "offline.review.col.message", lambda d: d.message),
)


class OfflineReviewScreen(QtWidgets.QWidget):
    """The differences list; 只看这一天 + a date: one shop day."""

    def __init__(self, services: Services, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("offlineReviewScreen")
        self.services = services
        api = services.api
        self.model = PagedTableModel(
            services.runner,
            lambda page, size, f: api.offline_differences(page, size, **f),
            OFFLINE_REVIEW_COLUMNS, page_size=page_size)
        self.list = PagedListView(services, self.model)
        self.by_day = QtWidgets.QCheckBox(tr("offline.review.by_day"))
        self.by_day.setObjectName("offlineByDay")
        self.day = QtWidgets.QDateEdit(QtCore.QDate.currentDate())
        self.day.setObjectName("offlineDay")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.setEnabled(False)
        self.by_day.toggled.connect(self.day.setEnabled)
        self.by_day.toggled.connect(lambda _on: self.apply_filters())
        self.day.dateChanged.connect(lambda _d: self.by_day.isChecked() and self.apply_filters())
        self.list.tools.addWidget(self.by_day)
        self.list.tools.addWidget(self.day)
        self.list.tools.addStretch(1)
        hint = QtWidgets.QLabel(tr("offline.review.hint"))
        hint.setObjectName("offlineReviewHint")
        hint.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(hint)
        layout.addWidget(self.list, 1)

    def start(self, reload: bool = False) -> None:
        """Load the first page when first shown (``reload``: fetch it again)."""
        if reload or (self.model.pages_loaded == 0 and not self.model.loading):
            self.model.reload()

    def selected_day(self) -> dt.date | None:
        return self.day.date().toPyDate() if self.by_day.isChecked() else None

    def apply_filters(self) -> None:
        day = self.selected_day()
        self.model.set_filters(date_from=day, date_to=day)
