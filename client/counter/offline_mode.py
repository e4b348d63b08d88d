"""The counter when no server answers (issue 15, DESIGN §4 "Counters offline").

:class:`OfflineMode` decides whether this counter sells online or offline and owns what offline
selling needs:

* **online / offline.** The server watch's probe (every few seconds, short time-outs) tells
  :meth:`OfflineMode.observe` whether a *writable* server answers (a primary of the newest
  epoch, :func:`client.api.pick_writer`); any request that got no HTTP answer at all
  (:meth:`network_failed`, status 0) turns offline at once. ``changed(bool)`` tells the window,
  which shows the banner.
* **the local catalogue** (:class:`client.offline.catalogue.LocalCatalogue`): refreshed at
  login and every ``REFRESH_MS`` with what changed since its version, off the GUI thread (a
  connection of its own there); scans are resolved in it (:meth:`lookup`) — no server round
  trip per scan.
* **the journal** (:class:`client.offline.journal.Journal`): an offline sale is committed
  there (:meth:`record_sale`) before its receipt prints; ``pending_changed(int)`` carries the
  number waiting. A damaged journal is never replaced: the counter then refuses offline
  sales and says how to recover (``journal_error``).
* **replay** (:func:`client.offline.replay.replay`): when a writable server answers again,
  and every ``REPLAY_MS`` while any wait, in the background, one at a time (the journal's
  file lock keeps a second process out).

The pieces without Qt (what may be paid offline, the local ``SaleOut`` a receipt prints) are
plain functions at the top of this module.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from common import timezones
from common.errors import ApiError
from common.pricing import Quote
from common.schemas.catalog import ProductOut
from common.schemas.sales import (
    PAYMENT_LABELS_ZH,
    MemberAfterOut,
    PaymentOut,
    SaleIn,
    SaleLineOut,
    SaleOut,
)

from ..api import CODE_CERT_CHANGED, NETWORK_STATUS, FollowResult, pick_writer
from ..i18n import tr
from ..offline.catalogue import LocalCatalogue
from ..offline.journal import OFFLINE_METHODS, Journal, JournalDamaged, JournalEntry
from ..offline.member_ref import receipt_member_text
from ..offline.replay import ReplayResult, replay
from ..qt import QtCore, Signal
from ..tasks import TaskRunner
from ..widgets.context import Services, SessionInfo
from .cart import Cart
from .product_search import Lookup
from .receipts import OFFLINE_STATUS

log = logging.getLogger(__name__)

#: refusal reason (string key) of each method that needs the server
REFUSED_METHODS = {"stored_value": "offline.refused.stored_value",
                   "points": "offline.refused.points"}
SEARCH_LIMIT = 30


def offline_refusal(cart: Cart, payments: Sequence[Mapping[str, Any]] = ()) -> str | None:
    """Why this cart / these payments cannot be sold offline (a string key), else None."""
    for p in payments:
        key = REFUSED_METHODS.get(str(p.get("method")))
        if key is not None:
            return key
    if cart.coupon is not None:
        return "offline.refused.coupon"
    if any(ln.count_card_id for ln in cart.lines):
        return "offline.refused.count_card"
    if any(ln.activity_id for ln in cart.lines):
        return "offline.refused.activity"
    return None


def strip_for_offline(cart: Cart) -> list[str]:
    """Take off what an offline sale cannot use (coupon, count cards, a manager's approval);
    returns the refusal keys of what was taken off (the cashier is told)."""
    said: list[str] = []
    if cart.coupon is not None:
        cart.set_coupon(None)
        said.append("offline.refused.coupon")
    for row, ln in enumerate(cart.lines):
        if ln.count_card_id:
            cart.set_count_card(row, None, "")
            if "offline.refused.count_card" not in said:
                said.append("offline.refused.count_card")
    cart.approval_token = None
    return said


def local_sale(*, sale_id: str, number: str, recorded_at: dt.datetime, cart: Cart,
               quote: Quote, payments: Sequence[Mapping[str, Any]], change: int,
               session: SessionInfo, zone: str = "", member_ref: str | None = None,
               member_name: str = "") -> SaleOut:
    """The ``SaleOut`` of a journaled sale as this counter priced it: what its receipt
    prints (``status`` :data:`OFFLINE_STATUS`, the local number; a member typed offline
    (``member_ref``) as a masked phone or the card number, id 0)."""
    names = {ln.line_id: ln.name for ln in cart.lines}
    lines = [SaleLineOut(id=i + 1, line_id=q.line_id, product_id=q.product_id,
                         name=names.get(q.line_id, ""), kind=q.kind, qty=q.qty,
                         unit_price=q.unit_price, list_amount=q.list_amount,
                         member_discount=q.member_discount, manual_discount=q.manual_discount,
                         count_card_discount=q.count_card_discount,
                         coupon_discount=q.coupon_discount, order_discount=q.order_discount,
                         rounding_discount=q.rounding_discount, amount=q.amount,
                         price_source=q.price_source, promotion_discount=q.promotion_discount,
                         promotion_id=q.promotion_id, promotion_name=q.promotion_name)
             for i, q in enumerate(quote.lines)]
    pays = [PaymentOut(method=str(p["method"]),
                       label=PAYMENT_LABELS_ZH.get(str(p["method"]), str(p["method"])),
                       amount=int(p["amount"]), tendered=p.get("tendered"),
                       change=change if p["method"] == "cash" else 0,
                       reference=p.get("reference"))
            for p in payments]
    m = cart.member_info
    member = MemberAfterOut(id=m.id, name=m.name, phone=m.phone,
                            level_name=m.level_name) if m is not None else None
    if member is None and member_ref:
        member = MemberAfterOut(id=0, name=receipt_member_text(member_ref, member_name))
    try:
        tz = timezones.zone(zone)
    except ValueError:
        tz = timezones.zone("")
    paid = sum(p.amount for p in pays)
    return SaleOut(id=uuid.UUID(sale_id), number=number, status=OFFLINE_STATUS,
                   counter=session.counter, cashier=session.staff.username,
                   cashier_name=session.staff.display_name, created_at=recorded_at,
                   business_date=recorded_at.astimezone(tz).date(), lines=lines,
                   list_total=quote.list_total, discount_total=quote.list_total - quote.total,
                   total=quote.total, paid_total=paid, change=change, payments=pays,
                   member=member)


def is_offline_sale(sale: SaleOut) -> bool:
    return sale.status == OFFLINE_STATUS


class OfflineMode(QtCore.QObject):
    """See module doc. One per main window (a logged-in staff member at this counter).

    Signals:
        changed(bool): offline now (True) or online again (False).
        pending_changed(int): offline sales waiting to go up (after a record or a replay).
        refused_changed(int): journaled sales the server refused (kept, for the manager).
        replayed(object): a :class:`~client.offline.replay.ReplayResult`.
        catalogue_updated(int): the local catalogue's new version.
    """

    changed = Signal(bool)
    pending_changed = Signal(int)
    refused_changed = Signal(int)
    replayed = Signal(object)
    catalogue_updated = Signal(int)

    REFRESH_MS = 60_000
    REPLAY_MS = 5_000

    def __init__(self, services: Services, session: SessionInfo, data_dir: Path | None,
                 parent: QtCore.QObject | None = None, *, refresh_ms: int | None = None,
                 replay_ms: int | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.session = session
        self.data_dir = data_dir
        self.active = False  # offline now
        self.certificate_refused = False  # ... because the server's certificate changed
        self.pending = 0
        self.refused = 0
        self.catalogue: LocalCatalogue | None = None
        self.journal: Journal | None = None
        self.journal_error: str | None = None
        self.catalogue_error: str | None = None
        self._replaying = False
        self._refreshing = False
        self.runner = TaskRunner(parent=self)  # replay and refresh never flicker "busy"
        self.refresh_timer = QtCore.QTimer(self)
        self.refresh_timer.setInterval(refresh_ms or self.REFRESH_MS)
        self.refresh_timer.timeout.connect(self.refresh_catalogue)
        self.replay_timer = QtCore.QTimer(self)
        self.replay_timer.setInterval(replay_ms or self.REPLAY_MS)
        self.replay_timer.timeout.connect(self.replay_now)

    # --- paths and opening ----------------------------------------------------------------
    @property
    def catalogue_path(self) -> Path | None:
        return self.data_dir / "catalogue.sqlite3" if self.data_dir else None

    @property
    def journal_path(self) -> Path | None:
        return self.data_dir / "journal.sqlite3" if self.data_dir else None

    def start(self) -> None:
        """At login: open the journal and the catalogue, refresh it, send what the last run
        left waiting (at once, not at the first timer tick), start the timers."""
        if self.data_dir is None:
            self.journal_error = tr("offline.no_journal_configured")
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.journal = Journal(self.journal_path)
        except JournalDamaged as e:
            self.journal_error = str(e)
            log.error("offline journal damaged: %s", e)
        try:
            self.catalogue = LocalCatalogue(self.catalogue_path)
        except Exception as e:  # a broken cache is only a cache: the server still answers
            self.catalogue_error = str(e)
            log.error("local catalogue unusable: %s", e)
        self._count()
        self.refresh_catalogue()
        self.replay_now()  # sales left waiting by the last run (a crash, a power cut) go now
        self.refresh_timer.start()
        self.replay_timer.start()

    def stop(self) -> None:
        self.refresh_timer.stop()
        self.replay_timer.stop()

    # --- online / offline -----------------------------------------------------------------
    def observe(self, res: FollowResult) -> None:
        """The server watch's probe: is there a writable server?"""
        writable = pick_writer(res.views, res.epoch, res.active, res.cluster) is not None
        if not writable:
            self.certificate_refused = any(v.error == CODE_CERT_CHANGED for v in res.views)
        self.set_offline(not writable)

    def network_failed(self, err: ApiError) -> None:
        """A request got no answer at all: offline now (the next probe may say otherwise).
        A server whose certificate is not the pinned one counts as none (nothing is sent to
        it), and the banner says so: a manager must look, the network may be fine."""
        if err.status == NETWORK_STATUS:
            if not self.active:
                self.certificate_refused = err.code == CODE_CERT_CHANGED
            self.set_offline(True)

    @property
    def banner_text(self) -> str:
        return tr("offline.banner_certificate" if self.certificate_refused else "offline.banner")

    def set_offline(self, offline: bool) -> None:
        if offline == self.active:
            return
        self.active = offline
        log.warning("counter %s", "offline: no writable server" if offline else "back online")
        self.changed.emit(offline)
        if not offline:
            self.replay_now()
            self.refresh_catalogue()

    @property
    def can_journal(self) -> bool:
        return self.journal is not None

    # --- the local catalogue --------------------------------------------------------------
    def lookup(self, code: str) -> Lookup | None:
        """A scan or search in the local catalogue: an exact barcode / SKU first, else the
        name / pinyin search; None when the catalogue is not there (or knows nothing)."""
        cat = self.catalogue
        if cat is None:
            return None
        try:
            hit = cat.by_code(code)
            if hit is not None:
                return Lookup(code, [hit], exact=True)
            found: list[ProductOut] = list(cat.search(code, limit=SEARCH_LIMIT))
        except Exception as e:  # never lose the scan to a cache problem: the server is asked
            log.error("local catalogue lookup failed: %s", e)
            return None
        return Lookup(code, found, has_more=len(found) >= SEARCH_LIMIT) if found else None

    def refresh_catalogue(self) -> None:
        """What changed since the local version, off the GUI thread (its own connection)."""
        path = self.catalogue_path
        if path is None or self.catalogue is None or self.active or self._refreshing:
            return
        self._refreshing = True
        api, since = self.services.api, self.catalogue.version

        def run() -> int:
            cat = LocalCatalogue(path)
            try:
                cat.apply(api.catalog_snapshot(since=since or None))
                return cat.version
            finally:
                _close(cat)

        self.runner.op(run, lambda v: self._refreshed(v, since), self._refresh_failed,
                       owner=self)

    def _refreshed(self, version: int, since: int) -> None:
        self._refreshing = False
        if version != since:  # nothing changed: the cart is not repriced for nothing
            self.catalogue_updated.emit(version)

    def _refresh_failed(self, err: ApiError) -> None:
        self._refreshing = False
        log.warning("catalogue refresh failed: %s", err.code)
        self.network_failed(err)

    # --- the journal ----------------------------------------------------------------------
    def record_sale(self, body: Mapping[str, Any], cart: Cart, quote: Quote, change: int,
                    zone: str = "", member_ref: str | None = None,
                    member_name: str = "") -> SaleOut:
        """Commit an offline sale to the journal (durable before this returns) and give the
        ``SaleOut`` its receipt prints (``member_ref``: a member typed offline by card
        number or phone, resolved by the server at replay). Raises :class:`ApiError`
        ``offline_unavailable`` when there is no usable journal."""
        journal = self.journal
        if journal is None:
            raise ApiError("offline_unavailable", status=NETWORK_STATUS,
                           message=tr("offline.no_journal",
                                      reason=self.journal_error or "?"))
        recorded_at = dt.datetime.now(dt.UTC)
        sale = SaleIn.model_validate(dict(body))
        payments = [p.model_dump(exclude_none=True) for p in sale.payments]
        entry = JournalEntry(sale=sale, counter=self.session.counter,
                             cashier=self.session.staff.username,
                             line_amounts=tuple(q.amount for q in quote.lines),
                             total=quote.total, recorded_at=recorded_at,
                             cashier_id=self.session.staff.id, member_ref=member_ref)
        number = journal.record(entry)
        self._count()
        return local_sale(sale_id=str(body["id"]), number=number, recorded_at=recorded_at,
                          cart=cart, quote=quote, payments=payments, change=change,
                          session=self.session, zone=zone, member_ref=member_ref,
                          member_name=member_name)

    def _count(self) -> None:
        if self.journal is None:
            return
        n = self.journal.pending_count()
        refused = self.journal.counts()["refused"]
        if n != self.pending:
            self.pending = n
        self.pending_changed.emit(n)
        if refused != self.refused:
            self.refused = refused
            self.refused_changed.emit(refused)

    def replay_now(self) -> None:
        """Send what waits (in order, each with its own key), in the background."""
        if self.journal is None or self.active or self._replaying or not self.pending:
            return
        self._replaying = True
        api = self.services.api

        journal = self.journal

        def run() -> ReplayResult:
            return replay(api, journal)  # the journal is thread-safe; replay locks the file

        self.runner.op(run, self._replayed, self._replay_failed, owner=self)

    def _replayed(self, res: ReplayResult) -> None:
        self._replaying = False
        self._count()
        if res.stopped is not None:
            self.network_failed(res.stopped)
        self.replayed.emit(res)

    def _replay_failed(self, err: ApiError) -> None:
        self._replaying = False
        log.warning("replay failed: %s", err.code)
        self._count()
        self.network_failed(err)


def _close(obj: Any) -> None:
    close = getattr(obj, "close", None)
    if close is not None:
        close()


__all__ = ["OFFLINE_METHODS", "OfflineMode", "is_offline_sale",
           "local_sale", "offline_refusal", "strip_for_offline"]
