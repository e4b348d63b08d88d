"""Back office: the audit log viewer (paged, filtered on the server)."""

from __future__ import annotations

import json
from typing import Any

from common.schemas.system import AuditEntryOut

from ..i18n import tr
from ..qt import Qt, QtWidgets
from ..widgets.context import Services
from ..widgets.listview import PagedListView
from ..widgets.paged import Column, PagedTableModel
from .staff import local_time

AUDIT_COLUMNS = (
    Column("at", "audit.col.at", lambda e: local_time(e.at)),
    Column("staff", "audit.col.staff", lambda e: e.username or ""),
    Column("counter", "audit.col.counter", lambda e: e.counter or ""),
    Column("action", "audit.action", lambda e: e.action),
    Column("entity", "audit.entity", lambda e: e.entity),
    Column("entity_id", "audit.entity_id", lambda e: e.entity_id or ""),
    Column("reason", "audit.col.reason", lambda e: e.reason or ""),
    Column("ip", "audit.col.ip", lambda e: e.ip or ""),
)


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
        self.action = QtWidgets.QLineEdit()
        self.action.setObjectName("filterAction")
        self.action.setPlaceholderText(tr("audit.action") + "（staff.create）")
        self.entity = QtWidgets.QLineEdit()
        self.entity.setObjectName("filterEntity")
        self.entity.setPlaceholderText(tr("audit.entity") + "（staff）")
        self.entity_id = QtWidgets.QLineEdit()
        self.entity_id.setObjectName("filterEntityId")
        self.entity_id.setPlaceholderText(tr("audit.entity_id"))
        apply = QtWidgets.QPushButton(tr("audit.filter"))
        apply.setObjectName("applyFilter")
        apply.clicked.connect(self.apply_filters)
        for w in (self.action, self.entity, self.entity_id):
            w.returnPressed.connect(self.apply_filters)
            w.setMaxLength(64)
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
        self.model.set_filters(action=self.action.text().strip(),
                               entity=self.entity.text().strip(),
                               entity_id=self.entity_id.text().strip())

    def _show_details(self, *_: object) -> None:
        e = self.list.selected_item()
        if not isinstance(e, AuditEntryOut):
            self.details.clear()
            return
        self.details.setPlainText(
            f"{local_time(e.at)}  {e.username or ''}  {e.action}  {e.entity} {e.entity_id or ''}"
            f"\n\n{tr('audit.before')}:\n{_pretty(e.before)}\n\n{tr('audit.after')}:\n"
            f"{_pretty(e.after)}")
