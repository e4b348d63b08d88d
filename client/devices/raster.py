"""Text to bitmap with a CJK font, cell by cell like a receipt printer's font A.

Used twice: by the ``raster`` printer profile (and for any line a printer's encoding cannot
carry), and for PNG previews of whole documents (:func:`render_document_png`).

The printer grid is 12×24 dots per column (font A; 32 columns = 384 dots on 58 mm paper,
48 columns = 576 dots on 80 mm). Each character is drawn centred in its cell of
``char_width(ch)`` columns, so a bitmap line lines up with text lines printed by the printer.
A monospaced CJK face (Noto Sans Mono CJK SC, WenQuanYi Micro Hei Mono) fits the cells
exactly; other fonts are squeezed horizontally where a glyph is wider than its cell.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import barcode as pybarcode  # python-barcode, a dependency of python-escpos
import qrcode
from barcode.writer import ImageWriter
from PIL import Image, ImageDraw, ImageFont

from .. import bundle
from .document import (
    Align,
    Barcode,
    Cut,
    Document,
    DrawerKick,
    Feed,
    QRCode,
    Separator,
    TextLine,
    char_width,
    columns_of,
    display_width,
    normalize_for_print,
)

CELL_W = 12
CELL_H = 24
FONT_SIZE = 22  # a 22 px ideograph leaves room for descenders in the 24-dot cell

#: Candidate CJK fonts, first found wins (Debian/Ubuntu, then Windows, then macOS).
#: ``LANPOS_CJK_FONT`` (a path) overrides the list.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "/System/Library/Fonts/PingFang.ttc",
)

#: Preferred faces inside a font collection, best first.
_PREFERRED_FACES = ("Mono CJK SC", "Micro Hei Mono", "NSimSun", "Mono", "CJK SC")


class FontNotFoundError(RuntimeError):
    """No CJK font was found: Chinese cannot be rendered as a bitmap."""


def find_cjk_font() -> Path:
    """Path of a CJK font file, or :class:`FontNotFoundError`."""
    override = os.environ.get("LANPOS_CJK_FONT")
    # the counter bundle's own font (client.bundle) after the system's
    candidates = (override,) if override else (
        *FONT_CANDIDATES, *(str(p) for p in bundle.font_files()))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FontNotFoundError(
        "找不到中文字体，无法生成图片打印。请安装 fonts-noto-cjk 或 fonts-wqy-microhei，"
        f"或用 LANPOS_CJK_FONT 指定字体文件（已查找: {', '.join(c for c in candidates if c)}）"
    )


@lru_cache(maxsize=8)
def load_font(path: str | None = None, size: int = FONT_SIZE) -> ImageFont.FreeTypeFont:
    """The best face of the CJK font at ``path`` (default :func:`find_cjk_font`)."""
    font_path = str(path or find_cjk_font())
    faces = []
    for index in range(32):
        try:
            faces.append(ImageFont.truetype(font_path, size, index=index))
        except OSError:
            break
    if not faces:
        raise FontNotFoundError(f"不能读取字体文件 {font_path}")
    for wanted in _PREFERRED_FACES:
        for face in faces:
            if wanted in " ".join(face.getname()):
                return face
    return faces[0]


def render_text_line(
    text: str,
    columns: int,
    align: Align = "left",
    *,
    bold: bool = False,
    double_height: bool = False,
    double_width: bool = False,
    font: ImageFont.FreeTypeFont | None = None,
) -> Image.Image:
    """One printed line as a 1-bit image ``columns × 12`` dots wide, 24 (48) dots high.

    ``columns`` is the paper width; a double-width line has half of them for its text.
    """
    font = font or load_font()
    text = normalize_for_print(text)
    x_scale = 2 if double_width else 1
    y_scale = 2 if double_height else 1
    cols = columns // x_scale
    cells = [(ch, char_width(ch)) for ch in text]
    used = sum(w for _, w in cells)
    gap = max(0, cols - used)
    start = {"left": 0, "center": gap // 2, "right": gap}[align]

    line = Image.new("L", (cols * CELL_W, CELL_H), 255)
    draw = ImageDraw.Draw(line)
    baseline = CELL_H - font.getbbox("中", anchor="ls")[3] - 1
    col = start
    for ch, w in cells:
        if w == 0 or col + w > cols:
            continue
        _draw_cell(line, draw, ch, col * CELL_W, w * CELL_W, baseline, font, bold)
        col += w
    if x_scale != 1 or y_scale != 1:
        line = line.resize((line.width * x_scale, line.height * y_scale), Image.NEAREST)
    full = Image.new("L", (columns * CELL_W, CELL_H * y_scale), 255)
    full.paste(line, (0, 0))
    return full.point(lambda v: 0 if v < 128 else 255, mode="1")


def _draw_cell(
    img: Image.Image,
    draw: ImageDraw.ImageDraw,
    ch: str,
    x: int,
    cell_w: int,
    baseline: int,
    font: ImageFont.FreeTypeFont,
    bold: bool,
) -> None:
    """Draw ``ch`` centred in the cell at ``x``, on ``baseline``; bold is double-struck one
    dot to the right, like the printer's emphasised mode."""
    if ch == " ":
        return
    glyph_w = font.getlength(ch)
    if glyph_w > cell_w:
        # Proportional font: draw the glyph alone, then squeeze it into the cell.
        tmp = Image.new("L", (int(glyph_w) + 2, CELL_H), 255)
        tmp_draw = ImageDraw.Draw(tmp)
        for dx in (0, 1) if bold else (0,):
            tmp_draw.text((dx, baseline), ch, font=font, fill=0, anchor="ls")
        img.paste(tmp.resize((cell_w, CELL_H), Image.LANCZOS), (x, 0))
        return
    left = x + (cell_w - glyph_w) / 2
    for dx in (0, 1) if bold else (0,):
        draw.text((left + dx, baseline), ch, font=font, fill=0, anchor="ls")


# --------------------------------------------------------------------------- preview

_MARGIN = 16


def render_document_png(
    doc: Document,
    path: str | os.PathLike[str] | None = None,
    *,
    font: ImageFont.FreeTypeFont | None = None,
) -> Image.Image:
    """A preview of ``doc`` as the printer would lay it out (grey margins, dashed cuts).

    Saves to ``path`` (PNG) when given; returns the image.
    """
    font = font or load_font()
    width_px = doc.width * CELL_W
    parts: list[Image.Image] = []
    for el in doc.elements:
        if isinstance(el, TextLine):
            parts.append(
                render_text_line(
                    el.text,
                    doc.width,
                    el.align,
                    bold=el.bold,
                    double_height=el.double_height,
                    double_width=el.double_width,
                    font=font,
                )
            )
            if _too_wide(el, doc.width):
                parts.append(_note(f"!! line too wide: {el.text}", width_px, font))
        elif isinstance(el, Separator):
            parts.append(render_text_line(el.char * doc.width, doc.width, font=font))
        elif isinstance(el, Feed):
            parts.append(Image.new("1", (width_px, CELL_H * el.lines), 1))
        elif isinstance(el, Barcode):
            code = pybarcode.get("code128", el.data, writer=ImageWriter())
            img = code.render(
                {
                    "write_text": False,
                    "module_height": 8.0,
                    "quiet_zone": 2,
                    "module_width": 0.25,
                    "dpi": 203,
                }
            )
            parts.append(_centered(img, width_px))
            parts.append(render_text_line(el.data, doc.width, "center", font=font))
        elif isinstance(el, QRCode):
            img = qrcode.make(el.data, box_size=el.size, border=1).get_image()
            parts.append(_centered(img, width_px))
        elif isinstance(el, Cut):
            cut = Image.new("1", (width_px, CELL_H * 2), 1)
            d = ImageDraw.Draw(cut)
            for x in range(0, width_px, 12):
                d.line((x, CELL_H, x + 6, CELL_H), fill=0)
            parts.append(cut)
        elif isinstance(el, DrawerKick):
            pin = "" if el.pin is None else f" pin {el.pin}"
            parts.append(_note(f"[钱箱 / drawer{pin}]", width_px, font))

    height = sum(p.height for p in parts) + 2 * _MARGIN
    page = Image.new("RGB", (width_px + 2 * _MARGIN, height), (200, 200, 200))
    page.paste((255, 255, 255), (_MARGIN, 0, _MARGIN + width_px, height))
    y = _MARGIN
    for part in parts:
        page.paste(part.convert("RGB"), (_MARGIN, y))
        y += part.height
    if path is not None:
        page.save(path)
    return page


def _too_wide(line: TextLine, width: int) -> bool:
    return display_width(line.text) > columns_of(line, width)


def _centered(img: Image.Image, width_px: int) -> Image.Image:
    img = img.convert("L")
    if img.width > width_px:
        img = img.resize((width_px, img.height))
    out = Image.new("L", (width_px, img.height), 255)
    out.paste(img, ((width_px - img.width) // 2, 0))
    return out


def _note(text: str, width_px: int, font: ImageFont.FreeTypeFont) -> Image.Image:
    """A grey remark in the preview (not printed), e.g. where the drawer is kicked."""
    img = Image.new("L", (width_px, CELL_H), 255)
    small = font.font_variant(size=16)
    ImageDraw.Draw(img).text((0, CELL_H // 2), text, font=small, fill=140, anchor="lm")
    return img
