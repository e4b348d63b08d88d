"""Tests of the pricing engine (common.pricing): hand-computed examples and properties.

Pure logic: no database, no server, no Qt.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from common.money import percent_of
from common.pricing import (
    ROUNDING_UNITS,
    Coupon,
    Member,
    PriceLine,
    PricingError,
    Quote,
    allocate,
    max_redeemable_points,
    points_value_fen,
    quote,
)

COMPONENTS = (
    "member_discount",
    "manual_discount",
    "count_card_discount",
    "coupon_discount",
    "order_discount",
    "rounding_discount",
)


def line(line_id: str = "L1", list_price: int = 10000, qty: int = 1, **kw) -> PriceLine:
    kw.setdefault("product_id", 1)
    return PriceLine(line_id=line_id, qty=qty, list_price=list_price, **kw)


def assert_consistent(q: Quote) -> None:
    """The bookkeeping identities every quote must satisfy."""
    assert q.total == sum(lq.amount for lq in q.lines)
    assert q.list_total == sum(lq.list_amount for lq in q.lines)
    assert q.total == q.list_total - q.discount_total
    for name in COMPONENTS:
        assert getattr(q, name) == sum(getattr(lq, name) for lq in q.lines)
    for lq in q.lines:
        assert lq.amount == lq.list_amount - lq.discount_total
        assert lq.amount >= 0
        for name in COMPONENTS:
            assert getattr(lq, name) >= 0


def raises_code(code: str, fn, *args, **kwargs) -> PricingError:
    with pytest.raises(PricingError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value
    assert info.value.message  # always something to show the cashier
    return info.value


# --- member pricing ----------------------------------------------------------------------


def test_member_level_nine_tenths():
    # 2 × ¥35.80 = ¥71.60; 9折 → ¥64.44
    q = quote([line(list_price=3580, qty=2)], Member(level_id=1, level_discount_bp=9000))
    lq = q.lines[0]
    assert (lq.list_amount, lq.member_discount, lq.amount) == (7160, 716, 6444)
    assert lq.price_source == "level_discount"
    assert lq.unit_price == 3580
    assert q.total == 6444
    assert_consistent(q)


def test_member_level_discount_rounds_half_up_per_line():
    # 90% of ¥19.95 = 1795.5 fen → 1796 (half up), discount 199
    q = quote([line(list_price=1995)], Member(level_id=1, level_discount_bp=9000))
    assert (q.total, q.member_discount) == (1796, 199)


def test_walk_in_gets_list_price_even_with_member_price():
    q = quote([line(list_price=5000, member_price=4200, level_prices={1: 3900})])
    assert (q.total, q.member_discount, q.lines[0].price_source) == (5000, 0, "list")


def test_member_price_beats_level_discount_when_lower():
    # member price ¥42.00 < 9折 ¥45.00 → ¥42.00, never both (not 42×0.9)
    q = quote(
        [line(list_price=5000, member_price=4200)], Member(level_id=1, level_discount_bp=9000)
    )
    lq = q.lines[0]
    assert (lq.unit_price, lq.price_source, lq.member_discount, lq.amount) == (
        4200,
        "member_price",
        800,
        4200,
    )


def test_level_discount_beats_member_price_when_lower():
    # member price ¥48.00 > 9折 ¥45.00 → ¥45.00
    q = quote(
        [line(list_price=5000, member_price=4800)], Member(level_id=1, level_discount_bp=9000)
    )
    assert (q.total, q.lines[0].price_source) == (4500, "level_discount")


def test_member_price_wins_a_tie_with_level_discount():
    q = quote(
        [line(list_price=5000, member_price=4500)], Member(level_id=1, level_discount_bp=9000)
    )
    assert (q.total, q.lines[0].price_source, q.lines[0].unit_price) == (4500, "member_price", 4500)


def test_level_price_takes_precedence_over_member_price():
    lvl = line(list_price=5000, member_price=4200, level_prices={2: 4400, 3: 3000})
    q = quote([lvl], Member(level_id=2))
    assert (q.total, q.lines[0].price_source) == (4400, "level_price")
    # a member of another level without a level price gets the general member price
    q = quote([lvl], Member(level_id=5))
    assert (q.total, q.lines[0].price_source) == (4200, "member_price")


def test_member_price_above_list_price_is_ignored():
    q = quote([line(list_price=1000, member_price=1200)], Member(level_id=1))
    assert (q.total, q.member_discount, q.lines[0].price_source) == (1000, 0, "list")


def test_level_prices_with_json_string_keys():
    from_json = json.loads(json.dumps({"7": 880}))
    lvl = line(list_price=1000, level_prices=from_json)
    assert lvl.level_prices == ((7, 880),)
    assert quote([lvl], Member(level_id=7)).total == 880


def test_non_discountable_line_gets_member_price_but_not_level_percent():
    member = Member(level_id=1, level_discount_bp=8000)
    plain = line("A", list_price=1000, discountable=False)
    priced = line("B", list_price=1000, member_price=950, discountable=False)
    q = quote([plain, priced], member)
    assert [lq.amount for lq in q.lines] == [1000, 950]


# --- manual line discounts ---------------------------------------------------------------


def test_manual_line_discount_percent_after_member_price():
    # 9折 → ¥90.00, then 10% off that → ¥81.00; manual 900 = 9% of list, within a 10% limit
    q = quote(
        [line(manual_discount_bp=1000)],
        Member(level_id=1, level_discount_bp=9000),
        max_discount_bp=1000,
    )
    lq = q.lines[0]
    assert (lq.member_discount, lq.manual_discount, lq.amount) == (1000, 900, 8100)
    assert q.needs_approval is False


def test_manual_line_discount_amount_is_capped_at_line_amount():
    q = quote([line(list_price=500, manual_discount_fen=800)])
    assert (q.manual_discount, q.total) == (500, 0)


def test_manual_line_discount_over_limit_needs_approval():
    big = line(list_price=10000, manual_discount_fen=2000)
    err = raises_code("discount_needs_approval", quote, [big], max_discount_bp=1000)
    assert err.message == "折扣超出权限，需要店长授权"
    assert err.line_id == "L1"
    q = quote([big], max_discount_bp=1000, approved=True)
    assert (q.total, q.needs_approval) == (8000, True)
    # exactly at the limit is allowed
    assert quote([line(manual_discount_fen=1000)], max_discount_bp=1000).total == 9000


def test_percent_and_amount_discount_together_rejected():
    raises_code("invalid_discount", line, manual_discount_bp=1000, manual_discount_fen=100)
    raises_code("invalid_discount", quote, [line()], order_discount_bp=1000, order_discount_fen=100)


@pytest.mark.parametrize("bp", [-1, 10001])
def test_discount_percent_out_of_range_rejected(bp):
    raises_code("invalid_discount", line, manual_discount_bp=bp)
    raises_code("invalid_discount", quote, [line()], order_discount_bp=bp)


# --- count cards -------------------------------------------------------------------------


def test_count_card_line_is_free_and_excluded_from_coupon():
    member = Member(level_id=1, level_discount_bp=9000)
    service = line("S", list_price=8800, qty=2, kind="service", count_card_id=7, category_id=1)
    goods = line("G", list_price=12000, category_id=1, discountable=True)
    coupon = Coupon(coupon_id=1, kind="amount", amount_fen=2000, threshold_fen=10000)
    q = quote([service, goods], member, coupon)
    s, g = q.lines
    # service: 17600 → 9折 15840 → paid by two card uses
    assert (s.member_discount, s.count_card_discount, s.amount) == (1760, 15840, 0)
    assert (s.coupon_discount, s.count_card_id) == (0, 7)
    # goods: 12000 → 9折 10800 ≥ 满100 → −20 → 8800
    assert (g.member_discount, g.coupon_discount, g.amount) == (1200, 2000, 8800)
    assert q.total == 8800
    assert_consistent(q)


def test_count_card_alone_does_not_meet_coupon():
    service = line("S", list_price=20000, kind="service", count_card_id=7)
    coupon = Coupon(coupon_id=1, kind="amount", amount_fen=2000)
    raises_code("coupon_not_applicable", quote, [service], None, coupon)


def test_count_card_cannot_buy_a_count_card_or_take_a_manual_discount():
    raises_code("count_card_not_applicable", line, kind="count_card_sale", count_card_id=3)
    raises_code("invalid_discount", line, count_card_id=3, manual_discount_bp=500)


# --- coupons -----------------------------------------------------------------------------

MAN100_JIAN20_CAT1 = Coupon(
    coupon_id="C1", kind="amount", amount_fen=2000, threshold_fen=10000, category_ids=(1,)
)


def test_coupon_100_minus_20_restricted_to_category():
    a = line("A", list_price=6000, category_id=1)
    b = line("B", list_price=5000, category_id=1)
    c = line("C", list_price=3000, category_id=2)
    q = quote([a, b, c], coupon=MAN100_JIAN20_CAT1)
    # 2000 over 6000:5000 → 1090.9 / 909.1 → 1091 / 909 (largest remainder gets the fen)
    assert [lq.coupon_discount for lq in q.lines] == [1091, 909, 0]
    assert [lq.amount for lq in q.lines] == [4909, 4091, 3000]
    assert (q.coupon_discount, q.total, q.coupon_id) == (2000, 12000, "C1")
    assert_consistent(q)


def test_coupon_threshold_counts_only_its_categories():
    a = line("A", list_price=6000, category_id=1)
    c = line("C", list_price=5000, category_id=2)  # order is ¥110 but only ¥60 in category 1
    err = raises_code("coupon_threshold_not_met", quote, [a, c], coupon=MAN100_JIAN20_CAT1)
    assert "¥100.00" in err.message and "¥60.00" in err.message
    assert err.field == "coupon"


def test_coupon_threshold_is_after_member_discount():
    a = line("A", list_price=10500, category_id=1)  # 9折 → ¥94.50 < ¥100
    assert quote([a], coupon=MAN100_JIAN20_CAT1).total == 8500
    raises_code(
        "coupon_threshold_not_met",
        quote,
        [a],
        Member(level_id=1, level_discount_bp=9000),
        MAN100_JIAN20_CAT1,
    )


def test_coupon_not_applicable_to_other_categories_or_non_discountable():
    other = line("C", list_price=50000, category_id=2)
    raises_code("coupon_not_applicable", quote, [other], None, MAN100_JIAN20_CAT1)
    locked = line("D", list_price=50000, category_id=1, discountable=False)
    raises_code("coupon_not_applicable", quote, [locked], None, MAN100_JIAN20_CAT1)


def test_amount_coupon_larger_than_subtotal_is_capped():
    coupon = Coupon(coupon_id=2, kind="amount", amount_fen=5000)
    q = quote(
        [line(list_price=3000), line("L2", list_price=1000, discountable=False)], coupon=coupon
    )
    assert (q.coupon_discount, q.total) == (3000, 1000)
    assert [lq.amount for lq in q.lines] == [0, 1000]


def test_percent_coupon():
    # 85折 on ¥100.00 → 1500 off, spread 3333:6667 → 499.95 / 1000.05 → 500 / 1000
    coupon = Coupon(coupon_id=3, kind="percent", percent_bp=8500)
    q = quote([line("A", list_price=3333), line("B", list_price=6667)], coupon=coupon)
    assert [lq.coupon_discount for lq in q.lines] == [500, 1000]
    assert [lq.amount for lq in q.lines] == [2833, 5667]
    assert q.total == 8500
    # on the subtotal, rounded half up: 85% of 1001 = 850.85 → pays 851
    assert quote([line(list_price=1001)], coupon=coupon).total == 851


# --- order discounts and staff limits ----------------------------------------------------


def test_order_discount_needs_approval_unless_approved():
    lines = [line("A", list_price=6000), line("B", list_price=4000)]
    err = raises_code(
        "discount_needs_approval", quote, lines, order_discount_bp=1500, max_discount_bp=1000
    )
    assert err.field == "order_discount"
    q = quote(lines, order_discount_bp=1500, max_discount_bp=1000, approved=True)
    assert [lq.order_discount for lq in q.lines] == [900, 600]
    assert (q.order_discount, q.total, q.needs_approval) == (1500, 8500, True)
    assert_consistent(q)
    # within the limit: no approval needed
    q = quote(lines, order_discount_bp=800, max_discount_bp=1000)
    assert (q.total, q.needs_approval) == (9200, False)


def test_fixed_order_discount_limit_boundary():
    lines = [line(list_price=10000)]
    assert quote(lines, order_discount_fen=1000, max_discount_bp=1000).total == 9000
    raises_code(
        "discount_needs_approval", quote, lines, order_discount_fen=1001, max_discount_bp=1000
    )


def test_line_and_order_discounts_together_are_limited():
    # 10% on the line (1000) then 10% on the order (900): 19% of list > 10%
    lines = [line(manual_discount_bp=1000)]
    raises_code(
        "discount_needs_approval", quote, lines, order_discount_bp=1000, max_discount_bp=1000
    )
    assert quote(lines, order_discount_bp=1000, max_discount_bp=1900).total == 8100


def test_member_discount_does_not_count_against_staff_limit():
    q = quote([line()], Member(level_id=1, level_discount_bp=5000), max_discount_bp=0)
    assert (q.total, q.needs_approval) == (5000, False)


def test_order_discount_skips_non_discountable_and_fixed_is_capped():
    lines = [line("A", list_price=3000), line("B", list_price=7000, discountable=False)]
    q = quote(lines, order_discount_fen=5000)
    assert [lq.order_discount for lq in q.lines] == [3000, 0]
    assert q.total == 7000


# --- rounding (抹零) ---------------------------------------------------------------------


def test_rounding_to_jiao_and_yuan():
    lines = [line("A", list_price=10000), line("B", list_price=2345)]
    q = quote(lines, rounding="jiao")
    assert (q.total, q.rounding_discount) == (12340, 5)
    q = quote(lines, rounding="yuan")
    # 45 over 10000:2345 → 36.45 / 8.55 → 36 / 9
    assert (q.total, q.rounding_discount) == (12300, 45)
    assert [lq.rounding_discount for lq in q.lines] == [36, 9]
    assert [lq.amount for lq in q.lines] == [9964, 2336]
    assert quote(lines, rounding="none").total == 12345
    raises_code("invalid_rounding", quote, lines, rounding="fen")


def test_rounding_never_rounds_up():
    assert quote([line(list_price=1999)], rounding="yuan").total == 1900
    assert quote([line(list_price=99)], rounding="yuan").total == 0


# --- open price --------------------------------------------------------------------------


def test_open_price_allowed_replaces_list_price():
    svc = line(list_price=0, qty=2, kind="service", open_price=2500, open_price_allowed=True)
    q = quote([svc], Member(level_id=1, level_discount_bp=9000))
    lq = q.lines[0]
    assert (lq.unit_price, lq.price_source, lq.list_amount) == (2500, "open", 5000)
    assert (lq.member_discount, lq.amount) == (0, 5000)


def test_open_price_allowed_but_not_given_uses_list_price():
    q = quote([line(list_price=800, open_price_allowed=True)])
    assert (q.total, q.lines[0].price_source) == (800, "list")


def test_open_price_denied():
    err = raises_code("open_price_not_allowed", line, list_price=1000, open_price=500)
    assert (err.field, err.line_id) == ("open_price", "L1")


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize("qty", [0, -1, 1.5, True, "2"])
def test_invalid_quantity(qty):
    raises_code("invalid_quantity", line, qty=qty)


@pytest.mark.parametrize("price", [-1, 12.5, "100", None])
def test_invalid_list_price(price):
    raises_code("invalid_price", line, list_price=price)


def test_duplicate_line_ids_rejected():
    raises_code("invalid_line", quote, [line("X"), line("X")])


def test_invalid_member_and_coupon_settings_rejected():
    raises_code("invalid_discount", Member, level_id=1, level_discount_bp=0)
    raises_code("invalid_discount", Coupon, coupon_id=1, kind="percent", percent_bp=0)
    raises_code("invalid_discount", Coupon, coupon_id=1, kind="amount", amount_fen=0)
    raises_code("invalid_discount", Coupon, coupon_id=1, kind="gift")


def test_empty_order_is_zero():
    q = quote([], rounding="yuan", order_discount_fen=100)
    assert (q.total, q.lines, q.order_discount) == (0, (), 0)


def test_inputs_round_trip_through_json():
    pl = line(level_prices={3: 700}, category_id=4, manual_discount_fen=5)
    again = PriceLine.from_dict(json.loads(json.dumps(pl.to_dict())))
    assert again == pl
    c = MAN100_JIAN20_CAT1
    assert Coupon.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    m = Member(level_id=2, level_discount_bp=9500, member_id=9)
    assert Member.from_dict(json.loads(json.dumps(m.to_dict()))) == m
    raises_code("invalid_input", PriceLine.from_dict, {**pl.to_dict(), "price": 1})
    data = json.loads(json.dumps(quote([pl]).to_dict()))
    assert data["total"] == 9995 and data["lines"][0]["manual_discount"] == 5
    assert data["discount_total"] == data["lines"][0]["discount_total"] == 5


# --- points ------------------------------------------------------------------------------


def test_points_value():
    assert points_value_fen(250, 100) == 250
    assert points_value_fen(150, 150) == 100
    assert points_value_fen(1, 150) == 0  # never worth more than the rate says
    raises_code("invalid_points", points_value_fen, 10, 0)
    raises_code("invalid_points", points_value_fen, -1, 100)


def test_max_redeemable_points():
    # at most half of ¥50.00 with 100 points = ¥1 → ¥25.00 = 2500 points
    assert max_redeemable_points(5000, 100000, 100, 5000) == 2500
    # limited by the balance
    assert max_redeemable_points(5000, 300, 100) == 300
    # 150 points = ¥1: ¥10.00 needs 1500 points (1501 would buy nothing more)
    assert max_redeemable_points(1000, 10000, 150) == 1500
    # 50 points = ¥1 (2 fen each): ¥10.01 → 500 points = ¥10.00, never over the total
    assert max_redeemable_points(1001, 10000, 50) == 500


# --- allocation --------------------------------------------------------------------------


def test_allocate_examples():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(5, [0, 10, 0]) == [0, 5, 0]
    assert allocate(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError):
        allocate(1, [0, 0])


@given(
    amount=st.integers(0, 10**7), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=12)
)
def test_allocate_properties(amount, weights):
    assume(sum(weights) > 0)
    shares = allocate(amount, weights)
    total = sum(weights)
    assert sum(shares) == amount
    for share, weight in zip(shares, weights, strict=True):
        floor = amount * weight // total  # the exact share is amount * weight / total
        assert share in (floor, floor + 1)
        if floor * total == amount * weight:
            assert share == floor  # an exact share is never topped up
        if weight == 0:
            assert share == 0
        if amount <= total:
            assert share <= weight


# --- property tests on quote -------------------------------------------------------------

prices = st.integers(0, 200_000)
levels = st.integers(1, 4)


@st.composite
def price_lines(draw, line_id: str) -> PriceLine:
    list_price = draw(prices)
    open_allowed = draw(st.booleans())
    count_card = draw(st.one_of(st.none(), st.integers(1, 3)))
    kind = draw(
        st.sampled_from(
            ["product", "service"] if count_card else ["product", "service", "count_card_sale"]
        )
    )
    manual = draw(st.sampled_from(["none", "bp", "fen"])) if count_card is None else "none"
    return PriceLine(
        line_id=line_id,
        product_id=draw(st.integers(1, 50)),
        kind=kind,
        category_id=draw(st.one_of(st.none(), st.integers(1, 3))),
        qty=draw(st.integers(1, 20)),
        list_price=list_price,
        member_price=draw(st.one_of(st.none(), prices)),
        level_prices=draw(st.dictionaries(levels, prices, max_size=2)),
        open_price=draw(st.one_of(st.none(), prices)) if open_allowed else None,
        open_price_allowed=open_allowed,
        manual_discount_bp=draw(st.integers(0, 10000)) if manual == "bp" else 0,
        manual_discount_fen=draw(st.integers(0, 300_000)) if manual == "fen" else 0,
        count_card_id=count_card,
        discountable=draw(st.booleans()),
    )


@st.composite
def orders(draw) -> dict:
    n = draw(st.integers(0, 8))
    lines = [draw(price_lines(f"L{i}")) for i in range(n)]
    member = draw(
        st.one_of(
            st.none(),
            st.builds(
                Member,
                level_id=st.one_of(st.none(), levels),
                level_discount_bp=st.integers(1, 10000),
            ),
        )
    )
    coupon = draw(
        st.one_of(
            st.none(),
            st.builds(
                Coupon,
                coupon_id=st.integers(1, 9),
                kind=st.just("amount"),
                amount_fen=st.integers(1, 500_000),
                threshold_fen=st.integers(0, 100_000),
                category_ids=st.lists(st.integers(1, 3), max_size=2).map(tuple),
            ),
            st.builds(
                Coupon,
                coupon_id=st.integers(1, 9),
                kind=st.just("percent"),
                percent_bp=st.integers(1, 10000),
                threshold_fen=st.integers(0, 100_000),
                category_ids=st.lists(st.integers(1, 3), max_size=2).map(tuple),
            ),
        )
    )
    order_kind = draw(st.sampled_from(["none", "bp", "fen"]))
    return {
        "lines": lines,
        "member": member,
        "coupon": coupon,
        "order_discount_bp": draw(st.integers(0, 10000)) if order_kind == "bp" else 0,
        "order_discount_fen": draw(st.integers(0, 500_000)) if order_kind == "fen" else 0,
        "rounding": draw(st.sampled_from(sorted(ROUNDING_UNITS))),
    }


def quote_or_coupon_error(order: dict, **extra) -> Quote | None:
    """Quote, or None when the drawn coupon legitimately does not apply (checked here)."""
    try:
        return quote(**order, approved=True, **extra)
    except PricingError as err:
        coupon = order["coupon"]
        assert coupon is not None
        assert err.code in {"coupon_not_applicable", "coupon_threshold_not_met"}
        # prove the error was right: the same order without the coupon shows why
        plain = quote(**{**order, "coupon": None}, approved=True, **extra)
        subtotal = sum(
            lq.list_amount - lq.member_discount - lq.manual_discount - lq.count_card_discount
            for lq, pl in zip(plain.lines, order["lines"], strict=True)
            if coupon.applies_to(pl)
        )
        if err.code == "coupon_not_applicable":
            assert subtotal == 0
        else:
            assert 0 < subtotal < coupon.threshold_fen
        return None


@settings(max_examples=300)
@given(orders())
def test_quote_invariants(order):
    q = quote_or_coupon_error(order)
    if q is None:
        return
    assert_consistent(q)
    unit = ROUNDING_UNITS[order["rounding"]]
    assert 0 <= q.rounding_discount < unit
    assert q.total % unit == 0
    assert q.total >= 0
    assert len(q.lines) == len(order["lines"])
    for lq, pl in zip(q.lines, order["lines"], strict=True):
        assert (lq.line_id, lq.qty, lq.product_id) == (pl.line_id, pl.qty, pl.product_id)
        base = pl.open_price if pl.open_price is not None else pl.list_price
        assert lq.list_amount == base * pl.qty
        if pl.count_card_id is not None:
            # count-card lines are paid in full by the card and take no order-level discount
            assert lq.amount == 0
            assert lq.coupon_discount == lq.order_discount == lq.rounding_discount == 0
            assert lq.count_card_discount == lq.list_amount - lq.member_discount
        else:
            assert lq.count_card_discount == 0
        if not pl.discountable:
            assert lq.coupon_discount == lq.order_discount == 0
            assert lq.price_source != "level_discount"
        if order["member"] is None or pl.open_price is not None:
            assert lq.member_discount == 0
        if order["coupon"] is None or not order["coupon"].applies_to(pl):
            assert lq.coupon_discount == 0
        if pl.manual_discount_fen:
            assert lq.manual_discount == min(
                pl.manual_discount_fen, lq.list_amount - lq.member_discount
            )
    coupon = order["coupon"]
    if coupon is None:
        assert q.coupon_discount == 0 and q.coupon_id is None
    else:
        assert q.coupon_id == coupon.coupon_id
        if coupon.kind == "amount":
            assert q.coupon_discount <= coupon.amount_fen
        # never more than the applicable lines were worth when the coupon came
        applicable = [
            lq for lq, pl in zip(q.lines, order["lines"], strict=True) if coupon.applies_to(pl)
        ]
        assert q.coupon_discount <= sum(
            lq.list_amount - lq.member_discount - lq.manual_discount for lq in applicable
        )
    if order["order_discount_fen"]:
        assert q.order_discount <= order["order_discount_fen"]
    eligible = [
        lq
        for lq, pl in zip(q.lines, order["lines"], strict=True)
        if pl.discountable and pl.count_card_id is None
    ]
    assert q.order_discount <= sum(
        lq.list_amount - lq.member_discount - lq.manual_discount - lq.coupon_discount
        for lq in eligible
    )


@settings(max_examples=200)
@given(orders())
def test_quote_is_deterministic_and_totals_ignore_line_order(order):
    first = quote_or_coupon_error(order)
    if first is None:
        return
    assert quote(**order, approved=True) == first
    reversed_order = {**order, "lines": list(reversed(order["lines"]))}
    again = quote(**reversed_order, approved=True)
    for name in ("total", "list_total", *COMPONENTS):
        assert getattr(again, name) == getattr(first, name)


@settings(max_examples=200)
@given(orders(), st.integers(0, 10000))
def test_staff_limit(order, max_bp):
    q = quote_or_coupon_error(order, max_discount_bp=max_bp)
    if q is None:
        return
    try:
        unapproved = quote(**order, max_discount_bp=max_bp)
    except PricingError as err:
        assert err.code == "discount_needs_approval"
        assert q.needs_approval
        assert q.manual_discount + q.order_discount > 0
    else:
        assert not q.needs_approval
        assert unapproved == q
        # every line's manual discount is within the limit of its list amount
        for lq in q.lines:
            assert lq.manual_discount * 10000 <= max_bp * lq.list_amount
        # a role with a higher limit is not stopped either
        assert quote(**order, max_discount_bp=min(10000, max_bp + 1)) == q
    # the unlimited role never needs approval
    assert not quote(**order, max_discount_bp=10000).needs_approval


@settings(max_examples=200)
@given(orders())
def test_member_never_pays_more_than_walk_in(order):
    order = {**order, "coupon": None}
    member = order["member"] or Member(level_id=1, level_discount_bp=9000)
    walk_in = quote(**{**order, "member": None}, approved=True)
    with_member = quote(**{**order, "member": member}, approved=True)
    assert with_member.total <= walk_in.total
    for m, w in zip(with_member.lines, walk_in.lines, strict=True):
        assert m.list_amount == w.list_amount
        assert m.list_amount - m.member_discount <= w.list_amount


@given(orders())
def test_level_discount_percent_is_rounded_half_up(order):
    member = Member(level_id=None, level_discount_bp=8800)
    order = {
        **order,
        "coupon": None,
        "member": member,
        "order_discount_bp": 0,
        "order_discount_fen": 0,
        "rounding": "none",
    }
    q = quote(**order, approved=True)
    for lq in q.lines:
        if lq.price_source == "level_discount":
            assert lq.list_amount - lq.member_discount == percent_of(lq.list_amount, 8800)


@given(
    total=st.integers(0, 10**7),
    balance=st.integers(0, 10**7),
    rate=st.integers(1, 1000),
    fraction=st.integers(0, 10000),
)
def test_redeemable_points_properties(total, balance, rate, fraction):
    points = max_redeemable_points(total, balance, rate, fraction)
    value = points_value_fen(points, rate)
    cap = percent_of(total, fraction)
    assert 0 <= points <= balance
    assert value <= cap and value <= total
    # no point is wasted: one point fewer is worth less
    if points:
        assert points_value_fen(points - 1, rate) < value
    # maximal: the fewest points worth more are over the balance or worth more than the cap
    more = -(-(value + 1) * rate // 100)
    assert points_value_fen(more - 1, rate) == value < points_value_fen(more, rate)
    assert more > balance or points_value_fen(more, rate) > cap
