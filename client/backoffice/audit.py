"""Back office: the audit log viewer (paged, filtered on the server)."""

from __future__ import annotations

import json
from typing import Any

from common.schemas.system import AuditEntryOut

from .. import labels
from ..i18n import STRINGS, tr
from ..qt import Qt, QtWidgets
from ..widgets.context import Services
from ..widgets.listview import PagedListView
from ..widgets.paged import Column, PagedTableModel
from .staff import local_time

AUDIT_COLUMNS = (
    Column("at", "audit.col.at", lambda e: local_time(e.at)),
    Column("staff", "audit.col.staff", lambda e: e.username or ""),
    Column("counter", "audit.col.counter", lambda e: e.counter or ""),
    Column("action", "audit.action", lambda e: labels.audit_action(e.action)),
    Column("entity", "audit.entity", lambda e: labels.audit_entity(e.entity)),
    Column("entity_id", "audit.entity_id", lambda e: e.entity_id or ""),
    Column("reason", "audit.col.reason", lambda e: e.reason or ""),
    Column("ip", "audit.col.ip", lambda e: e.ip or ""),
)


def _codes(prefix: str) -> list[str]:
    """The codes that have a label (``label.audit.sale.create`` → ``sale.create``)."""
    return sorted(k[len(prefix) + 1:] for k in STRINGS if k.startswith(prefix + "."))


def _filter_box(name: str, everything: str, prefix: str, label: Any) -> QtWidgets.QComboBox:
    """A filter by label; the item's data is the code the server filters on."""
    box = QtWidgets.QComboBox()
    box.setObjectName(name)
    box.addItem(tr(everything), "")
    for code, text in sorted(((c, label(c)) for c in _codes(prefix)), key=lambda p: p[1]):
        box.addItem(text, code)
        box.setItemData(box.count() - 1, code, Qt.ItemDataRole.ToolTipRole)
    return box


def _pretty(value: Any) -> str:
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


class AuditScreen(QtWidgets.QWidget):
    """Newest first; filters: action, entity, entity id. Details of the selected entry below."""

    def __init__(self, services: Services, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditScreen")
        self.services = services
        api = services.api
        self.model = PagedTableModel(
            services.runner,
            lambda page, size, f: api.list_audit(page, size, **f),
            AUDIT_COLUMNS, page_size=page_size)
        self.list = PagedListView(services, self.model)
        self.action = _filter_box("filterAction", "audit.all_actions", "label.audit",
                                  labels.audit_action)
        self.entity = _filter_box("filterEntity", "audit.all_entities", "label.entity",
                                  labels.audit_entity)
        for box in (self.action, self.entity):
            box.activated.connect(lambda _i: self.apply_filters())
        self.entity_id = QtWidgets.QLineEdit()
        self.entity_id.setObjectName("filterEntityId")
        self.entity_id.setPlaceholderText(tr("audit.entity_id"))
        apply = QtWidgets.QPushButton(tr("audit.filter"))
        apply.setObjectName("applyFilter")
        apply.clicked.connect(self.apply_filters)
        self.entity_id.returnPressed.connect(self.apply_filters)
        self.entity_id.setMaxLength(64)
        for w in (self.action, self.entity, self.entity_id):
            self.list.tools.addWidget(w)
        self.list.tools.addWidget(apply)
        self.list.tools.addStretch(1)

        self.details = QtWidgets.QPlainTextEdit()
        self.details.setObjectName("auditDetails")
        self.details.setReadOnly(True)
        self.details.setPlaceholderText(tr("audit.details"))
        split = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.list.table.selectionModel().selectionChanged.connect(self._show_details)

    def start(self, reload: bool = False) -> None:
        """Load the first page when first shown (``reload``: fetch it again)."""
        if reload or (self.model.pages_loaded == 0 and not self.model.loading):
            self.model.reload()

    def apply_filters(self) -> None:
        self.details.clear()
        self.model.set_filters(action=self.action.currentData() or "",
                               entity=self.entity.currentData() or "",
                               entity_id=self.entity_id.text().strip())

    def _show_details(self, *_: object) -> None:
        e = self.list.selected_item()
        if not isinstance(e, AuditEntryOut):
            self.details.clear()
            return
        self.details.setPlainText(
            f"{local_time(e.at)}  {e.username or ''}  {labels.audit_action(e.action)}"
            f"（{e.action}）  {labels.audit_entity(e.entity)} {e.entity_id or ''}"
            f"\n\n{tr('audit.before')}:\n{_pretty(e.before)}\n\n{tr('audit.after')}:\n"
            f"{_pretty(e.after)}")
