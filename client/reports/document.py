"""The one description of a report that every output reads (screen, A4 print, PDF, xlsx), so
the figures on paper, in the file and on screen are the same values.

A :class:`ReportDoc` holds what the server computed, already in the shape a reader expects:
the header (shop, title, period, printed at, by whom), a few headline figures, tables (money
in integer fen, formatted only when rendered) and charts over a table's columns. Nothing here
adds up figures: totals rows are the server's too. Pure Python (no Qt), so it is easy to test
and to build in a screen's loader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from common.money import format_fen

CellKind = Literal["text", "money", "int", "percent_bp", "date", "datetime"]
ChartKind = Literal["bar", "hbar", "pie", "line"]


@dataclass(frozen=True)
class Col:
    """A table column: ``key`` into each row dict, its heading, and how its values read:
    ``money`` integer fen, ``int`` a count, ``percent_bp`` basis points (1250 = 12.5 %)."""

    key: str
    title: str
    kind: CellKind = "text"

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "int", "percent_bp")


def cell_text(kind: CellKind, value: Any) -> str:
    """How a value reads on screen and on paper (the xlsx keeps numbers as numbers)."""
    if value is None or value == "":
        return ""
    if kind == "money":
        return format_fen(int(value))
    if kind == "int":
        return f"{int(value):,}"
    if kind == "percent_bp":
        return f"{int(value) / 100:.1f}%"  # display only
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


@dataclass
class Table:
    """Rows (dicts by column key) and the server's totals row (or None)."""

    title: str
    columns: list[Col]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    note: str = ""  # under the table: "只显示前 50 项" …

    def text(self, row: dict[str, Any], col: Col) -> str:
        return cell_text(col.kind, row.get(col.key))


@dataclass
class Chart:
    """A chart over one table: ``label`` column for the categories, ``values`` columns as
    series (same kind: money or counts). ``limit``: at most that many categories (the rest
    are in the table)."""

    kind: ChartKind
    title: str
    table: int  # index into ReportDoc.tables
    label: str
    values: list[str]
    limit: int = 0

    def has_data(self, doc: ReportDoc) -> bool:
        """Something to draw (a chart of zeros is left out, on screen and on paper)."""
        return any(v for _name, values in self.points(doc)[1] for v in values)

    def points(self, doc: ReportDoc) -> tuple[list[str], list[tuple[str, list[int]]], bool]:
        """(categories, [(series title, values)], money?) from the table's rows."""
        t = doc.tables[self.table]
        rows = t.rows[: self.limit] if self.limit else t.rows
        cols = {c.key: c for c in t.columns}
        labels = [str(r.get(self.label, "")) for r in rows]
        series = [(cols[v].title, [int(r.get(v) or 0) for r in rows]) for v in self.values]
        return labels, series, all(cols[v].kind == "money" for v in self.values)


@dataclass
class ReportDoc:
    """Everything a printed page says. ``headline``: (label, text) pairs printed above the
    tables, e.g. ("储值余额合计", "¥12,345.00")."""

    title: str
    shop: str
    period: str
    printed_at: dt.datetime
    printed_by: str
    headline: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def drawn_charts(self) -> list[Chart]:
        return [c for c in self.charts if c.has_data(self)]

    @property
    def file_stem(self) -> str:
        """A file name for exports: title and period, no characters Windows refuses."""
        raw = f"{self.title}_{self.period}"
        return "".join("_" if ch in '\\/:*?"<>| ' else ch for ch in raw)
