"""The pure payment model (common/payment.py): quick cash, settling, the PIN rule, 折,
抹零 limits and payment codes. Property tests where a rule holds for every amount."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common import payment
from common.payment import Tenders, Wallet, parse_zhe, quick_cash, settle

AMOUNTS = st.integers(1, 10_000_000)


def test_quick_cash_of_the_issue_example() -> None:
    assert quick_cash(38072) == [38072, 39000, 40000, 50000]


@pytest.mark.parametrize(("due", "expected"), [
    (39000, [39000, 40000, 50000, 60000]),
    (500, [500, 1000, 5000, 10000]),
    (50, [50, 1000, 5000, 10000]),
    (123456, [123456, 124000, 125000, 130000]),
    (10000, [10000, 11000, 15000, 20000]),
    (9999, [9999, 10000, 20000, 30000]),
])
def test_quick_cash_examples(due: int, expected: list[int]) -> None:
    assert quick_cash(due) == expected


def test_quick_cash_nothing_due() -> None:
    assert quick_cash(0) == [] and quick_cash(-5) == []


@given(AMOUNTS)
def test_quick_cash_properties(due: int) -> None:
    values = quick_cash(due)
    assert len(values) == 4
    assert values[0] == due  # exact first
    assert values == sorted(set(values))  # distinct, ascending
    assert all(v % 1000 == 0 for v in values[1:])  # whole ¥10 notes after the exact one
    # the next ¥10, ¥50 and ¥100 above the amount are all offered
    for unit in (1000, 5000, 10000):
        assert (due // unit + 1) * unit in values
    assert values[-1] - due < 30000  # never absurd: within ¥300 of the bill


@given(AMOUNTS, st.integers(0, 10_000_000))
def test_cash_change_is_tendered_minus_due(due: int, tendered: int) -> None:
    s = settle(due, Tenders(cash_tendered=tendered))
    if tendered >= due:
        assert s.covered and s.change == tendered - due and s.remaining == 0
        assert s.payments == ({"method": "cash", "amount": due, "tendered": tendered},)
    else:
        assert not s.covered and s.problem.code == payment.TENDERED_SHORT
        assert s.remaining == due - tendered and s.change == 0


@given(AMOUNTS, st.integers(0, 10_000_000), st.integers(0, 10_000_000))
def test_split_payments_sum_to_the_due(due: int, sv: int, card: int) -> None:
    wallet = Wallet(stored_value=10_000_000)
    s = settle(due, Tenders(stored_value=sv, card=card), wallet)
    if sv + card <= due:
        assert s.covered
        assert sum(p["amount"] for p in s.payments) == due
        assert s.change == 0  # exact cash (empty field)
    else:
        assert s.problem.code == payment.OVERPAID  # non-cash never gives change
        assert "只有现金可以找零" in s.problem.message


def test_empty_cash_field_is_exact_cash() -> None:
    s = settle(5820, Tenders(stored_value=3000), Wallet(stored_value=50000))
    assert s.covered and s.cash_part == 2820 and s.remaining == 2820 and s.change == 0
    assert s.payments == ({"method": "stored_value", "amount": 3000, "pin": None},
                          {"method": "cash", "amount": 2820, "tendered": 2820})


def test_stored_value_short_and_walk_in() -> None:
    s = settle(10000, Tenders(stored_value=6000), Wallet(stored_value=5000))
    assert not s.covered and s.problem.message == "储值余额不足（余额 ¥50.00）"
    walk_in = settle(10000, Tenders(stored_value=100))
    assert walk_in.problem.code == payment.NEEDS_MEMBER


def test_points_pay_their_value() -> None:
    w = Wallet(points=1000, points_per_yuan_redeem=100)
    s = settle(5000, Tenders(points=500, cash_tendered=5000), w)
    assert s.points_fen == 500 and s.cash_part == 4500 and s.change == 500
    assert s.payments[0] == {"method": "points", "amount": 500, "points": 500}
    assert settle(5000, Tenders(points=2000), w).problem.code == payment.POINTS_SHORT


def test_references_go_with_their_method() -> None:
    s = settle(3000, Tenders(wechat=3000, references={"wechat": " 134567890123456789 "}))
    assert s.covered and s.payments == (
        {"method": "wechat", "amount": 3000, "reference": "134567890123456789"},)


def test_pin_rule() -> None:
    # the member has a PIN and pays above the threshold
    assert payment.pin_required(True, 5001, 5000)
    assert not payment.pin_required(True, 5000, 5000)  # AT the threshold: no PIN
    assert not payment.pin_required(False, 100_000, 0)  # no PIN set
    assert not payment.pin_required(True, 0, 0)  # nothing paid by stored value
    w = Wallet(stored_value=10_000, has_pin=True, pin_threshold=2000)
    asked = settle(5000, Tenders(stored_value=3000), w)
    assert asked.pin_needed and asked.problem.code == payment.PIN_MISSING
    given_pin = settle(5000, Tenders(stored_value=3000, pin="2468"), w)
    assert given_pin.covered and given_pin.payments[0]["pin"] == "2468"
    assert not settle(5000, Tenders(stored_value=2000), w).pin_needed


@pytest.mark.parametrize(("text", "off_bp"), [
    ("9.5", 500), ("9", 1000), ("8.8", 1200), ("88", 1200), ("95", 500), ("9.25", 750),
    ("0.5", 9500), ("10", 0), ("", 0), (" 8折 ", 2000),
])
def test_parse_zhe(text: str, off_bp: int) -> None:
    assert parse_zhe(text) == off_bp


@pytest.mark.parametrize("text", ["0", "100", "12.5", "abc", "9.555", "-9", "10.5"])
def test_parse_zhe_refuses(text: str) -> None:
    with pytest.raises(payment.PaymentModelError):
        parse_zhe(text)


@given(st.integers(1, 9999))
def test_zhe_round_trip(off_bp: int) -> None:
    paid = 10_000 - off_bp
    if paid % 10:  # 折 has at most two decimals (9.25折 = 92.5%)
        return
    assert parse_zhe(payment.format_zhe(off_bp).removesuffix("折")) == off_bp


def test_rounding_limits() -> None:
    assert payment.rounding_choices("none") == ["none"]
    assert payment.rounding_choices("jiao") == ["none", "jiao"]
    assert payment.rounding_choices("yuan") == ["none", "jiao", "yuan"]
    assert not payment.rounding_allowed("yuan", "jiao")
    assert payment.rounding_allowed("jiao", "yuan")
    assert not payment.rounding_allowed("fen", "yuan")


@pytest.mark.parametrize(("code", "method"), [
    ("134567890123456789", "wechat"),  # 18 digits, 13…
    ("104567890123456789", "wechat"),
    ("284567890123456789", "alipay"),  # 18 digits, 28…
    ("2512345678901234", "alipay"),  # 16 digits
    ("301234567890123456789012", "alipay"),  # 24 digits
    ("164567890123456789", None),  # 16… is neither
    ("13456789012345678", None),  # 17 digits, 13…: not WeChat (18) and not Alipay (25–30)
    ("6901234567892", None),  # a product barcode
    ("3112345678901234", None),
    ("2512345678901234567890123", None),  # 25 digits
])
def test_payment_code_method(code: str, method: str | None) -> None:
    assert payment.payment_code_method(code) == method


def test_manual_code_payment_keeps_the_code() -> None:
    assert payment.manual_code_payment("wechat", " 134567890123456789", 100) == \
        "134567890123456789"
