"""Back office: 双机热备 / Standby — both servers at a glance, and the guided failover.

The dashboard asks ``GET /replication/status`` of every server this counter knows (the one
in use describes its peer too) and shows for each its role, epoch, replication threads, lag
(seconds and transactions), semi-sync and its fall-backs, the last sale it has, free disk and
the newest verified backup; a red banner while the primary sells alone. It refreshes every
5 s while it is visible. Owner and manager see it; only the owner has the failover button.

:class:`FailoverDialog` is the three-step failover of ``client/failover.py`` (which decides
everything; this module only shows it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from common import tlspin
from common.errors import ApiError
from common.schemas.base import Role
from common.schemas.replication import PairingCodeOut, PromoteOut, ServerFacts
from common.schemas.staff import StaffOut

from .. import i18n
from ..api import ROLE_PRIMARY, ROLE_STALE, ROLE_STANDBY, display_server
from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal
from ..widgets.context import Services
from ..widgets.dialogs import error_text
from . import failover

RED = "#b00020"
GREEN = "#1b5e20"
BANNER_STYLE = (f"QLabel {{ background-color: {RED}; color: white; font-weight: bold; "
                "font-size: 15px; padding: 8px 12px; border-radius: 4px; }")

ROWS = ("reach", "role", "epoch", "state", "threads", "lag", "semi_sync", "last_sale", "disk",
        "backup", "error", "fingerprint")





def short_time(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """'14:03' today, '12-01 14:03' another day (the shop's local time)."""
    if value is None:
        return tr("standby.none_value")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone()
    today = (now or dt.datetime.now(dt.UTC)).astimezone().date()
    return local.strftime("%H:%M" if local.date() == today else "%m-%d %H:%M")


def long_time(value: dt.datetime | None) -> str:
    if value is None:
        return tr("standby.none_value")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def role_text(role: str | None) -> str:
    key = role if role in (ROLE_PRIMARY, ROLE_STANDBY, ROLE_STALE) else "unknown"
    return tr(f"standby.role.{key}")


def fact_rows(f: ServerFacts, not_reached: str | None) -> dict[str, tuple[str, bool]]:
    """Row name → (text, is a problem) for one server."""
    none = tr("standby.none_value")
    rep = f.replication
    rows: dict[str, tuple[str, bool]] = {}
    if not_reached is not None and f.role is not None:
        rows["reach"] = (tr("standby.reach.via", why=not_reached), True)
    elif f.reachable and not_reached is None:
        rows["reach"] = (tr("standby.reach.ok"), False)
    else:
        rows["reach"] = (tr("standby.reach.no", why=f.error or not_reached or none), True)
    rows["role"] = (role_text(f.role) if f.role else none, f.role == ROLE_STALE)
    rows["epoch"] = (str(f.epoch) if f.epoch is not None else none, False)
    if rep is not None:
        key = f"standby.state.{rep.state}"
        state = tr(key) if key in i18n.STRINGS else rep.state
        rows["state"] = (state, rep.state in ("stopped", "error", "alone"))
    else:
        rows["state"] = (none, False)
    if f.io_thread or f.sql_thread:
        rows["threads"] = (tr("standby.threads", io=f.io_thread or none,
                              sql=f.sql_thread or none),
                           f.io_thread not in (None, "Yes") or f.sql_thread not in (None, "Yes"))
    else:
        rows["threads"] = (none, False)
    if rep is not None and (rep.lag_seconds is not None or rep.lag_transactions is not None):
        secs = f"{rep.lag_seconds:.0f}" if rep.lag_seconds is not None else none
        if rep.lag_transactions is not None:
            rows["lag"] = (tr("standby.lag", seconds=secs, n=rep.lag_transactions),
                           (rep.lag_seconds or 0) > failover.LAG_WARN_SECONDS
                           or rep.lag_transactions > 0)
        else:
            rows["lag"] = (tr("standby.lag.seconds", seconds=secs),
                           (rep.lag_seconds or 0) > failover.LAG_WARN_SECONDS)
    else:
        rows["lag"] = (none, False)
    if rep is not None:
        if rep.semi_sync == failover.FALLEN_BACK:
            rows["semi_sync"] = (tr("standby.semi.fallen_back",
                                    since=short_time(rep.semi_sync_since)), True)
        elif rep.semi_sync == "on":
            rows["semi_sync"] = (tr("standby.semi.on"), False)
        else:
            rows["semi_sync"] = (tr("standby.semi.off"), False)
    else:
        rows["semi_sync"] = (none, False)
    rows["last_sale"] = ((tr("standby.sale", number=f.last_sale.number,
                             at=long_time(f.last_sale.at)) if f.last_sale
                          else tr("standby.sale.none")), False)
    rows["disk"] = ((tr("standby.gb", n=f"{f.disk_free_bytes / 1024 ** 3:.1f}")
                     if f.disk_free_bytes is not None else none),
                    f.disk_free_bytes is not None
                    and f.disk_free_bytes < failover.DISK_WARN_BYTES)
    rows["backup"] = (long_time(f.newest_verified_backup_at), False)
    rows["error"] = (f.last_error or none, bool(f.last_error))
    # as a counter's setup shows it: what the cashier compares
    rows["fingerprint"] = (tlspin.fingerprint_lines(f.tls_fingerprint) if f.tls_fingerprint
                           else none, False)
    return rows


class ServerCard(QtWidgets.QGroupBox):
    """One server's facts as a form."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serverCard")
        form = QtWidgets.QFormLayout(self)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.values: dict[str, QtWidgets.QLabel] = {}
        for name in ROWS:
            value = QtWidgets.QLabel()
            value.setObjectName(f"fact_{name}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if name == "fingerprint":  # fixed width, as large as the other rows
                fixed = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
                fixed.setPointSizeF(value.font().pointSizeF())
                value.setFont(fixed)
            form.addRow(tr(f"standby.row.{name}"), value)
            self.values[name] = value
        self.facts: ServerFacts | None = None

    def show_facts(self, f: ServerFacts, in_use: bool, not_reached: str | None) -> None:
        self.facts = f
        server = display_server(f.address or "") or tr("standby.none_value")
        title = tr("standby.card.title", role=role_text(f.role), server=server)
        if in_use:
            title += tr("standby.card.in_use")
        self.setTitle(title)
        for name, (text, bad) in fact_rows(f, not_reached).items():
            label = self.values[name]
            label.setText(text)
            label.setStyleSheet(f"color: {RED}; font-weight: bold;" if bad else "")

    def text(self) -> str:
        """Everything the card shows (tests)."""
        return "\n".join([self.title(), *(v.text() for v in self.values.values())])


class StandbyScreen(QtWidgets.QWidget):
    """See module doc.

    Signals:
        loaded(object): the :class:`~client.failover.PairView` shown.
        failover_opened(object): the :class:`FailoverDialog` opened.
    """

    loaded = Signal(object)
    failover_opened = Signal(object)

    REFRESH_MS = 5000

    def __init__(self, services: Services, me: StaffOut,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("standbyScreen")
        self.services = services
        self.me = me
        self.view: failover.PairView | None = None
        #: the last sale number this counter knows (set by the main window)
        self.last_sale: Callable[[], str | None] = lambda: None
        self.dialog: FailoverDialog | None = None
        self._loading = False

        self.banner = QtWidgets.QLabel()
        self.banner.setObjectName("standbyBanner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.warnings = QtWidgets.QLabel()
        self.warnings.setObjectName("standbyWarnings")
        self.warnings.setStyleSheet(f"color: {RED};")
        self.warnings.setWordWrap(True)
        self.warnings.setVisible(False)

        self.cards_box = QtWidgets.QHBoxLayout()
        self.cards: list[ServerCard] = []
        self.history = QtWidgets.QLabel()
        self.history.setObjectName("semiSyncHistory")
        self.history.setWordWrap(True)
        self.history.setStyleSheet("color: #555;")

        self.refresh_button = QtWidgets.QPushButton(tr("standby.refresh"))
        self.refresh_button.setObjectName("refreshStandby")
        self.refresh_button.clicked.connect(lambda: self.start(reload=True))
        self.updated = QtWidgets.QLabel()
        self.updated.setObjectName("standbyUpdated")
        self.updated.setStyleSheet("color: #555;")
        self.failover_button = QtWidgets.QPushButton(tr("standby.failover"))
        self.failover_button.setObjectName("failoverButton")
        self.failover_button.setStyleSheet(f"QPushButton:enabled {{ color: {RED}; "
                                           "font-weight: bold; }")
        self.failover_button.clicked.connect(self.open_failover)
        self.failover_button.setVisible(me.role == Role.OWNER)
        self.failover_button.setEnabled(False)
        self.pairing_button = QtWidgets.QPushButton(tr("standby.pairing_code"))
        self.pairing_button.setObjectName("pairingCodeButton")
        self.pairing_button.setToolTip(tr("standby.pairing_code.tip"))
        self.pairing_button.clicked.connect(self.make_pairing_code)
        self.pairing_button.setVisible(me.role == Role.OWNER)
        tools = QtWidgets.QHBoxLayout()
        tools.addWidget(self.refresh_button)
        tools.addWidget(self.updated)
        tools.addStretch(1)
        tools.addWidget(self.pairing_button)
        tools.addWidget(self.failover_button)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.banner)
        layout.addWidget(self.warnings)
        layout.addLayout(self.cards_box)
        layout.addWidget(self.history)
        layout.addStretch(1)

        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(self.REFRESH_MS)
        self.timer.timeout.connect(lambda: self.start(reload=True))

    # -- life cycle: refresh while visible ---------------------------------------------------
    def showEvent(self, event: QtGui.QShowEvent | None) -> None:
        super().showEvent(event)
        self.timer.start()

    def hideEvent(self, event: QtGui.QHideEvent | None) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def start(self, reload: bool = False) -> None:
        if self._loading or (self.view is not None and not reload):
            return
        self._loading = True
        if self.view is None:
            self.updated.setText(tr("standby.loading"))
        api = self.services.api
        servers = list(api.servers)
        self.services.runner.op(
            lambda: failover.load_pair(lambda a: api.replication_status(server=a, quick=True),
                                      servers),
            self._show, self._failed, owner=self)

    def _failed(self, err: ApiError) -> None:
        self._loading = False
        self.updated.setText(error_text(err))

    # -- pairing a standby -----------------------------------------------------------------
    def make_pairing_code(self) -> None:
        """A one-time code for ``standby init --pairing-code`` on the spare machine."""
        api = self.services.api
        self.pairing_button.setEnabled(False)
        self.services.runner.op(api.pairing_code, self._show_pairing_code,
                                self._pairing_failed, owner=self)

    def _show_pairing_code(self, out: PairingCodeOut) -> None:
        self.pairing_button.setEnabled(True)
        self.last_pairing_text = tr("standby.pairing_code.show", code=out.code,
                                    until=long_time(out.expires_at),
                                    primary=display_server(self.services.api.active_server
                                                           or ""))
        self.services.dialogs.info(self, self.last_pairing_text)

    def _pairing_failed(self, err: ApiError) -> None:
        self.pairing_button.setEnabled(True)
        self.services.dialogs.error(self, err)

    # -- showing ---------------------------------------------------------------------------
    def _show(self, view: failover.PairView) -> None:
        self._loading = False
        self.view = view
        since = view.fallen_back_since
        self.banner.setVisible(since is not None)
        if since is not None:
            self.banner.setText(tr("standby.banner.fallen_back", since=short_time(since)))
            self.banner.setToolTip(tr("standby.banner.fallen_back.tip"))
        warnings = list(view.warnings)
        if since is not None:  # the server's own words for what the banner says: once only
            head = re.split("[：:]", self.banner.text(), maxsplit=1)[0]
            warnings = [w for w in warnings if not w.startswith(head)]
        if len(view.servers) < 2:
            warnings.append(tr("standby.none"))
        self.warnings.setText("\n".join(warnings))
        self.warnings.setVisible(bool(warnings))
        while len(self.cards) < len(view.servers):
            card = ServerCard(self)
            self.cards.append(card)
            self.cards_box.addWidget(card, 1)
        while len(self.cards) > len(view.servers):
            card = self.cards.pop()
            self.cards_box.removeWidget(card)
            card.deleteLater()
        in_use = self.services.api.active_server
        for card, facts in zip(self.cards, view.servers, strict=True):
            card.show_facts(facts, facts.address == in_use,
                            view.not_reached.get(facts.address or ""))
        items = []
        for f in view.servers:
            for c in f.semi_sync_fallbacks[-6:]:
                key = f"standby.semi.item.{c.state}"
                items.append(tr(key, at=long_time(c.at)) if key in i18n.STRINGS
                             else f"{long_time(c.at)} {c.state}")
        self.history.setText(tr("standby.semi.history", items="；".join(items)) if items else "")
        self.history.setVisible(bool(items))
        target = view.failover_target()
        self.failover_button.setEnabled(target is not None)
        self.failover_button.setToolTip("" if target else tr("standby.failover.no_standby"))
        self.updated.setText(tr("standby.updated",
                                time=dt.datetime.now().strftime("%H:%M:%S")))
        self.loaded.emit(view)

    # -- failover --------------------------------------------------------------------------
    def open_failover(self) -> FailoverDialog | None:
        if self.me.role != Role.OWNER:
            self.services.dialogs.info(self, tr("standby.failover.owner_only"))
            return None
        view = self.view
        target = view.failover_target() if view is not None else None
        if view is None or target is None:
            self.services.dialogs.info(self, tr("standby.failover.no_standby"))
            return None
        dlg = FailoverDialog(self.services, target, view.primary_address(),
                             self.last_sale(), self.me.username, parent=self)
        dlg.promoted.connect(lambda _out: self.start(reload=True))
        dlg.setModal(True)
        self.dialog = dlg
        dlg.show()
        dlg.run_checks()
        self.failover_opened.emit(dlg)
        return dlg


class FailoverDialog(QtWidgets.QDialog):
    """The three steps: checks → password and confirmation → result.

    Signals:
        checked(object): step 1's :class:`~client.failover.CheckRound` (or an ApiError).
        promoted(object): the :class:`PromoteOut` of a promotion.
        refused(object): the ApiError of a refused promotion.
    """

    checked = Signal(object)
    promoted = Signal(object)
    refused = Signal(object)

    PAGE_CHECK, PAGE_CONFIRM, PAGE_RESULT = range(3)

    def __init__(self, services: Services, standby: str, primary: str | None,
                 counter_last_sale: str | None, username: str,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("failoverDialog")
        self.setWindowTitle(tr("failover.title"))
        self.services = services
        self.standby = standby
        self.primary = primary
        self.counter_last_sale = counter_last_sale
        self.username = username
        self.round: failover.CheckRound | None = None
        self.result_out: PromoteOut | None = None
        self.busy = False

        self.step_label = QtWidgets.QLabel()
        self.step_label.setObjectName("failoverStep")
        self.step_label.setStyleSheet("font-weight: bold; font-size: 15px;")
        self.pages = QtWidgets.QStackedWidget()

        # -- page 1: checks
        p1 = QtWidgets.QWidget()
        l1 = QtWidgets.QVBoxLayout(p1)
        intro = QtWidgets.QLabel(tr(
            "failover.intro", standby=display_server(standby),
            primary=display_server(primary) if primary else tr("standby.none_value")))
        intro.setWordWrap(True)
        self.checks_box = QtWidgets.QVBoxLayout()
        self.check_labels: list[QtWidgets.QLabel] = []
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("failoverSummary")
        self.summary.setWordWrap(True)
        self.verdict = QtWidgets.QLabel()
        self.verdict.setObjectName("failoverVerdict")
        self.verdict.setWordWrap(True)
        l1.addWidget(intro)
        l1.addLayout(self.checks_box)
        l1.addWidget(self.summary)
        l1.addWidget(self.verdict)
        l1.addStretch(1)

        # -- page 2: the owner's password and confirmation
        p2 = QtWidgets.QWidget()
        l2 = QtWidgets.QVBoxLayout(p2)
        form = QtWidgets.QFormLayout()
        self.username_label = QtWidgets.QLabel(username)
        self.username_label.setObjectName("failoverUsername")
        self.password = QtWidgets.QLineEdit()
        self.password.setObjectName("failoverPassword")
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        form.addRow(tr("failover.username"), self.username_label)
        form.addRow(tr("failover.password"), self.password)
        self.confirm_off = QtWidgets.QCheckBox(tr("failover.confirm_off"))
        self.confirm_off.setObjectName("confirmPrimaryOff")
        self.override_note = QtWidgets.QLabel(tr("failover.override_needed"))
        self.override_note.setWordWrap(True)
        self.override_note.setStyleSheet(f"color: {RED};")
        self.override = QtWidgets.QCheckBox(tr("failover.override"))
        self.override.setObjectName("overridePrimaryReachable")
        note = QtWidgets.QLabel(tr("failover.confirm_note"))
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        l2.addLayout(form)
        l2.addWidget(self.confirm_off)
        l2.addWidget(self.override_note)
        l2.addWidget(self.override)
        l2.addWidget(note)
        l2.addStretch(1)

        # -- page 3: the result
        p3 = QtWidgets.QWidget()
        l3 = QtWidgets.QVBoxLayout(p3)
        self.result_title = QtWidgets.QLabel()
        self.result_title.setObjectName("failoverResultTitle")
        self.result_title.setStyleSheet("font-weight: bold; font-size: 18px;")
        self.result_text = QtWidgets.QLabel()
        self.result_text.setObjectName("failoverResult")
        self.result_text.setWordWrap(True)
        self.result_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        l3.addWidget(self.result_title)
        l3.addWidget(self.result_text)
        l3.addStretch(1)

        for p in (p1, p2, p3):
            self.pages.addWidget(p)

        # -- buttons (shown per page)
        self.back_button = QtWidgets.QPushButton(tr("failover.back"))
        self.back_button.setObjectName("failoverBack")
        self.recheck_button = QtWidgets.QPushButton(tr("failover.recheck"))
        self.recheck_button.setObjectName("failoverRecheck")
        self.next_button = QtWidgets.QPushButton(tr("failover.next"))
        self.next_button.setObjectName("failoverNext")
        self.go_button = QtWidgets.QPushButton(tr("failover.go"))
        self.go_button.setObjectName("failoverGo")
        self.go_button.setStyleSheet(f"QPushButton:enabled {{ color: {RED}; font-weight: bold; }}")
        self.close_button = QtWidgets.QPushButton(tr("common.close"))
        self.close_button.setObjectName("failoverClose")
        self.back_button.clicked.connect(self._back)
        self.recheck_button.clicked.connect(self.run_checks)
        self.next_button.clicked.connect(self._to_confirm)
        self.go_button.clicked.connect(self.promote)
        self.close_button.clicked.connect(self._close)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.recheck_button)
        buttons.addStretch(1)
        for b in (self.next_button, self.go_button, self.close_button):
            buttons.addWidget(b)
        for b in (self.next_button, self.go_button):
            b.setAutoDefault(False)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.step_label)
        layout.addWidget(self.pages, 1)
        layout.addLayout(buttons)

        self.password.textChanged.connect(self._update)
        self.confirm_off.toggled.connect(self._update)
        self.override.toggled.connect(self._update)
        self.resize(640, 460)
        self._page(self.PAGE_CHECK)

    # -- pages -----------------------------------------------------------------------------
    def _page(self, n: int) -> None:
        self.pages.setCurrentIndex(n)
        name = ("check", "confirm", "result")[n]
        self.step_label.setText(tr("failover.step", n=n + 1, name=tr(f"failover.step.{name}")))
        self._update()

    def _update(self, *_: object) -> None:
        n = self.pages.currentIndex()
        check = self.round.result if self.round else None
        self.back_button.setVisible(n == self.PAGE_CONFIRM or (
            n == self.PAGE_RESULT and self.result_out is None))
        self.recheck_button.setVisible(n == self.PAGE_CHECK)
        self.recheck_button.setEnabled(not self.busy)
        self.next_button.setVisible(n == self.PAGE_CHECK)
        self.next_button.setEnabled(not self.busy and check is not None
                                    and failover.may_continue(check))
        offered = check is not None and not check.ok and failover.override_offered(check.checks)
        self.override.setVisible(offered)
        self.override_note.setVisible(offered)
        self.go_button.setVisible(n == self.PAGE_CONFIRM)
        self.go_button.setEnabled(not self.busy and failover.can_submit(
            check, self.password.text(), self.confirm_off.isChecked(),
            self.override.isChecked()))
        self.back_button.setText(tr("failover.back_to_checks") if n == self.PAGE_RESULT
                                 else tr("failover.back"))
        self.close_button.setText(tr("common.close") if n == self.PAGE_RESULT
                                  else tr("common.cancel"))
        self.close_button.setEnabled(not self.busy)

    def _back(self) -> None:
        if self.pages.currentIndex() == self.PAGE_RESULT:
            self._page(self.PAGE_CHECK)
            self.run_checks()
        else:
            self._page(self.PAGE_CHECK)

    def _to_confirm(self) -> None:
        self._page(self.PAGE_CONFIRM)
        self.password.setFocus()

    def _close(self) -> None:
        if self.result_out is not None:
            self.accept()
        else:
            self.reject()

    def check_texts(self) -> list[str]:
        return [lb.text() for lb in self.check_labels]

    # -- step 1 ----------------------------------------------------------------------------
    def run_checks(self) -> None:
        self.busy = True
        self.verdict.setStyleSheet("")
        self.verdict.setText(tr("failover.checking"))
        self._update()
        api, standby, primary, last = (self.services.api, self.standby, self.primary,
                                       self.counter_last_sale)
        self.services.runner.op(lambda: failover.run_checks(api, standby, primary, last),
                                self._checked, self._check_failed, owner=self)

    def _set_checks(self, checks: list) -> None:
        for lb in self.check_labels:
            self.checks_box.removeWidget(lb)
            lb.deleteLater()
        self.check_labels = []
        for line in failover.check_lines(checks):
            lb = QtWidgets.QLabel(line.text)
            lb.setObjectName("failoverCheck")
            lb.setWordWrap(True)
            lb.setStyleSheet(f"color: {GREEN if line.ok else RED};"
                             + ("" if line.ok else " font-weight: bold;"))
            self.checks_box.addWidget(lb)
            self.check_labels.append(lb)

    def _checked(self, round_: failover.CheckRound) -> None:
        self.busy = False
        self.round = round_
        res = round_.result
        self._set_checks(res.checks)
        mine = round_.request.counter_last_sale
        if mine is None:
            counter = tr("failover.summary.counter_none")
        elif mine in res.summary:
            counter = ""  # the standby's summary names it already
        else:
            counter = tr("failover.summary.counter", number=mine)
        self.summary.setText("\n".join(t for t in (res.summary, counter) if t))
        if res.ok:
            self.verdict.setStyleSheet(f"color: {GREEN}; font-weight: bold;")
            self.verdict.setText(tr("failover.ok_to_go"))
        elif failover.override_offered(res.checks):
            self.verdict.setStyleSheet(f"color: {RED};")
            self.verdict.setText(tr("failover.override_needed"))
        else:
            self.verdict.setStyleSheet(f"color: {RED}; font-weight: bold;")
            self.verdict.setText(tr("failover.blocked"))
        self._update()
        self.checked.emit(round_)

    def _check_failed(self, err: ApiError) -> None:
        self.busy = False
        self.round = None
        self._set_checks([])
        self.summary.setText("")
        self.verdict.setStyleSheet(f"color: {RED}; font-weight: bold;")
        self.verdict.setText(error_text(err))
        self._update()
        self.checked.emit(err)

    # -- steps 2 and 3 ---------------------------------------------------------------------
    def promote(self) -> None:
        r = self.round
        if r is None or not failover.can_submit(r.result, self.password.text(),
                                                self.confirm_off.isChecked(),
                                                self.override.isChecked()):
            return
        self.busy = True
        self._page(self.PAGE_RESULT)
        self.result_title.setText(tr("failover.promoting"))
        self.result_title.setStyleSheet("font-weight: bold; font-size: 18px;")
        self.result_text.setText("")
        api, standby = self.services.api, self.standby
        username, password = self.username, self.password.text()
        confirm = self.confirm_off.isChecked()
        override = (not r.result.ok and failover.override_offered(r.result.checks)
                    and self.override.isChecked())
        self.services.runner.op(
            lambda: failover.run_promote(api, standby, r, username, password, confirm,
                                         override),
            self._promoted, self._refused, owner=self)

    def _promoted(self, out: PromoteOut) -> None:
        self.busy = False
        self.result_out = out
        self.password.clear()
        self.result_title.setText(tr("failover.done"))
        self.result_title.setStyleSheet(f"color: {GREEN}; font-weight: bold; font-size: 18px;")
        lines = [tr("failover.done.epoch", server=display_server(self.standby), epoch=out.epoch,
                    seconds=f"{out.seconds:.0f}"),
                 tr("failover.done.backup", job=out.backup_job_id) if out.backup_job_id
                 else tr("failover.done.no_backup"),
                 tr("failover.done.counter")]
        self.result_text.setText("\n\n".join(lines))
        self._update()
        self.promoted.emit(out)

    def _refused(self, err: ApiError) -> None:
        self.busy = False
        self.password.clear()
        self.result_title.setText(tr("failover.refused"))
        self.result_title.setStyleSheet(f"color: {RED}; font-weight: bold; font-size: 18px;")
        bad = failover.failed_checks(failover.refused_checks(err))
        if bad:  # the checks that refused, one a line (the message repeats them in one)
            lines = [tr("failover.refused.checks"),
                     *(line.text for line in failover.check_lines(bad))]
        else:
            lines = [error_text(err)]
        self.result_text.setText("\n".join(lines))
        self._update()
        self.refused.emit(err)
