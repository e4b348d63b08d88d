"""Receipt layout: plain input dataclasses in, a printer-independent :class:`Document` out.

Everything here is pure: no printer, no I/O. Money is integer fen, formatted with
:func:`common.money.format_fen`. Widths are display columns (32 = 58 mm, 48 = 80 mm); a
Chinese character takes two (see :mod:`client.devices.document`).

Typical use (the caller builds the dataclasses from the server's sale response)::

    doc = layout_sale(sale, width=config.width, open_drawer=paid_cash)
    queue.submit(doc, title=f"小票 {sale.sale_no}")      # or print_document(config, doc)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from common.money import format_fen, format_plain
from common.text import mask_phone

from .document import (
    Barcode,
    Cut,
    Document,
    DrawerKick,
    Feed,
    QRCode,
    Separator,
    display_width,
    left_right,
    pad,
    wrap,
)

Lang = Literal["zh", "en"]
CodeKind = Literal["barcode", "qr", "none"]

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class SaleLine:
    """One item line. ``amount_fen`` is what the customer pays for the line, i.e. after
    ``discount_fen`` (which is shown underneath for information)."""

    name: str
    qty: int | Decimal
    unit_price_fen: int
    amount_fen: int
    discount_fen: int = 0
    discount_reason: str = ""  # why, e.g. a promotion's name (促销), printed with the discount


@dataclass(frozen=True)
class Discount:
    """An order-level discount, e.g. ``Discount("会员折扣", 300)`` (positive fen)."""

    kind: str
    amount_fen: int


@dataclass(frozen=True)
class Payment:
    """One tender. ``method`` is the display name (现金/微信/支付宝/储值/积分/银行卡).

    For cash, ``tendered_fen`` is what the customer handed over and ``change_fen`` what
    was given back; ``amount_fen`` is the part of the total this tender paid.
    """

    method: str
    amount_fen: int
    tendered_fen: int | None = None
    change_fen: int | None = None


@dataclass(frozen=True)
class CountCardLeft:
    """Uses left on a member's count card (次卡) after the sale."""

    name: str
    uses_left: int


@dataclass(frozen=True)
class ReceiptMember:
    """The member on a sale, with balances *after* the sale. ``phone`` is given in full;
    the receipt prints it masked (:func:`common.text.mask_phone`)."""

    name: str
    phone: str = ""
    stored_value_fen: int | None = None
    points: int | None = None
    count_cards: Sequence[CountCardLeft] = ()


@dataclass(frozen=True)
class ReceiptSale:
    """Everything a sale receipt shows. ``total_fen`` is the amount due after all discounts
    (as computed by the pricing engine / server; the layout does not recompute it)."""

    shop_name: str
    sale_no: str
    time: datetime
    counter: str
    cashier: str
    lines: Sequence[SaleLine]
    total_fen: int
    payments: Sequence[Payment] = ()
    discounts: Sequence[Discount] = ()
    member: ReceiptMember | None = None
    header_lines: Sequence[str] = ()
    footer_lines: Sequence[str] = ()
    reprint: bool = False
    offline: bool = False  # sold while no server answered: 离线单 (``sale_no`` is local)


@dataclass(frozen=True)
class MethodTotal:
    """Takings of one payment method on a shift report."""

    method: str
    count: int | None  # None: the count is not known (printed without "n笔")
    amount_fen: int


@dataclass(frozen=True)
class ShiftReport:
    """Shift hand-over (交班) or day-close (日结) report.

    ``expected_cash_fen`` is the cash that should be in the drawer (float + cash sales +
    cash recharges − cash refunds), ``counted_cash_fen`` what the cashier counted (None if
    not counted yet); the report prints the difference counted − expected.
    """

    shop_name: str
    counter: str  # "" on the day close: every counter (全部)
    cashier: str  # the day close: who printed it
    opened_at: datetime
    closed_at: datetime | None
    float_fen: int | None  # None: the day close (each shift had its own)
    sale_count: int
    sales_total_fen: int
    sales_by_method: Sequence[MethodTotal]
    refund_count: int | None  # None: not counted (the day close has only the amount)
    refunds_fen: int
    recharge_count: int | None
    recharges_fen: int
    expected_cash_fen: int
    counted_cash_fen: int | None = None
    recharges_by_method: Sequence[MethodTotal] = ()
    count_card_count: int = 0
    count_cards_fen: int = 0
    count_cards_by_method: Sequence[MethodTotal] = ()
    day_close: bool = False
    printed_at: datetime | None = None
    business_day: date | None = None  # the day close's business day


@dataclass(frozen=True)
class RechargeSlip:
    """A stored-value recharge (充值) slip: ``bonus_fen`` is the shop's gift on top."""

    shop_name: str
    slip_no: str
    time: datetime
    counter: str
    cashier: str
    member_name: str
    member_phone: str
    amount_fen: int
    bonus_fen: int
    balance_after_fen: int
    payment_method: str
    footer_lines: Sequence[str] = ()
    reprint: bool = False
    #: cash: what the customer handed over (None: not asked / not cash) and the change
    tendered_fen: int | None = None
    change_fen: int = 0


# --------------------------------------------------------------------------- labels

_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "colon": "：",
        "sale_no": "单号",
        "time": "时间",
        "counter": "收银台",
        "cashier": "收银员",
        "item": "品名",
        "qty": "数量",
        "price": "单价",
        "amount": "金额",
        "line_discount": "优惠",
        "count": "件数",
        "subtotal": "商品金额",
        "total": "合计",
        "paid": "实收",
        "change": "找零",
        "member": "会员",
        "balance": "储值余额",
        "points": "积分",
        "count_cards": "次卡",
        "uses_left": "剩{n}次",
        "reprint": "*** 重打 ***",
        "reprint_note": "重打小票，仅供核对",
        "offline": "*** 离线单 ***",
        "offline_note": "离线收银，单号为本机编号，联网后自动上传",
        "shift_title": "交班报表",
        "business_day": "营业日",
        "all_counters": "全部",
        "day_title": "日结报表",
        "opened": "开班",
        "closed": "交班",
        "printed": "打印",
        "sales": "销售",
        "n_times": "{n}笔",
        "refunds": "退款",
        "recharges": "充值",
        "float": "备用金",
        "expected_cash": "应有现金",
        "counted_cash": "实点现金",
        "difference": "差额",
        "not_counted": "未清点",
        "signature": "签字",
        "recharge_title": "会员充值凭证",
        "slip_no": "流水号",
        "recharge_amount": "充值金额",
        "bonus": "赠送金额",
        "balance_after": "充值后余额",
        "pay_method": "支付方式",
        "member_signature": "会员签字",
    },
    "en": {
        "colon": ": ",
        "sale_no": "Sale",
        "time": "Time",
        "counter": "Counter",
        "cashier": "Cashier",
        "item": "Item",
        "qty": "Qty",
        "price": "Price",
        "amount": "Amount",
        "line_discount": "Discount",
        "count": "Items",
        "subtotal": "Subtotal",
        "total": "TOTAL",
        "paid": "Cash given",
        "change": "Change",
        "member": "Member",
        "balance": "Balance",
        "points": "Points",
        "count_cards": "Count cards",
        "uses_left": "{n} left",
        "reprint": "** REPRINT **",
        "reprint_note": "Reprint - for reference only",
        "offline": "** OFFLINE SALE **",
        "offline_note": "Sold offline: local number, uploaded when the server is back",
        "shift_title": "SHIFT REPORT",
        "business_day": "Business day",
        "all_counters": "All",
        "day_title": "DAY CLOSE",
        "opened": "Opened",
        "closed": "Closed",
        "printed": "Printed",
        "sales": "Sales",
        "n_times": "{n}x",
        "refunds": "Refunds",
        "recharges": "Recharges",
        "float": "Float",
        "expected_cash": "Expected cash",
        "counted_cash": "Counted cash",
        "difference": "Difference",
        "not_counted": "not counted",
        "signature": "Signature",
        "recharge_title": "STORED VALUE RECHARGE",
        "slip_no": "Slip",
        "recharge_amount": "Recharge",
        "bonus": "Bonus",
        "balance_after": "New balance",
        "pay_method": "Paid by",
        "member_signature": "Member signature",
    },
}

#: Payment method names as the server sends them, translated for ``lang="en"``.
METHOD_NAMES_EN = {
    "现金": "Cash",
    "微信": "WeChat Pay",
    "支付宝": "Alipay",
    "储值": "Stored value",
    "积分": "Points",
    "银行卡": "Bank card",
}


def _labels(lang: Lang) -> dict[str, str]:
    try:
        return _LABELS[lang]
    except KeyError:
        raise ValueError(f"unknown receipt language {lang!r}") from None


def _method(name: str, lang: Lang) -> str:
    return METHOD_NAMES_EN.get(name, name) if lang == "en" else name


# --------------------------------------------------------------------------- helpers


def format_qty(qty: int | Decimal) -> str:
    """``3`` → ``3``; ``Decimal("1.250")`` → ``1.25``."""
    if isinstance(qty, Decimal):
        return format(qty.normalize(), "f")
    return str(qty)


def _time(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S") if dt else "-"


def _rjust(text: str, width: int) -> str:
    """Right-align in ``width`` columns without ever cutting the text."""
    return " " * max(0, width - display_width(text)) + text


def _item_columns(width: int) -> tuple[int, int, int]:
    """Widths of the qty, unit price and amount columns."""
    return (6, 11, 12) if width >= 42 else (4, 8, 9)


def _check_width(width: int) -> None:
    if width < 24:
        raise ValueError("paper width must be at least 24 columns (58 mm paper: 32)")


def _title(doc: Document, text: str) -> None:
    """Shop name: double size if it fits in half the columns, else double height."""
    if display_width(text) <= doc.width // 2:
        doc.text(text, "center", bold=True, double_height=True, double_width=True)
    else:
        doc.lines(wrap(text, doc.width), "center", bold=True, double_height=True)


def _reprint_mark(doc: Document, labels: dict[str, str]) -> None:
    doc.text(labels["reprint"], "center", bold=True, double_height=True, double_width=True)


def _field(labels: dict[str, str], key: str, value: str) -> str:
    return f"{labels[key]}{labels['colon']}{value}"


def _pair(doc: Document, left: str, right: str, **style: bool) -> None:
    doc.lines(left_right(left, right, doc.width), **style)


def _end(doc: Document, cut: bool) -> None:
    doc.add(Feed(2))
    if cut:
        doc.add(Cut())


# --------------------------------------------------------------------------- sale


def layout_sale(
    sale: ReceiptSale,
    width: int = 32,
    *,
    lang: Lang = "zh",
    code: CodeKind = "barcode",
    open_drawer: bool = False,
    cut: bool = True,
) -> Document:
    """The customer receipt of ``sale`` on paper ``width`` columns wide.

    ``code``: print the sale number as a CODE128 barcode (default), a QR code or not at all
    (a sale number that is not ASCII always becomes a QR code). ``open_drawer`` puts a
    drawer kick at the start of the document, so the drawer opens while the receipt prints.
    """
    _check_width(width)
    lb = _labels(lang)
    doc = Document(width)
    if open_drawer:
        doc.add(DrawerKick())
    if sale.reprint:
        _reprint_mark(doc, lb)
    if sale.offline:
        doc.text(lb["offline"], "center", bold=True, double_height=True)
    _title(doc, sale.shop_name)
    for line in sale.header_lines:
        doc.lines(wrap(line, width), "center")
    doc.add(Separator("="))

    doc.text(_field(lb, "sale_no", sale.sale_no))
    doc.text(_field(lb, "time", _time(sale.time)))
    _pair(doc, _field(lb, "counter", sale.counter), _field(lb, "cashier", sale.cashier))
    doc.add(Separator())

    qty_w, price_w, amount_w = _item_columns(width)
    name_w = width - qty_w - price_w - amount_w
    doc.text(
        pad(lb["item"], name_w)
        + _rjust(lb["qty"], qty_w)
        + _rjust(lb["price"], price_w)
        + _rjust(lb["amount"], amount_w)
    )
    for item in sale.lines:
        doc.lines(_item_rows(item, width, lb))
    doc.add(Separator())

    # Pieces: whole quantities add up, a weighed line (Decimal qty) counts as one piece.
    count = sum(item.qty if isinstance(item.qty, int) else 1 for item in sale.lines)
    _pair(doc, lb["count"], str(count))
    subtotal = sum(item.amount_fen for item in sale.lines)
    if sale.discounts or subtotal != sale.total_fen:
        _pair(doc, lb["subtotal"], format_fen(subtotal))
    for discount in sale.discounts:
        _pair(doc, discount.kind, format_fen(-discount.amount_fen))
    _pair(doc, lb["total"], format_fen(sale.total_fen), bold=True, double_height=True)

    # each tender, then (cash only) 实收 = the cash handed over and 找零 = the change: the
    # words of the payment dialog
    for payment in sale.payments:
        _pair(doc, _method(payment.method, lang), format_fen(payment.amount_fen))
    cash = [p for p in sale.payments if p.tendered_fen is not None or p.change_fen]
    if cash:
        received = sum(
            p.amount_fen if p.tendered_fen is None else p.tendered_fen for p in cash
        )
        change = sum(p.change_fen or 0 for p in cash)
        _pair(doc, lb["paid"], format_fen(received))
        _pair(doc, lb["change"], format_fen(change), bold=True)

    if sale.member is not None:
        doc.add(Separator())
        _member_block(doc, sale.member, lb)

    if sale.footer_lines:
        doc.add(Separator())
        for line in sale.footer_lines:
            doc.lines(wrap(line, width), "center")
    doc.add(Feed())
    if code == "barcode" and sale.sale_no.isascii():
        doc.add(Barcode(sale.sale_no))
    elif code != "none":
        doc.add(QRCode(sale.sale_no))
    if sale.offline:
        doc.add(Feed())
        doc.text(lb["offline"], "center", bold=True, double_height=True)
        doc.lines(wrap(lb["offline_note"], width), "center")
    if sale.reprint:
        doc.add(Feed())
        _reprint_mark(doc, lb)
        doc.text(lb["reprint_note"], "center")
    _end(doc, cut)
    return doc


def _item_rows(item: SaleLine, width: int, lb: dict[str, str]) -> list[str]:
    """Name, qty, unit price and amount in columns; a long name gets its own line(s) and
    the numbers go on the next line."""
    qty_w, price_w, amount_w = _item_columns(width)
    name_w = width - qty_w - price_w - amount_w
    numbers = (
        _rjust(format_qty(item.qty), qty_w)
        + _rjust(format_plain(item.unit_price_fen), price_w)
        + _rjust(format_plain(item.amount_fen), amount_w)
    )
    if display_width(numbers) > width - 1:
        # Absurdly large numbers: a compact "qty x price   amount" line instead of columns.
        rows = [
            *wrap(item.name, width),
            *left_right(
                f"  {format_qty(item.qty)} x {format_plain(item.unit_price_fen)}",
                format_plain(item.amount_fen),
                width,
            ),
        ]
    elif display_width(item.name) < min(name_w, width - display_width(numbers)):
        rows = [item.name + _rjust(numbers, width - display_width(item.name))]
    else:
        rows = [*wrap(item.name, width), _rjust(numbers, width)]
    if item.discount_fen:
        label = lb["line_discount"] + (f"（{item.discount_reason}）" if item.discount_reason
                                       else "")
        rows += left_right("  " + label, format_plain(-item.discount_fen), width)
    return rows


def _member_block(doc: Document, member: ReceiptMember, lb: dict[str, str]) -> None:
    who = member.name + (f" {mask_phone(member.phone)}" if member.phone else "")
    doc.lines(wrap(_field(lb, "member", who), doc.width))
    if member.stored_value_fen is not None:
        _pair(doc, lb["balance"], format_fen(member.stored_value_fen))
    if member.points is not None:
        _pair(doc, lb["points"], str(member.points))
    if member.count_cards:
        doc.text(lb["count_cards"] + lb["colon"].rstrip())
        for card in member.count_cards:
            _pair(doc, "  " + card.name, lb["uses_left"].format(n=card.uses_left))


# --------------------------------------------------------------------------- reports


def layout_shift_report(
    report: ShiftReport, width: int = 32, *, lang: Lang = "zh", cut: bool = True
) -> Document:
    """The shift hand-over / day-close report (``report.day_close``)."""
    _check_width(width)
    lb = _labels(lang)
    doc = Document(width)
    doc.text(
        lb["day_title" if report.day_close else "shift_title"],
        "center",
        bold=True,
        double_height=True,
        double_width=True,
    )
    doc.lines(wrap(report.shop_name, width), "center")
    doc.add(Separator("="))
    if report.business_day is not None:
        doc.text(_field(lb, "business_day", report.business_day.isoformat()))
    _pair(doc, _field(lb, "counter", report.counter or lb["all_counters"]),
          _field(lb, "cashier", report.cashier))
    doc.text(_field(lb, "opened", _time(report.opened_at)))
    doc.text(_field(lb, "closed", _time(report.closed_at)))
    doc.add(Separator())

    def times(n: int | None) -> str:
        return "" if n is None else lb["n_times"].format(n=n)

    _pair(
        doc,
        f"{lb['sales']} {times(report.sale_count)}",
        format_fen(report.sales_total_fen),
        bold=True,
    )
    for m in report.sales_by_method:
        _pair(doc, f"  {_method(m.method, lang)} {times(m.count)}".rstrip(),
              format_fen(m.amount_fen))
    _pair(doc, f"{lb['refunds']} {times(report.refund_count)}", format_fen(-report.refunds_fen))
    _pair(
        doc, f"{lb['recharges']} {times(report.recharge_count)}", format_fen(report.recharges_fen)
    )
    for m in report.recharges_by_method:
        _pair(doc, f"  {_method(m.method, lang)} {times(m.count)}".rstrip(),
              format_fen(m.amount_fen))
    if report.count_card_count or report.count_cards_by_method:
        _pair(doc, f"{lb['count_cards']} {times(report.count_card_count)}",
              format_fen(report.count_cards_fen))
        for m in report.count_cards_by_method:
            _pair(doc, f"  {_method(m.method, lang)} {times(m.count)}".rstrip(),
                  format_fen(m.amount_fen))
    doc.add(Separator())

    if report.float_fen is not None:
        _pair(doc, lb["float"], format_fen(report.float_fen))
    _pair(doc, lb["expected_cash"], format_fen(report.expected_cash_fen))
    if report.counted_cash_fen is None:
        _pair(doc, lb["counted_cash"], lb["not_counted"])
    else:
        _pair(doc, lb["counted_cash"], format_fen(report.counted_cash_fen))
        diff = report.counted_cash_fen - report.expected_cash_fen
        sign = "+" if diff > 0 else ""
        _pair(doc, lb["difference"], sign + format_fen(diff), bold=True, double_height=True)
    doc.add(Separator())
    if report.printed_at:
        doc.text(_field(lb, "printed", _time(report.printed_at)))
    doc.add(Feed())
    doc.text(_field(lb, "signature", "_" * (width // 2)))
    _end(doc, cut)
    return doc


def layout_recharge(
    slip: RechargeSlip,
    width: int = 32,
    *,
    lang: Lang = "zh",
    open_drawer: bool = False,
    cut: bool = True,
) -> Document:
    """The stored-value recharge slip, with a line for the member's signature."""
    _check_width(width)
    lb = _labels(lang)
    doc = Document(width)
    if open_drawer:
        doc.add(DrawerKick())
    if slip.reprint:
        _reprint_mark(doc, lb)
    _title(doc, slip.shop_name)
    doc.text(lb["recharge_title"], "center", bold=True)
    doc.add(Separator("="))
    doc.text(_field(lb, "slip_no", slip.slip_no))
    doc.text(_field(lb, "time", _time(slip.time)))
    _pair(doc, _field(lb, "counter", slip.counter), _field(lb, "cashier", slip.cashier))
    doc.add(Separator())
    who = slip.member_name + (f" {mask_phone(slip.member_phone)}" if slip.member_phone else "")
    doc.lines(wrap(_field(lb, "member", who), width))
    _pair(doc, lb["recharge_amount"], format_fen(slip.amount_fen), bold=True)
    if slip.bonus_fen:
        _pair(doc, lb["bonus"], format_fen(slip.bonus_fen))
    _pair(doc, lb["pay_method"], _method(slip.payment_method, lang))
    if slip.tendered_fen is not None:  # 实收 / 找零: the words of the recharge dialog
        _pair(doc, lb["paid"], format_fen(slip.tendered_fen))
        _pair(doc, lb["change"], format_fen(slip.change_fen), bold=True)
    _pair(
        doc, lb["balance_after"], format_fen(slip.balance_after_fen), bold=True, double_height=True
    )
    doc.add(Separator())
    for line in slip.footer_lines:
        doc.lines(wrap(line, width), "center")
    doc.add(Feed())
    doc.text(_field(lb, "member_signature", "_" * (width // 2)))
    if slip.reprint:
        doc.add(Feed())
        _reprint_mark(doc, lb)
    _end(doc, cut)
    return doc


# --------------------------------------------------------------------------- refund slip


@dataclass(frozen=True)
class RefundSlipLine:
    name: str
    qty: int
    amount_fen: int


@dataclass(frozen=True)
class RefundSlip:
    """A refund (退款单): what went back, by which method, against which sale."""

    shop_name: str
    refund_no: str
    sale_no: str
    time: datetime
    counter: str
    cashier: str
    lines: Sequence[RefundSlipLine]
    total_fen: int
    payments: Sequence[MethodTotal]  # method label, amount (``count`` unused)
    reason: str = ""
    approved_by: str = ""
    member_name: str = ""
    member_phone: str = ""
    balance_after_fen: int | None = None


_REFUND_LABELS: dict[str, dict[str, str]] = {
    "zh": {"refund_title": "退款单", "refund_no": "退款单号", "original_sale": "原单号",
           "refund_total": "退款合计", "refund_by": "退回方式", "reason": "原因",
           "approved_by": "授权", "customer_signature": "顾客签字"},
    "en": {"refund_title": "REFUND", "refund_no": "Refund", "original_sale": "Sale",
           "refund_total": "REFUNDED", "refund_by": "Refunded to", "reason": "Reason",
           "approved_by": "Approved by", "customer_signature": "Customer signature"},
}


def layout_refund(slip: RefundSlip, width: int = 32, *, lang: Lang = "zh",
                  cut: bool = True) -> Document:
    """The refund slip: shop, 退款单, refund and original sale number, the lines refunded,
    the amount by method, cashier and time, and a line for the customer's signature."""
    _check_width(width)
    lb = {**_labels(lang), **_REFUND_LABELS[lang]}
    doc = Document(width)
    _title(doc, slip.shop_name)
    doc.text(lb["refund_title"], "center", bold=True, double_height=True)
    doc.add(Separator("="))
    doc.text(_field(lb, "refund_no", slip.refund_no))
    doc.text(_field(lb, "original_sale", slip.sale_no))
    doc.text(_field(lb, "time", _time(slip.time)))
    _pair(doc, _field(lb, "counter", slip.counter), _field(lb, "cashier", slip.cashier))
    doc.add(Separator())
    qty_w, _price_w, amount_w = _item_columns(width)
    name_w = width - qty_w - amount_w
    doc.text(pad(lb["item"], name_w) + _rjust(lb["qty"], qty_w) + _rjust(lb["amount"], amount_w))
    for ln in slip.lines:
        numbers = _rjust(str(ln.qty), qty_w) + _rjust(format_plain(-ln.amount_fen), amount_w)
        if display_width(ln.name) <= name_w:
            doc.text(pad(ln.name, name_w) + numbers)
        else:
            doc.lines(wrap(ln.name, width))
            doc.text(" " * name_w + numbers)
    doc.add(Separator())
    _pair(doc, lb["refund_total"], format_fen(-slip.total_fen), bold=True, double_height=True)
    for p in slip.payments:
        _pair(doc, f"{lb['refund_by']} {_method(p.method, lang)}", format_fen(p.amount_fen))
    if slip.member_name:
        doc.add(Separator())
        who = slip.member_name + (f" {mask_phone(slip.member_phone)}"
                                  if slip.member_phone else "")
        doc.lines(wrap(_field(lb, "member", who), width))
        if slip.balance_after_fen is not None:
            _pair(doc, lb["balance"], format_fen(slip.balance_after_fen))
    if slip.reason:
        doc.lines(wrap(_field(lb, "reason", slip.reason), width))
    if slip.approved_by:
        doc.text(_field(lb, "approved_by", slip.approved_by))
    doc.add(Feed())
    doc.text(_field(lb, "customer_signature", "_" * (width // 2)))
    _end(doc, cut)
    return doc
