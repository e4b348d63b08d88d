"""The counter's checkout flows wired onto the checkout screen (issue 5 §2, issue 6).

:class:`CounterController` plugs into :class:`~client.counter.checkout.CheckoutScreen`:
the member panel (F2), line discount (F3), hold / resume (F4 / F5), refund (F6), reprint (F7),
recharge (F8), payment (F9); a "收银操作" menu with shift open/close, the cash drawer
(manager, audited), 考勤打卡 (staff clock in and out), print jobs and the device settings;
and the devices: the receipt after a sale (off the GUI thread, through the persisted print
queue), the drawer kick for cash, the serial scanner and the pole display.

Every network and device call goes through the task runner; widgets never touch them.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Any

from common.errors import ApiError
from common.money import format_fen
from common.schemas.appointments import CheckInOut
from common.schemas.catalog import ProductOut
from common.schemas.members import (
    CountCardOut,
    MemberOut,
    MembershipSettings,
    StoredValueResultOut,
)
from common.schemas.sales import HeldOrderOut, RefundOut, SaleOut, ShiftReportOut
from common.schemas.shop import ShopSettingsOut

from .. import i18n
from ..devices.facade import (
    AfterSale,
    DeviceService,
    DeviceSettings,
    device_settings,
    with_device_settings,
)
from ..devices.print_queue import PrintJob
from ..i18n import tr
from ..qt import QtCore, QtGui, QtWidgets, Signal
from ..widgets.context import Services, SessionInfo
from ..widgets.dialogs import name_buttons
from .activities import ActivitySignupDialog
from .appointments import AppointmentDayDialog
from .attendance import ClockDialog
from .cart import Cart, CartError, CartLine, ServingShare, pricing_member, serving_text
from .checkout import LATER_FEATURES, CheckoutScreen
from .customer_display import CustomerDisplay, choose_screen
from .device_settings import DeviceSettingsDialog, PrintJobsDialog
from .held import HeldOrdersDialog
from .member_panel import MemberPanel
from .my_sales import MySalesDialog
from .offline_mode import OfflineMode, is_offline_sale
from .payment import PaymentDialog
from .receipts import (
    count_card_document,
    recharge_document,
    refund_document,
    sale_document,
    shift_document,
)
from .recharge import CardOpsDialog, RechargeDialog
from .refund import RefundDialog, ReprintDialog
from .sell_card import SellCardDialog
from .serving_staff import ServingStaffDialog
from .shift import ShiftCloseDialog, ShiftOpenDialog

log = logging.getLogger(__name__)


class ScanBridge(QtCore.QObject):
    """Carries a serial scanner's codes (reader thread) to the GUI thread.

    Signals:
        scanned(str): a code; emitted from any thread, delivered queued on the GUI thread.
        failed(str): the scanner's port failed.
    """

    scanned = Signal(str)
    failed = Signal(str)


class DiscountDialog(QtWidgets.QDialog):
    """F3: percent OFF for the selected line (above the cashier's limit the server asks for
    a manager's approval at payment)."""

    def __init__(self, line: CartLine, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("discountDialog")
        self.setWindowTitle(tr("discount.title"))
        self.setModal(True)
        form = QtWidgets.QFormLayout(self)
        form.addRow(tr("discount.line"), QtWidgets.QLabel(line.name))
        self.percent = QtWidgets.QSpinBox()
        self.percent.setObjectName("discountPercent")
        self.percent.setRange(0, 100)
        self.percent.setSuffix(" %")
        self.percent.setValue(line.manual_discount_bp // 100)
        form.addRow(tr("discount.percent_off"), self.percent)
        hint = QtWidgets.QLabel(tr("discount.hint"))
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666;")
        form.addRow(hint)
        buttons = name_buttons(QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class CounterController(QtCore.QObject):
    """See module doc. Lives as long as its main window.

    Signals:
        sale_completed(object): a :class:`SaleOut` (the cart is cleared).
        devices_done(object): :class:`AfterSale` — what the printer/drawer did after a sale.
        refund_completed(object): a :class:`RefundOut`.
        held(object), resumed(object): a :class:`HeldOrderOut` parked / taken back.
        printed(object): a :class:`PrintJob` (printed or failed) of any document.
        settings_changed(object): new :class:`ClientSettings` (device settings) to save.
        dialog_opened(object): a dialog was opened (tests, screenshots).
    """

    sale_completed = Signal(object)
    devices_done = Signal(object)
    refund_completed = Signal(object)
    held = Signal(object)
    resumed = Signal(object)
    printed = Signal(object)
    settings_changed = Signal(object)
    dialog_opened = Signal(object)
    card_sold = Signal(object)

    def __init__(self, window: QtWidgets.QMainWindow, checkout: CheckoutScreen,
                 services: Services, session: SessionInfo, *,
                 offline: OfflineMode | None = None) -> None:
        super().__init__(window)
        self.offline = offline
        self.window = window
        self.checkout = checkout
        self.services = services
        self.session = session
        self.own_devices = services.devices is None
        self.devices: DeviceService = services.devices or DeviceService(
            device_settings(services.settings))
        services.devices = self.devices
        self.msettings = MembershipSettings()
        self.shop = ShopSettingsOut()
        self.shift: ShiftReportOut | None = None
        self.pending_sale_id: str | None = None
        self.last_sale: SaleOut | None = None
        self.dialog: QtWidgets.QDialog | None = None
        self.failed_jobs = 0

        # member panel
        self.member_panel = MemberPanel(services)
        checkout.set_member_widget(self.member_panel)
        self.member_panel.member_changed.connect(self._member_changed)
        self.member_panel.recharge_requested.connect(self.recharge)
        self.member_panel.cards_requested.connect(self.card_ops)
        self.member_panel.sell_card_requested.connect(self.sell_card)
        self.member_panel.activities_requested.connect(self.activities)

        # function keys
        model = checkout.cart_model
        checkout.member_requested.connect(self.member_panel.focus_search)
        checkout.discount_requested.connect(self.discount)
        checkout.hold_requested.connect(self.hold)
        checkout.resume_requested.connect(self.resume)
        checkout.refund_requested.connect(self.refund)
        checkout.reprint_requested.connect(self.reprint)
        checkout.recharge_requested.connect(self.recharge)
        checkout.pay_requested.connect(self.pay)
        checkout.staff_requested.connect(self.serving_staff)
        for name in LATER_FEATURES:
            checkout.set_feature_available(name, True)
        model.rowsInserted.connect(lambda *_a: self._show_item())
        model.cart_changed.connect(self._cart_changed)

        # offline: scans resolved in the local catalogue; no answer at all → offline
        if offline is not None:
            checkout.local_lookup = offline.lookup
            checkout.is_offline = lambda: offline.active
            checkout.network_failed.connect(offline.network_failed)
            # the member panel offline: a full phone / card number is journaled with the sale
            self.member_panel.is_offline = lambda: offline.active
            self.member_panel.network_failed.connect(offline.network_failed)
            self.member_panel.offline_attached.connect(lambda _r: checkout.entry.setFocus())
            offline.changed.connect(self._offline_changed)
            # the promotions (促销) of the snapshot price the preview as the server does
            offline.catalogue_updated.connect(lambda _v: self._load_promotions())
            self._load_promotions()

        # serial scanner → the same scanned(code) path as the wedge scanner
        self.scan_bridge = ScanBridge(self)
        checkout.add_scan_source(self.scan_bridge)
        self.scan_bridge.failed.connect(lambda msg: checkout.say(msg, error=True))

        # the customer display window on the second screen (follows the cart)
        self.customer_display: CustomerDisplay | None = None
        model.totals_changed.connect(lambda _q: self._customer_cart())

        self._build_menu()
        self._build_status()
        self.start_devices()
        self.load_context()

    # --- set-up ---------------------------------------------------------------------------
    def _build_menu(self) -> None:
        bar = self.window.menuBar()
        assert bar is not None
        menu = bar.addMenu(tr("ops.menu"))
        assert menu is not None
        self.menu = menu
        self.acts: dict[str, QtGui.QAction] = {}

        def act(name: str, slot: Any, enabled: bool = True) -> None:
            a = QtGui.QAction(tr(f"ops.{name}"), self.window)
            a.setObjectName(f"ops_{name}")
            a.triggered.connect(slot)
            a.setEnabled(enabled)
            if not enabled:
                a.setToolTip(tr("ops.manager_only"))
            menu.addAction(a)
            self.acts[name] = a

        act("shift_open", self.shift_open)
        act("shift_close", self.shift_close)
        menu.addSeparator()
        act("refund", self.refund)
        act("reprint", self.reprint)
        act("recharge", self.recharge)
        act("cards", self.card_ops)
        act("sell_card", self.sell_card)
        act("appointments", self.appointments)
        self.acts["appointments"].setShortcut(QtGui.QKeySequence("F12"))
        act("activities", self.activities)
        menu.addSeparator()
        act("drawer", self.open_drawer, enabled=self.session.is_manager)
        act("my_sales", self.my_sales)
        act("attendance", self.attendance)
        act("print_jobs", self.print_jobs)
        act("devices", self.device_settings)
        menu.setToolTipsVisible(True)

    def _build_status(self) -> None:
        status = self.window.statusBar()
        assert status is not None
        self.shift_label = QtWidgets.QLabel()
        self.shift_label.setObjectName("shiftStatus")
        self.jobs_button = QtWidgets.QPushButton(tr("jobs.button", n=0))
        self.jobs_button.setObjectName("printJobsButton")
        self.jobs_button.setFlat(True)
        self.jobs_button.clicked.connect(self.print_jobs)
        status.addWidget(self.shift_label)
        status.addWidget(self.jobs_button)

    def start_devices(self) -> None:
        bridge = self.scan_bridge

        def start() -> bool:
            return self.devices.start_scanner(bridge.scanned.emit, bridge.failed.emit)

        self.services.runner.op(start, None, lambda e: self.checkout.say(
            e.message(i18n.language()), error=True), owner=self)
        self.services.runner.op(lambda: self.devices.display("welcome"), owner=self)
        self.place_customer_display()
        self.refresh_jobs()

    def place_customer_display(self) -> CustomerDisplay | None:
        """Show (or move, or close) the customer display window as the settings say."""
        ds = self.devices.settings
        screen = choose_screen(ds.customer_screen, QtGui.QGuiApplication.screens(),
                               QtGui.QGuiApplication.primaryScreen())
        d = self.customer_display
        if screen is None:
            if d is not None:
                d.close()
                d.deleteLater()
            self.customer_display = None
            return None
        if d is None:
            d = self.customer_display = CustomerDisplay(ds.customer_image, self.shop.name)
        elif d.image_path != ds.customer_image:
            d.set_image(ds.customer_image)
        d.place(screen)
        self._customer_cart()
        return d

    def _customer_cart(self) -> None:
        if self.customer_display is not None:
            model = self.checkout.cart_model
            self.customer_display.show_cart(model.cart, model.quote)

    def load_context(self) -> None:
        """Membership settings (PIN threshold, points rate), shop settings, the shift."""
        api = self.services.api

        def fetch() -> tuple[MembershipSettings, ShopSettingsOut]:
            return api.membership_settings(), api.shop_settings()

        self.services.runner.op(fetch, self._context, lambda e: self.checkout.say(
            e.message(i18n.language()), error=True), owner=self)
        self.load_shift()

    def _context(self, res: tuple[MembershipSettings, ShopSettingsOut]) -> None:
        self.msettings, self.shop = res
        if self.customer_display is not None:
            self.customer_display.set_shop_name(self.shop.name)

    def load_shift(self) -> None:
        api = self.services.api
        self.services.runner.op(api.current_shift, self._shift, self._no_shift, owner=self)

    def _shift(self, rep: ShiftReportOut | None) -> None:
        self.shift = rep
        if rep is None:
            self.shift_label.setText(tr("shift.none"))
            self.shift_label.setStyleSheet("color: #b00020;")
        else:
            self.shift_label.setText(tr("shift.current", cashier=rep.cashier,
                                        float=format_fen(rep.float_amount)))
            self.shift_label.setStyleSheet("")

    def _no_shift(self, err: ApiError) -> None:
        self._shift(None)
        if err.code != "no_open_shift":
            self.shift_label.setText(err.message(i18n.language()))
            return
        # no shift at this counter yet: nothing can be sold before it opens, so a cashier is
        # asked for the float now (a manager may have come for the back office: they are
        # asked when they sell), unless already in another dialog
        if self.session.is_manager:
            return
        if self.dialog is None or not self.dialog.isVisible():
            self.shift_open()

    def need_shift(self, over: QtWidgets.QDialog) -> None:
        """The server refused a sale / recharge / card sale: ``shift_not_open``. The cashier
        reads why and opens the shift on top of the dialog they were in (it stays, and so
        does the cart); Enter there then retries."""
        self._shift(None)
        self.checkout.say(tr("shift.needed"), error=True)
        dlg = ShiftOpenDialog(self.services, over)
        dlg.opened.connect(self._shift)
        dlg.open()
        self.dialog_opened.emit(dlg)

    def shutdown(self) -> None:
        """The window closes: stop the serial scanner (and our own devices)."""
        devices = self.devices
        if self.customer_display is not None:
            self.customer_display.close()
            self.customer_display.deleteLater()
            self.customer_display = None
        if self.own_devices:
            devices.close()
        else:
            devices.stop_scanner()

    def _open(self, dlg: QtWidgets.QDialog) -> QtWidgets.QDialog:
        self.dialog = dlg
        dlg.finished.connect(lambda _r: self.checkout.entry.setFocus())
        dlg.open()
        self.dialog_opened.emit(dlg)
        return dlg

    # --- cart and member ----------------------------------------------------------------
    @property
    def cart(self) -> Cart:
        return self.checkout.cart_model.cart

    def _load_promotions(self) -> None:
        cat = self.offline.catalogue if self.offline is not None else None
        if cat is None:
            return
        try:
            promotions, shop = cat.promotions, cat.shop
        except Exception as e:  # a broken local file: the server's quote still prices
            log.error("promotions of the local catalogue unreadable: %s", e)
            return
        cart = self.checkout.cart_model.cart
        cart.promotions = promotions
        cart.shop_zone = getattr(shop, "timezone", "") or ""
        self.checkout.cart_model.changed()
        if isinstance(self.dialog, PaymentDialog) and self.dialog.isVisible() \
                and not self.dialog.busy:
            self.dialog.refresh_quote()  # the bill on screen is priced with them too

    def _offline_changed(self, offline: bool) -> None:
        """Back online: a member typed offline is looked up for real (not under an open
        dialog: the payment keeps the cart it priced)."""
        if not offline and not (self.dialog is not None and self.dialog.isVisible()):
            self.member_panel.back_online()

    def _member_changed(self, member: MemberOut | None) -> None:
        self.cart.set_member(member)
        self.checkout.cart_model.changed()
        if member is not None:
            if self.checkout.status.text() == tr("counter.need_member"):
                self.checkout.say("")  # the member is picked: "请先选择会员" is answered
            self.checkout.entry.setFocus()

    def _cart_changed(self) -> None:
        self.pending_sale_id = None if not self.cart.lines else self.pending_sale_id

    def _show_item(self) -> None:
        lines = self.cart.lines
        if lines:
            ln = lines[-1]
            self.services.runner.op(lambda: self.devices.display(
                "item", ln.name, ln.list_price, ln.qty), owner=self)

    def discount(self) -> None:
        row = self.checkout._selected_row()
        if row is None:
            self.checkout.say(tr("counter.cart_empty"), error=True)
            return
        dlg = DiscountDialog(self.cart.lines[row], self.window)

        def apply() -> None:
            try:
                self.cart.set_line_discount(row, dlg.percent.value() * 100)
            except CartError as e:
                self.checkout.say(str(e), error=True)
                return
            self.checkout.cart_model.changed()

        dlg.accepted.connect(apply)
        self._open(dlg)

    # --- hold / resume --------------------------------------------------------------------
    def refused_offline(self, key: str) -> bool:
        """Offline: what needs the server is refused at once, with the reason (and a beep)."""
        if self.offline is None or not self.offline.active:
            return False
        QtWidgets.QApplication.beep()
        self.checkout.say(tr(key), error=True)
        return True

    def hold(self) -> None:
        if self.refused_offline("offline.refused.hold"):
            return
        if not self.cart.lines:
            self.checkout.say(tr("counter.cart_empty"), error=True)
            return
        body = self.cart.to_cart_in()
        body.pop("approval_token", None)
        label = self.cart.member_info.name if self.cart.member_info else None
        api = self.services.api
        self.services.runner.op(lambda: api.hold_order(body, label), self._held,
                                self._error, owner=self)

    def _held(self, o: HeldOrderOut) -> None:
        self.checkout.cart_model.clear()
        self.member_panel.attach(None)
        self.checkout.say(tr("counter.held", no=o.id, n=o.line_count))
        self.held.emit(o)

    def resume(self) -> None:
        if self.refused_offline("offline.refused.hold"):
            return
        if self.cart.lines:
            self.checkout.say(tr("counter.resume_cart_busy"), error=True)
            return
        dlg = HeldOrdersDialog(self.services, self.window)
        dlg.resumed.connect(self._resumed)
        self._open(dlg)

    def _resumed(self, o: HeldOrderOut) -> None:
        api = self.services.api

        def rebuild() -> tuple[Cart, MemberOut | None]:
            cart_in = o.cart
            member = api.get_member(cart_in.member_id) if cart_in.member_id else None
            products: dict[int, ProductOut] = {}
            names: dict[int, str] = {}
            if any(ln.staff for ln in cart_in.lines):  # who served: today's names
                names = {s.id: s.display_name for s in api.serving_staff()}
            cart = Cart()
            if member is not None:
                cart.member_info, cart.member = member, pricing_member(member)
            for ln in cart_in.lines:
                if ln.activity_id is not None:  # a seat of an activity (活动报名)
                    a = api.get_activity(ln.activity_id)
                    cart.lines.append(replace(
                        CartLine.for_activity(a, tr("act.line", title=a.title),
                                              tr("act.unit")),
                        manual_discount_bp=ln.manual_discount_bp))
                    continue
                if ln.product_id is None:
                    continue  # a count-card sale line: not sold at the counter screen yet
                if ln.product_id not in products:
                    products[ln.product_id] = api.get_product(ln.product_id)
                product = products[ln.product_id]
                line = CartLine.from_product(product, qty=ln.qty, open_price=(
                    ln.open_price if product.open_price else None))
                cart.lines.append(replace(line, manual_discount_bp=ln.manual_discount_bp,
                                          count_card_id=ln.count_card_id, staff=tuple(
                                              ServingShare(st.staff_id,
                                                           names.get(st.staff_id, "?"),
                                                           st.share_bp) for st in ln.staff)))
            if member is not None and cart_in.coupon_id:
                coupons = api.list_coupons(member_id=member.id, status="issued").items
                cart.coupon = next((c for c in coupons if c.id == cart_in.coupon_id), None)
            return cart, member

        def loaded(res: tuple[Cart, MemberOut | None]) -> None:
            cart, member = res
            self.checkout.cart_model.load(cart)
            if member is not None:
                self.member_panel.attach(member)
            self.checkout.say(tr("counter.resumed", no=o.id))
            self.resumed.emit(o)

        self.services.runner.op(rebuild, loaded, self._error, owner=self)

    # --- payment --------------------------------------------------------------------------
    def pay(self) -> None:
        if not self.cart.lines:
            self.checkout.say(tr("counter.cart_empty"), error=True)
            return
        if self.pending_sale_id is None:
            self.pending_sale_id = str(uuid.uuid4())  # kept until this sale completes
        panel = self.member_panel
        dlg = PaymentDialog(self.services, self.checkout.cart_model, self.pending_sale_id,
                            settings=self.msettings, shop=self.shop,
                            count_cards=panel.count_cards, coupons=panel.coupons,
                            offline=self.offline,
                            member_ref=panel.offline_ref.ref if panel.offline_ref else None,
                            member_name=panel.offline_name, parent=self.window)
        dlg.completed.connect(self.sale_done)
        dlg.shift_needed.connect(lambda: self.need_shift(dlg))
        dlg.total_known.connect(lambda fen: self.services.runner.op(
            lambda: self.devices.display("total", fen, self.cart.item_count), owner=self))
        self._open(dlg)

    def sale_done(self, sale: SaleOut) -> None:
        self.pending_sale_id = None
        self.last_sale = sale
        self.checkout.cart_model.clear()
        self.member_panel.attach(None)
        # 应收 the total; 实收 the cash handed over (the words of the payment dialog)
        tendered = sum(p.tendered if p.tendered is not None else p.amount
                       for p in sale.payments if p.method == "cash")
        offline = is_offline_sale(sale)
        done_cash, done = (("offline.sale_done_cash", "offline.sale_done") if offline else
                           ("counter.sale_done_cash", "counter.sale_done"))
        self.checkout.totals.last_sale.setText(
            tr(done_cash, number=sale.number, total=format_fen(sale.total),
               tendered=format_fen(tendered), change=format_fen(sale.change))
            if any(p.method == "cash" for p in sale.payments) else
            tr(done, number=sale.number, total=format_fen(sale.total)))
        self.checkout.say(tr("offline.journaled", number=sale.number) if offline else
                          tr("counter.sale_done_status", number=sale.number))
        for w in sale.stock_warnings:
            self.checkout.say(w, error=True)
        cash = any(p.method == "cash" for p in sale.payments)
        devices, shop = self.devices, self.shop
        width = devices.settings.width
        paid = sum(p.tendered if p.tendered is not None else p.amount for p in sale.payments)
        if self.customer_display is not None:
            self.customer_display.show_payment(sale.total, paid, sale.change)

        def run() -> AfterSale:
            doc = sale_document(sale, shop, width, offline=offline) \
                if devices.has_printer else None
            res = devices.after_sale(doc, tr("jobs.receipt", number=sale.number),
                                     kick_drawer=cash)
            devices.display("change", paid, sale.change)
            return res

        self.services.runner.op(run, self._after_sale, self._error, owner=self)
        self.sale_completed.emit(sale)

    def _after_sale(self, res: AfterSale) -> None:
        if res.drawer_error:
            self.checkout.say(tr("counter.drawer_failed", reason=res.drawer_error), error=True)
        if res.job is not None:
            self._job_done(res.job)
        self.devices_done.emit(res)

    # --- printing -------------------------------------------------------------------------
    def print_doc(self, make_doc: Any, title: str, kick_drawer: bool = False) -> None:
        """Build and print a document off the GUI thread (``make_doc(width)``)."""
        devices = self.devices
        if not devices.has_printer:
            self.checkout.say(tr("counter.no_printer"), error=True)
            return

        def run() -> AfterSale:
            return devices.after_sale(make_doc(devices.settings.width), title,
                                      kick_drawer=kick_drawer)

        self.services.runner.op(run, self._after_sale, self._error, owner=self)

    def _job_done(self, job: PrintJob) -> None:
        if job.state == "failed":
            self.checkout.say(tr("counter.print_failed", title=job.title,
                                 reason=job.last_error or ""), error=True)
        self.printed.emit(job)
        self.refresh_jobs()

    def refresh_jobs(self) -> None:
        self.services.runner.op(self.devices.failed_jobs, self._jobs_counted, owner=self)

    def _jobs_counted(self, jobs: list[PrintJob]) -> None:
        self.failed_jobs = len(jobs)
        self.jobs_button.setText(tr("jobs.button", n=len(jobs)))
        self.jobs_button.setStyleSheet("color: #b00020; font-weight: bold;" if jobs else "")

    def print_jobs(self) -> None:
        dlg = PrintJobsDialog(self.services, self.devices, self.window)
        dlg.changed.connect(self.refresh_jobs)  # 失败 n follows a retry at once
        dlg.finished.connect(lambda _r: self.refresh_jobs())
        self._open(dlg)

    def reprint(self) -> None:
        dlg = ReprintDialog(self.services, self.last_sale.number if self.last_sale else "",
                            self.window)
        shop = self.shop
        dlg.chosen.connect(lambda sale: self.print_doc(
            lambda w: sale_document(sale, shop, w, reprint=True),
            tr("jobs.reprint", number=sale.number)))
        self._open(dlg)

    # --- refund ---------------------------------------------------------------------------
    def refund(self) -> None:
        if self.refused_offline("offline.refused.refund"):
            return
        dlg = RefundDialog(self.services, is_manager=self.session.is_manager,
                           counter=self.session.counter, zone=self.shop.timezone,
                           parent=self.window)
        dlg.refunded.connect(self._refunded)
        self._open(dlg)

    def _refunded(self, res: RefundOut) -> None:
        pays = "、".join(f"{p.label} {format_fen(p.amount)}" for p in res.payments)
        self.checkout.say(tr("counter.refunded", number=res.number, total=format_fen(res.total),
                             pays=pays))
        if self.devices.has_printer:  # the refund slip; cash back: the drawer opens first
            shop, counter = self.shop, self.session.counter
            cashier = self.session.staff.display_name
            self.print_doc(lambda w: refund_document(res, shop, w, counter=counter,
                                                     cashier=cashier),
                           tr("jobs.refund", number=res.number),
                           kick_drawer=any(p.method == "cash" for p in res.payments))
        self.refund_completed.emit(res)

    # --- member operations ----------------------------------------------------------------
    def _need_member(self) -> MemberOut | None:
        m = self.member_panel.member
        if m is None:
            self.checkout.say(tr("counter.need_member"), error=True)
            self.member_panel.focus_search()
        return m

    def recharge(self) -> None:
        if self.refused_offline("offline.refused.recharge"):
            return
        m = self._need_member()
        if m is None:
            return
        dlg = RechargeDialog(self.services, m, self.window)
        dlg.recharged.connect(lambda res: self._recharged(m, res, dlg.method, dlg.tendered_fen,
                                                          dlg.change_fen))
        dlg.shift_needed.connect(lambda: self.need_shift(dlg))
        self._open(dlg)

    def _recharged(self, m: MemberOut, res: StoredValueResultOut, method: str,
                   tendered_fen: int | None = None, change_fen: int = 0) -> None:
        self.checkout.say(tr("counter.recharged", name=m.name,
                             amount=format_fen(res.entry.principal_change),
                             bonus=format_fen(res.entry.bonus_change),
                             balance=format_fen(res.stored_value)))
        self.member_panel.refresh()
        if self.devices.has_printer:
            shop, counter = self.shop, self.session.counter
            cashier = self.session.staff.display_name
            self.print_doc(lambda w: recharge_document(m, res, shop, w, counter=counter,
                                                       cashier=cashier,
                                                       tendered_fen=tendered_fen,
                                                       change_fen=change_fen),
                           tr("jobs.recharge", name=m.name), kick_drawer=method == "cash")

    def serving_staff(self) -> None:
        """F10: who served the selected line (技师 / 导购) and their shares."""
        row = self.checkout._selected_row()
        if row is None:
            self.checkout.say(tr("counter.cart_empty"), error=True)
            return
        line = self.cart.lines[row]
        dlg = ServingStaffDialog(self.services, line, self.window)

        def chosen(staff: list[ServingShare]) -> None:
            # the row may have moved while the dialog was open: find the line again
            at = next((i for i, ln in enumerate(self.cart.lines)
                       if ln.line_id == line.line_id), None)
            if at is None:
                return
            try:
                self.cart.set_staff(at, staff)
            except CartError as e:
                self.checkout.say(str(e), error=True)
                return
            self.checkout.cart_model.changed()
            self.checkout.table.selectRow(at)
            self.checkout.say(tr("serving.set", name=line.name,
                                 staff=serving_text(staff) or tr("serving.nobody_picked")))

        dlg.chosen.connect(chosen)
        self._open(dlg)

    def sell_card(self) -> None:
        """售次卡: a count card for the attached member, paid on its own."""
        if self.refused_offline("offline.refused.sell_card"):
            return
        m = self._need_member()
        if m is None:
            return
        dlg = SellCardDialog(self.services, m, settings=self.msettings, parent=self.window)
        dlg.sold.connect(lambda card: self._card_sold(m, card, dlg.method, dlg.tendered))
        dlg.shift_needed.connect(lambda: self.need_shift(dlg))
        self._open(dlg)

    def _card_sold(self, m: MemberOut, card: CountCardOut, method: str,
                   tendered: int | None) -> None:
        self.checkout.say(tr("sellcard.done", name=m.name, card=card.name,
                             price=format_fen(card.price), n=card.remaining_uses))
        self.member_panel.refresh()
        if self.devices.has_printer:
            shop, counter = self.shop, self.session.counter
            cashier = self.session.staff.display_name
            self.print_doc(lambda w: count_card_document(m, card, shop, w, counter=counter,
                                                         cashier=cashier, tendered=tendered),
                           tr("jobs.count_card", name=m.name), kick_drawer=method == "cash")
        self.card_sold.emit(card)

    def card_ops(self) -> None:
        if self.refused_offline("offline.refused.cards"):
            return
        m = self._need_member()
        if m is None:
            return
        dlg = CardOpsDialog(self.services, m, is_manager=self.session.is_manager,
                            parent=self.window)
        dlg.changed.connect(self.member_panel.refresh)
        self._open(dlg)

    # --- shift and drawer -----------------------------------------------------------------
    def shift_open(self) -> None:
        if self.refused_offline("offline.refused.shift"):
            return
        dlg = ShiftOpenDialog(self.services, self.window)
        dlg.opened.connect(self._shift)
        self._open(dlg)

    def my_sales(self) -> None:
        """我的业绩: the logged-in staff member's commission and sales, today / this month."""
        self._open(MySalesDialog(self.services, self.session, self.window,
                                 zone=self.shop.timezone))

    def activities(self) -> ActivitySignupDialog | None:
        """活动报名 / 签到 for the attached member: a free activity at once, a priced one as a
        cart line paid with the sale."""
        if self.refused_offline("offline.refused.activity"):
            return None
        m = self._need_member()
        if m is None:
            return None
        dlg = ActivitySignupDialog(self.services, m, self.window)
        dlg.add_to_cart.connect(self._activity_to_cart)
        dlg.signed_up.connect(lambda s: self.checkout.say(
            tr("act.counter.done.signed_up", title=s.activity_title, name=m.name)))
        self._open(dlg)
        return dlg

    def _activity_to_cart(self, activity: Any) -> None:
        model = self.checkout.cart_model
        if any(ln.activity_id == activity.id for ln in model.cart.lines):
            self.checkout.say(tr("act.counter.already_in_cart", title=activity.title),
                              error=True)
            return
        line = CartLine.for_activity(activity, tr("act.line", title=activity.title),
                                     tr("act.unit"))
        model.insert_line(len(model.cart.lines), line)
        self.checkout.say(tr("act.counter.in_cart", title=activity.title,
                             price=format_fen(activity.price)))

    def attendance(self) -> ClockDialog | None:
        """考勤打卡: staff clock in and out here, each with their own password or PIN."""
        if self.refused_offline("offline.refused.attendance"):
            return None
        dlg = ClockDialog(self.services, self.window)
        self._open(dlg)
        return dlg

    def appointments(self) -> AppointmentDayDialog | None:
        """预约 (F12): the day view; a booking checked in there becomes the cart."""
        if self.refused_offline("offline.refused.appointments"):
            return None
        dlg = AppointmentDayDialog(self.services, is_manager=self.session.is_manager,
                                   cart_busy=lambda: bool(self.cart.lines),
                                   parent=self.window)
        dlg.checked_in.connect(self._checked_in)
        self._open(dlg)
        return dlg

    def _checked_in(self, res: CheckInOut) -> None:
        """A checked-in booking becomes the cart: each service with the booked staff member
        as its serving staff (the sale pays their commission), or on the member's count
        card; the member attached."""
        api = self.services.api
        a = res.appointment

        def build() -> tuple[Cart, MemberOut | None]:
            member = api.get_member(a.member_id) if a.member_id else None
            cart = Cart()
            if member is not None:
                cart.member_info, cart.member = member, pricing_member(member)
            products: dict[int, ProductOut] = {}
            for ln in res.lines:
                if ln.product_id not in products:
                    products[ln.product_id] = api.get_product(ln.product_id)
                line = CartLine.from_product(products[ln.product_id])
                staff = ((ServingShare(ln.staff_id, ln.staff_name or ""),)
                         if ln.staff_id is not None else ())
                cart.lines.append(replace(line, staff=staff, count_card_id=ln.count_card_id,
                                          count_card_name=ln.count_card_name or ""))
            return cart, member

        def loaded(built: tuple[Cart, MemberOut | None]) -> None:
            cart, member = built
            self.checkout.cart_model.load(cart)
            if member is not None:
                self.member_panel.attach(member)
            self.checkout.say(tr("appt.checked_in", customer=a.customer_name,
                                 n=len(cart.lines)))

        self.services.runner.op(build, loaded, self._error, owner=self)

    def shift_close(self) -> None:
        if self.refused_offline("offline.refused.shift"):
            return
        n = self.offline.pending if self.offline is not None else 0
        if n and not self.services.dialogs.confirm(self.window,
                                                   tr("offline.warn_shift_close", n=n)):
            return
        dlg = ShiftCloseDialog(self.services, self.window)
        dlg.closed.connect(self._shift_closed)
        self._open(dlg)

    def _shift_closed(self, rep: ShiftReportOut) -> None:
        self._shift(None)
        diff = rep.difference or 0
        self.checkout.say(tr("counter.shift_closed", counted=format_fen(rep.counted_cash or 0),
                             expected=format_fen(rep.expected_cash),
                             diff=("+" if diff > 0 else "") + format_fen(diff)))
        if self.devices.has_printer:
            shop = self.shop
            self.print_doc(lambda w: shift_document(rep, shop, w), tr("jobs.shift"))

    def open_drawer(self) -> None:
        """Manager only; the server records it first (audit), then the drawer opens."""
        if not self.session.is_manager:
            self.checkout.say(tr("ops.manager_only"), error=True)
            return
        api, devices = self.services.api, self.devices

        def run() -> None:
            api.audit_drawer_open(tr("ops.drawer_reason"))
            devices.open_drawer_checked()

        self.services.runner.op(run, lambda _r: self.checkout.say(tr("counter.drawer_opened")),
                                self._error, owner=self)

    # --- device settings ------------------------------------------------------------------
    def device_settings(self) -> None:
        dlg = DeviceSettingsDialog(self.services, self.devices.settings, self.window)
        dlg.saved.connect(self.apply_device_settings)
        self._open(dlg)

    def apply_device_settings(self, ds: DeviceSettings) -> None:
        new = with_device_settings(self.services.settings, ds)
        self.services.settings = new
        devices = self.devices
        devices.stop_scanner()
        self.services.runner.op(lambda: devices.configure(ds), lambda _r: self.start_devices(),
                                self._error, owner=self)
        self.settings_changed.emit(new)

    # --- errors ---------------------------------------------------------------------------
    def _error(self, err: ApiError) -> None:
        if self.offline is not None:
            self.offline.network_failed(err)
        self.checkout.say(err.message(i18n.language()), error=True)
        self.services.dialogs.error(self.window, err)


__all__ = ["CounterController", "DiscountDialog", "ScanBridge"]
