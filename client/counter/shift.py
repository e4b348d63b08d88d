"""开班 (cash float) and 交班 (count the drawer by denomination: expected vs counted, the
difference) — the shift report is printed after closing.

Keyboard: Enter in the float field opens the shift. In the count grid Enter moves to the
next field (the count is never thrown away), from the note to 确认交班; the confirm button is
the default, 取消 never is."""

from __future__ import annotations

import uuid

from common.errors import ApiError
from common.money import format_fen
from common.schemas.sales import ShiftReportOut

from .. import i18n, labels
from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal
from ..widgets.approval import MoneyEdit, big_label, error_label
from ..widgets.context import Services
from .receipts import local_time

#: notes and coins (fen), as the server accepts them
DENOMINATIONS = (10000, 5000, 2000, 1000, 500, 100, 50, 10, 5, 1)


def method_rows(by_method: dict[str, int]) -> list[str]:
    """``    现金 ¥500.00`` per payment method with an amount (labels, never codes)."""
    return [tr("shift.method_row", method=labels.payment_method(k), amount=format_fen(v))
            for k, v in by_method.items() if v]


def summary_text(rep: ShiftReportOut) -> str:
    """The shift's figures as the close dialog shows them: sales by payment method, then
    refunds, recharges (充值) and count cards (次卡) each under their own heading."""
    lines = [tr("shift.summary", cashier=rep.cashier, counter=rep.counter,
                opened=local_time(rep.opened_at).strftime("%m-%d %H:%M"),
                float=format_fen(rep.float_amount)),
             tr("shift.sales_section", n=rep.sales_count, total=format_fen(rep.sales_total)),
             *method_rows(rep.by_method),
             tr("shift.refunds_section", total=format_fen(rep.refunds_total)),
             tr("shift.recharges_section", n=rep.recharges_count,
                total=format_fen(rep.recharges_total)),
             *method_rows(rep.recharges_by_method)]
    if rep.count_cards_count:
        lines += [tr("shift.count_cards_section", n=rep.count_cards_count,
                     total=format_fen(rep.count_cards_total)),
                  *method_rows(rep.count_cards_by_method)]
    return "\n".join(lines)


def denomination_label(fen: int) -> str:
    if fen >= 100:
        return tr("shift.yuan", n=fen // 100)
    if fen >= 10:
        return tr("shift.jiao", n=fen // 10)
    return tr("shift.fen", n=fen)


class ShiftOpenDialog(QtWidgets.QDialog):
    """Signals:
        opened(object): the new shift's :class:`ShiftReportOut`.
    """

    opened = Signal(object)

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shiftOpenDialog")
        self.services = services
        self.key = str(uuid.uuid4())
        self.setWindowTitle(tr("shift.open_title"))
        self.setModal(True)
        form = QtWidgets.QFormLayout(self)
        self.hint = QtWidgets.QLabel(tr("shift.float_hint"))
        self.hint.setObjectName("shiftOpenHint")
        self.hint.setWordWrap(True)
        form.addRow(self.hint)
        self.float_amount = MoneyEdit(big=True)
        self.float_amount.setObjectName("shiftFloat")
        form.addRow(tr("shift.float"), self.float_amount)
        self.error = error_label()
        form.addRow(self.error)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        assert self.ok is not None
        self.ok.setText(tr("shift.open"))
        self.ok.setObjectName("shiftOpenSubmit")
        self.ok.setDefault(True)  # Enter in the float field opens the shift
        self.cancel = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        assert self.cancel is not None
        self.cancel.setText(tr("common.cancel"))
        self.cancel.setAutoDefault(False)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setMinimumWidth(380)
        self.float_amount.setFocus()

    def submit(self) -> None:
        amount = self.float_amount.fen() or 0
        api, key = self.services.api, self.key
        self.ok.setEnabled(False)
        self.services.runner.op(lambda: api.open_shift(amount, key=key), self._done,
                                self._failed, owner=self)

    def _done(self, rep: ShiftReportOut) -> None:
        self.opened.emit(rep)
        self.accept()

    def _failed(self, err: ApiError) -> None:
        self.ok.setEnabled(True)
        self.error.setText(err.message(i18n.language()))


class ShiftCloseDialog(QtWidgets.QDialog):
    """The drawer count grid; loads the open shift's live figures first.

    Signals:
        closed(object): the closed shift's :class:`ShiftReportOut` (print it).
    """

    closed = Signal(object)

    def __init__(self, services: Services, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shiftCloseDialog")
        self.services = services
        self.shift: ShiftReportOut | None = None
        self.key = str(uuid.uuid4())
        self.setWindowTitle(tr("shift.close_title"))
        self.setModal(True)
        outer = QtWidgets.QHBoxLayout(self)

        left = QtWidgets.QVBoxLayout()
        grid = QtWidgets.QGridLayout()
        grid.addWidget(QtWidgets.QLabel(tr("shift.denomination")), 0, 0)
        grid.addWidget(QtWidgets.QLabel(tr("shift.count")), 0, 1)
        grid.addWidget(QtWidgets.QLabel(tr("shift.subtotal")), 0, 2)
        self.counts: dict[int, QtWidgets.QSpinBox] = {}
        self.subtotals: dict[int, QtWidgets.QLabel] = {}
        for i, fen in enumerate(DENOMINATIONS, start=1):
            grid.addWidget(QtWidgets.QLabel(denomination_label(fen)), i, 0)
            spin = QtWidgets.QSpinBox()
            spin.setObjectName(f"count_{fen}")
            spin.setRange(0, 100_000)
            spin.setMinimumHeight(30)
            spin.setMinimumWidth(90)
            spin.valueChanged.connect(lambda _v: self.recalc())
            spin.installEventFilter(self)  # the count is selected when entered: typing 6
            # over the 0 shown gives 6, not 60
            grid.addWidget(spin, i, 1)
            sub = QtWidgets.QLabel(format_fen(0))
            sub.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            sub.setMinimumWidth(90)
            grid.addWidget(sub, i, 2)
            self.counts[fen], self.subtotals[fen] = spin, sub
        left.addLayout(grid)
        left.addStretch(1)
        outer.addLayout(left)
        outer.addSpacing(24)

        right = QtWidgets.QVBoxLayout()
        self.summary = QtWidgets.QLabel(tr("common.loading"))
        self.summary.setObjectName("shiftSummary")
        self.summary.setWordWrap(True)
        self.summary.setMinimumWidth(320)
        right.addWidget(self.summary)
        figures = QtWidgets.QFormLayout()
        self.expected = big_label(format_fen(0), 20, "#333", "shiftExpected")
        self.counted = big_label(format_fen(0), 20, "#0d47a1", "shiftCounted")
        self.difference = big_label(format_fen(0), 26, "#1b5e20", "shiftDifference")
        figures.addRow(tr("shift.expected"), self.expected)
        figures.addRow(tr("shift.counted"), self.counted)
        figures.addRow(tr("shift.difference"), self.difference)
        right.addLayout(figures)
        self.note = QtWidgets.QLineEdit()
        self.note.setObjectName("shiftNote")
        self.note.setPlaceholderText(tr("shift.note"))
        right.addWidget(self.note)
        self.error = error_label()
        right.addWidget(self.error)
        right.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        self.cancel = QtWidgets.QPushButton(tr("common.cancel"))
        self.cancel.setObjectName("shiftCloseCancel")
        self.cancel.setAutoDefault(False)  # Enter never throws the count away
        self.cancel.clicked.connect(self.reject)
        self.submit_button = QtWidgets.QPushButton(tr("shift.close"))
        self.submit_button.setObjectName("shiftCloseSubmit")
        self.submit_button.setMinimumHeight(44)
        self.submit_button.setEnabled(False)
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self.submit)
        row.addWidget(self.cancel)
        row.addWidget(self.submit_button)
        right.addLayout(row)
        outer.addLayout(right, 1)
        api = services.api
        services.runner.op(api.current_shift, self._loaded, self._failed, owner=self)

    def _loaded(self, rep: ShiftReportOut) -> None:
        self.shift = rep
        self.summary.setText(summary_text(rep))
        self.expected.setText(format_fen(rep.expected_cash))
        self.submit_button.setEnabled(True)
        self.recalc()
        self.adjustSize()  # the figures' lines (sales, refunds, recharges …) all shown
        first = self.counts[DENOMINATIONS[0]]
        if not any(s.hasFocus() for s in self.counts.values()) and not self.note.hasFocus():
            first.setFocus()
            first.selectAll()

    def next_field(self, w: QtWidgets.QWidget | None) -> QtWidgets.QWidget | None:
        """Where Enter moves from ``w``: the next count, the note after the last count, the
        confirm button after the note (None: elsewhere, Enter does what the dialog does)."""
        order: list[QtWidgets.QWidget] = [*self.counts.values(), self.note]
        while w is not None and w not in order:
            w = w.parentWidget()
        if w is None:
            return None
        i = order.index(w)
        return order[i + 1] if i + 1 < len(order) else self.submit_button

    def eventFilter(self, obj: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if (event is not None and event.type() == QtCore.QEvent.Type.FocusIn
                and isinstance(obj, QtWidgets.QSpinBox)):
            QtCore.QTimer.singleShot(0, obj.selectAll)  # after Qt placed the cursor
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event: QtGui.QKeyEvent | None) -> None:
        if event is not None and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            nxt = self.next_field(QtWidgets.QApplication.focusWidget())
            if nxt is not None:
                nxt.setFocus()
                if isinstance(nxt, QtWidgets.QSpinBox):
                    nxt.selectAll()
                return
        super().keyPressEvent(event)

    def counted_fen(self) -> int:
        return sum(fen * spin.value() for fen, spin in self.counts.items())

    def recalc(self) -> None:
        for fen, spin in self.counts.items():
            self.subtotals[fen].setText(format_fen(fen * spin.value()))
        counted = self.counted_fen()
        self.counted.setText(format_fen(counted))
        if self.shift is None:
            return
        diff = counted - self.shift.expected_cash
        self.difference.setText(("+" if diff > 0 else "") + format_fen(diff))
        color = "#1b5e20" if diff == 0 else "#c62828"
        self.difference.setStyleSheet(f"color: {color};")

    def submit(self) -> None:
        if self.shift is None:
            return
        counts = {fen: spin.value() for fen, spin in self.counts.items() if spin.value()}
        note = self.note.text().strip() or None
        api, sid, key = self.services.api, self.shift.id, self.key
        self.submit_button.setEnabled(False)
        self.services.runner.op(lambda: api.close_shift(sid, counts, note, key=key), self._done,
                                self._failed, owner=self)

    def _done(self, rep: ShiftReportOut) -> None:
        self.closed.emit(rep)
        self.accept()

    def _failed(self, err: ApiError) -> None:
        self.submit_button.setEnabled(self.shift is not None)
        self.error.setText(err.message(i18n.language()))
