"""The payment model (收款): what is due, what the tenders cover, change, the PIN rule.

Pure Python (no Qt, Flask or SQLAlchemy), used by the counter's payment dialog for every
figure it shows and by the server for the same rules (:func:`pin_required`,
:func:`cash_change`, :func:`rounding_allowed`), so the two can never disagree. Money is
integer fen.

Words (the same on screen and on the receipt)
---------------------------------------------
* **应收** (``due``) — the amount due: the server's quote of the cart.
* **实收** (``tendered``) — the CASH the customer handed over.
* **找零** (``change``) — what goes back: ``tendered - cash part``. Only cash gives change;
  stored value, points, bank card, WeChat and Alipay pay at most what is still due, and more
  than that is a problem (:data:`OVERPAID`).

Settling (:func:`settle`)
-------------------------
The non-cash tenders are applied first (stored value, points at
:func:`common.pricing.points_value_fen`, card, WeChat, Alipay); the rest is the *cash part*.
An empty cash field means "exactly the cash part" (``tendered=None``); a typed amount must
reach it. :class:`Settlement` answers the remaining due, the change, whether the bill is
covered, whether the member's PIN is needed, the ``payments`` list of the sale body
(``PaymentIn``) and the problems in plain Chinese (``Problem.message``; ``code`` and
``params`` let a client translate them).

Quick cash (:func:`quick_cash`)
-------------------------------
The amounts a customer is likely to hand over for a cash part ``d`` (fen), ascending and
distinct, always four of them: ``d`` itself (exact), then the next multiple of ¥10, of ¥50
and of ¥100 strictly above ``d``; a value already in the list is skipped and the list is
filled up with the following multiples of ¥100. ``¥380.72`` → 380.72, 390, 400, (400 again:
skipped) 500; ``¥390.00`` → 390, 400, 500, 600.

Whole-order discount in 折 (:func:`parse_zhe`)
---------------------------------------------
"9.5" = 9.5折 = the customer pays 95% = 5% off (``order_discount_bp`` 500, percent OFF like
every cashier discount of :mod:`common.pricing`). One digit with up to two decimals (0 < x ≤
10) is 折; a whole number 11..99 is the percent paid ("88" = 88折 = 12% off). "10" is no
discount.

抹零 (:func:`rounding_allowed`)
-------------------------------
The shop chooses the coarsest rounding a cashier may apply (``ShopSettings.max_rounding``:
``none`` / ``jiao`` 角 / ``yuan`` 元); the pricing engine rounds the total down to it. The
server refuses a cart whose ``rounding`` is coarser than the shop allows.

Scan-to-pay (:func:`payment_code_method`)
-----------------------------------------
A customer's payment code (付款码) scanned from their phone: WeChat's are 18 digits starting
10–15, Alipay's 16–24 digits starting 25–30. The counter puts the code into the reference of
the right method. **Provider seam**: :data:`CodePayment` is the function a real WeChat Pay /
Alipay integration would be — it takes the method, the scanned code and the amount (fen),
charges the customer's wallet (WeChat "付款码支付" micropay, Alipay ``alipay.trade.pay``) and
returns the provider's transaction reference, which the sale records. Without an integration
:func:`manual_code_payment` is used: the cashier takes the payment on the shop's merchant
app, and the code itself is the reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from common.money import BP_100_PERCENT, FEN_PER_YUAN, format_fen
from common.pricing import ROUNDING_UNITS, points_value_fen

__all__ = [
    "NONCASH_METHODS",
    "REF_METHODS",
    "CodePayment",
    "PaymentModelError",
    "Problem",
    "Settlement",
    "Tenders",
    "Wallet",
    "cash_change",
    "format_zhe",
    "manual_code_payment",
    "parse_zhe",
    "payment_code_method",
    "pin_required",
    "quick_cash",
    "rounding_allowed",
    "rounding_choices",
    "settle",
]

#: Methods that carry a reference (the terminal's or wallet's transaction number).
REF_METHODS = ("card", "wechat", "alipay")
#: Tenders applied before cash, in this order (also the order of the sale's payments).
NONCASH_METHODS = ("stored_value", "points", *REF_METHODS)

# problem codes (``Problem.code``)
NEEDS_MEMBER = "needs_member"
SV_SHORT = "sv_short"
POINTS_SHORT = "points_short"
OVERPAID = "overpaid"
TENDERED_SHORT = "tendered_short"
PIN_MISSING = "pin_missing"


class PaymentModelError(ValueError):
    """An input the model cannot take (e.g. a 折 that is no discount rate)."""


# --- the PIN rule (the server's verify_payment_pin uses this too) -------------------------
def pin_required(has_pin: bool, amount_fen: int, threshold_fen: int) -> bool:
    """A stored-value payment of ``amount_fen`` needs the member's PIN when the member has
    one and the amount is ABOVE the shop's ``pin_threshold`` (0 = every payment)."""
    return bool(has_pin) and amount_fen > 0 and amount_fen > threshold_fen


def cash_change(amount_fen: int, tendered_fen: int | None) -> int:
    """找零 of a cash payment of ``amount_fen`` for which ``tendered_fen`` was handed over
    (None: exact). Never negative (too little cash is a problem, not negative change)."""
    if tendered_fen is None:
        return 0
    return max(0, tendered_fen - amount_fen)


# --- quick cash ----------------------------------------------------------------------------
QUICK_UNITS = (10 * FEN_PER_YUAN, 50 * FEN_PER_YUAN, 100 * FEN_PER_YUAN)
QUICK_COUNT = 4


def _next_above(amount: int, unit: int) -> int:
    return (amount // unit + 1) * unit


def quick_cash(due_fen: int) -> list[int]:
    """Four ascending, distinct cash amounts for ``due_fen`` (see the module doc); [] when
    nothing is due in cash."""
    if due_fen <= 0:
        return []
    out = [due_fen]
    for unit in QUICK_UNITS:
        v = _next_above(due_fen, unit)
        if v not in out:
            out.append(v)
    while len(out) < QUICK_COUNT:
        out.append(_next_above(out[-1], QUICK_UNITS[-1]))
    return out


# --- 折 -------------------------------------------------------------------------------------
_ZHE_RE = re.compile(r"^\s*(\d{1,2})(?:\.(\d{1,2}))?\s*折?\s*$")


def parse_zhe(text: str) -> int:
    """'9.5' (9.5折) → 500 bp OFF; '8' → 2000; '88' → 1200; '' or '10' → 0 (no discount).
    Raises :class:`PaymentModelError` for anything else."""
    if not text.strip():
        return 0
    m = _ZHE_RE.match(text)
    if not m:
        raise PaymentModelError("折扣请填写如 9.5（九五折）或 88（八八折）")
    whole, frac = m.group(1), m.group(2) or ""
    if len(whole) == 1 or whole == "10":
        # 折: x/10 of the price, e.g. 9.5 → 95.00% paid = 9500 bp
        paid_bp = int(whole) * 1000 + int(frac.ljust(2, "0")) * 10
    else:
        if frac:
            raise PaymentModelError("折扣请填写如 9.5（九五折）或 88（八八折）")
        paid_bp = int(whole) * 100  # 88 → 88% paid
    if paid_bp <= 0 or paid_bp > BP_100_PERCENT:
        raise PaymentModelError("折扣应大于 0 折、不超过 10 折")
    return BP_100_PERCENT - paid_bp


def format_zhe(off_bp: int) -> str:
    """500 → '9.5折'; 1200 → '8.8折'; 750 → '9.25折'; 0 → '' (no discount)."""
    if off_bp <= 0:
        return ""
    paid = BP_100_PERCENT - off_bp  # 9500
    whole, rest = divmod(paid, 1000)
    text = f"{whole}.{rest:03d}".rstrip("0").rstrip(".")
    return f"{text}折"


# --- 抹零 -----------------------------------------------------------------------------------
def rounding_allowed(requested: str, shop_max: str) -> bool:
    """May a cashier round to ``requested`` when the shop allows down to ``shop_max``?"""
    if requested not in ROUNDING_UNITS or shop_max not in ROUNDING_UNITS:
        return False
    return ROUNDING_UNITS[requested] <= ROUNDING_UNITS[shop_max]


def rounding_choices(shop_max: str) -> list[str]:
    """The roundings the cashier may pick, finest first (always starts with 'none')."""
    return [r for r in ROUNDING_UNITS if rounding_allowed(r, shop_max)]


# --- scan-to-pay ----------------------------------------------------------------------------
_WECHAT_RE = re.compile(r"^1[0-5]\d{16}$")
_ALIPAY_RE = re.compile(r"^(2[5-9]|30)\d{14,22}$")

#: (method, scanned code, amount in fen) → the transaction reference to record.
CodePayment = Callable[[str, str, int], str]


def payment_code_method(code: str) -> str | None:
    """'wechat' / 'alipay' for a customer's payment code, else None."""
    code = code.strip()
    if _WECHAT_RE.match(code):
        return "wechat"
    if _ALIPAY_RE.match(code):
        return "alipay"
    return None


def manual_code_payment(method: str, code: str, amount_fen: int) -> str:
    """The default :data:`CodePayment` (no provider integration): the code is the
    reference; the cashier takes the money on the merchant app."""
    del method, amount_fen
    return code.strip()


# --- settling -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Wallet:
    """The attached member's balances and the shop's rules that apply to them."""

    stored_value: int = 0
    points: int = 0
    has_pin: bool = False
    pin_threshold: int = 0
    points_per_yuan_redeem: int = 100


@dataclass(frozen=True)
class Tenders:
    """What the cashier entered. ``points`` is a number of points (not fen);
    ``cash_tendered`` None = exact cash."""

    stored_value: int = 0
    points: int = 0
    card: int = 0
    wechat: int = 0
    alipay: int = 0
    cash_tendered: int | None = None
    references: Mapping[str, str] = field(default_factory=dict)
    pin: str = ""

    def amount(self, method: str) -> int:
        return int(getattr(self, method))


@dataclass(frozen=True)
class Problem:
    code: str
    message: str  # Chinese, fit for a cashier
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settlement:
    due: int
    points_fen: int
    noncash: int
    cash_part: int  # what cash must pay (0 when the others cover it)
    tendered: int | None
    remaining: int  # 还需支付: still to pay after everything entered (cash typed or not)
    change: int
    pin_needed: bool
    problems: tuple[Problem, ...]
    payments: tuple[dict[str, Any], ...]

    @property
    def covered(self) -> bool:
        """Everything is paid and nothing is wrong: the sale may be sent."""
        return not self.problems

    @property
    def problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def settle(due: int, tenders: Tenders, wallet: Wallet | None = None) -> Settlement:
    """Apply ``tenders`` to ``due`` (fen) for a member with ``wallet`` (None: walk-in)."""
    problems: list[Problem] = []
    points_fen = 0
    if tenders.points:
        rate = wallet.points_per_yuan_redeem if wallet else 100
        points_fen = points_value_fen(tenders.points, rate)
    noncash = (tenders.stored_value + points_fen
               + sum(tenders.amount(m) for m in REF_METHODS))
    cash_part = due - noncash
    sv = tenders.stored_value
    if wallet is None and (sv or tenders.points):
        problems.append(Problem(NEEDS_MEMBER, "储值和积分支付需要先选择会员"))
    if wallet is not None and sv > wallet.stored_value:
        bal = format_fen(wallet.stored_value)
        problems.append(Problem(SV_SHORT, f"储值余额不足（余额 {bal}）", {"balance": bal}))
    if wallet is not None and tenders.points > wallet.points:
        problems.append(Problem(POINTS_SHORT, f"积分不足（有 {wallet.points} 分）",
                                {"balance": str(wallet.points)}))
    if cash_part < 0:
        over = format_fen(-cash_part)
        problems.append(Problem(OVERPAID, f"非现金支付超出应收 {over}（只有现金可以找零）",
                                {"amount": over}))
    cash_part = max(0, cash_part)
    tendered = tenders.cash_tendered
    if tendered is not None and tendered < cash_part:
        short = format_fen(cash_part)
        problems.append(Problem(TENDERED_SHORT, f"现金实收不足，应收现金 {short}",
                                {"amount": short}))
    pin_needed = wallet is not None and pin_required(wallet.has_pin, sv, wallet.pin_threshold)
    if pin_needed and not tenders.pin.strip():
        problems.append(Problem(PIN_MISSING, "请输入会员支付密码"))
    remaining = cash_part if tendered is None else max(0, cash_part - tendered)
    change = cash_change(cash_part, tendered) if cash_part > 0 else 0

    payments: list[dict[str, Any]] = []
    if sv:
        payments.append({"method": "stored_value", "amount": sv,
                         "pin": tenders.pin.strip() or None})
    if tenders.points and points_fen:
        payments.append({"method": "points", "amount": points_fen, "points": tenders.points})
    for method in REF_METHODS:
        amount = tenders.amount(method)
        if amount:
            ref = (tenders.references.get(method) or "").strip() or None
            payments.append({"method": method, "amount": amount, "reference": ref})
    if cash_part > 0:
        payments.append({"method": "cash", "amount": cash_part,
                         "tendered": cash_part if tendered is None else tendered})
    return Settlement(due=due, points_fen=points_fen, noncash=noncash, cash_part=cash_part,
                      tendered=tendered, remaining=remaining, change=change,
                      pin_needed=pin_needed, problems=tuple(problems),
                      payments=tuple(payments))
