"""Back office: 次卡模板 — count-card templates (套餐): a service, a number of uses, a validity
and a price. Cards already sold keep their terms."""

from __future__ import annotations

from typing import Any

from common.money import format_fen
from common.schemas.catalog import ProductOut
from common.schemas.members import CountCardTemplateOut

from ..i18n import tr
from ..qt import QtWidgets
from ..widgets.context import Services
from ..widgets.paged import Column
from .common import (
    FieldError,
    FormDialog,
    ListScreen,
    MoneyEdit,
    active_text,
    button,
    changed,
    int_of,
    line_edit,
    product_picker,
    whole_list,
)

CCT_COLUMNS = (
    Column("name", "cct.col.name", lambda t: t.name),
    Column("service", "cct.col.service", lambda t: t.service_name),
    Column("uses", "cct.col.uses", lambda t: str(t.uses), True),
    Column("validity", "cct.col.validity",
           lambda t: tr("cct.days", n=t.validity_days) if t.validity_days
           else tr("cct.forever")),
    Column("price", "cct.col.price", lambda t: format_fen(t.price), True),
    Column("status", "cct.col.status", lambda t: active_text(t.active)),
)


class CountCardTemplateDialog(FormDialog):
    def __init__(self, services: Services, template: CountCardTemplateOut | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("cct.dialog_edit", name=template.name) if template
                         else tr("cct.dialog_new"), "countCardTemplateDialog", parent,
                         min_width=560)
        self.template = t = template
        self.name = line_edit(t.name if t else "", "name", max_length=64)
        self.picker = product_picker(services)
        self.service_name = line_edit(t.service_name if t else "", "service_name",
                                      max_length=64)
        self.uses = line_edit(str(t.uses) if t else "10", "uses")
        self.validity = line_edit(str(t.validity_days) if t and t.validity_days else "",
                                  "validity_days", tr("bo.optional"))
        self.price = MoneyEdit(t.price if t else None)
        self.active = QtWidgets.QCheckBox(tr("bo.active"))
        self.active.setChecked(t.active if t else True)
        self.active.setVisible(t is not None)
        self.add_field("name", tr("cct.f.name"), self.name)
        if t is None:  # the service is fixed once created
            self.add_field("product_id", tr("cct.f.product"), self.picker)
            self.picker.combo.currentIndexChanged.connect(self._picked)
        self.add_field("service_name", tr("cct.f.service_name"), self.service_name)
        self.add_field("uses", tr("cct.f.uses"), self.uses)
        self.add_field("validity_days", tr("cct.f.validity"), self.validity)
        self.add_field("price", tr("cct.f.price"), self.price)
        self.form.addRow("", self.active)

    def _picked(self, *_: object) -> None:
        p = self.picker.current()
        if isinstance(p, ProductOut) and not self.service_name.text().strip():
            self.service_name.setText(p.name)

    def body(self) -> dict[str, Any] | None:
        uses = int_of(self.uses, "uses")
        if uses is not None and uses <= 0:
            raise FieldError("uses", tr("bo.bad_int"))
        body: dict[str, Any] = {
            "name": self.name.text().strip(),
            "service_name": self.service_name.text().strip(),
            "uses": uses,
            "validity_days": int_of(self.validity, "validity_days", optional=True),
            "price": self.price.fen("price")}
        if self.template is None:
            p = self.picker.current()
            if isinstance(p, ProductOut):
                body["product_id"] = p.id
            return body
        body["active"] = self.active.isChecked()
        out = changed(body, self.template)
        if out and out.get("validity_days", 0) is None:
            out.pop("validity_days")  # the server keeps a validity once set
        return out

    def call(self, body: dict[str, Any], key: str) -> CountCardTemplateOut:
        api = self.services.api
        if self.template is None:
            return api.create_count_card_template(body, key=key)
        return api.update_count_card_template(self.template.id, body, key=key)


class CountCardTemplatesScreen(ListScreen):
    def __init__(self, services: Services, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        api = services.api
        super().__init__(
            services, "countCardTemplatesScreen",
            whole_list(lambda: api.list_count_card_templates(include_inactive=True)),
            CCT_COLUMNS, page_size, parent)
        self.add_buttons(button(tr("cct.new"), "newTemplate", self.new),
                         button(tr("bo.edit"), "editTemplate", self.edit))

    def make_dialog(self, item: Any | None) -> CountCardTemplateDialog:
        return CountCardTemplateDialog(self.services, item, self)
