"""Back office: 优惠券 — coupon templates (满减 / 折扣), issuing to one member or to every
member of a level, the issued coupons (paged, by code / status) and voiding with a reason."""

from __future__ import annotations

from typing import Any

from common.money import format_fen
from common.schemas.members import CouponOut, CouponTemplateOut, LevelOut, MemberOut

from ..i18n import tr
from ..qt import Qt, QtWidgets
from ..widgets.context import Services
from ..widgets.listview import PagedListView, search_box
from ..widgets.paged import Column, PagedTableModel
from .common import (
    FieldError,
    FormDialog,
    ListScreen,
    MoneyEdit,
    active_text,
    button,
    date_of,
    line_edit,
    local_date,
    member_picker,
    parse_zhe,
    whole_list,
    zhe,
)
from .levels import zhe_input
from .staff import local_time


def offer_text(c: CouponTemplateOut | CouponOut) -> str:
    pre = tr("cpn.value.threshold", threshold=format_fen(c.threshold_fen)) \
        if c.threshold_fen else ""
    if c.kind == "amount":
        return pre + tr("cpn.value.amount", amount=format_fen(c.amount_fen))
    return pre + tr("cpn.value.percent", zhe=zhe(c.percent_bp))


def valid_text(c: CouponTemplateOut | CouponOut) -> str:
    if not c.valid_from and not c.valid_to:
        return tr("cpn.valid.open")
    return tr("cpn.valid", start=local_date(c.valid_from) or "…",
              end=local_date(c.valid_to) or "…")


TEMPLATE_COLUMNS = (
    Column("name", "cpn.col.name", lambda t: t.name),
    Column("kind", "cpn.col.kind", lambda t: tr(f"cpn.kind.{t.kind}")),
    Column("value", "cpn.col.value", offer_text),
    Column("valid", "cpn.col.valid", valid_text),
    Column("status", "cpn.col.status", lambda t: active_text(t.active)),
)
COUPON_COLUMNS = (
    Column("code", "cpn.col.code", lambda c: c.code),
    Column("name", "cpn.col.name", lambda c: c.name),
    Column("value", "cpn.col.value", offer_text),
    Column("member", "cpn.col.member", lambda c: f"#{c.member_id}"),
    Column("status", "cpn.col.status", lambda c: tr(f"cpn.status.{c.status}")),
    Column("valid", "cpn.col.valid", valid_text),
    Column("issued_at", "cpn.col.issued_at", lambda c: local_time(c.issued_at)),
    Column("void_reason", "cpn.col.void_reason", lambda c: c.void_reason or ""),
)


class CouponTemplateDialog(FormDialog):
    def __init__(self, services: Services, template: CouponTemplateOut | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("cpn.dialog_edit", name=template.name) if template
                         else tr("cpn.dialog_new"), "couponTemplateDialog", parent,
                         min_width=520)
        self.template = t = template
        self.name = line_edit(t.name if t else "", "name", max_length=64)
        self.kind = QtWidgets.QComboBox()
        for k in ("amount", "percent"):
            self.kind.addItem(tr(f"cpn.kind.{k}"), k)
        self.kind.setCurrentIndex(self.kind.findData(t.kind) if t else 0)
        self.amount = MoneyEdit(t.amount_fen if t and t.kind == "amount" else None)
        self.amount.setObjectName("amount_fen")
        self.percent = line_edit(zhe_input(t.percent_bp) if t and t.kind == "percent" else "",
                                 "percent_bp", "8.5")
        self.threshold = MoneyEdit(t.threshold_fen if t else 0)
        self.threshold.setObjectName("threshold_fen")
        self.valid_from = line_edit(local_date(t.valid_from) if t else "", "valid_from",
                                    "2025-01-01", 10)
        self.valid_to = line_edit(local_date(t.valid_to) if t else "", "valid_to",
                                  "2025-12-31", 10)
        self.active = QtWidgets.QCheckBox(tr("bo.active"))
        self.active.setChecked(t.active if t else True)
        self.active.setVisible(t is not None)
        self.add_field("name", tr("cpn.f.name"), self.name)
        self.add_field("kind", tr("cpn.f.kind"), self.kind)
        self.add_field("amount_fen", tr("cpn.f.amount"), self.amount)
        self.add_field("percent_bp", tr("cpn.f.percent"), self.percent)
        self.add_field("threshold_fen", tr("cpn.f.threshold"), self.threshold)
        self.add_field("valid_from", tr("cpn.f.valid_from"), self.valid_from)
        self.add_field("valid_to", tr("cpn.f.valid_to"), self.valid_to)
        self.form.addRow("", self.active)
        if t is not None:
            for w in (self.kind, self.amount, self.percent, self.threshold):
                w.setEnabled(False)
            note = QtWidgets.QLabel(tr("cpn.f.fixed"))
            note.setWordWrap(True)
            self.form.addRow("", note)
        self.kind.currentIndexChanged.connect(self._kind)
        self._kind()

    def _kind(self, *_: object) -> None:
        if self.template is not None:
            return
        amount = self.kind.currentData() == "amount"
        self.amount.setEnabled(amount)
        self.percent.setEnabled(not amount)

    def body(self) -> dict[str, Any] | None:
        dates = {"valid_from": date_of(self.valid_from, "valid_from"),
                 "valid_to": date_of(self.valid_to, "valid_to")}
        if self.template is not None:
            t = self.template
            body = {"name": self.name.text().strip(), **dates,
                    "active": self.active.isChecked()}
            original = {"name": t.name, "valid_from": local_date(t.valid_from) or None,
                        "valid_to": local_date(t.valid_to) or None, "active": t.active}
            return {k: v for k, v in body.items() if original[k] != v} or None
        kind = self.kind.currentData()
        body = {"name": self.name.text().strip(), "kind": kind,
                "threshold_fen": self.threshold.fen("threshold_fen") or 0, **dates}
        if kind == "amount":
            body["amount_fen"] = self.amount.fen("amount_fen")
        else:
            try:
                body["percent_bp"] = parse_zhe(self.percent.text())
            except ValueError:
                raise FieldError("percent_bp", tr("bo.bad_discount")) from None
        return {k: v for k, v in body.items() if v is not None}

    def call(self, body: dict[str, Any], key: str) -> CouponTemplateOut:
        api = self.services.api
        if self.template is None:
            return api.create_coupon_template(body, key=key)
        return api.update_coupon_template(self.template.id, body, key=key)


class IssueCouponsDialog(FormDialog):
    """Issue a template to one member (found with the member search) or to a level."""

    def __init__(self, services: Services, template: CouponTemplateOut,
                 levels: list[LevelOut], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("cpn.issue.title", name=template.name),
                         "issueCouponsDialog", parent, min_width=560)
        self.save_button.setText(tr("cpn.issue").rstrip("…"))
        self.template = template
        self.to_member = QtWidgets.QRadioButton(tr("cpn.issue.to_member"))
        self.to_member.setObjectName("toMember")
        self.to_level = QtWidgets.QRadioButton(tr("cpn.issue.to_level"))
        self.to_level.setObjectName("toLevel")
        self.to_member.setChecked(True)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.to_member)
        row.addWidget(self.to_level)
        row.addStretch(1)
        holder = QtWidgets.QWidget()
        holder.setLayout(row)
        self.picker = member_picker(services)
        self.level = QtWidgets.QComboBox()
        self.level.setObjectName("level")
        for lv in levels:
            if lv.active:
                self.level.addItem(lv.name, lv.id)
        self.add_field("target", "", holder)
        self.add_field("member_id", tr("cpn.issue.member"), self.picker)
        self.add_field("level_id", tr("cpn.issue.level"), self.level)
        self.to_member.toggled.connect(self._target)
        self._target()

    def _target(self, *_: object) -> None:
        member = self.to_member.isChecked()
        self.picker.setEnabled(member)
        self.level.setEnabled(not member)

    def body(self) -> dict[str, Any]:
        if self.to_member.isChecked():
            m = self.picker.current()
            if not isinstance(m, MemberOut):
                raise FieldError("member_id", tr("cpn.issue.pick_member"))
            return {"template_id": self.template.id, "member_id": m.id}
        if self.level.currentData() is None:
            raise FieldError("level_id", tr("cpn.issue.pick_level"))
        return {"template_id": self.template.id, "level_id": self.level.currentData()}

    def call(self, body: dict[str, Any], key: str) -> Any:
        return self.services.api.issue_coupons(body, key=key)


class VoidCouponDialog(FormDialog):
    def __init__(self, services: Services, coupon: CouponOut,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("cpn.void.title", code=coupon.code), "voidCouponDialog",
                         parent)
        self.save_button.setText(tr("cpn.void").rstrip("…"))
        self.coupon = coupon
        self.reason = line_edit("", "reason", max_length=255)
        self.add_field("reason", tr("bo.reason"), self.reason)

    def body(self) -> dict[str, Any]:
        if not self.reason.text().strip():
            raise FieldError("reason", tr("bo.required"))
        return {"reason": self.reason.text().strip()}

    def call(self, body: dict[str, Any], key: str) -> CouponOut:
        return self.services.api.void_coupon(self.coupon.id, body["reason"], key=key)


class CouponsScreen(ListScreen):
    """Templates above, issued coupons (paged on the server) below."""

    def __init__(self, services: Services, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        api = services.api
        super().__init__(services, "couponsScreen",
                         whole_list(lambda: api.list_coupon_templates(include_inactive=True)),
                         TEMPLATE_COLUMNS, page_size, parent)
        self.levels: list[LevelOut] = []
        title = QtWidgets.QLabel(tr("cpn.templates"))
        title.setStyleSheet("font-weight: bold;")
        self.list.tools.addWidget(title)
        self.add_buttons(button(tr("cpn.new"), "newCouponTemplate", self.new),
                         button(tr("bo.edit"), "editCouponTemplate", self.edit),
                         button(tr("cpn.issue"), "issueCoupons", self.issue))
        self.coupons = PagedTableModel(
            services.runner,
            lambda page, size, f: api.list_coupons(page, size, status=f.get("status"),
                                                   code=f.get("code")),
            COUPON_COLUMNS, page_size=page_size)
        self.coupon_list = PagedListView(services, self.coupons)
        t = self.coupon_list.tools
        ctitle = QtWidgets.QLabel(tr("cpn.issued"))
        ctitle.setStyleSheet("font-weight: bold;")
        self.code = search_box(tr("cpn.code_search"), lambda _t: self.filter_coupons(), self)
        self.code.setObjectName("couponCode")
        self.code.setMinimumWidth(180)
        self.status = QtWidgets.QComboBox()
        self.status.setObjectName("couponStatus")
        self.status.addItem(tr("cpn.all_status"), None)
        for s in ("issued", "redeemed", "voided"):
            self.status.addItem(tr(f"cpn.status.{s}"), s)
        self.status.currentIndexChanged.connect(lambda _i: self.filter_coupons())
        for w in (ctitle, self.code, self.status):
            t.addWidget(w)
        t.addStretch(1)
        t.addWidget(button(tr("cpn.void"), "voidCoupon", self.void))
        split = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        lay = self.layout()
        assert lay is not None
        lay.removeWidget(self.list)
        split.addWidget(self.list)
        split.addWidget(self.coupon_list)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        lay.addWidget(split)

    def start(self, reload: bool = False) -> None:
        if reload or not self.levels:
            api = self.services.api
            self.services.runner.op(api.list_levels, self._levels,
                                    lambda e: self.services.dialogs.error(self, e), owner=self)
        if reload or (self.coupons.pages_loaded == 0 and not self.coupons.loading):
            self.coupons.reload()
        super().start(reload)

    def _levels(self, levels: list[LevelOut]) -> None:
        self.levels = levels

    def filter_coupons(self) -> None:
        self.coupons.set_filters(code=self.code.text().strip(),
                                 status=self.status.currentData())

    def make_dialog(self, item: Any | None) -> CouponTemplateDialog:
        return CouponTemplateDialog(self.services, item, self)

    def issue(self, template: CouponTemplateOut | None = None) -> IssueCouponsDialog | None:
        t = template if template is not None else self.list.selected_item()
        if not isinstance(t, CouponTemplateOut):
            self.services.dialogs.info(self, tr("cpn.select_template"))
            return None
        dlg = IssueCouponsDialog(self.services, t, self.levels, self)
        dlg.saved.connect(self._issued)
        self.show_dialog(dlg)
        return dlg

    def _issued(self, res: Any) -> None:
        self.coupon_list.footer.setText(tr("cpn.issue.done", n=res.issued))
        self.coupons.reload()

    def void(self, coupon: CouponOut | None = None) -> VoidCouponDialog | None:
        c = coupon if coupon is not None else self.coupon_list.selected_item()
        if not isinstance(c, CouponOut):
            self.services.dialogs.info(self, tr("cpn.select_coupon"))
            return None
        dlg = VoidCouponDialog(self.services, c, self)
        dlg.saved.connect(lambda new: self.coupons.replace_item(lambda x: x.id == new.id, new))
        self.show_dialog(dlg)
        return dlg

