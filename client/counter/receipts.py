"""Server answers → printable documents (pure functions, no Qt, no I/O).

The receipt shows what the SERVER recorded (``SaleOut``: lines, payments, change, member
balances after the sale), never the client's own preview figures.
"""

from __future__ import annotations

import datetime as dt

from common import timezones
from common.money import format_fen
from common.payment import cash_change
from common.schemas.members import CountCardOut, MemberOut, StoredValueResultOut, recharge_number
from common.schemas.sales import (
    PAYMENT_LABELS_ZH,
    DayCloseOut,
    RefundOut,
    SaleOut,
    ShiftReportOut,
)
from common.schemas.shop import ShopSettingsOut
from common.text import mask_phone

from ..devices.document import Cut, Document, Feed, Separator, display_width, left_right, wrap
from ..devices.receipt import (
    CountCardLeft,
    Lang,
    MethodTotal,
    Payment,
    ReceiptMember,
    ReceiptSale,
    RechargeSlip,
    RefundSlip,
    RefundSlipLine,
    SaleLine,
    ShiftReport,
    layout_recharge,
    layout_refund,
    layout_sale,
    layout_shift_report,
)

#: ``SaleOut.status`` of a sale journaled at this counter while no server answered (its
#: number is the counter's local one; see :mod:`client.counter.offline_mode`)
OFFLINE_STATUS = "offline"


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


def receipt_sale(sale: SaleOut, shop: ShopSettingsOut, *, reprint: bool = False,
                 offline: bool = False) -> ReceiptSale:
    """``offline``: a sale journaled while no server answered (its number is the counter's
    local one); a replayed sale (``origin`` offline) says 离线单 too on a reprint."""
    offline = offline or sale.status == OFFLINE_STATUS \
        or getattr(sale, "origin", "counter") == "offline"
    # list unit price, then every discount (member, manual, coupon, count card …) under it
    lines = [SaleLine(name=ln.name + ("（次卡）" if ln.count_card_id else "")
                      + (f"（服务：{'、'.join(st.name for st in ln.staff)}）" if ln.staff else ""),
                      qty=ln.qty, unit_price_fen=ln.list_amount // ln.qty if ln.qty else 0,
                      amount_fen=ln.amount, discount_fen=ln.list_amount - ln.amount,
                      discount_reason=ln.promotion_name or "")
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
                       reprint=reprint, offline=offline)


def sale_document(sale: SaleOut, shop: ShopSettingsOut, width: int, *,
                  reprint: bool = False, offline: bool = False) -> Document:
    """The customer receipt (the drawer is kicked separately, see DeviceService);
    ``offline``: marked 离线单 (see :func:`receipt_sale`)."""
    return layout_sale(receipt_sale(sale, shop, reprint=reprint, offline=offline), width)


def _method_totals(by_method: dict[str, int]) -> list[MethodTotal]:
    return [MethodTotal(PAYMENT_LABELS_ZH.get(k, k), None, v) for k, v in by_method.items() if v]


def shift_document(rep: ShiftReportOut, shop: ShopSettingsOut, width: int) -> Document:
    """The shift report: sales by payment method, then recharges (充值) and count cards sold
    outside a sale (次卡) each under their own heading — all paid at this drawer."""
    report = ShiftReport(
        shop_name=shop.name, counter=rep.counter, cashier=rep.cashier,
        opened_at=local_time(rep.opened_at, shop.timezone),
        closed_at=local_time(rep.closed_at, shop.timezone) if rep.closed_at else None,
        float_fen=rep.float_amount, sale_count=rep.sales_count,
        sales_total_fen=rep.sales_total, sales_by_method=_method_totals(rep.by_method),
        refund_count=rep.refunds_count, refunds_fen=rep.refunds_total,
        recharge_count=rep.recharges_count, recharges_fen=rep.recharges_total,
        recharges_by_method=_method_totals(rep.recharges_by_method),
        count_card_count=rep.count_cards_count, count_cards_fen=rep.count_cards_total,
        count_cards_by_method=_method_totals(rep.count_cards_by_method),
        expected_cash_fen=rep.expected_cash, counted_cash_fen=rep.counted_cash,
        printed_at=local_time(dt.datetime.now(dt.UTC), shop.timezone).replace(microsecond=0))
    return layout_shift_report(report, width)


def day_close_document(rep: DayCloseOut, shop: ShopSettingsOut, width: int, *,
                       printed_by: str, lang: Lang = "zh") -> Document:
    """The day-close (日结, Z) report on the receipt printer: the day's figures of every
    counter as the server added them up (``GET /shifts/day-close``); opened / closed: the
    day's first shift opened, its last closed (none while a shift is still open)."""
    zone = shop.timezone
    opened = [s.opened_at for s in rep.shifts]
    closed = [s.closed_at for s in rep.shifts if s.closed_at is not None]
    now = local_time(dt.datetime.now(dt.UTC), zone).replace(microsecond=0)
    report = ShiftReport(
        shop_name=shop.name, counter="", cashier=printed_by,  # "": every counter (全部)
        opened_at=local_time(min(opened), zone) if opened else now,
        closed_at=local_time(max(closed), zone) if closed and not rep.open_shifts else None,
        float_fen=None, sale_count=rep.sales_count, business_day=rep.business_date,
        sales_total_fen=rep.sales_total, sales_by_method=_method_totals(rep.by_method),
        refund_count=None, refunds_fen=rep.refunds_total, recharge_count=None,
        recharges_fen=rep.recharges_total,
        recharges_by_method=_method_totals(rep.recharges_by_method),
        count_card_count=0, count_cards_fen=rep.count_cards_total,
        count_cards_by_method=_method_totals(rep.count_cards_by_method),
        expected_cash_fen=rep.expected_cash, counted_cash_fen=rep.counted_cash,
        day_close=True, printed_at=now)
    return layout_shift_report(report, width, lang=lang)


def recharge_document(member: MemberOut, res: StoredValueResultOut, shop: ShopSettingsOut,
                      width: int, *, counter: str, cashier: str, tendered_fen: int | None = None,
                      change_fen: int = 0) -> Document:
    """The recharge slip; for cash, ``tendered_fen`` handed over and ``change_fen`` given."""
    e = res.entry
    slip = RechargeSlip(
        shop_name=shop.name, slip_no=recharge_number(e.id), time=local_time(e.at, shop.timezone),
        counter=counter, cashier=cashier, member_name=member.name, member_phone=member.phone or "",
        amount_fen=e.principal_change, bonus_fen=e.bonus_change,
        balance_after_fen=res.stored_value,
        payment_method=PAYMENT_LABELS_ZH.get(e.method or "", e.method or ""),
        footer_lines=list(shop.receipt_footer), tendered_fen=tendered_fen,
        change_fen=change_fen)
    return layout_recharge(slip, width)


def refund_document(res: RefundOut, shop: ShopSettingsOut, width: int, *, counter: str,
                    cashier: str) -> Document:
    """The refund slip (退款单) of what the SERVER recorded: lines, amounts by method."""
    m = res.member
    slip = RefundSlip(
        shop_name=shop.name, refund_no=res.number, sale_no=res.sale_number,
        time=local_time(res.created_at, shop.timezone), counter=counter, cashier=cashier,
        lines=[RefundSlipLine(str(ln.get("name", "")), int(ln.get("qty", 0)),
                              int(ln.get("amount", 0))) for ln in res.lines],
        total_fen=res.total,
        payments=[MethodTotal(p.label or PAYMENT_LABELS_ZH.get(p.method, p.method), None,
                              p.amount) for p in res.payments],
        reason=res.reason, approved_by=res.approved_by or "",
        member_name=m.name if m else "", member_phone=(m.phone or "") if m else "",
        balance_after_fen=m.stored_value if m and any(
            p.method == "stored_value" for p in res.payments) else None)
    return layout_refund(slip, width)


def count_card_document(member: MemberOut, card: CountCardOut, shop: ShopSettingsOut,
                        width: int, *, counter: str, cashier: str,
                        tendered: int | None = None) -> Document:
    """The slip of a count card sold at the counter (次卡购买凭证), from the server's card."""
    doc = Document(width)
    if display_width(shop.name) <= width // 2:
        doc.text(shop.name, "center", bold=True, double_height=True, double_width=True)
    else:
        doc.lines(wrap(shop.name, width), "center", bold=True, double_height=True)
    doc.text("次卡购买凭证", "center", bold=True)
    doc.add(Separator("="))
    doc.text(f"单号：CC{card.id:08d}")
    doc.text(f"时间：{local_time(card.purchased_at, shop.timezone):%Y-%m-%d %H:%M:%S}")
    doc.lines(left_right(f"收银台：{counter}", f"收银员：{cashier}", width))
    doc.add(Separator())
    who = member.name + (f" {mask_phone(member.phone)}" if member.phone else "")
    doc.lines(wrap(f"会员：{who}", width))
    doc.lines(wrap(f"次卡：{card.name}", width), bold=True)
    if card.service_name and card.service_name != card.name:
        doc.lines(wrap(f"服务项目：{card.service_name}", width))
    doc.lines(left_right("次数", f"{card.total_uses} 次", width), bold=True)
    until = (local_time(card.expires_at, shop.timezone).date().isoformat()
             if card.expires_at else "长期有效")
    doc.lines(left_right("有效期至", until, width))
    doc.lines(left_right("金额", format_fen(card.price), width), bold=True,
              double_height=True)
    method = PAYMENT_LABELS_ZH.get(card.method or "", card.method or "")
    doc.lines(left_right("支付方式", method, width))
    if card.method == "cash" and tendered is not None:
        doc.lines(left_right("实收现金", format_fen(tendered), width))
        doc.lines(left_right("找零", format_fen(cash_change(card.price, tendered)), width))
    doc.add(Separator())
    for line in shop.receipt_footer:
        doc.lines(wrap(line, width), "center")
    doc.add(Feed())
    doc.text("会员签名：" + "_" * (width // 2))
    doc.add(Feed(2), Cut())
    return doc
