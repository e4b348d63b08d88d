"""Server answers → printable documents (pure functions, no Qt, no I/O).

The receipt shows what the SERVER recorded (``SaleOut``: lines, payments, change, member
balances after the sale), never the client's own preview figures.
"""

from __future__ import annotations

import datetime as dt

from common import timezones
from common.schemas.members import MemberOut, StoredValueResultOut
from common.schemas.sales import PAYMENT_LABELS_ZH, SaleOut, ShiftReportOut
from common.schemas.shop import ShopSettingsOut

from ..devices.document import Document
from ..devices.receipt import (
    CountCardLeft,
    MethodTotal,
    Payment,
    ReceiptMember,
    ReceiptSale,
    RechargeSlip,
    SaleLine,
    ShiftReport,
    layout_recharge,
    layout_sale,
    layout_shift_report,
)


def local_time(t: dt.datetime, zone: str = "") -> dt.datetime:
    """A server time (UTC, aware or naive) as wall-clock time in ``zone``: the shop's time
    zone as the server publishes it (``ShopSettingsOut.timezone``); empty, or a zone this
    machine does not know, gives this machine's local time."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    try:
        tz = timezones.zone(zone)
    except ValueError:
        tz = timezones.zone("")
    return t.astimezone(tz).replace(tzinfo=None)


def receipt_sale(sale: SaleOut, shop: ShopSettingsOut, *, reprint: bool = False) -> ReceiptSale:
    # list unit price, then every discount (member, manual, coupon, count card …) under it
    lines = [SaleLine(name=ln.name + ("（次卡）" if ln.count_card_id else ""),
                      qty=ln.qty, unit_price_fen=ln.list_amount // ln.qty if ln.qty else 0,
                      amount_fen=ln.amount, discount_fen=ln.list_amount - ln.amount)
             for ln in sale.lines]
    payments = [Payment(method=p.label or PAYMENT_LABELS_ZH.get(p.method, p.method),
                        amount_fen=p.amount, tendered_fen=p.tendered,
                        change_fen=p.change if p.method == "cash" else None)
                for p in sale.payments]
    member = None
    if sale.member is not None:
        m = sale.member
        member = ReceiptMember(
            name=m.name, phone=m.phone or "", stored_value_fen=m.stored_value, points=m.points,
            count_cards=[CountCardLeft(str(c.get("name", "")), int(c.get("remaining_uses", 0)))
                         for c in m.count_cards])
    header = [*shop.receipt_header]
    return ReceiptSale(shop_name=shop.name, sale_no=sale.number,
                       time=local_time(sale.created_at, shop.timezone), counter=sale.counter,
                       cashier=sale.cashier_name or sale.cashier, lines=lines,
                       total_fen=sale.total, payments=payments, member=member,
                       header_lines=header, footer_lines=list(shop.receipt_footer),
                       reprint=reprint)


def sale_document(sale: SaleOut, shop: ShopSettingsOut, width: int, *,
                  reprint: bool = False) -> Document:
    """The customer receipt (the drawer is kicked separately, see DeviceService)."""
    return layout_sale(receipt_sale(sale, shop, reprint=reprint), width)


def shift_document(rep: ShiftReportOut, shop: ShopSettingsOut, width: int) -> Document:
    by_method = [MethodTotal(PAYMENT_LABELS_ZH.get(k, k), None, v)
                 for k, v in rep.by_method.items() if v]
    report = ShiftReport(
        shop_name=shop.name, counter=rep.counter, cashier=rep.cashier,
        opened_at=local_time(rep.opened_at, shop.timezone),
        closed_at=local_time(rep.closed_at, shop.timezone) if rep.closed_at else None,
        float_fen=rep.float_amount, sale_count=rep.sales_count,
        sales_total_fen=rep.sales_total, sales_by_method=by_method,
        refund_count=rep.refunds_count, refunds_fen=rep.refunds_total,
        recharge_count=rep.recharges_count, recharges_fen=rep.recharges_total,
        expected_cash_fen=rep.expected_cash, counted_cash_fen=rep.counted_cash,
        printed_at=local_time(dt.datetime.now(dt.UTC), shop.timezone).replace(microsecond=0))
    return layout_shift_report(report, width)


def recharge_document(member: MemberOut, res: StoredValueResultOut, shop: ShopSettingsOut,
                      width: int, *, counter: str, cashier: str) -> Document:
    e = res.entry
    slip = RechargeSlip(
        shop_name=shop.name, slip_no=f"SV{e.id:08d}", time=local_time(e.at, shop.timezone),
        counter=counter, cashier=cashier, member_name=member.name, member_phone=member.phone or "",
        amount_fen=e.principal_change, bonus_fen=e.bonus_change,
        balance_after_fen=res.stored_value,
        payment_method=PAYMENT_LABELS_ZH.get(e.method or "", e.method or ""),
        footer_lines=list(shop.receipt_footer))
    return layout_recharge(slip, width)
