"""Back office: 活动 — publish activities (a class, an event, a members' day: time, place,
capacity, price or free), edit or cancel them, their sign-ups (paged on the server) with
check-in and cancel; and 促销 — promotions for a period (a discount on a category, a price for
a level, double points), edited with their period and stopped when done.

Every figure and rule is the server's (``server/domain/activities.py``, ``promotions.py``;
prices by the one engine ``common.pricing``); these screens show and ask."""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.money import format_fen
from common.schemas.activities import (
    ActivityOut,
    PromotionOut,
    SignupOut,
)
from common.schemas.base import Page
from common.schemas.catalog import CategoryOut
from common.schemas.members import LevelOut

from ..i18n import tr
from ..qt import Qt, QtCore, QtWidgets
from ..widgets.context import Services
from ..widgets.listview import PagedListView, search_box
from ..widgets.paged import Column, PagedTableModel
from .common import (
    FieldError,
    FormDialog,
    ListScreen,
    MoneyEdit,
    button,
    int_of,
    line_edit,
    parse_zhe,
    product_picker,
    zhe,
)
from .levels import zhe_input
from .staff import local_time

TIME_FORMAT = "%Y-%m-%d %H:%M"


def shop_time(value: dt.datetime | None) -> str:
    """A shop wall-clock time as typed and shown (activities and promotions)."""
    return value.strftime(TIME_FORMAT) if value else ""


def time_of(edit: QtWidgets.QLineEdit, key: str) -> str:
    """'2026-12-05 14:00' → ISO (shop time); a FieldError else."""
    text = edit.text().strip()
    if not text:
        raise FieldError(key, tr("bo.required"))
    try:
        return dt.datetime.strptime(text, TIME_FORMAT).isoformat()
    except ValueError:
        raise FieldError(key, tr("act.bad_time")) from None


def price_text(price: int) -> str:
    return format_fen(price) if price else tr("act.free")


ACTIVITY_COLUMNS = (
    Column("title", "act.col.title", lambda a: a.title),
    Column("kind", "act.col.kind", lambda a: tr(f"act.kind.{a.kind}")),
    Column("starts_at", "act.col.starts_at", lambda a: shop_time(a.starts_at)),
    Column("ends_at", "act.col.ends_at", lambda a: shop_time(a.ends_at)),
    Column("place", "act.col.place", lambda a: a.place),
    Column("taken", "act.col.taken", lambda a: f"{a.taken}/{a.capacity}", align_right=True),
    Column("price", "act.col.price", lambda a: price_text(a.price), align_right=True),
    Column("status", "act.col.status", lambda a: tr(f"act.astatus.{a.status}")),
)
SIGNUP_COLUMNS = (
    Column("member", "act.col.member", lambda s: s.member_name),
    Column("phone", "act.col.phone", lambda s: s.member_phone or ""),
    Column("status", "act.col.signup_status", lambda s: tr(f"act.status.{s.status}")),
    Column("paid", "act.col.paid", lambda s: price_text(s.price), align_right=True),
    Column("sale", "act.col.sale", lambda s: s.sale_number or ""),
    Column("signed_up_at", "act.col.signed_up_at", lambda s: local_time(s.signed_up_at)),
    Column("checked_in_at", "act.col.checked_in_at", lambda s: local_time(s.checked_in_at)),
    Column("reason", "act.col.reason", lambda s: s.cancel_reason or ""),
)


class ActivityDialog(FormDialog):
    def __init__(self, services: Services, activity: ActivityOut | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("act.dialog_edit", title=activity.title) if activity
                         else tr("act.dialog_new"), "activityDialog", parent, min_width=520)
        self.activity = a = activity
        start = a.starts_at if a else (dt.datetime.now() + dt.timedelta(days=1)).replace(
            hour=14, minute=0, second=0, microsecond=0)
        end = a.ends_at if a else start + dt.timedelta(hours=2)
        self.title = line_edit(a.title if a else "", "title", max_length=60)
        self.kind = QtWidgets.QComboBox()
        for k in ("class", "event", "members_day"):
            self.kind.addItem(tr(f"act.kind.{k}"), k)
        self.kind.setCurrentIndex(self.kind.findData(a.kind) if a else 0)
        self.place = line_edit(a.place if a else "", "place", max_length=60)
        self.starts = line_edit(shop_time(start), "starts_at", "2026-12-05 14:00", 16)
        self.ends = line_edit(shop_time(end), "ends_at", "2026-12-05 16:00", 16)
        self.capacity = line_edit(str(a.capacity) if a else "", "capacity", "20", 5)
        self.price = MoneyEdit(a.price if a else 0)
        self.price.setObjectName("price")
        self.description = line_edit(a.description if a else "", "description",
                                     max_length=255)
        self.cancelled = QtWidgets.QCheckBox(tr("act.f.cancelled"))
        self.cancelled.setObjectName("cancelled")
        self.cancelled.setChecked(bool(a and a.status == "cancelled"))
        self.cancelled.setVisible(a is not None)
        self.add_field("title", tr("act.f.title"), self.title)
        self.add_field("kind", tr("act.f.kind"), self.kind)
        self.add_field("starts_at", tr("act.f.starts_at"), self.starts)
        self.add_field("ends_at", tr("act.f.ends_at"), self.ends)
        self.add_field("place", tr("act.f.place"), self.place)
        self.add_field("capacity", tr("act.f.capacity"), self.capacity)
        self.add_field("price", tr("act.f.price"), self.price)
        self.add_field("description", tr("act.f.description"), self.description)
        self.form.addRow("", self.cancelled)
        hint = QtWidgets.QLabel(tr("act.f.hint"))
        hint.setWordWrap(True)
        self.form.addRow("", hint)

    def body(self) -> dict[str, Any] | None:
        if not self.title.text().strip():
            raise FieldError("title", tr("bo.required"))
        body: dict[str, Any] = {
            "title": self.title.text().strip(), "kind": self.kind.currentData(),
            "place": self.place.text().strip(),
            "starts_at": time_of(self.starts, "starts_at"),
            "ends_at": time_of(self.ends, "ends_at"),
            "capacity": int_of(self.capacity, "capacity"),
            "price": self.price.fen("price") or 0,
            "description": self.description.text().strip() or None}
        a = self.activity
        if a is None:
            return body
        body["status"] = "cancelled" if self.cancelled.isChecked() else "open"
        original = {"title": a.title, "kind": a.kind, "place": a.place,
                    "starts_at": a.starts_at.isoformat(), "ends_at": a.ends_at.isoformat(),
                    "capacity": a.capacity, "price": a.price, "description": a.description,
                    "status": a.status}
        return {k: v for k, v in body.items() if original[k] != v} or None

    def call(self, body: dict[str, Any], key: str) -> ActivityOut:
        api = self.services.api
        if self.activity is None:
            return api.create_activity(body, key=key)
        return api.update_activity(self.activity.id, body, key=key)


class CancelSignupDialog(FormDialog):
    def __init__(self, services: Services, signup: SignupOut,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("act.cancel.title", name=signup.member_name),
                         "cancelSignupDialog", parent)
        self.save_button.setText(tr("act.cancel"))
        self.signup = signup
        self.reason = line_edit("", "reason", max_length=255)
        self.add_field("reason", tr("bo.reason"), self.reason)

    def body(self) -> dict[str, Any]:
        if not self.reason.text().strip():
            raise FieldError("reason", tr("bo.required"))
        return {"reason": self.reason.text().strip()}

    def call(self, body: dict[str, Any], key: str) -> SignupOut:
        s = self.signup
        return self.services.api.cancel_signup(s.activity_id, s.id, body["reason"], key=key)


class ActivitiesScreen(ListScreen):
    """Activities above (paged on the server, by title), the chosen one's sign-ups below."""

    def __init__(self, services: Services, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        api = services.api
        super().__init__(services, "activitiesScreen",
                         lambda page, size, f: api.list_activities(page, size, q=f.get("q"),
                                                                   upcoming=f.get("upcoming",
                                                                                  False)),
                         ACTIVITY_COLUMNS, page_size, parent)
        self.search = search_box(tr("act.search"), lambda _t: self.filter(), self)
        self.search.setObjectName("activitySearch")
        self.upcoming = QtWidgets.QCheckBox(tr("act.upcoming_only"))
        self.upcoming.setObjectName("upcomingOnly")
        self.upcoming.toggled.connect(lambda _c: self.filter())
        self.list.tools.addWidget(self.search)
        self.list.tools.addWidget(self.upcoming)
        self.add_buttons(button(tr("act.new"), "newActivity", self.new),
                         button(tr("bo.edit"), "editActivity", self.edit))
        self.activity: ActivityOut | None = None
        self.signups = PagedTableModel(
            services.runner,
            lambda page, size, f: api.activity_signups(f["activity_id"], page, size,
                                                       status=f.get("status"))
            if f.get("activity_id") else Page[SignupOut](items=[], page=1, page_size=size,
                                                          has_more=False),
            SIGNUP_COLUMNS, page_size=page_size)
        self.signup_list = PagedListView(services, self.signups)
        t = self.signup_list.tools
        self.signup_title = QtWidgets.QLabel(tr("act.signups_pick"))
        self.signup_title.setObjectName("signupTitle")
        self.signup_title.setStyleSheet("font-weight: bold;")
        self.status = QtWidgets.QComboBox()
        self.status.setObjectName("signupStatus")
        self.status.addItem(tr("act.all_status"), None)
        for s in ("signed_up", "checked_in", "cancelled"):
            self.status.addItem(tr(f"act.status.{s}"), s)
        self.status.currentIndexChanged.connect(lambda _i: self.load_signups())
        t.addWidget(self.signup_title)
        t.addWidget(self.status)
        t.addStretch(1)
        t.addWidget(button(tr("act.check_in"), "checkInSignup", self.check_in))
        t.addWidget(button(tr("act.cancel_signup"), "cancelSignup", self.cancel_signup))
        split = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        lay = self.layout()
        assert lay is not None
        lay.removeWidget(self.list)
        split.addWidget(self.list)
        split.addWidget(self.signup_list)
        lay.addWidget(split)
        sel = self.list.table.selectionModel()
        assert sel is not None
        sel.currentRowChanged.connect(lambda cur, _prev: self._row(cur))

    def filter(self) -> None:
        self.model.set_filters(q=self.search.text().strip() or None,
                               upcoming=self.upcoming.isChecked())

    def _row(self, index: QtCore.QModelIndex) -> None:
        if index.isValid() and index.row() < len(self.model.items):
            self.show_signups(self.model.items[index.row()])

    def show_signups(self, activity: ActivityOut) -> None:
        self.activity = activity
        self.signup_title.setText(tr("act.signups_of", title=activity.title,
                                     taken=activity.taken, capacity=activity.capacity))
        self.load_signups()

    def load_signups(self) -> None:
        if self.activity is not None:
            self.signups.set_filters(activity_id=self.activity.id,
                                     status=self.status.currentData())

    def make_dialog(self, item: Any | None) -> ActivityDialog:
        return ActivityDialog(self.services, item, self)

    def _signup(self) -> SignupOut | None:
        s = self.signup_list.selected_item()
        if not isinstance(s, SignupOut):
            self.services.dialogs.info(self, tr("act.select_signup"))
            return None
        return s

    def check_in(self, signup: SignupOut | None = None) -> None:
        s = signup or self._signup()
        if s is None:
            return
        api = self.services.api
        self.services.runner.op(lambda: api.check_in_signup(s.activity_id, s.id),
                                self._signup_changed,
                                lambda e: self.services.dialogs.error(self, e), owner=self)

    def cancel_signup(self, signup: SignupOut | None = None) -> CancelSignupDialog | None:
        s = signup or self._signup()
        if s is None:
            return None
        dlg = CancelSignupDialog(self.services, s, self)
        dlg.saved.connect(self._signup_changed)
        self.show_dialog(dlg)
        return dlg

    def _signup_changed(self, new: SignupOut) -> None:
        self.signups.reload()
        self.model.reload()
        api, ident = self.services.api, new.activity_id
        self.services.runner.op(lambda: api.get_activity(ident), self._title,
                                lambda e: self.services.dialogs.error(self, e), owner=self)

    def _title(self, activity: ActivityOut) -> None:
        if self.activity is not None and self.activity.id == activity.id:
            self.activity = activity
            self.signup_title.setText(tr("act.signups_of", title=activity.title,
                                         taken=activity.taken, capacity=activity.capacity))


# --- promotions -----------------------------------------------------------------------------
def promotion_value(p: PromotionOut) -> str:
    if p.kind == "discount":
        return zhe(p.rate_bp)
    if p.kind == "price":
        return format_fen(p.price_fen)
    return tr("promo.times", n=p.points_multiplier)


PROMOTION_COLUMNS = (
    Column("name", "promo.col.name", lambda p: p.name),
    Column("kind", "promo.col.kind", lambda p: tr(f"promo.kind.{p.kind}")),
    Column("value", "promo.col.value", promotion_value),
    Column("starts_at", "promo.col.starts_at", lambda p: shop_time(p.starts_at)),
    Column("ends_at", "promo.col.ends_at", lambda p: shop_time(p.ends_at)),
    Column("state", "promo.col.state", lambda p: tr(f"promo.state.{p.state}")),
)


class CheckList(QtWidgets.QListWidget):
    """Items to tick (categories, levels): ``ids()`` of the ticked ones."""

    def __init__(self, name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setMaximumHeight(96)

    def fill(self, items: list[tuple[int, str]], ticked: list[int]) -> None:
        self.clear()
        for ident, text in items:
            it = QtWidgets.QListWidgetItem(text)
            it.setData(Qt.ItemDataRole.UserRole, ident)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if ident in ticked
                             else Qt.CheckState.Unchecked)
            self.addItem(it)

    def ids(self) -> list[int]:
        out = []
        for i in range(self.count()):
            it = self.item(i)
            if it is not None and it.checkState() == Qt.CheckState.Checked:
                out.append(int(it.data(Qt.ItemDataRole.UserRole)))
        return out

    def tick(self, ident: int, on: bool = True) -> None:
        for i in range(self.count()):
            it = self.item(i)
            if it is not None and it.data(Qt.ItemDataRole.UserRole) == ident:
                it.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


class PromotionDialog(FormDialog):
    """A promotion and its period. The kind is fixed once created (a receipt names it)."""

    def __init__(self, services: Services, promotion: PromotionOut | None,
                 categories: list[CategoryOut], levels: list[LevelOut],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(services, tr("promo.dialog_edit", name=promotion.name) if promotion
                         else tr("promo.dialog_new"), "promotionDialog", parent,
                         min_width=560)
        self.promotion = p = promotion
        today = dt.datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        self.name = line_edit(p.name if p else "", "name", max_length=40)
        self.kind = QtWidgets.QComboBox()
        for k in ("discount", "price", "points"):
            self.kind.addItem(tr(f"promo.kind.{k}"), k)
        self.kind.setCurrentIndex(self.kind.findData(p.kind) if p else 0)
        self.kind.setEnabled(p is None)
        self.starts = line_edit(shop_time(p.starts_at if p else today), "starts_at",
                                "2026-12-05 00:00", 16)
        self.ends = line_edit(shop_time(p.ends_at if p else today + dt.timedelta(days=7)),
                              "ends_at", "2026-12-12 00:00", 16)
        self.rate = line_edit(zhe_input(p.rate_bp) if p and p.kind == "discount" else "",
                              "rate_bp", "8")
        self.price = MoneyEdit(p.price_fen if p and p.kind == "price" else None)
        self.price.setObjectName("price_fen")
        self.multiplier = QtWidgets.QSpinBox()
        self.multiplier.setObjectName("points_multiplier")
        self.multiplier.setRange(2, 10)
        self.multiplier.setValue(p.points_multiplier if p and p.kind == "points" else 2)
        self.categories = CheckList("category_ids")
        self.categories.fill([(c.id, c.name) for c in categories],
                             p.category_ids if p else [])
        self.product = product_picker(services)
        self.product.setObjectName("product_ids")
        self.product_ids: list[int] = list(p.product_ids) if p else []
        self.products_label = QtWidgets.QLabel(
            tr("promo.products_n", n=len(self.product_ids)) if self.product_ids else "")
        self.levels = CheckList("level_ids")
        self.levels.fill([(lv.id, lv.name) for lv in levels], p.level_ids if p else [])
        self.active = QtWidgets.QCheckBox(tr("promo.f.active"))
        self.active.setObjectName("active")
        self.active.setChecked(p.active if p else True)
        self.active.setVisible(p is not None)
        self.note = line_edit(p.note if p else "", "note", max_length=255)
        self.add_field("name", tr("promo.f.name"), self.name)
        self.add_field("kind", tr("promo.f.kind"), self.kind)
        self.add_field("starts_at", tr("promo.f.starts_at"), self.starts)
        self.add_field("ends_at", tr("promo.f.ends_at"), self.ends)
        self.add_field("rate_bp", tr("promo.f.rate"), self.rate)
        self.add_field("category_ids", tr("promo.f.categories"), self.categories)
        self.add_field("price_fen", tr("promo.f.price"), self.price)
        self.add_field("product_ids", tr("promo.f.product"), self.product)
        self.form.addRow("", self.products_label)
        self.add_field("points_multiplier", tr("promo.f.multiplier"), self.multiplier)
        self.add_field("level_ids", tr("promo.f.levels"), self.levels)
        self.add_field("note", tr("promo.f.note"), self.note)
        self.form.addRow("", self.active)
        hint = QtWidgets.QLabel(tr("promo.f.hint"))
        hint.setWordWrap(True)
        self.form.addRow("", hint)
        self.kind.currentIndexChanged.connect(self._kind)
        self._kind()

    def _kind(self, *_: object) -> None:
        kind = self.kind.currentData()
        self.rate.setEnabled(kind == "discount")
        self.categories.setEnabled(kind == "discount")
        self.price.setEnabled(kind == "price")
        self.product.setEnabled(kind == "price")
        self.multiplier.setEnabled(kind == "points")

    def body(self) -> dict[str, Any] | None:
        if not self.name.text().strip():
            raise FieldError("name", tr("bo.required"))
        kind = self.kind.currentData()
        body: dict[str, Any] = {
            "name": self.name.text().strip(), "starts_at": time_of(self.starts, "starts_at"),
            "ends_at": time_of(self.ends, "ends_at"), "level_ids": self.levels.ids(),
            "note": self.note.text().strip() or None}
        if kind == "discount":
            try:
                body["rate_bp"] = parse_zhe(self.rate.text())
            except ValueError:
                raise FieldError("rate_bp", tr("bo.bad_discount")) from None
            body["category_ids"] = self.categories.ids()
        elif kind == "price":
            body["price_fen"] = self.price.fen("price_fen")
            chosen = self.product.current()
            ids = [chosen.id] if chosen is not None else self.product_ids
            if not ids:
                raise FieldError("product_ids", tr("promo.pick_product"))
            body["product_ids"] = ids
        else:
            body["points_multiplier"] = self.multiplier.value()
        p = self.promotion
        if p is None:
            return {"kind": kind, **body}
        body["active"] = self.active.isChecked()
        original = {"name": p.name, "starts_at": p.starts_at.isoformat(),
                    "ends_at": p.ends_at.isoformat(), "level_ids": p.level_ids,
                    "note": p.note, "rate_bp": p.rate_bp, "category_ids": p.category_ids,
                    "price_fen": p.price_fen, "product_ids": p.product_ids,
                    "points_multiplier": p.points_multiplier, "active": p.active}
        return {k: v for k, v in body.items() if original[k] != v} or None

    def call(self, body: dict[str, Any], key: str) -> PromotionOut:
        api = self.services.api
        if self.promotion is None:
            return api.create_promotion(body, key=key)
        return api.update_promotion(self.promotion.id, body, key=key)


class PromotionsScreen(ListScreen):
    """Promotions, newest first, filtered by state on the server."""

    def __init__(self, services: Services, page_size: int = 50,
                 parent: QtWidgets.QWidget | None = None) -> None:
        api = services.api
        super().__init__(services, "promotionsScreen",
                         lambda page, size, f: api.list_promotions(page, size,
                                                                   state=f.get("state")),
                         PROMOTION_COLUMNS, page_size, parent)
        self.categories: list[CategoryOut] = []
        self.levels: list[LevelOut] = []
        self.state = QtWidgets.QComboBox()
        self.state.setObjectName("promotionState")
        self.state.addItem(tr("promo.all_states"), None)
        for s in ("running", "upcoming", "ended", "stopped"):
            self.state.addItem(tr(f"promo.state.{s}"), s)
        self.state.currentIndexChanged.connect(
            lambda _i: self.model.set_filters(state=self.state.currentData()))
        self.list.tools.addWidget(self.state)
        self.add_buttons(button(tr("promo.new"), "newPromotion", self.new),
                         button(tr("bo.edit"), "editPromotion", self.edit))

    def start(self, reload: bool = False) -> None:
        if reload or not self.levels:
            api = self.services.api
            self.services.runner.op(lambda: (api.list_categories(), api.list_levels()),
                                    self._lookups,
                                    lambda e: self.services.dialogs.error(self, e), owner=self)
        super().start(reload)

    def _lookups(self, data: tuple[list[CategoryOut], list[LevelOut]]) -> None:
        self.categories, self.levels = list(data[0]), list(data[1])

    def make_dialog(self, item: Any | None) -> PromotionDialog:
        return PromotionDialog(self.services, item, self.categories, self.levels, self)


__all__ = ["ActivitiesScreen", "ActivityDialog", "PromotionDialog", "PromotionsScreen",
           "shop_time", "time_of"]
