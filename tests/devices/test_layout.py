"""Receipt layout: pure functions, checked on the Document's text lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from client.devices.document import (
    Barcode,
    Cut,
    Document,
    DrawerKick,
    QRCode,
    TextLine,
    char_width,
    columns_of,
    display_width,
    document_from_dict,
    document_to_dict,
    pad,
    wrap,
)
from client.devices.printer import PrinterConfig, build_test_page
from client.devices.receipt import (
    SaleLine,
    layout_recharge,
    layout_sale,
    layout_shift_report,
    mask_phone,
)

from .conftest import make_sale

WIDTHS = [32, 48]


def cols(row: str, start: int, end: int) -> str:
    """The characters of ``row`` that occupy display columns [start, end)."""
    out, col = [], 0
    for ch in row:
        if start <= col < end:
            out.append(ch)
        col += char_width(ch)
    return "".join(out)


def item_columns(width: int) -> tuple[int, int, int, int]:
    qty, price, amount = (6, 11, 12) if width >= 42 else (4, 8, 9)
    return width - qty - price - amount, qty, price, amount


def assert_fits(doc: Document) -> None:
    for el in doc.elements:
        if isinstance(el, TextLine):
            assert display_width(el.text) <= columns_of(el, doc.width), el


def test_display_width_counts_cjk_as_two_columns() -> None:
    assert display_width("abc") == 3
    assert display_width("合计") == 4
    assert display_width("¥12.50") == 7  # printed as full-width ￥
    assert display_width("￥") == 2
    assert display_width("可口可乐330ml") == 13
    assert pad("合计", 6, "right") == "  合计"
    assert pad("合计", 7, "center") == " 合计  "


def test_wrap_breaks_by_display_width_and_keeps_latin_words() -> None:
    assert wrap("一二三四五六七八九十", 8) == ["一二三四", "五六七八", "九十"]
    assert wrap("Organic whole milk 1L", 10) == ["Organic", "whole milk", "1L"]
    for line in wrap("农夫山泉饮用天然水550ml（整箱装，24瓶）", 11):
        assert display_width(line) <= 11


@pytest.mark.parametrize("width", WIDTHS)
def test_sale_lines_fit_the_paper(width: int) -> None:
    for lang in ("zh", "en"):
        doc = layout_sale(make_sale(reprint=True), width, lang=lang)  # type: ignore[arg-type]
        assert doc.width == width
        assert_fits(doc)


@pytest.mark.parametrize("width", WIDTHS)
def test_item_numbers_are_right_aligned_in_display_columns(width: int, sale) -> None:
    name_w, qty_w, price_w, amount_w = item_columns(width)
    rows = layout_sale(sale, width).text_lines()
    by_amount = {}
    for row in rows:
        amount = cols(row, width - amount_w, width)
        if display_width(row) == width and amount.strip() and row[-1].isdigit():
            by_amount[amount.strip()] = row

    # "可口可乐330ml" (13 columns) fits the 48-column name column, not the 32 one.
    cola = by_amount["7.00"]
    assert cols(cola, name_w, name_w + qty_w).strip() == "2"
    assert cols(cola, name_w + qty_w, name_w + qty_w + price_w).strip() == "3.50"
    if width == 48:
        assert cola.startswith("可口可乐330ml ")
    else:
        assert cola.strip().startswith("2 ")
        assert rows[rows.index(cola) - 1] == "可口可乐330ml"

    rice = by_amount["14.00"]  # Chinese name on the same line: alignment by display width
    assert rice.startswith("东北大米")
    assert cols(rice, name_w, name_w + qty_w).strip() == "2.5"
    assert cols(rice, name_w + qty_w, name_w + qty_w + price_w).strip() == "6.00"
    assert rows[rows.index(rice) + 1].split() == ["优惠", "-1.00"]

    header = next(r for r in rows if r.startswith("品名"))
    assert display_width(header) == width
    assert header.endswith("金额")
    assert cols(header, name_w, name_w + qty_w).strip() == "数量"


@pytest.mark.parametrize("width", WIDTHS)
def test_long_names_wrap_onto_their_own_lines(width: int, sale) -> None:
    rows = layout_sale(sale, width).text_lines()
    name = "农夫山泉饮用天然水550ml（整箱装，24瓶）"
    start = next(i for i, r in enumerate(rows) if r.startswith("农夫山泉"))
    wrapped = []
    i = start
    while not rows[i].endswith("48.00"):
        wrapped.append(rows[i])
        i += 1
    assert "".join(wrapped) == name
    assert all(display_width(r) <= width for r in wrapped)
    numbers = rows[i]
    assert numbers.split() == ["1", "48.00", "48.00"]
    assert display_width(numbers) == width
    if width == 32:
        assert len(wrapped) == 2


@pytest.mark.parametrize("width", WIDTHS)
def test_totals_payments_and_member(width: int, sale) -> None:
    doc = layout_sale(sale, width)
    rows = doc.text_lines()

    def row(label: str) -> str:
        line = next(r for r in rows if r.startswith(label))
        assert display_width(line) == width, line
        return line

    assert row("合计").endswith("¥90.70")
    total = next(
        el for el in doc.elements if isinstance(el, TextLine) and el.text.startswith("合计")
    )
    assert total.bold and total.double_height
    assert row("商品金额").endswith("¥98.70")
    assert row("会员折扣").endswith("-¥3.00")
    assert row("满减券").endswith("-¥5.00")
    assert row("储值").endswith("¥50.00")
    assert row("现金").endswith("¥40.70")
    assert row("实收").endswith("¥50.00")  # 实收 = the cash handed over (not the stored value)
    assert row("找零").endswith("¥9.30")
    assert row("件数").endswith(" 7")  # 2 + 1 + (weighed line) 1 + 3
    assert "会员：王小明 138****1234" in rows
    assert "13812341234" not in "\n".join(rows)
    assert row("储值余额").endswith("¥120.00")
    assert row("积分").endswith("350")
    assert row("  洗车卡").endswith("剩3次")
    assert row("  理发卡").endswith("剩9次")


def test_sale_header_barcode_cut_and_drawer(sale) -> None:
    doc = layout_sale(sale, 32, open_drawer=True)
    assert isinstance(doc.elements[0], DrawerKick)
    title = next(el for el in doc.elements if isinstance(el, TextLine))
    assert title.text == "好邻居便利店" and title.double_width and title.double_height
    rows = doc.text_lines()
    assert "单号：20261123-01-0042" in rows
    assert "时间：2026-11-23 14:05:09" in rows
    assert any(r.startswith("收银台：01") and r.endswith("收银员：张三") for r in rows)
    assert [el for el in doc.elements if isinstance(el, Barcode)] == [Barcode("20261123-01-0042")]
    assert isinstance(doc.elements[-1], Cut)

    qr = layout_sale(sale, 32, code="qr")
    assert [el.data for el in qr.elements if isinstance(el, QRCode)] == ["20261123-01-0042"]
    plain = layout_sale(sale, 32, code="none", cut=False)
    assert not [el for el in plain.elements if isinstance(el, (Barcode, QRCode, Cut, DrawerKick))]


def test_reprint_mark_is_prominent(sale) -> None:
    assert not any("重打" in r for r in layout_sale(sale, 32).text_lines())
    doc = layout_sale(make_sale(reprint=True), 32)
    marks = [el for el in doc.elements if isinstance(el, TextLine) and "重打" in el.text]
    assert marks[0] is next(el for el in doc.elements if isinstance(el, TextLine))
    assert marks[0].bold and marks[0].double_width and marks[0].double_height
    assert len(marks) >= 2  # at the top and again above the cut


def test_english_variant(sale) -> None:
    rows = layout_sale(make_sale(reprint=True), 48, lang="en").text_lines()
    text = "\n".join(rows)
    for label in (
        "TOTAL",
        "Cash given",
        "Change",
        "Member",
        "Balance",
        "Points",
        "REPRINT",
        "Stored value",
        "Cash",
        "Sale: 20261123-01-0042",
    ):
        assert label in text
    for label in ("合计", "找零", "实收", "余额", "重打", "现金"):
        assert label not in text
    assert next(r for r in rows if r.startswith("TOTAL")).endswith("¥90.70")
    assert next(r for r in rows if r.startswith("Change")).endswith("¥9.30")


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("138 1234 1234", "138****1234"),
        ("+86 138-1234-1234", "138****1234"),
        ("057188886666", "057*****6666"),
        ("12345", "***45"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("width", WIDTHS)
def test_shift_report(width: int, shift_report) -> None:
    doc = layout_shift_report(shift_report, width)
    assert_fits(doc)
    rows = doc.text_lines()
    assert rows[0] == "交班报表"
    assert any(r.startswith("销售 58笔") and r.endswith("¥3456.00") for r in rows)
    assert any(r.startswith("  微信 25笔") and r.endswith("¥1500.00") for r in rows)
    assert any(r.startswith("退款 2笔") and r.endswith("-¥30.00") for r in rows)
    assert any(r.startswith("充值 3笔") and r.endswith("¥600.00") for r in rows)
    assert any(r.startswith("备用金") and r.endswith("¥200.00") for r in rows)
    assert any(r.startswith("应有现金") and r.endswith("¥1270.00") for r in rows)
    assert any(r.startswith("实点现金") and r.endswith("¥1265.00") for r in rows)
    assert any(r.startswith("差额") and r.endswith("-¥5.00") for r in rows)
    assert "开班：2026-11-23 08:00:00" in rows


def test_shift_report_variants(shift_report) -> None:
    from dataclasses import replace

    over = layout_shift_report(replace(shift_report, counted_cash_fen=127150), 32).text_lines()
    assert any(r.startswith("差额") and r.endswith("+¥1.50") for r in over)
    uncounted = layout_shift_report(
        replace(shift_report, counted_cash_fen=None, day_close=True), 32
    ).text_lines()
    assert uncounted[0] == "日结报表"
    assert any(r.startswith("实点现金") and r.endswith("未清点") for r in uncounted)
    assert not any(r.startswith("差额") for r in uncounted)
    en = "\n".join(layout_shift_report(shift_report, 48, lang="en").text_lines())
    assert "SHIFT REPORT" in en and "Expected cash" in en and "WeChat Pay 25x" in en


@pytest.mark.parametrize("width", WIDTHS)
def test_recharge_slip(width: int, recharge_slip) -> None:
    doc = layout_recharge(recharge_slip, width)
    assert_fits(doc)
    rows = doc.text_lines()
    assert "会员充值凭证" in rows
    assert "会员：王小明 138****1234" in rows
    assert any(r.startswith("充值金额") and r.endswith("¥500.00") for r in rows)
    assert any(r.startswith("赠送金额") and r.endswith("¥50.00") for r in rows)
    assert any(r.startswith("充值后余额") and r.endswith("¥670.00") for r in rows)
    assert any(r.startswith("支付方式") and r.endswith("微信") for r in rows)
    assert any(r.startswith("会员签字：") for r in rows)


def test_huge_numbers_never_overflow_the_line() -> None:
    doc = layout_sale(
        make_sale(lines=[SaleLine("金条", Decimal("1234.567"), 99_999_999, 12_345_678_901)]), 32
    )
    assert_fits(doc)
    assert any("12345678.90" in r or "123456789.01" in r for r in doc.text_lines())


def test_test_page_fits(sale) -> None:
    for width in WIDTHS:
        assert_fits(build_test_page(PrinterConfig(width=width)))


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        layout_sale(make_sale(), 16)
    with pytest.raises(ValueError):
        layout_sale(make_sale(), 32, lang="fr")  # type: ignore[arg-type]


def test_document_json_round_trip(sale) -> None:
    doc = layout_sale(make_sale(reprint=True), 48, open_drawer=True, code="qr")
    data = document_to_dict(doc)
    assert data["version"] == 1
    assert document_from_dict(data) == doc
