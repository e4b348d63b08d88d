"""Chinese text on the wire: Chinese mode, ¥ on GBK printers, raster instead of ``?``."""

from __future__ import annotations

import pytest

from client.devices.document import Barcode, Document, QRCode, TextLine, normalize_for_print
from client.devices.escpos_text import (
    FS_CHINESE_OFF,
    FS_CHINESE_ON,
    FS_SELECT_UTF8,
    get_profile,
)
from client.devices.printer import code128_payload, render_document
from client.devices.receipt import SaleLine, layout_sale
from tests.support.escpos_decoder import DecodeError, decode, decode_code128

from .conftest import make_sale


def expected_texts(doc: Document) -> list[str]:
    return [normalize_for_print(t).rstrip() for t in doc.text_lines()]


def test_gbk_wraps_double_byte_text_in_chinese_mode() -> None:
    gbk = get_profile("gbk")
    assert gbk.encode("Total 12") == b"Total 12"
    data = gbk.encode("合计 ¥12.50")
    assert data == FS_CHINESE_ON + "合计 ￥12.50".encode("gbk") + FS_CHINESE_OFF
    assert data.count(b"\xa3\xa4") == 1  # ￥ is GBK A3A4


def test_gbk_receipt_prints_yen_as_fullwidth_and_never_question_marks(sale) -> None:
    doc = layout_sale(sale, 32)
    data = render_document(doc, "gbk")
    assert b"?" not in data
    assert "¥".encode("gb18030") not in data  # the 4-byte GB18030 yen python-escpos would send
    decoded = decode(data, cjk_encoding="gbk")  # strict: pure GBK inside FS & ... FS .
    assert decoded.texts == expected_texts(doc)
    text = decoded.text
    assert "合计" in text and "￥90.70" in text and "¥" not in text and "?" not in text
    assert decoded.images == []  # everything printable with the printer's font


@pytest.mark.parametrize("profile", ["gbk", "gb18030", "utf8"])
def test_text_profiles_decode_to_the_document(profile: str, sale) -> None:
    doc = layout_sale(sale, 48)
    data = render_document(doc, profile)
    decoded = decode(data, cjk_encoding="gbk" if profile == "gbk" else "gb18030")
    assert decoded.texts == expected_texts(doc)
    if profile == "utf8":
        assert data.startswith(b"\x1b@" + FS_SELECT_UTF8)
        assert FS_CHINESE_ON not in data
        assert "合计".encode() in data
    else:
        assert FS_CHINESE_ON in data


def test_char_outside_gbk_goes_out_as_raster_not_question_mark(receipts_dir) -> None:
    sale = make_sale(
        lines=[
            SaleLine("𠮷野家", 1, 2800, 2800),
            SaleLine("开心果😀", 1, 1500, 1500),
            SaleLine("可乐", 1, 350, 350),
        ],
        discounts=[],
        total_fen=4650,
    )
    doc = layout_sale(sale, 32)
    decoded = decode(render_document(doc, "gbk"), cjk_encoding="gbk")
    assert len(decoded.images) == 2
    for img in decoded.images:
        assert img.width == 32 * 12 and img.height == 24
        assert any(img.data)  # something was drawn
    text = decoded.text
    assert "𠮷" not in text and "😀" not in text and "?" not in text
    assert "可乐" in text  # other lines are still text
    # the raster lines are exactly the item rows holding those characters
    missing = [t for t in expected_texts(doc) if t not in decoded.texts]
    assert [m.split()[0] for m in missing] == ["𠮷野家", "开心果😀"]
    for i, img in enumerate(decoded.images):
        img.to_image().save(receipts_dir / f"raster-line-{i}.png")


def test_gb18030_profile_prints_extension_a_but_rasters_plane_2() -> None:
    doc = Document(32, [TextLine("㐀字 ¥1.00"), TextLine("𠮷"), TextLine("✓ ok")])
    decoded = decode(render_document(doc, "gb18030"))
    assert decoded.texts == ["㐀字 ￥1.00"]
    assert len(decoded.images) == 2
    gbk = decode(render_document(doc, "gbk"), cjk_encoding="gbk")
    assert gbk.texts == [] and len(gbk.images) == 3


def test_raster_profile_draws_chinese_and_keeps_ascii_as_text(sale) -> None:
    doc = layout_sale(sale, 32)
    decoded = decode(render_document(doc, "raster"))
    chinese = [t for t in expected_texts(doc) if not t.isascii()]
    assert len(decoded.images) == len(chinese)
    assert all(t.isascii() for t in decoded.texts)
    assert "-" * 32 in decoded.texts
    assert decoded.barcodes[0].data == "20261123-01-0042"
    assert decoded.qr_codes == []


def test_styles_reach_the_printer(sale) -> None:
    doc = Document(
        32,
        [
            TextLine("合计 ¥9.00", "right", bold=True, double_height=True),
            TextLine("店名", "center", double_width=True),
            TextLine("plain"),
        ],
    )
    lines = decode(render_document(doc, "gbk")).lines
    assert (lines[0].align, lines[0].bold, lines[0].double_height, lines[0].double_width) == (
        "right",
        True,
        True,
        False,
    )
    assert (lines[1].align, lines[1].bold, lines[1].double_width) == ("center", False, True)
    assert (lines[2].align, lines[2].bold, lines[2].double_height) == ("left", False, False)


def test_control_characters_cannot_inject_commands() -> None:
    doc = Document(32, [TextLine("bad\x1bp\x00name\x1dV\x00")])
    data = render_document(doc, "gbk")
    decoded = decode(data)
    assert decoded.drawer_pins == [] and decoded.cuts == []
    assert decoded.texts == ["bad p name V"]


def test_code128_payload_uses_code_set_c_for_leading_digits() -> None:
    payload, modules = code128_payload("20261123-01-0042")
    assert payload == "{C" + "".join(map(chr, (20, 26, 11, 23))) + "{B-01-0042"
    assert modules * 2 <= 32 * 12  # fits 58 mm paper at the narrowest module
    assert decode_code128(payload.encode("ascii")) == "20261123-01-0042"
    assert code128_payload("AB{C")[0] == "{BAB{{C"
    with pytest.raises(ValueError):
        code128_payload("单号")


def test_decoder_is_strict_about_what_a_printer_would_garble() -> None:
    with pytest.raises(DecodeError):
        decode("合计".encode("gbk"))  # double-byte text outside Chinese mode
    with pytest.raises(DecodeError):
        decode(FS_CHINESE_ON + "¥".encode("gb18030") + FS_CHINESE_OFF, cjk_encoding="gbk")
    with pytest.raises(DecodeError):
        decode(b"\x1b\xff")


def test_qr_native_or_bitmap_and_wide_barcodes_become_qr() -> None:
    doc = Document(32, [QRCode("20261123-01-0042")])
    assert decode(render_document(doc, "gbk")).qr_codes == ["20261123-01-0042"]
    raster = decode(render_document(doc, "raster"))
    assert raster.qr_codes == [] and raster.images[0].width == 32 * 12

    long_no = "SHOP-A-COUNTER-01-SALE-000042"
    narrow = decode(render_document(Document(32, [Barcode(long_no)]), "gbk"))
    assert narrow.barcodes == [] and narrow.qr_codes == [long_no]
    wide = decode(render_document(Document(48, [Barcode("20261123-01-0042")]), "gbk"))
    assert [b.data for b in wide.barcodes] == ["20261123-01-0042"]
