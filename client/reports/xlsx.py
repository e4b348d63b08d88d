"""A report as an Excel workbook (``.xlsx``, openpyxl): the header the printed page has
(shop, title, period, printed at, by whom), the headline figures, then every table with its
totals row. Money stays a number (yuan, two decimals, formatted ``#,##0.00``) so the owner can
add it up in Excel; the values are the server's fen divided by 100 exactly (``Decimal``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .document import Col, ReportDoc, cell_text

MONEY_FORMAT = "#,##0.00"
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")
SHEET_TITLE_MAX = 31  # Excel's limit on a sheet's name


def cell_value(col: Col, value: Any) -> Any:
    """What goes into the cell: money as exact yuan, counts as int, the rest as text."""
    if value is None or value == "":
        return None
    if col.kind == "money":
        return Decimal(int(value)) / 100
    if col.kind == "int":
        return int(value)
    if col.kind == "percent_bp":
        return Decimal(int(value)) / 10_000  # shown as a percentage by its format
    return cell_text(col.kind, value)


def _write_cell(ws: Any, row: int, column: int, col: Col, value: Any, bold: bool = False
                ) -> None:
    c = ws.cell(row=row, column=column, value=cell_value(col, value))
    if col.kind == "money":
        c.number_format = MONEY_FORMAT
    elif col.kind == "percent_bp":
        c.number_format = "0.0%"
    if bold:
        c.font = _BOLD


def workbook(doc: ReportDoc, labels: dict[str, str]) -> Workbook:
    """``labels``: the words of the header (``shop``, ``period``, ``printed_at``,
    ``printed_by``, ``totals``) in the client's language."""
    wb = Workbook()
    ws = wb.active
    ws.title = doc.title[:SHEET_TITLE_MAX] or "report"
    ws.cell(row=1, column=1, value=f"{doc.shop}　{doc.title}").font = Font(bold=True, size=14)
    r = 2
    for key, value in (("period", doc.period),
                       ("printed_at", doc.printed_at.strftime("%Y-%m-%d %H:%M")),
                       ("printed_by", doc.printed_by)):
        ws.cell(row=r, column=1, value=labels[key])
        ws.cell(row=r, column=2, value=value)
        r += 1
    for label, text in doc.headline:
        ws.cell(row=r, column=1, value=label)
        ws.cell(row=r, column=2, value=text).font = _BOLD
        r += 1
    widths: dict[int, int] = {}
    for table in doc.tables:
        r += 1
        ws.cell(row=r, column=1, value=table.title).font = Font(bold=True, size=12)
        r += 1
        for i, col in enumerate(table.columns, start=1):
            c = ws.cell(row=r, column=i, value=col.title)
            c.font, c.fill = _BOLD, _HEAD_FILL
            c.alignment = Alignment(horizontal="right" if col.numeric else "left")
            widths[i] = max(widths.get(i, 8), _width(col.title))
        r += 1
        rows = [(row, False) for row in table.rows]
        if table.totals is not None:
            rows.append((table.totals, True))
        for row, bold in rows:
            for i, col in enumerate(table.columns, start=1):
                value = row.get(col.key)
                if bold and i == 1 and not value:
                    value = labels["totals"]
                _write_cell(ws, r, i, col, value, bold)
                widths[i] = max(widths.get(i, 8), _width(cell_text(col.kind, value)))
            r += 1
        if table.note:
            ws.cell(row=r, column=1, value=table.note)
            r += 1
    for note in doc.notes:
        r += 1
        ws.cell(row=r, column=1, value=note)
    for i, w in widths.items():
        ws.column_dimensions[get_column_letter(i)].width = min(w + 2, 60)
    return wb


def _width(text: str) -> int:
    """Excel column width of a text: a Chinese character is about two digits wide."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def save_xlsx(doc: ReportDoc, path: str | Path, labels: dict[str, str]) -> Path:
    out = Path(path)
    workbook(doc, labels).save(out)
    return out
