"""Back office: 会员关怀 (member care) — pick a list (沉睡会员, 本月生日, 储值不足, 次卡将用完 /
将到期, 新会员…), see it a page at a time from the server, send everyone on it a coupon
(发券: a template, how many members it will reach, confirm — the server issues one per
member in one audited transaction; the dialog's batch id makes a retry issue nothing
twice), print or export the page (A4, PDF, Excel: phones masked) and, for the owner, export
the whole list with full phones to call them (``/members/export``: owner only, audited).

Who is on a list is the server's (``GET /reports/member-list``); the list's definition is
``catalogue.member_list_def``, the same as 报表's 会员名单."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from common.errors import ApiError
from common.privacy import can_export_members
from common.schemas.members import CouponTemplateOut
from common.schemas.staff import StaffOut

from .. import i18n
from ..i18n import tr
from ..qt import QtWidgets, Signal
from ..reports.catalogue import Options, Period, member_list_def, member_list_parts
from ..reports.document import ReportDoc
from ..reports.view import ReportView
from ..widgets.context import Services
from .common import FieldError, FileDialogs, FormDialog, button
from .member_lists import ListOptions

BIG_LIST_READ_TIMEOUT = 600.0  # s: 100,000 coupons are issued in one request


def care_period(o: Options, today: dt.date) -> Period:
    """会员关怀's new members: those who joined in the last ``days`` days."""
    return Period(today - dt.timedelta(days=o.days - 1), today)


class CareCouponDialog(FormDialog):
    """发券 to a list: the template, the number of members it will reach (the server's
    count), an optional message to each; Save issues. One ``batch_id`` for the dialog: it is
    the coupons' batch and the Idempotency-Key, so saving again after a lost answer issues
    nothing twice."""

    def __init__(self, services: Services, kind: str, params: dict[str, Any], title: str,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("care.coupon.title"), "careCouponDialog", parent,
                         min_width=520)
        self.save_button.setText(tr("care.coupon.confirm"))
        self.save_button.setEnabled(False)
        self.kind, self.params = kind, params
        self.batch_id = str(uuid.uuid4())
        self.count: int | None = None
        self.list_label = QtWidgets.QLabel(title)
        self.list_label.setObjectName("careList")
        self.template = QtWidgets.QComboBox()
        self.template.setObjectName("template")
        self.reach = QtWidgets.QLabel(tr("care.coupon.counting"))
        self.reach.setObjectName("careReach")
        self.notify = QtWidgets.QCheckBox(tr("care.coupon.notify"))
        self.notify.setObjectName("notify")
        self.notify.setToolTip(tr("care.coupon.notify_hint"))
        self.add_field("list", tr("care.coupon.list"), self.list_label)
        self.add_field("template_id", tr("care.coupon.template"), self.template)
        self.add_field("members", tr("care.coupon.reach"), self.reach)
        self.add_field("notify", "", self.notify)
        api = services.api

        def load() -> tuple[list[CouponTemplateOut], int]:
            return (api.list_coupon_templates(),
                    api.member_list_count(kind, **params).count)

        services.runner.op(load, self._loaded, lambda e: services.dialogs.error(self, e),
                           owner=self)

    def _loaded(self, res: tuple[list[CouponTemplateOut], int]) -> None:
        templates, self.count = res
        for t in templates:
            self.template.addItem(t.name, t.id)
        if not templates:
            self.reach.setText(tr("care.coupon.no_template"))
            return
        self.reach.setText(tr("care.coupon.reach_n", n=self.count))
        self.save_button.setEnabled(self.count > 0)

    def body(self) -> dict[str, Any]:
        if self.template.currentData() is None:
            raise FieldError("template_id", tr("care.coupon.no_template"))
        members = {"kind": self.kind, **{k: v.isoformat() if isinstance(v, dt.date) else v
                                         for k, v in self.params.items()}}
        return {"template_id": self.template.currentData(), "members": members,
                "batch_id": self.batch_id, "notify": self.notify.isChecked()}

    def call(self, body: dict[str, Any], key: str) -> Any:
        return self.services.api.issue_coupons(body, key=body["batch_id"],
                                               read_timeout=BIG_LIST_READ_TIMEOUT)


class CareScreen(QtWidgets.QWidget):
    """Signals:
        page_loaded(object): a page of the list shown (``Page[MemberListRowOut]``).
        issued(object): coupons issued to the list (``CouponIssueOut``).
        exported(str): the owner's contact export written (its path).
    """

    page_loaded = Signal(object)
    issued = Signal(object)
    exported = Signal(str)

    def __init__(self, services: Services, me: StaffOut | None = None, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("careScreen")
        self.services = services
        self.me = me
        self.page_size = page_size
        self.page_no = 1
        self.page: Any = None
        self.shown: tuple[str, dict[str, Any], Options] | None = None
        self.doc: ReportDoc | None = None
        self.last_dialog: CareCouponDialog | None = None
        self.files = FileDialogs()
        self.lists = ListOptions(self, days_for_new=True)
        self.lists.choose("dormant")
        self.run_button = button(tr("rep.run"), "careRun", lambda: self.run(1))
        self.prev_button = button(tr("care.prev"), "carePrev", lambda: self.run(self.page_no - 1))
        self.next_button = button(tr("care.next"), "careNext", lambda: self.run(self.page_no + 1))
        self.page_label = QtWidgets.QLabel()
        self.page_label.setObjectName("carePage")
        self.coupon_button = button(tr("care.coupon"), "careCoupon", self.issue_coupon)
        self.export_button = button(tr("care.export"), "careExport", self.export_contacts)
        self.export_button.setToolTip(tr("care.export_hint"))
        self.export_button.setVisible(me is not None and can_export_members(me.role))
        top = QtWidgets.QHBoxLayout()
        for w in (*self.lists.widgets(), self.run_button):
            top.addWidget(w)
        top.addStretch(1)
        tools = QtWidgets.QHBoxLayout()
        for w in (self.coupon_button, self.export_button):
            tools.addWidget(w)
        tools.addStretch(1)
        self.view = ReportView(lambda *a: self.files.save_path(*a), tools=tools)
        pager = QtWidgets.QHBoxLayout()
        pager.addWidget(self.prev_button)
        pager.addWidget(self.page_label)
        pager.addWidget(self.next_button)
        pager.addStretch(1)
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("careStatus")
        self.status.setWordWrap(True)
        pager.addWidget(self.status, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(tools)
        lay.addWidget(self.view, 1)
        lay.addLayout(pager)
        self.lists.show_for(True)
        self.lists.changed.connect(lambda: self.run(1))
        self._started = False
        self._paging(False, False)

    # -- the list -------------------------------------------------------------------------
    def start(self, reload: bool = False) -> None:
        if reload or not self._started:
            self._started = True
            self.run(1)

    def _picked(self) -> tuple[str, dict[str, Any], Options]:
        o = self.lists.options()
        kind, params = member_list_def(care_period(o, dt.date.today()), o)
        return kind, params, o

    def run(self, page: int = 1) -> None:
        try:
            kind, params, o = self._picked()
        except FieldError as e:
            self.status.setText(e.message)
            return
        page = max(1, page)
        api, size = self.services.api, self.page_size
        self.status.setText(tr("rep.running"))
        self.run_button.setEnabled(False)
        self.services.runner.op(
            lambda: api.member_list(kind, page=page, page_size=size, **params),
            lambda res: self._show(kind, params, o, res), self._failed, owner=self)

    def _failed(self, err: ApiError) -> None:
        self.run_button.setEnabled(True)
        self.status.setText(err.message(i18n.language()))
        self.services.dialogs.error(self, err)

    def _show(self, kind: str, params: dict[str, Any], o: Options, page: Any) -> None:
        self.run_button.setEnabled(True)
        self.status.setText("")
        self.page, self.page_no, self.shown = page, page.page, (kind, params, o)
        parts = member_list_parts(page, o)
        self.doc = ReportDoc(title=tr("menu.care"), shop="", period=parts.headline[0][0],
                             printed_at=dt.datetime.now().replace(microsecond=0),
                             printed_by=self.me.display_name if self.me else "",
                             headline=parts.headline, tables=parts.tables, notes=parts.notes)
        self.view.show_doc(self.doc)
        total = page.total
        self.page_label.setText(tr("care.page", page=page.page) if total is None else
                                tr("care.page_of", page=page.page, n=total))
        self._paging(page.page > 1, page.has_more)
        self.coupon_button.setEnabled(bool(page.items))
        self.export_button.setEnabled(bool(page.items))
        self.page_loaded.emit(page)

    def _paging(self, back: bool, more: bool) -> None:
        self.prev_button.setEnabled(back)
        self.next_button.setEnabled(more)

    @property
    def table(self) -> QtWidgets.QTableWidget:
        return self.view.tables[0]

    # -- 发券 ---------------------------------------------------------------------------------
    def issue_coupon(self) -> CareCouponDialog | None:
        """The coupon dialog for the list shown (non-blocking: tests drive it)."""
        if self.shown is None:
            return None
        kind, params, _o = self.shown
        assert self.doc is not None
        dlg = CareCouponDialog(self.services, kind, params, self.doc.tables[0].title, self)
        dlg.saved.connect(self._issued)
        self.last_dialog = dlg
        dlg.open()
        return dlg

    def _issued(self, res: Any) -> None:
        self.status.setText(tr("care.coupon.done", n=res.issued) if not res.already
                            else tr("care.coupon.already", n=res.issued))
        self.issued.emit(res)

    # -- the owner's export of the list's contacts ---------------------------------------------
    def export_contacts(self) -> None:
        if self.shown is None:
            return
        kind, params, _o = self.shown
        path = self.files.save_path(self, tr("care.export"), f"会员关怀-{kind}.xlsx",
                                    "Excel (*.xlsx)")
        if not path:
            return
        api = self.services.api

        def work() -> str:
            out = api.export_members("xlsx", kind=kind, **params)
            Path(path).write_bytes(base64.b64decode(out.content_base64))
            return path

        def done(p: str) -> None:
            self.status.setText(tr("care.exported", path=p))
            self.exported.emit(p)

        self.services.runner.op(work, done, lambda e: self.services.dialogs.error(self, e),
                                owner=self)
