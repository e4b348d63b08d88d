"""Printable, exportable reports (报表输出): one :class:`~client.reports.document.ReportDoc`
per report — built from the server's figures, never summed here — rendered to the screen
(tables + QtCharts), to A4 (``QPrinter``: a printer or a PDF file) and to ``.xlsx``."""
