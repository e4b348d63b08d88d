"""The report on screen: headline figures, the charts (``QChartView``), the tables, and the
ways out — 打印 (``QPrintDialog`` → any installed printer, A4), 打印预览, 导出 PDF, 导出 Excel
— on the toolbar and on the tables' right-click menu (with 复制: the selected cells as
tab-separated text, pasted into Excel as cells). Everything shown, printed and exported is
the one :class:`ReportDoc`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..i18n import tr
from ..qt import Qt, QtGui, QtPrintSupport, QtWidgets, Signal
from .charts import chart_view, make_chart
from .document import ReportDoc
from .render import a4_printer, print_doc, save_pdf
from .xlsx import save_xlsx

WIDE_TABLE = 9  # columns


def output_labels() -> dict[str, str]:
    """The header words of a printed / exported report, in the client's language."""
    return {k: tr(f"rout.{k}") for k in ("period", "printed_at", "printed_by", "totals")}


def choose_printer(parent: QtWidgets.QWidget) -> QtPrintSupport.QPrinter | None:
    """The system's print dialog on an A4 printer; None when the user cancels."""
    printer = a4_printer()
    dlg = QtPrintSupport.QPrintDialog(printer, parent)
    return printer if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted else None


class ReportView(QtWidgets.QWidget):
    """Shows a :class:`ReportDoc`. ``save_path(title, default_name, filter)`` and
    ``pick_printer(parent)`` are injectable (tests give a path / a PDF printer).

    Signals:
        exported(str): a PDF or xlsx file was written (its path).
        printed(): the report went to a printer.
    """

    exported = Signal(str)
    printed = Signal()

    def __init__(self, save_path: Callable[[QtWidgets.QWidget, str, str, str], str | None],
                 parent: QtWidgets.QWidget | None = None, *,
                 tools: QtWidgets.QBoxLayout | None = None) -> None:
        """``tools``: a layout of the screen's own (its query bar) to put the print and
        export buttons in; else they sit next to the headline figures."""
        super().__init__(parent)
        self.setObjectName("reportView")
        self.doc: ReportDoc | None = None
        self.save_path = save_path
        self.pick_printer: Callable[[QtWidgets.QWidget], QtPrintSupport.QPrinter | None] = \
            choose_printer
        self.tables: list[QtWidgets.QTableWidget] = []
        self.charts: list[QtWidgets.QWidget] = []
        self.headline = QtWidgets.QLabel()
        self.headline.setObjectName("reportHeadline")
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.print_button = self._tool("rout.print", "printReport", self.print_report)
        self.preview_button = self._tool("rout.preview", "previewReport", self.preview)
        self.pdf_button = self._tool("rout.pdf", "exportPdf", self.export_pdf)
        self.xlsx_button = self._tool("rout.xlsx", "exportXlsx", self.export_xlsx)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.headline, 1)
        for b in (self.print_button, self.preview_button, self.pdf_button, self.xlsx_button):
            (tools if tools is not None else row).addWidget(b)
        self.chart_row = QtWidgets.QWidget()
        self.chart_row.setObjectName("reportCharts")
        self.chart_layout = QtWidgets.QHBoxLayout(self.chart_row)
        self.chart_layout.setContentsMargins(0, 0, 0, 0)
        self.table_tabs = QtWidgets.QTabWidget()
        self.table_tabs.setObjectName("reportTables")
        self.splitter = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.chart_row)
        self.splitter.addWidget(self.table_tabs)
        self.splitter.setChildrenCollapsible(False)
        self.notes = QtWidgets.QLabel()
        self.notes.setObjectName("reportNotes")
        self.notes.setWordWrap(True)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.splitter, 1)
        lay.addWidget(self.notes)
        QtGui.QShortcut(QtGui.QKeySequence.StandardKey.Print, self, self.print_report)
        self._enable(False)

    def _tool(self, key: str, name: str, slot: Callable[[], object]) -> QtWidgets.QPushButton:
        b = QtWidgets.QPushButton(tr(key))
        b.setObjectName(name)
        b.clicked.connect(lambda _=False: slot())
        return b

    def _enable(self, on: bool) -> None:
        for b in (self.print_button, self.preview_button, self.pdf_button, self.xlsx_button):
            b.setEnabled(on)

    # -- showing ----------------------------------------------------------------------------
    def show_doc(self, doc: ReportDoc) -> None:
        self.doc = doc
        self.headline.setText("　".join([f"{label} {text}" for label, text in doc.headline]
                                       + list(doc.notes)))
        for w in self.charts:
            w.setParent(None)
            w.deleteLater()
        self.charts = []
        for spec in doc.drawn_charts:
            view = chart_view(make_chart(doc, spec))
            view.setObjectName(f"chart_{spec.kind}")
            self.chart_layout.addWidget(view)
            self.charts.append(view)
        self.chart_row.setVisible(bool(self.charts))
        self.table_tabs.clear()
        self.tables = []
        for i, table in enumerate(doc.tables):
            w = self._table_widget(table, i)
            self.table_tabs.addTab(w, table.title)
            self.tables.append(w)
        self.table_tabs.tabBar().setVisible(len(doc.tables) > 1)
        notes = [t.note for t in doc.tables if t.note]
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        if self.charts:
            self.splitter.setSizes([300, 400])
        self._enable(True)

    def _table_widget(self, table, index: int) -> QtWidgets.QTableWidget:
        rows = [(r, False) for r in table.rows]
        if table.totals is not None:
            rows.append((table.totals, True))
        w = QtWidgets.QTableWidget(len(rows), len(table.columns))
        w.setObjectName(f"reportTable{index}")
        w.setHorizontalHeaderLabels([c.title for c in table.columns])
        w.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        w.setAlternatingRowColors(True)
        w.verticalHeader().setVisible(False)
        w.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        w.customContextMenuRequested.connect(lambda pos, t=w: self._menu(t, pos))
        for r, (row, total) in enumerate(rows):
            for c, col in enumerate(table.columns):
                text = table.text(row, col)
                if total and c == 0 and not text:
                    text = tr("rout.totals")
                item = QtWidgets.QTableWidgetItem(text)
                if col.numeric:
                    item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight
                                              | Qt.AlignmentFlag.AlignVCenter))
                if total:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                w.setItem(r, c, item)
        w.resizeColumnsToContents()
        if 0 < len(table.columns) <= WIDE_TABLE:  # the first column takes the room left
            w.horizontalHeader().setSectionResizeMode(
                0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        return w  # a wider table keeps every column readable and scrolls sideways

    # -- the right-click menu -------------------------------------------------------------
    def context_menu(self, table: QtWidgets.QTableWidget) -> QtWidgets.QMenu:
        menu = QtWidgets.QMenu(table)
        menu.setObjectName("reportMenu")
        for key, slot in (("rout.copy", lambda: self.copy(table)),
                          ("rout.print", self.print_report), ("rout.pdf", self.export_pdf),
                          ("rout.xlsx", self.export_xlsx)):
            act = menu.addAction(tr(key))
            act.triggered.connect(lambda _=False, s=slot: s())
        return menu

    def _menu(self, table: QtWidgets.QTableWidget, pos) -> None:
        self.context_menu(table).exec(table.viewport().mapToGlobal(pos))

    def copy(self, table: QtWidgets.QTableWidget) -> str:
        """The selected cells (all when none is selected), tab-separated, with the headings,
        to the clipboard; returns the text."""
        ranges = table.selectedRanges()
        rows = sorted({r for rg in ranges for r in range(rg.topRow(), rg.bottomRow() + 1)}) \
            or list(range(table.rowCount()))
        cols = sorted({c for rg in ranges
                       for c in range(rg.leftColumn(), rg.rightColumn() + 1)}) \
            or list(range(table.columnCount()))
        lines = ["\t".join(table.horizontalHeaderItem(c).text() for c in cols)]
        for r in rows:
            lines.append("\t".join((table.item(r, c).text() if table.item(r, c) else "")
                                   for c in cols))
        text = "\n".join(lines)
        QtWidgets.QApplication.clipboard().setText(text)
        return text

    # -- out --------------------------------------------------------------------------------
    def print_to(self, printer: QtPrintSupport.QPrinter) -> None:
        assert self.doc is not None
        print_doc(self.doc, printer, output_labels())

    def print_report(self) -> None:
        if self.doc is None:
            return
        printer = self.pick_printer(self)
        if printer is not None:
            self.print_to(printer)
            self.printed.emit()

    def preview(self) -> None:
        if self.doc is None:
            return
        dlg = QtPrintSupport.QPrintPreviewDialog(a4_printer(), self)
        dlg.setObjectName("reportPreview")
        dlg.paintRequested.connect(self.print_to)
        dlg.resize(900, 700)
        dlg.exec()

    def export_pdf(self) -> Path | None:
        if self.doc is None:
            return None
        path = self.save_path(self, tr("rout.pdf"), f"{self.doc.file_stem}.pdf",
                              tr("rout.filter_pdf"))
        if not path:
            return None
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        out = save_pdf(self.doc, path, output_labels())
        self.exported.emit(str(out))
        return out

    def export_xlsx(self) -> Path | None:
        if self.doc is None:
            return None
        path = self.save_path(self, tr("rout.xlsx"), f"{self.doc.file_stem}.xlsx",
                              tr("rout.filter_xlsx"))
        if not path:
            return None
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        out = save_xlsx(self.doc, path, output_labels())
        self.exported.emit(str(out))
        return out
