"""The pricing engine (计价引擎): the one and only implementation of price computation.

``quote(lines, member, coupon, ...)`` is a pure function. The server calls it to recompute
every sale (it is authoritative and never trusts a client's figures); the counter client calls
the very same function for an instant preview and for offline sales. Money is integer fen
throughout; every percentage is rounded by :func:`common.money.percent_of` (half up).

Percent conventions (basis points, 1% = 100 bp)
-----------------------------------------------
Two conventions exist because shops think about them differently; each field says which it uses:

* **Rate = price paid** (折扣率, as in "9折"): ``Member.level_discount_bp`` and
  ``Coupon.percent_bp``. 9000 means the customer pays 90% (10% off); 10000 means no discount.
  These are configured in the back office and must lie in 1..10000.
* **Off = amount taken off** (减免比例): ``PriceLine.manual_discount_bp``,
  ``order_discount_bp`` and the staff limit ``max_discount_bp``. 1500 means 15% off;
  0 means no discount. These must lie in 0..10000.

Either way the price after a percent discount is ``percent_of(amount, paid_bp)`` (with
``paid_bp = 10000 - off_bp`` for the "off" fields) and the discount is what that takes away,
so a half fen always goes to the customer's price the same way.

Order of operations
-------------------
For every line (``list_amount = base unit price × qty``; the base unit price is the open price
for a line whose open price is honoured, otherwise the list price):

1. **Member pricing** (``member_discount``), members only, not on open-price lines.
   The fixed member price is the product's price for the member's level (``level_prices``)
   if there is one, otherwise its general ``member_price``; a fixed price above the list
   price is ignored. The level percent (``level_discount_bp``) applies only to
   ``discountable`` lines. Both are never stacked: the member gets whichever of the two line
   amounts is lower (the fixed price wins a tie). The level percent is rounded per line.
   **Promotions** (``promotion_discount``, 促销) compete in the same step, see below.
2. **Manual line discount** (``manual_discount``): a cashier's percent off or fixed amount
   off the line amount after member pricing; a fixed amount is capped at that amount.
   Allowed on non-discountable lines (it is an explicit, permission-checked decision).
3. **Count card** (``count_card_discount``): a line paid by count-card uses (one use per unit)
   has its whole remaining amount recorded as the count-card discount and becomes 0.
   The engine does not check the card's owner or remaining uses; the server does.
4. **Coupon** (``coupon_discount``, at most one): applies to the *applicable* lines, i.e.
   discountable, not paid by count card and (if the coupon lists categories) in one of its
   categories. Their current amounts form the applicable subtotal, which must be at least
   ``threshold_fen``. An amount coupon takes ``min(amount_fen, subtotal)``; a percent coupon
   takes ``subtotal - percent_of(subtotal, percent_bp)``.
5. **Order discount** (``order_discount``): percent off or fixed amount off the current
   amount of every discountable line not paid by count card; a fixed amount is capped.
6. **Rounding / 抹零** (``rounding_discount``): the order total is rounded DOWN to the unit
   (``'none'`` = 1 fen, ``'jiao'`` = 10 fen, ``'yuan'`` = 100 fen), always in the customer's
   favour, so ``0 <= rounding_discount < unit``. It is spread over all lines with an amount.

Promotions (促销) and how they stack
-----------------------------------
A :class:`Promotion` runs for a period of shop time, ``starts_at <= at < ends_at``; ``quote``
ignores one whose window does not contain ``at`` (``at=None``: every promotion given counts).
``level_ids`` empty = everyone (walk-ins too), else only members of those levels. Kinds:

* ``'discount'`` — the line costs ``rate_bp`` of its list amount (a RATE: 8000 = 8折) on
  ``discountable`` product/service lines, of the ``category_ids`` (empty = every category);
* ``'price'`` — a fixed unit price ``price_fen`` for ``product_ids`` (a price above the list
  price is ignored), e.g. a price for the 金卡 level during a members' day;
* ``'points'`` — earned points are multiplied by ``points_multiplier`` (2 = double points).
  Points are no discount: the quote only reports ``points_multiplier`` (the highest of the
  active points promotions that apply to the member, 1 when none) for the server to apply.

Stacking rules (decided once, here):

1. **A promotion price and member pricing never stack: the lowest line amount wins.** For a
   line the engine takes the best (lowest amount) applicable price promotion — ties to the
   promotion listed first (the server and the snapshot list them by id) — and compares it
   with the member-pricing amount of step 1; the promotion wins only when strictly lower (the
   member's own price wins a tie), and then the line's whole reduction is
   ``promotion_discount`` (``member_discount`` is 0) and ``price_source`` is ``'promotion'``.
   Open-price lines and count-card sales (次卡售卖) and activity sign-ups take no promotion.
2. **Coupons, manual discounts, count cards, the order discount and 抹零 all apply after the
   promotion**, on the amount it left, as before (a coupon's threshold counts the promoted
   amount). A promotion is not a manual discount: it never needs a manager's approval.
3. **Points promotions stack with everything** (they change what is earned, not the price);
   several points promotions do not multiply each other, the highest multiplier counts.

Distribution of order-level discounts
-------------------------------------
Steps 4–6 compute one figure for the whole order, then :func:`allocate` spreads it over the
lines it applies to in proportion to their current amounts using the largest-remainder method:
each line first gets ``floor(D × amount / subtotal)``; the fen still left over go one each to
the lines with the largest remainders, ties to the earlier line. Hence every line amount is a
whole fen, never negative, a line with amount 0 never receives a share, and
``sum(line.amount) == total`` exactly — refunds per line rely on this.

Staff limits
------------
A manual discount (line or order) is measured as a percentage OFF the list amount of the lines
it affects. Unless ``approved`` is true (a manager's approval was presented), quoting fails
with ``discount_needs_approval`` when (a) one line's manual discount, (b) the order discount,
or (c) all manual discounts together exceed ``max_discount_bp`` of the respective list amounts.
Member prices, coupons, count cards and rounding are not manual discounts. A quote reports
``needs_approval=True`` when it only passed because of the approval, so the server can record
the approver.

Points are a means of PAYMENT, not a discount: they never change a quote. Use
:func:`points_value_fen` and :func:`max_redeemable_points` when taking payment.

Errors are raised as :class:`PricingError` with a stable ``code`` and a short Chinese message
fit to show the cashier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from common.money import BP_100_PERCENT, FEN_PER_YUAN, format_fen, percent_of

__all__ = [
    "COUPON_KINDS",
    "LINE_KINDS",
    "PROMOTION_KINDS",
    "ROUNDING_UNITS",
    "Coupon",
    "LineQuote",
    "Member",
    "PriceLine",
    "PricingError",
    "Promotion",
    "Quote",
    "active_promotions",
    "allocate",
    "max_redeemable_points",
    "points_multiplier_for",
    "points_value_fen",
    "quote",
]

# --- constants ---------------------------------------------------------------------------

KIND_PRODUCT = "product"
KIND_SERVICE = "service"
KIND_COUNT_CARD_SALE = "count_card_sale"
KIND_ACTIVITY = "activity"  # an activity sign-up (活动报名) sold at the counter
LINE_KINDS = frozenset({KIND_PRODUCT, KIND_SERVICE, KIND_COUNT_CARD_SALE, KIND_ACTIVITY})
#: the line kinds a promotion may apply to
PROMOTABLE_KINDS = frozenset({KIND_PRODUCT, KIND_SERVICE})

PROMO_DISCOUNT = "discount"
PROMO_PRICE = "price"
PROMO_POINTS = "points"
PROMOTION_KINDS = frozenset({PROMO_DISCOUNT, PROMO_PRICE, PROMO_POINTS})
MAX_POINTS_MULTIPLIER = 10

COUPON_AMOUNT = "amount"
COUPON_PERCENT = "percent"
COUPON_KINDS = frozenset({COUPON_AMOUNT, COUPON_PERCENT})

#: Rounding mode → unit in fen. Rounding always goes down (抹零).
ROUNDING_UNITS: Mapping[str, int] = {"none": 1, "jiao": 10, "yuan": 100}

# Where a line's unit price came from (LineQuote.price_source).
SOURCE_LIST = "list"
SOURCE_OPEN = "open"
SOURCE_LEVEL_PRICE = "level_price"
SOURCE_MEMBER_PRICE = "member_price"
SOURCE_LEVEL_DISCOUNT = "level_discount"
SOURCE_PROMOTION = "promotion"

# Error codes.
INVALID_INPUT = "invalid_input"
INVALID_LINE = "invalid_line"
INVALID_QUANTITY = "invalid_quantity"
INVALID_PRICE = "invalid_price"
INVALID_DISCOUNT = "invalid_discount"
INVALID_ROUNDING = "invalid_rounding"
INVALID_POINTS = "invalid_points"
OPEN_PRICE_NOT_ALLOWED = "open_price_not_allowed"
COUNT_CARD_NOT_APPLICABLE = "count_card_not_applicable"
DISCOUNT_NEEDS_APPROVAL = "discount_needs_approval"
COUPON_THRESHOLD_NOT_MET = "coupon_threshold_not_met"
COUPON_NOT_APPLICABLE = "coupon_not_applicable"
INVALID_PROMOTION = "invalid_promotion"

_MSG_NEEDS_APPROVAL = "折扣超出权限，需要店长授权"


class PricingError(ValueError):
    """A quote cannot be made. ``code`` is stable (for programs), ``message`` is for people.

    ``field`` names the offending input (e.g. ``"qty"``, ``"order_discount_bp"``, ``"coupon"``)
    and ``line_id`` the line it belongs to, when there is one.
    """

    def __init__(
        self, code: str, message: str, field: str | None = None, line_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.line_id = line_id

    def __repr__(self) -> str:
        return (
            f"PricingError(code={self.code!r}, message={self.message!r}, "
            f"field={self.field!r}, line_id={self.line_id!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "field": self.field,
            "line_id": self.line_id,
        }


# --- small checks ------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _opt_int(value: object) -> bool:
    return value is None or _is_int(value)


def _check_money(
    value: object, field: str, line_id: str | None = None, *, optional: bool = False
) -> None:
    if optional and value is None:
        return
    if not _is_int(value) or value < 0:  # type: ignore[operator]
        raise PricingError(INVALID_PRICE, "价格无效：必须是不小于0的整数（分）", field, line_id)


def _check_bp(value: object, field: str, lo: int, line_id: str | None = None) -> None:
    if not _is_int(value) or not lo <= value <= BP_100_PERCENT:  # type: ignore[operator]
        raise PricingError(INVALID_DISCOUNT, "折扣比例无效", field, line_id)


def _check_bool(value: object, field: str, line_id: str | None = None) -> None:
    if not isinstance(value, bool):
        raise PricingError(INVALID_INPUT, "输入无效", field, line_id)


def _normalize_level_prices(
    value: Mapping[Any, Any] | Iterable[Any], line_id: str | None
) -> tuple[tuple[int, int], ...]:
    """Mapping or pairs → sorted tuple of ``(level_id, price_fen)``.

    Keys that arrive as decimal strings (JSON object keys are always strings) become ints.
    """
    try:
        pairs = list(value.items()) if isinstance(value, Mapping) else [tuple(p) for p in value]
    except TypeError:
        raise PricingError(INVALID_PRICE, "会员等级价格式无效", "level_prices", line_id) from None
    out: dict[int, int] = {}
    for pair in pairs:
        if len(pair) != 2:
            raise PricingError(INVALID_PRICE, "会员等级价格式无效", "level_prices", line_id)
        level, price = pair
        if isinstance(level, str) and level.strip().lstrip("-").isdigit():
            level = int(level)
        if not _is_int(level) or level in out:
            raise PricingError(INVALID_PRICE, "会员等级价格式无效", "level_prices", line_id)
        _check_money(price, "level_prices", line_id)
        out[level] = price
    return tuple(sorted(out.items()))


def _from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise PricingError(INVALID_INPUT, f"未知字段：{', '.join(unknown)}", unknown[0])
    try:
        return cls(**data)
    except TypeError as exc:  # a required field is missing
        raise PricingError(INVALID_INPUT, "缺少必填字段", None) from exc


# --- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PriceLine:
    """One cart line as the engine sees it. Validated on construction.

    ``level_prices`` accepts a mapping ``{level_id: price_fen}`` or pairs; it is stored as a
    sorted tuple of pairs so the object stays hashable and JSON-friendly.
    ``open_price`` is only honoured when ``open_price_allowed`` (from the product) is true;
    otherwise giving one is an error. Give at most one of ``manual_discount_bp`` (percent OFF)
    and ``manual_discount_fen`` (amount off).
    """

    line_id: str
    product_id: int
    qty: int
    list_price: int
    kind: str = KIND_PRODUCT
    category_id: int | None = None
    member_price: int | None = None
    level_prices: tuple[tuple[int, int], ...] | Mapping[int, int] = ()
    open_price: int | None = None
    open_price_allowed: bool = False
    manual_discount_bp: int = 0
    manual_discount_fen: int = 0
    count_card_id: int | None = None
    discountable: bool = True

    def __post_init__(self) -> None:
        lid = self.line_id
        if not isinstance(lid, str) or not lid:
            raise PricingError(INVALID_LINE, "商品行编号无效", "line_id")
        if not _is_int(self.product_id):
            raise PricingError(INVALID_LINE, "商品编号无效", "product_id", lid)
        if self.kind not in LINE_KINDS:
            raise PricingError(INVALID_LINE, "商品类型无效", "kind", lid)
        if not _opt_int(self.category_id):
            raise PricingError(INVALID_LINE, "商品分类无效", "category_id", lid)
        if not _is_int(self.qty) or self.qty <= 0:
            raise PricingError(INVALID_QUANTITY, "数量必须是大于0的整数", "qty", lid)
        _check_money(self.list_price, "list_price", lid)
        _check_money(self.member_price, "member_price", lid, optional=True)
        object.__setattr__(self, "level_prices", _normalize_level_prices(self.level_prices, lid))
        _check_bool(self.open_price_allowed, "open_price_allowed", lid)
        _check_bool(self.discountable, "discountable", lid)
        _check_money(self.open_price, "open_price", lid, optional=True)
        if self.open_price is not None and not self.open_price_allowed:
            raise PricingError(OPEN_PRICE_NOT_ALLOWED, "该商品不允许改价", "open_price", lid)
        _check_bp(self.manual_discount_bp, "manual_discount_bp", 0, lid)
        if not _is_int(self.manual_discount_fen) or self.manual_discount_fen < 0:
            raise PricingError(INVALID_DISCOUNT, "减免金额无效", "manual_discount_fen", lid)
        if self.manual_discount_bp and self.manual_discount_fen:
            raise PricingError(
                INVALID_DISCOUNT, "不能同时按比例和按金额打折", "manual_discount_fen", lid
            )
        if not _opt_int(self.count_card_id):
            raise PricingError(INVALID_LINE, "次卡编号无效", "count_card_id", lid)
        if self.count_card_id is not None:
            if self.kind == KIND_COUNT_CARD_SALE:
                raise PricingError(
                    COUNT_CARD_NOT_APPLICABLE, "次卡不能用来购买次卡", "count_card_id", lid
                )
            if self.manual_discount_bp or self.manual_discount_fen:
                raise PricingError(
                    INVALID_DISCOUNT, "次卡抵扣的项目不能再打折", "manual_discount_bp", lid
                )

    def level_price(self, level_id: int | None) -> int | None:
        """The fixed price for ``level_id``, or None."""
        if level_id is None:
            return None
        for level, price in self.level_prices:  # type: ignore[misc]
            if level == level_id:
                return price
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceLine:
        return _from_dict(cls, data)


@dataclass(frozen=True, kw_only=True)
class Member:
    """The member context of a sale (``None`` for a walk-in customer).

    ``level_discount_bp`` is a RATE (price paid): 9000 = 9折 = 10% off; 10000 = none.
    """

    level_id: int | None = None
    level_discount_bp: int = BP_100_PERCENT
    member_id: int | None = None

    def __post_init__(self) -> None:
        if not _opt_int(self.level_id):
            raise PricingError(INVALID_INPUT, "会员等级无效", "level_id")
        if not _opt_int(self.member_id):
            raise PricingError(INVALID_INPUT, "会员编号无效", "member_id")
        _check_bp(self.level_discount_bp, "level_discount_bp", 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Member:
        return _from_dict(cls, data)


@dataclass(frozen=True, kw_only=True)
class Coupon:
    """One coupon. ``kind='amount'`` takes ``amount_fen`` off (满减); ``kind='percent'`` makes
    the applicable lines cost ``percent_bp`` of their amount — a RATE, 8500 = 85折 = 15% off.

    ``threshold_fen`` is the minimum applicable subtotal; ``category_ids`` empty = all.
    """

    coupon_id: int | str
    kind: str
    amount_fen: int = 0
    percent_bp: int = BP_100_PERCENT
    threshold_fen: int = 0
    category_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not (_is_int(self.coupon_id) or (isinstance(self.coupon_id, str) and self.coupon_id)):
            raise PricingError(INVALID_DISCOUNT, "优惠券编号无效", "coupon_id")
        if self.kind not in COUPON_KINDS:
            raise PricingError(INVALID_DISCOUNT, "优惠券类型无效", "kind")
        if self.kind == COUPON_AMOUNT:
            if not _is_int(self.amount_fen) or self.amount_fen <= 0:
                raise PricingError(INVALID_DISCOUNT, "优惠券金额无效", "amount_fen")
        else:
            _check_bp(self.percent_bp, "percent_bp", 1)
        if not _is_int(self.threshold_fen) or self.threshold_fen < 0:
            raise PricingError(INVALID_DISCOUNT, "优惠券使用门槛无效", "threshold_fen")
        try:
            cats = tuple(self.category_ids)
        except TypeError:
            raise PricingError(INVALID_DISCOUNT, "优惠券分类无效", "category_ids") from None
        if not all(_is_int(c) for c in cats):
            raise PricingError(INVALID_DISCOUNT, "优惠券分类无效", "category_ids")
        object.__setattr__(self, "category_ids", tuple(sorted(set(cats))))

    def applies_to(self, line: PriceLine) -> bool:
        """Whether ``line`` may carry this coupon's discount."""
        if not line.discountable or line.count_card_id is not None:
            return False
        return not self.category_ids or line.category_id in self.category_ids

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Coupon:
        return _from_dict(cls, data)


def _int_tuple(value: object, field: str) -> tuple[int, ...]:
    try:
        items = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise PricingError(INVALID_PROMOTION, "促销适用范围无效", field) from None
    if not all(_is_int(x) for x in items):
        raise PricingError(INVALID_PROMOTION, "促销适用范围无效", field)
    return tuple(sorted(set(items)))


def _as_datetime(value: object, field: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise PricingError(INVALID_PROMOTION, "促销时间无效", field) from None
    if not isinstance(value, dt.datetime) or value.tzinfo is not None:
        raise PricingError(INVALID_PROMOTION, "促销时间无效", field)
    return value


@dataclass(frozen=True, kw_only=True)
class Promotion:
    """A promotion for a period (促销). See "Promotions (促销) and how they stack" above.

    ``starts_at`` / ``ends_at`` are naive SHOP-time datetimes (or ISO strings), half open.
    ``rate_bp`` is a RATE (price paid, 8000 = 8折) for ``kind='discount'``; ``price_fen`` the
    unit price for ``kind='price'``; ``points_multiplier`` (2..10) for ``kind='points'``.
    """

    promotion_id: int
    name: str
    kind: str
    starts_at: dt.datetime | str
    ends_at: dt.datetime | str
    rate_bp: int = BP_100_PERCENT
    price_fen: int = 0
    points_multiplier: int = 1
    category_ids: tuple[int, ...] = ()
    product_ids: tuple[int, ...] = ()
    level_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not _is_int(self.promotion_id):
            raise PricingError(INVALID_PROMOTION, "促销编号无效", "promotion_id")
        if not isinstance(self.name, str) or not self.name.strip():
            raise PricingError(INVALID_PROMOTION, "促销名称无效", "name")
        if self.kind not in PROMOTION_KINDS:
            raise PricingError(INVALID_PROMOTION, "促销类型无效", "kind")
        start = _as_datetime(self.starts_at, "starts_at")
        end = _as_datetime(self.ends_at, "ends_at")
        if end <= start:
            raise PricingError(INVALID_PROMOTION, "促销结束时间必须晚于开始时间", "ends_at")
        object.__setattr__(self, "starts_at", start)
        object.__setattr__(self, "ends_at", end)
        for name in ("category_ids", "product_ids", "level_ids"):
            object.__setattr__(self, name, _int_tuple(getattr(self, name), name))
        if self.kind == PROMO_DISCOUNT:
            if not _is_int(self.rate_bp) or not 1 <= self.rate_bp < BP_100_PERCENT:
                raise PricingError(INVALID_PROMOTION, "促销折扣应在 0.1 折到 9.9 折之间",
                                   "rate_bp")
        elif self.kind == PROMO_PRICE:
            _check_money(self.price_fen, "price_fen")
            if not self.product_ids:
                raise PricingError(INVALID_PROMOTION, "特价促销需要选择商品", "product_ids")
        elif (not _is_int(self.points_multiplier)
              or not 2 <= self.points_multiplier <= MAX_POINTS_MULTIPLIER):
            raise PricingError(INVALID_PROMOTION,
                               f"积分倍数应在 2 到 {MAX_POINTS_MULTIPLIER} 之间",
                               "points_multiplier")

    def active_at(self, at: dt.datetime) -> bool:
        """Whether ``at`` (naive shop time) lies in ``[starts_at, ends_at)``."""
        return self.starts_at <= at < self.ends_at  # type: ignore[operator]

    def applies_to_member(self, member: Member | None) -> bool:
        if not self.level_ids:
            return True
        return member is not None and member.level_id in self.level_ids

    def line_amount(self, line: PriceLine) -> int | None:
        """The line's amount under this promotion, or None when it does not apply (the
        member condition is checked by the caller)."""
        if line.kind not in PROMOTABLE_KINDS or line.open_price is not None:
            return None
        if self.kind == PROMO_DISCOUNT:
            if not line.discountable:
                return None
            if self.category_ids and line.category_id not in self.category_ids:
                return None
            return percent_of(line.list_price * line.qty, self.rate_bp)
        if self.kind == PROMO_PRICE:
            if line.product_id not in self.product_ids or self.price_fen >= line.list_price:
                return None
            return self.price_fen * line.qty
        return None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["starts_at"] = self.starts_at.isoformat()  # type: ignore[union-attr]
        data["ends_at"] = self.ends_at.isoformat()  # type: ignore[union-attr]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Promotion:
        return _from_dict(cls, data)


def active_promotions(promotions: Iterable[Promotion], at: dt.datetime | None) -> list[Promotion]:
    """The promotions running at ``at`` (naive shop time; None: all), in id order."""
    return sorted((p for p in promotions if at is None or p.active_at(at)),
                  key=lambda p: p.promotion_id)


def points_multiplier_for(promotions: Iterable[Promotion], member: Member | None,
                      at: dt.datetime | None = None) -> int:
    """The multiplier of earned points: the highest active points promotion for ``member``
    (walk-ins earn no points: 1)."""
    if member is None:
        return 1
    return max((p.points_multiplier for p in active_promotions(promotions, at)
                if p.kind == PROMO_POINTS and p.applies_to_member(member)), default=1)


# --- outputs -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LineQuote:
    """The priced line. ``amount = list_amount - every discount component`` (all in fen).

    ``unit_price`` is the unit price actually used before percent and manual discounts:
    the open price, the level/member price, or the list price (for ``'level_discount'`` the
    level percent is in ``member_discount``). ``price_source`` says which.
    """

    line_id: str
    product_id: int
    kind: str
    qty: int
    unit_price: int
    price_source: str
    list_amount: int
    member_discount: int
    manual_discount: int
    count_card_discount: int
    coupon_discount: int
    order_discount: int
    rounding_discount: int
    amount: int
    count_card_id: int | None = None
    promotion_discount: int = 0
    promotion_id: int | None = None
    promotion_name: str | None = None

    @property
    def discount_total(self) -> int:
        return (
            self.member_discount
            + self.promotion_discount
            + self.manual_discount
            + self.count_card_discount
            + self.coupon_discount
            + self.order_discount
            + self.rounding_discount
        )


@dataclass(frozen=True, kw_only=True)
class Quote:
    """The priced order. Every order figure is the sum of the same figure over ``lines``;
    ``total == sum(line.amount) == list_total - discount_total``."""

    lines: tuple[LineQuote, ...]
    list_total: int
    member_discount: int
    manual_discount: int
    count_card_discount: int
    coupon_discount: int
    order_discount: int
    rounding_discount: int
    total: int
    coupon_id: int | str | None
    rounding: str
    needs_approval: bool
    promotion_discount: int = 0
    points_multiplier: int = 1

    @property
    def discount_total(self) -> int:
        return (
            self.member_discount
            + self.promotion_discount
            + self.manual_discount
            + self.count_card_discount
            + self.coupon_discount
            + self.order_discount
            + self.rounding_discount
        )

    def line(self, line_id: str) -> LineQuote:
        for lq in self.lines:
            if lq.line_id == line_id:
                return lq
        raise KeyError(line_id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["discount_total"] = self.discount_total
        for line_data, lq in zip(data["lines"], self.lines, strict=True):
            line_data["discount_total"] = lq.discount_total
        return data


# --- distribution ------------------------------------------------------------------------


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` fen over ``weights`` proportionally (largest-remainder method).

    The shares sum to ``amount`` exactly; each is ``floor`` or ``floor + 1`` of its exact
    proportional value; leftover fen go to the largest remainders, ties to the earlier index.
    A weight of 0 gets 0. When ``amount <= sum(weights)`` no share exceeds its weight.

    >>> allocate(100, [1, 1, 1])
    [34, 33, 33]
    """
    if not _is_int(amount) or amount < 0:
        raise ValueError("amount must be a non-negative int")
    if any(not _is_int(w) or w < 0 for w in weights):
        raise ValueError("weights must be non-negative ints")
    total_weight = sum(weights)
    if amount == 0:
        return [0] * len(weights)
    if total_weight == 0:
        raise ValueError("cannot allocate over zero weights")
    shares: list[int] = []
    remainders: list[tuple[int, int]] = []
    for index, weight in enumerate(weights):
        share, remainder = divmod(amount * weight, total_weight)
        shares.append(share)
        remainders.append((-remainder, index))
    left = amount - sum(shares)
    for _, index in sorted(remainders)[:left]:
        shares[index] += 1
    return shares


# --- the engine --------------------------------------------------------------------------


@dataclass(eq=False)
class _Work:
    """Mutable per-line state while quoting."""

    line: PriceLine
    unit_price: int
    price_source: str
    list_amount: int
    amount: int
    member: int = 0
    promotion: int = 0
    promotion_id: int | None = None
    promotion_name: str | None = None
    manual: int = 0
    count_card: int = 0
    coupon: int = 0
    order: int = 0
    rounding: int = 0


def _member_pricing(line: PriceLine, member: Member | None) -> tuple[int, str, int, int]:
    """→ (unit_price, price_source, list_amount, amount after member pricing)."""
    if line.open_price is not None:
        unit = line.open_price
        return unit, SOURCE_OPEN, unit * line.qty, unit * line.qty
    list_amount = line.list_price * line.qty
    best = (line.list_price, SOURCE_LIST, list_amount)
    if member is None:
        return best[0], best[1], list_amount, best[2]
    fixed = line.level_price(member.level_id)
    source = SOURCE_LEVEL_PRICE
    if fixed is None:
        fixed, source = line.member_price, SOURCE_MEMBER_PRICE
    if fixed is not None and fixed < line.list_price:
        best = (fixed, source, fixed * line.qty)
    if line.discountable and member.level_discount_bp < BP_100_PERCENT:
        pct_amount = percent_of(list_amount, member.level_discount_bp)
        if pct_amount < best[2]:
            best = (line.list_price, SOURCE_LEVEL_DISCOUNT, pct_amount)
    return best[0], best[1], list_amount, best[2]


def _best_promotion(line: PriceLine, member: Member | None,
                    promotions: Sequence[Promotion]) -> tuple[int, Promotion] | None:
    """The lowest amount any applicable price promotion gives ``line`` (ties: the first)."""
    best: tuple[int, Promotion] | None = None
    for promo in promotions:
        if promo.kind == PROMO_POINTS or not promo.applies_to_member(member):
            continue
        amount = promo.line_amount(line)
        if amount is not None and (best is None or amount < best[0]):
            best = (amount, promo)
    return best


def _spread(work: Sequence[_Work], discount: int, attr: str) -> None:
    """Distribute ``discount`` over ``work`` by current amount and record it under ``attr``."""
    if discount == 0:
        return
    shares = allocate(discount, [w.amount for w in work])
    for w, share in zip(work, shares, strict=True):
        setattr(w, attr, getattr(w, attr) + share)
        w.amount -= share


def _exceeds(discount: int, base: int, max_bp: int) -> bool:
    """Whether ``discount`` is more than ``max_bp`` (percent off) of ``base`` — exact integers."""
    return discount * BP_100_PERCENT > max_bp * base


def quote(
    lines: Sequence[PriceLine],
    member: Member | None = None,
    coupon: Coupon | None = None,
    *,
    order_discount_bp: int = 0,
    order_discount_fen: int = 0,
    max_discount_bp: int = BP_100_PERCENT,
    approved: bool = False,
    rounding: str = "none",
    promotions: Sequence[Promotion] = (),
    at: dt.datetime | None = None,
) -> Quote:
    """Price an order. See the module docstring for the rules; raises :class:`PricingError`.

    ``promotions``: the shop's promotions; those whose window holds ``at`` (naive shop time;
    None: all of them) take part.

    ``order_discount_bp`` is percent OFF (1500 = 15% off), ``order_discount_fen`` an amount off;
    give at most one. ``max_discount_bp`` is the acting role's maximum manual discount (percent
    OFF); ``approved`` means a manager approved going beyond it.
    """
    # -- validate the order-level inputs
    for line in lines:
        if not isinstance(line, PriceLine):
            raise PricingError(INVALID_LINE, "商品行无效", "lines")
    seen: set[str] = set()
    for line in lines:
        if line.line_id in seen:
            raise PricingError(INVALID_LINE, "商品行重复", "lines", line.line_id)
        seen.add(line.line_id)
    if member is not None and not isinstance(member, Member):
        raise PricingError(INVALID_INPUT, "会员信息无效", "member")
    if coupon is not None and not isinstance(coupon, Coupon):
        raise PricingError(INVALID_DISCOUNT, "优惠券无效", "coupon")
    _check_bp(order_discount_bp, "order_discount_bp", 0)
    if not _is_int(order_discount_fen) or order_discount_fen < 0:
        raise PricingError(INVALID_DISCOUNT, "减免金额无效", "order_discount_fen")
    if order_discount_bp and order_discount_fen:
        raise PricingError(INVALID_DISCOUNT, "不能同时按比例和按金额打折", "order_discount_fen")
    _check_bp(max_discount_bp, "max_discount_bp", 0)
    _check_bool(approved, "approved")
    if rounding not in ROUNDING_UNITS:
        raise PricingError(INVALID_ROUNDING, "抹零方式无效", "rounding")
    if any(not isinstance(p, Promotion) for p in promotions):
        raise PricingError(INVALID_PROMOTION, "促销无效", "promotions")
    active = active_promotions(promotions, at)

    # -- 1. member pricing, 2. manual line discount, 3. count card
    work: list[_Work] = []
    for line in lines:
        unit, source, list_amount, amount = _member_pricing(line, member)
        w = _Work(line, unit, source, list_amount, amount, member=list_amount - amount)
        promo = _best_promotion(line, member, active)
        if promo is not None and promo[0] < w.amount:  # strictly lower: the member's wins ties
            promo_amount, p = promo
            w.unit_price = p.price_fen if p.kind == PROMO_PRICE else line.list_price
            w.price_source, w.amount, w.member = SOURCE_PROMOTION, promo_amount, 0
            w.promotion = list_amount - promo_amount
            w.promotion_id, w.promotion_name = p.promotion_id, p.name
        if line.manual_discount_bp:
            paid_bp = BP_100_PERCENT - line.manual_discount_bp
            w.manual = w.amount - percent_of(w.amount, paid_bp)
        else:
            w.manual = min(line.manual_discount_fen, w.amount)
        w.amount -= w.manual
        if line.count_card_id is not None:
            w.count_card, w.amount = w.amount, 0
        work.append(w)

    # -- 4. coupon
    if coupon is not None:
        applicable = [w for w in work if coupon.applies_to(w.line) and w.amount > 0]
        subtotal = sum(w.amount for w in applicable)
        if subtotal == 0:
            raise PricingError(COUPON_NOT_APPLICABLE, "本单没有可用此优惠券的商品", "coupon")
        if subtotal < coupon.threshold_fen:
            raise PricingError(
                COUPON_THRESHOLD_NOT_MET,
                f"未达到优惠券使用门槛：满{format_fen(coupon.threshold_fen)}可用，"
                f"当前可用商品金额{format_fen(subtotal)}",
                "coupon",
            )
        if coupon.kind == COUPON_AMOUNT:
            discount = min(coupon.amount_fen, subtotal)
        else:
            discount = subtotal - percent_of(subtotal, coupon.percent_bp)
        _spread(applicable, discount, "coupon")

    # -- 5. order discount
    order_lines = [w for w in work if w.line.discountable and w.line.count_card_id is None]
    order_positive = [w for w in order_lines if w.amount > 0]
    subtotal = sum(w.amount for w in order_positive)
    if order_discount_bp:
        discount = subtotal - percent_of(subtotal, BP_100_PERCENT - order_discount_bp)
    else:
        discount = min(order_discount_fen, subtotal)
    _spread(order_positive, discount, "order")
    order_discount = discount

    # -- 6. rounding (抹零), always down
    unit = ROUNDING_UNITS[rounding]
    positive = [w for w in work if w.amount > 0]
    _spread(positive, sum(w.amount for w in positive) % unit, "rounding")

    # -- staff limit on manual discounts
    violation: tuple[str, str | None] | None = None
    for w in work:
        if w.manual and _exceeds(w.manual, w.list_amount, max_discount_bp):
            violation = ("manual_discount", w.line.line_id)
            break
    if violation is None and order_discount:
        order_base = sum(w.list_amount for w in order_lines)
        if _exceeds(order_discount, order_base, max_discount_bp):
            violation = ("order_discount", None)
    if violation is None:
        affected = [w for w in work if w.manual or (order_discount and w in order_lines)]
        manual_total = sum(w.manual for w in affected) + order_discount
        if manual_total and _exceeds(
            manual_total, sum(w.list_amount for w in affected), max_discount_bp
        ):
            violation = ("order_discount", None)
    if violation is not None and not approved:
        raise PricingError(DISCOUNT_NEEDS_APPROVAL, _MSG_NEEDS_APPROVAL, *violation)

    line_quotes = tuple(
        LineQuote(
            line_id=w.line.line_id,
            product_id=w.line.product_id,
            kind=w.line.kind,
            qty=w.line.qty,
            unit_price=w.unit_price,
            price_source=w.price_source,
            list_amount=w.list_amount,
            member_discount=w.member,
            manual_discount=w.manual,
            count_card_discount=w.count_card,
            coupon_discount=w.coupon,
            order_discount=w.order,
            rounding_discount=w.rounding,
            amount=w.amount,
            count_card_id=w.line.count_card_id,
            promotion_discount=w.promotion,
            promotion_id=w.promotion_id,
            promotion_name=w.promotion_name,
        )
        for w in work
    )
    return Quote(
        lines=line_quotes,
        list_total=sum(lq.list_amount for lq in line_quotes),
        member_discount=sum(lq.member_discount for lq in line_quotes),
        promotion_discount=sum(lq.promotion_discount for lq in line_quotes),
        manual_discount=sum(lq.manual_discount for lq in line_quotes),
        count_card_discount=sum(lq.count_card_discount for lq in line_quotes),
        coupon_discount=sum(lq.coupon_discount for lq in line_quotes),
        order_discount=sum(lq.order_discount for lq in line_quotes),
        rounding_discount=sum(lq.rounding_discount for lq in line_quotes),
        total=sum(lq.amount for lq in line_quotes),
        coupon_id=coupon.coupon_id if coupon is not None else None,
        rounding=rounding,
        needs_approval=violation is not None,
        points_multiplier=points_multiplier_for(active, member),
    )


# --- points (a payment, not a discount) --------------------------------------------------


def _check_rate(points_per_yuan_redeem: object) -> None:
    if not _is_int(points_per_yuan_redeem) or points_per_yuan_redeem <= 0:  # type: ignore[operator]
        raise PricingError(INVALID_POINTS, "积分抵现比例无效", "points_per_yuan_redeem")


def points_value_fen(points: int, points_per_yuan_redeem: int) -> int:
    """What ``points`` are worth in fen when ``points_per_yuan_redeem`` points = ¥1.

    Rounded down (points never pay more than they are worth): 150 points at 100/¥ = 150 fen;
    1 point at 150/¥ = 0 fen.
    """
    _check_rate(points_per_yuan_redeem)
    if not _is_int(points) or points < 0:
        raise PricingError(INVALID_POINTS, "积分数量无效", "points")
    return points * FEN_PER_YUAN // points_per_yuan_redeem


def max_redeemable_points(
    total_fen: int,
    balance_points: int,
    points_per_yuan_redeem: int,
    max_fraction_bp: int = BP_100_PERCENT,
) -> int:
    """The most points that may pay for an order of ``total_fen``.

    The value may not exceed ``percent_of(total_fen, max_fraction_bp)`` (e.g. 5000 = at most
    half the order) nor the balance; of the points reaching the largest such value the fewest
    are returned, so no point is spent for nothing.
    """
    _check_rate(points_per_yuan_redeem)
    if not _is_int(total_fen) or total_fen < 0:
        raise PricingError(INVALID_PRICE, "金额无效", "total_fen")
    if not _is_int(balance_points) or balance_points < 0:
        raise PricingError(INVALID_POINTS, "积分数量无效", "balance_points")
    _check_bp(max_fraction_bp, "max_fraction_bp", 0)
    rate = points_per_yuan_redeem
    cap_fen = percent_of(total_fen, max_fraction_bp)
    # the most points whose value is still <= cap_fen: 100*p < (cap_fen + 1) * rate
    most = min(balance_points, ((cap_fen + 1) * rate - 1) // FEN_PER_YUAN)
    value = points_value_fen(most, rate)
    return -(-value * rate // FEN_PER_YUAN)  # fewest points worth that value
