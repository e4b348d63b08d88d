"""Back office: 充值规则 — recharge bonus tiers (充 X 送 Y)."""

from __future__ import annotations

from typing import Any

from common.money import format_fen
from common.schemas.members import RechargeRuleOut

from ..i18n import tr
from ..qt import QtWidgets
from ..widgets.context import Services
from ..widgets.paged import Column
from .common import (
    FormDialog,
    ListScreen,
    MoneyEdit,
    active_text,
    button,
    changed,
    line_edit,
    whole_list,
)

RULE_COLUMNS = (
    Column("name", "rule.col.name", lambda r: r.name),
    Column("threshold", "rule.col.threshold", lambda r: format_fen(r.threshold), True),
    Column("bonus", "rule.col.bonus", lambda r: format_fen(r.bonus), True),
    Column("summary", "rule.col.summary",
           lambda r: tr("rule.summary", threshold=format_fen(r.threshold),
                        bonus=format_fen(r.bonus))),
    Column("status", "rule.col.status", lambda r: active_text(r.active)),
)


class RechargeRuleDialog(FormDialog):
    def __init__(self, services: Services, rule: RechargeRuleOut | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("rule.dialog_edit", name=rule.name) if rule
                         else tr("rule.dialog_new"), "rechargeRuleDialog", parent)
        self.rule = r = rule
        self.name = line_edit(r.name if r else "", "name", max_length=64)
        self.threshold = MoneyEdit(r.threshold if r else None)
        self.bonus = MoneyEdit(r.bonus if r else None)
        self.active = QtWidgets.QCheckBox(tr("bo.active"))
        self.active.setChecked(r.active if r else True)
        self.active.setVisible(r is not None)
        self.add_field("name", tr("rule.f.name"), self.name)
        self.add_field("threshold", tr("rule.f.threshold"), self.threshold)
        self.add_field("bonus", tr("rule.f.bonus"), self.bonus)
        self.form.addRow("", self.active)
        self.form.addRow("", QtWidgets.QLabel(tr("rule.note")))

    def body(self) -> dict[str, Any] | None:
        body: dict[str, Any] = {"name": self.name.text().strip(),
                                "threshold": self.threshold.fen("threshold"),
                                "bonus": self.bonus.fen("bonus")}
        if self.rule is None:
            return body
        body["active"] = self.active.isChecked()
        return changed(body, self.rule)

    def call(self, body: dict[str, Any], key: str) -> RechargeRuleOut:
        api = self.services.api
        if self.rule is None:
            return api.create_recharge_rule(body, key=key)
        return api.update_recharge_rule(self.rule.id, body, key=key)


class RechargeRulesScreen(ListScreen):
    def __init__(self, services: Services, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        api = services.api
        super().__init__(services, "rechargeRulesScreen",
                         whole_list(lambda: api.list_recharge_rules(include_inactive=True)),
                         RULE_COLUMNS, page_size, parent)
        self.add_buttons(button(tr("rule.new"), "newRule", self.new),
                         button(tr("bo.edit"), "editRule", self.edit))

    def make_dialog(self, item: Any | None) -> RechargeRuleDialog:
        return RechargeRuleDialog(self.services, item, self)
