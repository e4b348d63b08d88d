"""Promotions (促销) in the pricing engine: hand-computed examples of every kind, the window,
the stacking rules with member pricing, coupons, manual discounts and points, bad input, and
properties over random carts. Pure logic: no database."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from common.pricing import (
    Coupon,
    Member,
    PriceLine,
    PricingError,
    Promotion,
    active_promotions,
    points_multiplier_for,
    quote,
)
from tests.test_pricing import assert_consistent, orders, raises_code

T0 = dt.datetime(2026, 12, 5, 0, 0)
T1 = dt.datetime(2026, 12, 8, 0, 0)
AT = dt.datetime(2026, 12, 6, 15, 30)
GOLD = Member(level_id=2, level_discount_bp=9000, member_id=7)


def line(line_id="L1", list_price=10000, qty=1, **kw) -> PriceLine:
    kw.setdefault("product_id", 1)
    return PriceLine(line_id=line_id, qty=qty, list_price=list_price, **kw)


def promo(pid=1, kind="discount", **kw) -> Promotion:
    kw.setdefault("starts_at", T0)
    kw.setdefault("ends_at", T1)
    if kind == "discount":
        kw.setdefault("rate_bp", 8000)
    if kind == "points":
        kw.setdefault("points_multiplier", 2)
    return Promotion(promotion_id=pid, name=kw.pop("name", f"促销{pid}"), kind=kind, **kw)


def test_category_discount_eight_tenths_on_care_only():
    care = promo(category_ids=(3,), name="护理8折")
    q = quote([line("a", 12800, category_id=3), line("b", 5000, category_id=4)],
              promotions=[care], at=AT)
    a, b = q.lines
    assert (a.amount, a.promotion_discount, a.price_source) == (10240, 2560, "promotion")
    assert (a.promotion_id, a.promotion_name) == (1, "护理8折")
    assert (b.amount, b.promotion_discount, b.promotion_id) == (5000, 0, None)
    assert q.promotion_discount == 2560 and q.total == 15240
    assert_consistent(q)


def test_discount_rounds_half_up_per_line_and_skips_non_discountable():
    # 80% of 3 × 19.95 = 4788 fen exactly; 80% of 1999 = 1599.2 → 1599
    q = quote([line("a", 1995, qty=3), line("b", 1999), line("c", 5000, discountable=False)],
              promotions=[promo()], at=AT)
    assert [lq.amount for lq in q.lines] == [4788, 1599, 5000]
    assert_consistent(q)


def test_price_for_a_level_only_for_members_of_it():
    special = promo(kind="price", price_fen=6600, product_ids=(1,), level_ids=(2,),
                    name="金卡特价")
    lines = [line("a", 9900, qty=2)]
    walk_in = quote(lines, promotions=[special], at=AT)
    silver = quote(lines, Member(level_id=1), promotions=[special], at=AT)
    gold = quote(lines, GOLD, promotions=[special], at=AT)
    assert walk_in.total == silver.total == 19800
    assert gold.lines[0].unit_price == 6600 and gold.total == 13200
    assert (gold.lines[0].member_discount, gold.lines[0].promotion_discount) == (0, 6600)


def test_a_price_above_the_list_price_is_ignored():
    q = quote([line("a", 5000)], promotions=[promo(kind="price", price_fen=6000,
                                                   product_ids=(1,))], at=AT)
    assert q.total == 5000 and q.lines[0].promotion_id is None


def test_window_is_half_open_in_shop_time():
    p = promo()
    lines = [line()]
    assert quote(lines, promotions=[p], at=T0).total == 8000  # the first moment counts
    assert quote(lines, promotions=[p], at=T1).total == 10000  # the end is exclusive
    assert quote(lines, promotions=[p], at=T0 - dt.timedelta(seconds=1)).total == 10000
    assert quote(lines, promotions=[p]).total == 8000  # at=None: every promotion given
    assert active_promotions([promo(2), promo(1)], AT)[0].promotion_id == 1


# --- stacking ----------------------------------------------------------------------------


def test_member_pricing_and_promotion_do_not_stack_the_lower_wins():
    # 9折 member (9000) vs 8折 promotion: the promotion, alone
    q = quote([line()], GOLD, promotions=[promo()], at=AT)
    assert (q.lines[0].amount, q.lines[0].member_discount, q.lines[0].promotion_discount) == (
        8000, 0, 2000)
    # 7折 member: the member's level wins, no promotion
    q = quote([line()], Member(level_id=2, level_discount_bp=7000), promotions=[promo()],
              at=AT)
    assert (q.lines[0].amount, q.lines[0].price_source, q.lines[0].promotion_id) == (
        7000, "level_discount", None)
    # a member price that equals the promotion wins the tie
    q = quote([line(member_price=8000)], GOLD, promotions=[promo()], at=AT)
    assert (q.lines[0].price_source, q.lines[0].promotion_discount) == ("member_price", 0)


def test_best_of_several_promotions_ties_to_the_lower_id():
    q = quote([line(category_id=3)], promotions=[
        promo(2, rate_bp=7000, category_ids=(3,)), promo(1, rate_bp=8000),
        promo(3, rate_bp=7000)], at=AT)
    assert (q.lines[0].amount, q.lines[0].promotion_id) == (7000, 2)


def test_coupon_applies_after_the_promotion_and_counts_the_promoted_amount():
    coupon = Coupon(coupon_id=9, kind="amount", amount_fen=1000, threshold_fen=9000)
    # promoted to 80.00: below the 90.00 threshold
    raises_code("coupon_threshold_not_met", quote, [line()], GOLD, coupon,
                promotions=[promo()], at=AT)
    q = quote([line(list_price=12000)], GOLD, coupon, promotions=[promo()], at=AT)
    assert (q.promotion_discount, q.coupon_discount, q.total) == (2400, 1000, 8600)
    pct = Coupon(coupon_id=9, kind="percent", percent_bp=9000)
    q = quote([line()], GOLD, pct, promotions=[promo()], at=AT)
    assert q.total == 7200  # 8折 then 9折 on what is left


def test_manual_and_order_discounts_after_a_promotion_need_no_approval_for_it():
    # cashier limit 10 % off; the promotion's 20 % is not a manual discount
    q = quote([line(manual_discount_bp=1000)], promotions=[promo()], at=AT,
              max_discount_bp=1000, order_discount_fen=0)
    assert (q.promotion_discount, q.manual_discount, q.total) == (2000, 800, 7200)
    assert q.needs_approval is False
    q = quote([line()], promotions=[promo()], at=AT, order_discount_bp=500,
              max_discount_bp=1000, rounding="yuan")
    assert (q.order_discount, q.total) == (400, 7600)


def test_no_promotion_on_open_price_count_card_sale_or_activity_lines():
    lines = [line("a", 0, open_price=5000, open_price_allowed=True),
             # as the server builds them: not discountable
             line("b", 12000, kind="count_card_sale", product_id=0, discountable=False),
             line("c", 8800, kind="activity", product_id=0, discountable=False)]
    q = quote(lines, GOLD, promotions=[promo(), promo(2, kind="price", price_fen=1,
                                                      product_ids=(0,))], at=AT)
    assert all(lq.promotion_discount == 0 and lq.promotion_id is None for lq in q.lines)
    assert q.total == 5000 + 12000 + 8800


def test_points_multiplier_highest_for_members_only():
    double = promo(1, kind="points", name="双倍积分")
    triple_gold = promo(2, kind="points", points_multiplier=3, level_ids=(2,))
    ps = [double, triple_gold]
    assert quote([line()], promotions=ps, at=AT).points_multiplier == 1  # a walk-in
    assert quote([line()], Member(level_id=1), promotions=ps, at=AT).points_multiplier == 2
    q = quote([line()], GOLD, promotions=ps, at=AT)
    assert q.points_multiplier == 3 and q.total == 9000  # points change no price
    assert quote([line()], GOLD, promotions=ps, at=T1).points_multiplier == 1
    assert points_multiplier_for(ps, GOLD, AT) == 3


# --- bad input ---------------------------------------------------------------------------


def test_bad_promotions_refused():
    raises_code("invalid_promotion", promo, rate_bp=10000)
    raises_code("invalid_promotion", promo, rate_bp=0)
    raises_code("invalid_promotion", promo, ends_at=T0)
    raises_code("invalid_promotion", promo, kind="price", price_fen=100)  # no product
    raises_code("invalid_promotion", promo, kind="points", points_multiplier=1)
    raises_code("invalid_promotion", promo, kind="points", points_multiplier=11)
    raises_code("invalid_promotion", promo, kind="gift")
    raises_code("invalid_promotion", promo, name=" ")
    raises_code("invalid_promotion", promo, starts_at="not a time")
    raises_code("invalid_promotion", promo, starts_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    raises_code("invalid_promotion", quote, [line()], promotions=["8折"])


def test_round_trip_through_json_dicts():
    p = promo(category_ids=(3, 1, 3), level_ids=(2,))
    again = Promotion.from_dict(p.to_dict())
    assert again == p and again.category_ids == (1, 3)


# --- properties --------------------------------------------------------------------------

promotions_st = st.lists(st.one_of(
    st.builds(promo, pid=st.integers(1, 20), rate_bp=st.integers(1, 9999),
              category_ids=st.lists(st.integers(1, 3), max_size=2).map(tuple),
              level_ids=st.lists(st.integers(1, 4), max_size=2).map(tuple)),
    st.builds(promo, pid=st.integers(1, 20), kind=st.just("price"),
              price_fen=st.integers(0, 200_000),
              product_ids=st.lists(st.integers(1, 50), min_size=1, max_size=5).map(tuple),
              level_ids=st.lists(st.integers(1, 4), max_size=2).map(tuple)),
    st.builds(promo, pid=st.integers(1, 20), kind=st.just("points"),
              points_multiplier=st.integers(2, 10)),
), max_size=4, unique_by=lambda p: p.promotion_id)


@settings(max_examples=300)
@given(orders(), promotions_st)
def test_promotions_keep_the_books_and_never_raise_a_price(order, promos):
    plain = {**order, "coupon": None}
    without = quote(**plain, approved=True)
    with_p = quote(**plain, approved=True, promotions=promos, at=AT)
    assert_consistent(with_p)
    assert with_p.promotion_discount == sum(lq.promotion_discount for lq in with_p.lines)
    for a, b in zip(without.lines, with_p.lines, strict=True):
        # after step 1 the line costs no more than without the promotions
        assert (b.list_amount - b.member_discount - b.promotion_discount
                <= a.list_amount - a.member_discount)
        assert b.member_discount == 0 or b.promotion_discount == 0  # never both
        assert (b.promotion_id is None) == (b.promotion_discount == 0)
    assert with_p.total <= without.total
    # with a coupon the books still balance (or the coupon is refused for a good reason)
    try:
        q = quote(**order, approved=True, promotions=promos, at=AT)
    except PricingError as err:
        assert err.code in {"coupon_not_applicable", "coupon_threshold_not_met"}
        assert order["coupon"] is not None
    else:
        assert_consistent(q)
