"""Reading and writing spreadsheets for imports and exports (CSV and Excel .xlsx).

Imports from old systems arrive as CSV (UTF-8, UTF-8 with BOM, or GBK/GB18030 from Chinese
Excel) or .xlsx. ``read_table`` returns the rows as dicts keyed by *canonical* column names,
using an alias table so both Chinese and English headers work, with the spreadsheet row number
of every row for error reports. ``write_table`` produces CSV (UTF-8 with BOM so Excel opens
Chinese correctly) or .xlsx.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.errors import ApiError

MAX_ROWS = 100_000
MAX_FILE_BYTES = 6 * 1024 * 1024
"""An import file (CSV or .xlsx) is at most 6 MB (100,000 members of an old system fit)."""
MAX_UPLOAD_BODY = MAX_FILE_BYTES * 4 // 3 + 64 * 1024
"""The import request (the file in base64, ×4/3, and its JSON): 413 past it, unread."""
MAX_CELL_CHARS = 1000
"""One cell of an import file (a member's notes are 500)."""


@dataclass
class TableRow:
    number: int  # 1-based row number as the user sees it in the sheet (header = row 1)
    values: dict[str, str]


def decode_upload(content_base64: str) -> bytes:
    try:
        data = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ApiError("import_bad_file", status=400,
                       message="文件内容无法读取（base64 格式错误）") from e
    if len(data) > MAX_FILE_BYTES:
        raise ApiError("payload_too_large", status=413,
                       limit=f"{MAX_FILE_BYTES // 1024 // 1024} MB")
    return data


def _too_long_cell() -> ApiError:
    return ApiError("import_bad_file", status=400,
                    message=f"文件中有单元格太长（每格最多 {MAX_CELL_CHARS} 字），请检查文件")


def _decode_csv(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ApiError("import_bad_file", status=400,
                   message="CSV 文件编码无法识别（请用 UTF-8 或 GBK）")


def _canonical(header: str, aliases: Mapping[str, str]) -> str | None:
    h = header.strip().lower().replace(" ", "")
    return aliases.get(h)


def read_table(filename: str, data: bytes, aliases: Mapping[str, str],
               required: Iterable[str]) -> list[TableRow]:
    """Rows of a CSV or .xlsx file. ``aliases`` maps lower-case header spellings to canonical
    names; unknown columns are ignored; a missing required column is a 400."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        raw_rows = _xlsx_rows(data)
    elif name.endswith(".csv") or name.endswith(".txt"):
        text = _decode_csv(data)
        try:  # csv refuses a field over its own limit (128 KiB): the same 400 as ours
            raw_rows = list(csv.reader(io.StringIO(text)))
        except csv.Error as e:
            if "field larger" in str(e):
                raise _too_long_cell() from e
            raise ApiError("import_bad_file", status=400,
                           message=f"CSV 文件格式有误：{e}") from e
    else:
        raise ApiError("import_bad_file", status=400, message="只支持 .csv 和 .xlsx 文件")
    if not raw_rows:
        raise ApiError("import_bad_file", status=400, message="文件是空的")
    header = [_canonical(str(h or ""), aliases) for h in raw_rows[0]]
    missing = [r for r in required if r not in header]
    if missing:
        raise ApiError("import_missing_columns", status=400,
                       message="缺少必需的列：" + "、".join(missing))
    if len(raw_rows) - 1 > MAX_ROWS:
        raise ApiError("import_too_many_rows", status=400,
                       message=f"一次最多导入 {MAX_ROWS} 行")
    out: list[TableRow] = []
    for i, raw in enumerate(raw_rows[1:], start=2):
        values = {}
        for col, cell in zip(header, raw, strict=False):
            if col is not None:
                values[col] = "" if cell is None else _cell_text(cell)
                if len(values[col]) > MAX_CELL_CHARS:
                    raise _too_long_cell()
        if any(v.strip() for v in values.values()):
            out.append(TableRow(i, values))
    return out


def _cell_text(cell: Any) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # any parse failure is a bad file for the user
        raise ApiError("import_bad_file", status=400, message="Excel 文件无法打开") from e
    try:
        ws = wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def write_table(fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(list(headers))
        for r in rows:
            ws.append(list(r))
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
    buf_s = io.StringIO()
    w = csv.writer(buf_s)
    w.writerow(headers)
    w.writerows(rows)
    return ("\ufeff" + buf_s.getvalue()).encode("utf-8")
