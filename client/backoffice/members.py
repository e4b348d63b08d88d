"""Back office: 会员 — the member list (one search box, paged on the server: a million members
open as fast as ten), the edit dialog, the member detail with its stored-value / points /
count-card ledgers (each paged), manual adjustments with a required reason (audited on the
server), import with a dry-run preview and export."""

from __future__ import annotations

from typing import Any

from common.errors import ApiError
from common.money import format_fen
from common.privacy import can_anonymise_members, can_export_members
from common.schemas.members import LedgerEntryOut, LevelOut, MemberOut
from common.schemas.staff import StaffOut

from .. import labels
from ..i18n import tr
from ..qt import Qt, QtWidgets, Signal
from ..widgets.context import Services
from ..widgets.listview import PagedListView, search_box
from ..widgets.paged import Column, PagedTableModel
from .common import (
    FieldError,
    FileDialogs,
    FormDialog,
    ImportDialog,
    ListScreen,
    MoneyEdit,
    active_text,
    button,
    date_of,
    export_to_file,
    int_of,
    line_edit,
    local_date,
    money,
)
from .staff import local_time

ledger_kind = labels.ledger_kind  # the one code → label module (client/labels.py)


def signed_fen(v: int | None) -> str:
    if v is None:
        return ""
    return ("+" if v > 0 else "") + format_fen(v)


def _note(e: LedgerEntryOut) -> str:
    """The note, else what the entry refers to in words (销售单 …); a UUID (a sale's
    identity) is no word for people and is left out."""
    if e.note:
        return e.note
    if not e.ref_type:
        return ""
    ref = e.ref_id or ""
    if len(ref) == 36 and ref.count("-") == 4:
        ref = ""
    return f"{labels.ref_type(e.ref_type)} {ref}".strip()


def _ref(e: LedgerEntryOut) -> str:
    """单号: the sale's number (as on the receipt), the refund's, the recharge slip's."""
    return e.ref_no or ""


LEDGER_COLUMNS: dict[str, list[Column]] = {
    "stored_value": [
        Column("at", "mem.led.at", lambda e: local_time(e.at)),
        Column("kind", "mem.led.kind", lambda e: ledger_kind(e.kind)),
        Column("principal", "mem.led.principal", lambda e: signed_fen(e.principal_change),
               True),
        Column("bonus", "mem.led.bonus", lambda e: signed_fen(e.bonus_change), True),
        Column("balance", "mem.led.balance", lambda e: format_fen(e.balance_after), True),
        Column("method", "mem.led.method", lambda e: labels.payment_method(e.method)),
        Column("ref", "mem.led.ref", _ref),
        Column("note", "mem.led.note", _note),
    ],
    "points": [
        Column("at", "mem.led.at", lambda e: local_time(e.at)),
        Column("kind", "mem.led.kind", lambda e: ledger_kind(e.kind)),
        Column("change", "mem.led.change", lambda e: f"{e.change:+d}", True),
        Column("balance", "mem.led.balance", lambda e: str(e.balance_after), True),
        Column("ref", "mem.led.ref", _ref),
        Column("note", "mem.led.note", _note),
    ],
    "count_cards": [
        Column("at", "mem.led.at", lambda e: local_time(e.at)),
        Column("kind", "mem.led.kind", lambda e: ledger_kind(e.kind)),
        Column("card", "mem.led.card", lambda e: f"#{e.card_id}" if e.card_id else ""),
        Column("change", "mem.led.change", lambda e: f"{e.change:+d}", True),
        Column("balance", "mem.led.balance", lambda e: str(e.balance_after), True),
        Column("ref", "mem.led.ref", _ref),
        Column("note", "mem.led.note", _note),
    ],
}

MEMBER_COLUMNS = (
    Column("number", "mem.col.number", lambda m: m.number),
    Column("name", "mem.col.name", lambda m: m.name),
    Column("phone", "mem.col.phone", lambda m: m.phone or ""),
    Column("level", "mem.col.level", lambda m: m.level_name or ""),
    Column("stored_value", "mem.col.stored_value", lambda m: money(m.stored_value), True),
    Column("points", "mem.col.points", lambda m: str(m.points), True),
    Column("total_spent", "mem.col.total_spent", lambda m: money(m.total_spent), True),
    Column("last_visit", "mem.col.last_visit", lambda m: local_time(m.last_visit_at)),
    Column("status", "mem.col.status", lambda m: active_text(m.active)),
    Column("no_shows", "appt.col.no_shows",
           lambda m: str(m.no_show_count) if m.no_show_count else "", True),
)


class MemberDialog(FormDialog):
    """Create (``member=None``) or edit a member. Balances are never edited here."""

    def __init__(self, services: Services, levels: list[LevelOut],
                 member: MemberOut | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("mem.dialog_edit", name=member.name) if member
                         else tr("mem.dialog_new"), "memberDialog", parent)
        self.member = m = member
        self.number = line_edit(m.number if m else "", "number", tr("mem.f.number_auto"), 20)
        self.number.setReadOnly(m is not None)
        self.card_no = line_edit("", "card_no", tr("bo.optional"), 32)
        self.name = line_edit(m.name if m else "", "name", max_length=64)
        self.phone = line_edit(m.phone if m else "", "phone", max_length=20)
        self.gender = QtWidgets.QComboBox()
        for g in (None, "M", "F"):
            self.gender.addItem(tr(f"mem.f.gender.{g or 'none'}"), g)
        self.gender.setCurrentIndex(self.gender.findData(m.gender) if m and m.gender else 0)
        self.birthday = line_edit(local_date(m.birthday) if m else "", "birthday",
                                  "1990-05-01", 10)
        self.level = QtWidgets.QComboBox()
        self.level.addItem(tr("mem.f.no_level"), None)
        for lv in levels:
            self.level.addItem(lv.name, lv.id)
        if m and m.level_id is not None:
            idx = self.level.findData(m.level_id)
            if idx < 0:
                self.level.addItem(m.level_name or f"#{m.level_id}", m.level_id)
                idx = self.level.count() - 1
            self.level.setCurrentIndex(idx)
        self.tags = line_edit(", ".join(m.tags) if m else "", "tags")
        self.notes = line_edit(m.notes if m else "", "notes", max_length=500)
        self.active = QtWidgets.QCheckBox(tr("bo.active"))
        self.active.setChecked(m.active if m else True)
        self.active.setVisible(m is not None)
        self.add_field("number", tr("mem.f.number"), self.number)
        if m is None:
            self.add_field("card_no", tr("mem.f.card_no"), self.card_no)
        self.add_field("name", tr("mem.f.name"), self.name)
        self.add_field("phone", tr("mem.f.phone"), self.phone)
        self.add_field("gender", tr("mem.f.gender"), self.gender)
        self.add_field("birthday", tr("mem.f.birthday"), self.birthday)
        self.add_field("level_id", tr("mem.f.level"), self.level)
        self.add_field("tags", tr("mem.f.tags"), self.tags)
        self.add_field("notes", tr("mem.f.notes"), self.notes)
        self.form.addRow("", self.active)

    def body(self) -> dict[str, Any] | None:
        tags = [t.strip() for t in self.tags.text().replace("，", ",").split(",") if t.strip()]
        body: dict[str, Any] = {
            "name": self.name.text().strip(),
            "phone": self.phone.text().strip() or None,
            "gender": self.gender.currentData(),
            "birthday": date_of(self.birthday, "birthday"),
            "level_id": self.level.currentData(),
            "tags": tags,
            "notes": self.notes.text().strip() or None,
        }
        if self.member is None:
            for k, w in (("number", self.number), ("card_no", self.card_no)):
                if w.text().strip():
                    body[k] = w.text().strip()
            return {k: v for k, v in body.items() if v not in (None, [])}
        m = self.member
        original = {"name": m.name, "phone": m.phone, "gender": m.gender,
                    "birthday": local_date(m.birthday) or None, "level_id": m.level_id,
                    "tags": m.tags, "notes": m.notes, "active": m.active}
        body["active"] = self.active.isChecked()
        out = {k: v for k, v in body.items() if original[k] != v}
        return out or None

    def call(self, body: dict[str, Any], key: str) -> MemberOut:
        api = self.services.api
        if self.member is None:
            return api.create_member(body, key=key)
        return api.update_member(self.member.id, body, key=key)


class StoredValueAdjustDialog(FormDialog):
    """Manual correction of principal and/or bonus with a required reason (manager/owner)."""

    def __init__(self, services: Services, member: MemberOut,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("mem.adjust_sv.title", name=member.name,
                                      principal=format_fen(member.sv_principal),
                                      bonus=format_fen(member.sv_bonus)),
                         "storedValueAdjustDialog", parent, min_width=520)
        self.member = member
        self.principal = MoneyEdit(optional=True, signed=True)
        self.principal.setPlaceholderText("-10.00")
        self.bonus = MoneyEdit(optional=True, signed=True)
        self.reason = line_edit("", "reason", max_length=255)
        self.add_field("principal_change", tr("mem.adjust_sv.principal"), self.principal)
        self.add_field("bonus_change", tr("mem.adjust_sv.bonus"), self.bonus)
        self.add_field("reason", tr("bo.reason"), self.reason)

    def body(self) -> dict[str, Any]:
        p = self.principal.fen("principal_change") or 0
        b = self.bonus.fen("bonus_change") or 0
        if not p and not b:
            raise FieldError("principal_change", tr("mem.adjust_sv.zero"))
        if not self.reason.text().strip():
            raise FieldError("reason", tr("bo.required"))
        return {"principal_change": p, "bonus_change": b, "reason": self.reason.text().strip()}

    def call(self, body: dict[str, Any], key: str) -> Any:
        return self.services.api.adjust_stored_value(self.member.id, body, key=key)


class PointsAdjustDialog(FormDialog):
    def __init__(self, services: Services, member: MemberOut,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("mem.adjust_points.title", name=member.name,
                                      points=member.points), "pointsAdjustDialog", parent)
        self.member = member
        self.change = line_edit("", "change", "100")
        self.reason = line_edit("", "reason", max_length=255)
        self.add_field("change", tr("mem.adjust_points.change"), self.change)
        self.add_field("reason", tr("bo.reason"), self.reason)

    def body(self) -> dict[str, Any]:
        change = int_of(self.change, "change")
        if not self.reason.text().strip():
            raise FieldError("reason", tr("bo.required"))
        return {"change": change, "reason": self.reason.text().strip()}

    def call(self, body: dict[str, Any], key: str) -> Any:
        return self.services.api.adjust_points(self.member.id, body, key=key)


class MemberDetailDialog(QtWidgets.QDialog):
    """A member's balances and the three ledgers, each paged on the server.

    Signals:
        member_changed(object): the member was reloaded after an adjustment or edit.
    """

    member_changed = Signal(object)

    def __init__(self, services: Services, member: MemberOut, levels: list[LevelOut],
                 page_size: int = 50, parent: QtWidgets.QWidget | None = None, *,
                 me: StaffOut | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("memberDetailDialog")
        self.services = services
        self.member = member
        self.levels = levels
        self.me = me
        self.last_dialog: QtWidgets.QDialog | None = None
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("memberSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QtWidgets.QTabWidget()
        self.ledgers: dict[str, PagedTableModel] = {}
        self.views: dict[str, PagedListView] = {}
        api = services.api
        for book in ("stored_value", "points", "count_cards"):
            model = PagedTableModel(
                services.runner,
                lambda page, size, _f, book=book: api.member_ledger(self.member.id, book, page,
                                                                    size),
                LEDGER_COLUMNS[book], page_size=page_size)
            view = PagedListView(services, model)
            self.ledgers[book] = model
            self.views[book] = view
            self.tabs.addTab(view, tr(f"mem.book.{book}"))
        self.tabs.currentChanged.connect(self._tab)
        self.sv_button = button(tr("mem.adjust_sv"), "adjustStoredValue",
                                self.adjust_stored_value)
        self.points_button = button(tr("mem.adjust_points"), "adjustPoints",
                                    self.adjust_points)
        self.edit_button = button(tr("bo.edit"), "editMember", self.edit)
        # 注销: the owner's (common.privacy); other roles do not see the button
        self.anonymise_button = button(tr("mem.anonymise"), "anonymiseMember", self.anonymise)
        self.anonymise_button.setVisible(me is not None and can_anonymise_members(me.role))
        close = button(tr("common.close"), "close", self.accept)
        row = QtWidgets.QHBoxLayout()
        for b in (self.sv_button, self.points_button, self.edit_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.anonymise_button)
        row.addWidget(close)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.tabs, 1)
        lay.addLayout(row)
        self.resize(900, 560)
        self._show_member(member)
        self.ledgers["stored_value"].reload()

    def _show_member(self, m: MemberOut) -> None:
        self.member = m
        self.setWindowTitle(tr("mem.detail.title", name=m.name, number=m.number))
        text = tr("mem.detail.summary", name=m.name, number=m.number, phone=m.phone or "—",
                  level=m.level_name or "—", sv=format_fen(m.stored_value),
                  principal=format_fen(m.sv_principal), bonus=format_fen(m.sv_bonus),
                  points=m.points, spent=format_fen(m.total_spent), visits=m.visit_count)
        if m.anonymised_at is not None:
            text += "\n" + tr("mem.anonymised.note", date=local_time(m.anonymised_at))
        self.summary.setText(text)
        anonymised = m.anonymised_at is not None
        for b in (self.edit_button, self.sv_button, self.points_button,
                  self.anonymise_button):
            b.setEnabled(not anonymised)

    def _tab(self, index: int) -> None:
        book = list(self.ledgers)[index]
        model = self.ledgers[book]
        if model.pages_loaded == 0 and not model.loading:
            model.reload()

    def refresh(self, book: str | None = None) -> None:
        """Reload the member (balances) and one ledger."""
        api, mid = self.services.api, self.member.id
        self.services.runner.op(lambda: api.get_member(mid), self._reloaded,
                                lambda e: self.services.dialogs.error(self, e), owner=self)
        if book is not None:
            self.tabs.setCurrentIndex(list(self.ledgers).index(book))
            self.ledgers[book].reload()

    def _reloaded(self, m: MemberOut) -> None:
        self._show_member(m)
        self.member_changed.emit(m)

    def _open(self, dlg: FormDialog, book: str | None) -> FormDialog:
        dlg.saved.connect(lambda _r: self.refresh(book))
        self.last_dialog = dlg
        dlg.open()
        return dlg

    def adjust_stored_value(self) -> FormDialog:
        return self._open(StoredValueAdjustDialog(self.services, self.member, self),
                          "stored_value")

    def adjust_points(self) -> FormDialog:
        return self._open(PointsAdjustDialog(self.services, self.member, self), "points")

    def edit(self) -> FormDialog:
        return self._open(MemberDialog(self.services, self.levels, self.member, self), None)

    def anonymise_text(self) -> str:
        """The confirmation: what goes, what stays (the balances by name)."""
        m = self.member
        return tr("mem.anonymise.confirm", name=m.name, number=m.number,
                  phone=m.phone or "—", sv=format_fen(m.stored_value), points=m.points)

    def anonymise(self) -> bool:
        """注销会员 after the owner confirmed what will go; False when not confirmed."""
        if not self.services.dialogs.confirm(self, self.anonymise_text()):
            return False
        api, mid = self.services.api, self.member.id
        self.services.runner.op(lambda: api.anonymise_member(mid, tr("mem.anonymise.reason")),
                                self._anonymised, self._anonymise_failed, owner=self)
        return True

    def _anonymised(self, m: MemberOut) -> None:
        self._show_member(m)
        self.member_changed.emit(m)
        self.services.dialogs.info(self, tr("mem.anonymise.done", name=m.name))

    def _anonymise_failed(self, err: ApiError) -> None:
        self.services.dialogs.error(self, err)


class MembersScreen(ListScreen):
    """One search box over every member; one page at a time from the server."""

    def __init__(self, services: Services, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None, *, me: StaffOut | None = None
                 ) -> None:
        api = services.api
        self.me = me
        super().__init__(
            services, "membersScreen",
            lambda page, size, f: api.list_members(page, size, q=f.get("q"),
                                                   include_inactive=bool(f.get("inactive"))),
            MEMBER_COLUMNS, page_size, parent)
        self.files = FileDialogs()
        self.levels: list[LevelOut] = []
        self.search = search_box(tr("mem.search"), lambda _t: self.apply_filters(), self)
        self.search.setObjectName("memberSearch")
        self.search.setMinimumWidth(360)
        self.inactive = QtWidgets.QCheckBox(tr("bo.include_inactive"))
        self.inactive.setObjectName("includeInactive")
        self.inactive.toggled.connect(lambda _on: self.apply_filters())
        self.list.tools.addWidget(self.search, 1)
        self.list.tools.addWidget(self.inactive)
        actions = QtWidgets.QHBoxLayout()
        self.new_button = button(tr("mem.new"), "newMember", self.new)
        self.edit_button = button(tr("bo.edit"), "editMember", self.edit)
        self.detail_button = button(tr("mem.detail"), "memberDetail", self.detail)
        for w in (self.new_button, self.edit_button, self.detail_button):
            actions.addWidget(w)
        actions.addStretch(1)
        # export: every phone and birthday at once — the owner's (common.privacy)
        self.export_button = button(tr("mem.export"), "exportMembers", self.export_members)
        self.export_button.setVisible(me is not None and can_export_members(me.role))
        for w in (button(tr("mem.import"), "importMembers", self.import_members),
                  self.export_button,
                  button(tr("common.refresh"), "refresh", self.model.reload)):
            actions.addWidget(w)
        lay = self.list.layout()
        assert isinstance(lay, QtWidgets.QVBoxLayout)
        lay.insertLayout(1, actions)
        self.list.activated.disconnect()
        self.list.activated.connect(self.detail)

    def start(self, reload: bool = False) -> None:
        if reload or not self.levels:
            api = self.services.api
            self.services.runner.op(api.list_levels, self._levels,
                                    lambda e: self.services.dialogs.error(self, e), owner=self)
        super().start(reload)

    def _levels(self, levels: list[LevelOut]) -> None:
        self.levels = levels

    def apply_filters(self) -> None:
        self.model.set_filters(q=self.search.text().strip(), inactive=self.inactive.isChecked())

    def make_dialog(self, item: Any | None) -> MemberDialog:
        return MemberDialog(self.services, self.levels, item, self)

    def detail(self, member: Any | None = None) -> MemberDetailDialog | None:
        m = member if member is not None else self.list.selected_item()
        if not isinstance(m, MemberOut):
            self.services.dialogs.info(self, tr("mem.select_first"))
            return None
        dlg = MemberDetailDialog(self.services, m, self.levels, self.model.page_size, self,
                                 me=self.me)
        dlg.member_changed.connect(
            lambda new: self.model.replace_item(lambda x: x.id == new.id, new))
        self.show_dialog(dlg)
        return dlg

    def import_members(self) -> ImportDialog:
        dlg = ImportDialog(self.services, tr("mem.what"), self.services.api.import_members,
                           self.files, self)
        dlg.imported.connect(lambda _r: self.model.reload())
        self.show_dialog(dlg)
        return dlg

    def export_members(self) -> None:
        export_to_file(self.services, self, self.files, "members.csv",
                       self.services.api.export_members)
