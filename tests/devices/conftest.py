"""Fixtures for the device tests: sample receipts, a virtual network printer, output dirs.

No hardware: printers are a TCP server on 127.0.0.1 (:mod:`tests.support.virtual_printer`),
serial devices are pseudo-terminals (``os.openpty``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from client.devices.printer import PrinterConfig
from client.devices.raster import find_cjk_font
from client.devices.receipt import (
    CountCardLeft,
    Discount,
    MethodTotal,
    Payment,
    ReceiptMember,
    ReceiptSale,
    RechargeSlip,
    SaleLine,
    ShiftReport,
)
from tests.support.virtual_printer import VirtualPrinter

RECEIPTS_DIR = Path(__file__).resolve().parents[2] / "test-output" / "receipts"


@pytest.fixture(scope="session")
def receipts_dir() -> Path:
    RECEIPTS_DIR.mkdir(parents=True, exist_ok=True)
    return RECEIPTS_DIR


@pytest.fixture(scope="session", autouse=True)
def cjk_font() -> Path:
    """Fails (never skips) the device tests if no CJK font is installed."""
    return find_cjk_font()


def make_sale(**changes: object) -> ReceiptSale:
    fields: dict[str, object] = dict(
        shop_name="好邻居便利店",
        sale_no="20261123-01-0042",
        time=datetime(2026, 11, 23, 14, 5, 9),
        counter="01",
        cashier="张三",
        header_lines=["幸福路88号  电话 0571-8888 6666"],
        lines=[
            SaleLine("可口可乐330ml", 2, 350, 700),
            SaleLine("农夫山泉饮用天然水550ml（整箱装，24瓶）", 1, 4800, 4800),
            SaleLine("东北大米", Decimal("2.500"), 600, 1400, discount_fen=100),
            SaleLine("Oreo", 3, 990, 2970),
        ],
        discounts=[Discount("会员折扣", 300), Discount("满减券", 500)],
        total_fen=9070,
        payments=[Payment("储值", 5000), Payment("现金", 4070, tendered_fen=5000, change_fen=930)],
        member=ReceiptMember(
            "王小明",
            "13812341234",
            stored_value_fen=12000,
            points=350,
            count_cards=[CountCardLeft("洗车卡", 3), CountCardLeft("理发卡", 9)],
        ),
        footer_lines=["谢谢惠顾，欢迎再来！", "退换货请保留小票（7天内）"],
    )
    fields.update(changes)
    return ReceiptSale(**fields)  # type: ignore[arg-type]


@pytest.fixture
def sale() -> ReceiptSale:
    return make_sale()


@pytest.fixture
def shift_report() -> ShiftReport:
    return ShiftReport(
        shop_name="好邻居便利店",
        counter="01",
        cashier="张三",
        opened_at=datetime(2026, 11, 23, 8, 0),
        closed_at=datetime(2026, 11, 23, 16, 0),
        float_fen=20000,
        sale_count=58,
        sales_total_fen=345600,
        sales_by_method=[
            MethodTotal("现金", 20, 100000),
            MethodTotal("微信", 25, 150000),
            MethodTotal("支付宝", 10, 80600),
            MethodTotal("储值", 3, 15000),
        ],
        refund_count=2,
        refunds_fen=3000,
        recharge_count=3,
        recharges_fen=60000,
        recharges_by_method=[MethodTotal("现金", 1, 10000), MethodTotal("微信", 2, 50000)],
        expected_cash_fen=127000,
        counted_cash_fen=126500,
        printed_at=datetime(2026, 11, 23, 16, 1),
    )


@pytest.fixture
def recharge_slip() -> RechargeSlip:
    return RechargeSlip(
        shop_name="好邻居便利店",
        slip_no="R20261123-01-0007",
        time=datetime(2026, 11, 23, 10, 30),
        counter="01",
        cashier="张三",
        member_name="王小明",
        member_phone="13812341234",
        amount_fen=50000,
        bonus_fen=5000,
        balance_after_fen=67000,
        payment_method="微信",
        footer_lines=["储值余额不可兑换现金"],
    )


@pytest.fixture
def virtual_printer() -> Iterator[VirtualPrinter]:
    printer = VirtualPrinter().start()
    try:
        yield printer
    finally:
        printer.stop()


@pytest.fixture
def net_config(virtual_printer: VirtualPrinter) -> PrinterConfig:
    return PrinterConfig(
        backend="network",
        host="127.0.0.1",
        port=virtual_printer.port,
        profile="gbk",
        width=32,
        timeout=2,
    )
