"""A report on paper: the :class:`ReportDoc` as a ``QTextDocument`` (HTML: header, headline
figures, the charts as pictures, the tables with their heading row repeated on every page)
printed on A4 through ``QPrinter`` — a real printer chosen in ``QPrintDialog``, the preview
(``QPrintPreviewDialog``) or a PDF file (``QPrinter.OutputFormat.PdfFormat``, which keeps the
text as text: it can be searched and copied)."""

from __future__ import annotations

import html
from pathlib import Path

from ..qt import QtCore, QtGui, QtPrintSupport
from .charts import chart_image
from .document import ReportDoc

#: the page's font, the first one installed. Not Noto Sans CJK: its glyphs are shared with
#: the CJK radicals, and Qt's PDF maps them back to those (门 reads ⻔, 支 ⽀ when the owner
#: copies or searches the PDF's text). Nothing on the page is bold either — Qt fakes bold for
#: these fonts by drawing each character twice, which the PDF's text repeats — headings are
#: larger and the totals row is shaded instead.
FONTS = ("WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "AR PL UMing CN")
CHART_WIDTH_PT = 640  # the chart's width on the page, in the document's pixels

CSS = """
body { font-size: 10pt; }
h1 { font-size: 17pt; font-weight: normal; margin: 0; }
h2 { font-size: 12.5pt; font-weight: normal; margin-top: 14px; margin-bottom: 4px; }
p.meta { color: #444; margin: 2px 0; }
td.head { font-size: 11pt; }
table.data th { background: #dde4ee; font-weight: normal; padding: 3px 6px; }
table.data td { padding: 2px 6px; }
td.num, th.num { text-align: right; }
tr.total td { background: #e8e8e8; }
p.note { color: #555; font-size: 9pt; }
"""


def report_font() -> QtGui.QFont:
    families = set(QtGui.QFontDatabase.families())
    for name in FONTS:
        if name in families:
            return QtGui.QFont(name, 10)
    return QtGui.QFont()


def to_html(doc: ReportDoc, labels: dict[str, str], chart_urls: list[str]) -> str:
    e = html.escape
    parts = [f"<h1>{e(doc.shop)}　{e(doc.title)}</h1>",
             f"<p class='meta'>{e(labels['period'])}：{e(doc.period)}　"
             f"{e(labels['printed_at'])}：{doc.printed_at:%Y-%m-%d %H:%M}　"
             f"{e(labels['printed_by'])}：{e(doc.printed_by)}</p>"]
    if doc.headline:
        parts.append("<table cellspacing='0' cellpadding='3'>")
        for label, text in doc.headline:
            parts.append(f"<tr><td>{e(label)}</td><td class='num head'>{e(text)}</td></tr>")
        parts.append("</table>")
    for url in chart_urls:
        parts.append(f"<p><img src='{url}' width='{CHART_WIDTH_PT}'></p>")
    for table in doc.tables:
        parts.append(f"<h2>{e(table.title)}</h2>")
        parts.append("<table class='data' border='1' cellspacing='0' cellpadding='3' "
                     "width='100%'><thead><tr>")
        for col in table.columns:
            cls = " class='num'" if col.numeric else ""
            parts.append(f"<th{cls}>{e(col.title)}</th>")
        parts.append("</tr></thead>")
        rows = [(r, False) for r in table.rows]
        if table.totals is not None:
            rows.append((table.totals, True))
        for row, total in rows:
            parts.append("<tr class='total'>" if total else "<tr>")
            for i, col in enumerate(table.columns):
                text = table.text(row, col)
                if total and i == 0 and not text:
                    text = labels["totals"]
                cls = " class='num'" if col.numeric else ""
                parts.append(f"<td{cls}>{e(text)}</td>")
            parts.append("</tr>")
        parts.append("</table>")
        if table.note:
            parts.append(f"<p class='note'>{e(table.note)}</p>")
    for note in doc.notes:
        parts.append(f"<p class='note'>{e(note)}</p>")
    return "<html><body>" + "".join(parts) + "</body></html>"


def text_document(doc: ReportDoc, labels: dict[str, str]) -> QtGui.QTextDocument:
    qdoc = QtGui.QTextDocument()
    qdoc.setDefaultFont(report_font())
    qdoc.setDefaultStyleSheet(CSS)
    urls = []
    for i, spec in enumerate(doc.drawn_charts):
        url = f"chart://{i}"
        qdoc.addResource(QtGui.QTextDocument.ResourceType.ImageResource, QtCore.QUrl(url),
                         chart_image(doc, spec))
        urls.append(url)
    qdoc.setHtml(to_html(doc, labels, urls))
    return qdoc


def a4_printer(pdf_path: str | Path | None = None) -> QtPrintSupport.QPrinter:
    printer = QtPrintSupport.QPrinter(QtPrintSupport.QPrinter.PrinterMode.HighResolution)
    printer.setPageSize(QtGui.QPageSize(QtGui.QPageSize.PageSizeId.A4))
    printer.setPageMargins(QtCore.QMarginsF(15, 15, 15, 15), QtGui.QPageLayout.Unit.Millimeter)
    if pdf_path is not None:
        printer.setOutputFormat(QtPrintSupport.QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(pdf_path))
    return printer


def print_doc(doc: ReportDoc, printer: QtPrintSupport.QPrinter, labels: dict[str, str]
              ) -> None:
    printer.setDocName(doc.file_stem)
    text_document(doc, labels).print(printer)


def save_pdf(doc: ReportDoc, path: str | Path, labels: dict[str, str]) -> Path:
    print_doc(doc, a4_printer(path), labels)
    return Path(path)
