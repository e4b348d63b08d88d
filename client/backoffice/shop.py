"""Back office: 门店设置 — the shop's name, address, phone, receipt header/footer lines and
the 抹零 a cashier may apply (owner only: the server answers a manager with 403 and its
message is shown), and the membership settings (manager/owner): PIN threshold and lockout,
points redemption rate, points expiry."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from common.errors import ApiError
from common.pricing import ROUNDING_UNITS
from common.schemas.members import MembershipSettings
from common.schemas.shop import ShopSettings

from .. import i18n
from ..i18n import tr
from ..qt import QtWidgets, Signal
from ..widgets.context import Services
from .common import FieldError, MoneyEdit, int_of, line_edit


class SettingsPanel(QtWidgets.QGroupBox):
    """A group of fields with its own save button; PUT sends only what changed.

    Signals:
        saved(object): what the server returned after a save.
        loaded(object): the values shown after loading.
    """

    saved = Signal(object)
    loaded = Signal(object)

    def __init__(self, services: Services, title: str, name: str, save_text: str,
                 put: Callable[[dict[str, Any], str], Any], saved_text: str) -> None:
        super().__init__(title)
        self.setObjectName(name)
        self.services = services
        self._put = put
        self._saved_text = saved_text
        self.current: Any = None
        self._last: tuple[dict[str, Any], str] | None = None
        self.form = QtWidgets.QFormLayout()
        self.form.setFieldGrowthPolicy(
            QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.field_errors: dict[str, QtWidgets.QLabel] = {}
        self.save_button = QtWidgets.QPushButton(save_text)
        self.save_button.setObjectName("save")
        self.save_button.clicked.connect(lambda _=False: self.submit())
        self.save_button.setEnabled(False)
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("status")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.save_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addLayout(row)

    def add_field(self, key: str, label: str, widget: QtWidgets.QWidget) -> None:
        widget.setObjectName(key)
        self.form.addRow(label, widget)
        err = QtWidgets.QLabel()
        err.setObjectName(f"error_{key}")
        err.setStyleSheet("color: #b00020;")
        err.setVisible(False)
        self.form.addRow("", err)
        self.field_errors[key] = err

    def show_values(self, values: Any) -> None:
        self.current = values
        self.save_button.setEnabled(True)
        self.status.clear()
        self.loaded.emit(values)

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def submit(self) -> None:
        for label in self.field_errors.values():
            label.setVisible(False)
        self.status.clear()
        try:
            values = self.values()
        except FieldError as e:
            label = self.field_errors.get(e.key)
            if label is not None:
                label.setText(e.message)
                label.setVisible(True)
            return
        body = {k: v for k, v in values.items() if getattr(self.current, k, None) != v}
        if not body:
            self.status.setText(self._saved_text)
            return
        key = self._last[1] if self._last and self._last[0] == body else str(uuid.uuid4())
        self._last = (body, key)
        self.save_button.setEnabled(False)
        put = self._put
        self.services.runner.op(lambda: put(body, key), self._done, self._failed, owner=self)

    def _done(self, result: Any) -> None:
        self.show_values(result)
        self.status.setText(self._saved_text)
        self.saved.emit(result)

    def _failed(self, err: ApiError) -> None:
        self.save_button.setEnabled(True)
        for key, msg in err.fields.items():
            label = self.field_errors.get(key.split(".")[0])
            if label is not None:
                label.setText(msg)
                label.setVisible(True)
        self.status.setText(err.message(i18n.language()))
        self.services.dialogs.error(self, err)


def _lines(edit: QtWidgets.QPlainTextEdit, key: str) -> list[str]:
    lines = [ln.strip() for ln in edit.toPlainText().splitlines() if ln.strip()]
    if len(lines) > 5:
        raise FieldError(key, tr("shop.too_many_lines"))
    return lines


class ShopPanel(SettingsPanel):
    def __init__(self, services: Services) -> None:
        api = services.api
        super().__init__(services, tr("shop.group"), "shopPanel", tr("shop.save"),
                         lambda body, key: api.update_shop_settings(body, key=key),
                         tr("shop.saved"))
        self.name = line_edit("", max_length=64)
        self.address = line_edit("", max_length=128)
        self.phone = line_edit("", max_length=32)
        self.header = QtWidgets.QPlainTextEdit()
        self.footer = QtWidgets.QPlainTextEdit()
        for w in (self.header, self.footer):
            w.setFixedHeight(64)
        self.max_rounding = QtWidgets.QComboBox()
        for mode in ROUNDING_UNITS:  # the 抹零 a cashier may apply
            self.max_rounding.addItem(tr(f"payment.shop.rounding.{mode}"), mode)
        for key, label, w in (("name", "shop.name", self.name),
                              ("address", "shop.address", self.address),
                              ("phone", "shop.phone", self.phone),
                              ("receipt_header", "shop.header", self.header),
                              ("receipt_footer", "shop.footer", self.footer),
                              ("max_rounding", "payment.shop.max_rounding",
                               self.max_rounding)):
            self.add_field(key, tr(label), w)

    def show_values(self, values: ShopSettings) -> None:
        self.name.setText(values.name)
        self.address.setText(values.address)
        self.phone.setText(values.phone)
        self.header.setPlainText("\n".join(values.receipt_header))
        self.footer.setPlainText("\n".join(values.receipt_footer))
        self.max_rounding.setCurrentIndex(max(0, self.max_rounding.findData(
            values.max_rounding)))
        super().show_values(values)

    def values(self) -> dict[str, Any]:
        return {"name": self.name.text().strip(), "address": self.address.text().strip(),
                "phone": self.phone.text().strip(),
                "receipt_header": _lines(self.header, "receipt_header"),
                "receipt_footer": _lines(self.footer, "receipt_footer"),
                "max_rounding": self.max_rounding.currentData()}


class MembershipPanel(SettingsPanel):
    def __init__(self, services: Services) -> None:
        api = services.api
        super().__init__(services, tr("msettings.group"), "membershipPanel",
                         tr("msettings.save"),
                         lambda body, key: api.update_membership_settings(body, key=key),
                         tr("msettings.saved"))
        self.pin_threshold = MoneyEdit()
        self.care_low_balance = MoneyEdit()
        self.ints: dict[str, QtWidgets.QLineEdit] = {}
        self.add_field("pin_threshold", tr("msettings.pin_threshold"), self.pin_threshold)
        for key in ("pin_max_failures", "pin_lock_minutes", "points_per_yuan_redeem",
                    "points_expiry_months"):
            self.ints[key] = line_edit()
            self.add_field(key, tr(f"msettings.{key}"), self.ints[key])
        self.add_field("care_low_balance", tr("msettings.care_low_balance"),
                       self.care_low_balance)

    def show_values(self, values: MembershipSettings) -> None:
        self.pin_threshold.set_fen(values.pin_threshold)
        self.care_low_balance.set_fen(values.care_low_balance)
        for key, w in self.ints.items():
            w.setText(str(getattr(values, key)))
        super().show_values(values)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pin_threshold": self.pin_threshold.fen("pin_threshold"),
                               "care_low_balance": self.care_low_balance.fen(
                                   "care_low_balance")}
        for key, w in self.ints.items():
            out[key] = int_of(w, key)
        return out


class ShopSettingsScreen(QtWidgets.QWidget):
    """Both panels, loaded when the screen is shown."""

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shopSettingsScreen")
        self.services = services
        self.shop = ShopPanel(services)
        self.membership = MembershipPanel(services)
        inner = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(inner)
        lay.addWidget(self.shop)
        lay.addWidget(self.membership)
        lay.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._started = False

    def start(self, reload: bool = False) -> None:
        if self._started and not reload:
            return
        self._started = True
        api, runner, err = self.services.api, self.services.runner, self.services.dialogs.error
        runner.op(api.shop_settings, self.shop.show_values, lambda e: err(self, e), owner=self)
        runner.op(api.membership_settings, self.membership.show_values,
                  lambda e: err(self, e), owner=self)
