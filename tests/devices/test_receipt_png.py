"""PNG previews of receipts under test-output/receipts/, for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from client.devices.printer import PrinterConfig, build_test_page
from client.devices.raster import CELL_H, CELL_W, load_font, render_document_png, render_text_line
from client.devices.receipt import layout_recharge, layout_sale, layout_shift_report

from .conftest import make_sale


def test_monospace_cjk_face_is_used() -> None:
    font = load_font()
    assert font.getlength("中") == 2 * font.getlength("M") <= 2 * CELL_W, font.getname()
    assert "Mono" in font.getname()[0]


def test_text_line_bitmap_geometry() -> None:
    img = render_text_line("合计 ¥90.70", 32, "right", bold=True)
    assert img.size == (32 * CELL_W, CELL_H) and img.mode == "1"
    box = Image.eval(img.convert("L"), lambda v: 255 - v).getbbox()
    assert box is not None and box[2] > 32 * CELL_W - CELL_W  # ink reaches the right edge
    tall = render_text_line("店名", 32, "center", double_height=True, double_width=True)
    assert tall.size == (32 * CELL_W, 2 * CELL_H)


@pytest.mark.parametrize(
    ("name", "width", "lang", "reprint"),
    [
        ("sale-58mm-zh", 32, "zh", False),
        ("sale-80mm-zh", 48, "zh", False),
        ("sale-80mm-en", 48, "en", False),
        ("sale-58mm-reprint", 32, "zh", True),
    ],
)
def test_sale_receipt_png(
    receipts_dir: Path, name: str, width: int, lang: str, reprint: bool
) -> None:
    doc = layout_sale(
        make_sale(reprint=reprint),
        width,
        lang=lang,  # type: ignore[arg-type]
        open_drawer=True,
    )
    path = receipts_dir / f"{name}.png"
    img = render_document_png(doc, path)
    assert path.is_file()
    assert img.width == width * CELL_W + 32
    assert img.height > 40 * CELL_H
    with Image.open(path) as saved:
        assert saved.size == img.size


def test_reports_and_test_page_png(receipts_dir: Path, shift_report, recharge_slip) -> None:
    docs = {
        "shift-report-58mm": layout_shift_report(shift_report, 32),
        "recharge-58mm": layout_recharge(recharge_slip, 32),
        "sale-58mm-qr": layout_sale(make_sale(), 32, code="qr"),
        "test-page-80mm": build_test_page(PrinterConfig(width=48)),
    }
    for name, doc in docs.items():
        path = receipts_dir / f"{name}.png"
        render_document_png(doc, path)
        assert path.is_file() and path.stat().st_size > 1000
