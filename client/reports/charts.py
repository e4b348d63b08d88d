"""Charts of a report (QtCharts, ``PyQt6-Charts``): the same ``QChart`` is shown in the back
office (a ``QChartView``) and painted onto the A4 page, so screen and paper agree.

QtCharts rather than matplotlib: it is Qt (the client's one toolkit: fonts, the offscreen
platform of the tests and ``QPainter`` printing come for free), it renders Chinese labels
with the system's CJK font without setup, and it adds a few MB to the counter bundle where
matplotlib would bring numpy and its own font machinery. Values are plotted in yuan (money)
or counts: a chart is a picture of the table's figures, which stay exact in the table.
"""

from __future__ import annotations

from common.money import format_fen

from ..qt import Qt, QtCharts, QtCore, QtGui, QtWidgets
from .document import Chart, ReportDoc

PALETTE = ("#2f6db5", "#e07b39", "#3a9d5d", "#c0392b", "#8e6bbf", "#7f8c8d", "#d4a017",
           "#16a085", "#e84393", "#34495e")


def _plot(value: int, money: bool) -> float:
    return value / 100 if money else float(value)  # a chart's coordinate, not money


def make_chart(doc: ReportDoc, spec: Chart) -> QtCharts.QChart:
    labels, series, money = spec.points(doc)
    chart = QtCharts.QChart()
    chart.setTitle(spec.title)
    chart.setAnimationOptions(QtCharts.QChart.AnimationOption.NoAnimation)
    chart.setBackgroundRoundness(0)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    if spec.kind == "pie":
        pie = QtCharts.QPieSeries()
        values = series[0][1] if series else []
        whole = sum(v for v in values if v > 0)
        for i, (label, v) in enumerate(zip(labels, values, strict=True)):
            if v <= 0:
                continue  # a pie has no negative or empty slice (the table has the row)
            share = v * 100 / whole if whole else 0  # display only
            text = f"{label} {format_fen(v) if money else v} ({share:.0f}%)"
            s = pie.append(text, _plot(v, money))
            s.setLabelVisible(True)
            s.setColor(QtGui.QColor(PALETTE[i % len(PALETTE)]))
        pie.setPieSize(0.6)  # room around it for the slices' labels
        chart.addSeries(pie)
        chart.legend().setVisible(False)
        return chart
    if spec.kind == "line":
        axis_x = QtCharts.QBarCategoryAxis()
        axis_x.append(labels)
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        axis_y = QtCharts.QValueAxis()
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
        top = 0.0
        for i, (name, values) in enumerate(series):
            line = QtCharts.QLineSeries()
            line.setName(name)
            line.setColor(QtGui.QColor(PALETTE[i % len(PALETTE)]))
            for x, v in enumerate(values):
                line.append(x, _plot(v, money))
                top = max(top, _plot(v, money))
            chart.addSeries(line)
            line.attachAxis(axis_x)
            line.attachAxis(axis_y)
        axis_y.setRange(0, top * 1.1 or 1)
        axis_y.applyNiceNumbers()
        chart.legend().setVisible(len(series) > 1)
        return chart
    horizontal = spec.kind == "hbar"
    bars = QtCharts.QHorizontalBarSeries() if horizontal else QtCharts.QBarSeries()
    low = high = 0.0
    for i, (name, values) in enumerate(series):
        bar_set = QtCharts.QBarSet(name)
        bar_set.setColor(QtGui.QColor(PALETTE[i % len(PALETTE)]))
        for v in (list(reversed(values)) if horizontal else values):
            p = _plot(v, money)
            bar_set.append(p)
            low, high = min(low, p), max(high, p)
        bars.append(bar_set)
    chart.addSeries(bars)
    cats = QtCharts.QBarCategoryAxis()
    cats.append(list(reversed(labels)) if horizontal else labels)
    axis = QtCharts.QValueAxis()
    axis.setRange(low * 1.1, high * 1.1 or 1)
    axis.applyNiceNumbers()
    axis.setLabelFormat("%.0f")
    if horizontal:
        chart.addAxis(cats, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(axis, Qt.AlignmentFlag.AlignBottom)
    else:
        chart.addAxis(cats, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(axis, Qt.AlignmentFlag.AlignLeft)
        if len(labels) > 16:
            cats.setLabelsAngle(-90)
    bars.attachAxis(cats)
    bars.attachAxis(axis)
    chart.legend().setVisible(len(series) > 1)
    return chart


def chart_view(chart: QtCharts.QChart) -> QtCharts.QChartView:
    view = QtCharts.QChartView(chart)
    view.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(260)
    return view


def chart_image(doc: ReportDoc, spec: Chart, width: int = 640, height: int = 340,
                scale: int = 3) -> QtGui.QImage:
    """The chart painted at ``scale`` × its size (sharp on a 300 dpi page), white behind."""
    chart = make_chart(doc, spec)
    scene = QtWidgets.QGraphicsScene()
    scene.addItem(chart)
    chart.setGeometry(QtCore.QRectF(0, 0, width, height))
    QtWidgets.QApplication.processEvents()  # let the chart lay out its axes and labels
    image = QtGui.QImage(width * scale, height * scale, QtGui.QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    scene.render(painter, QtCore.QRectF(0, 0, width * scale, height * scale),
                 QtCore.QRectF(0, 0, width, height))
    painter.end()
    scene.removeItem(chart)
    return image

