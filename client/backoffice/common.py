"""Building blocks of the back-office screens (issue 5 §3): money and discount fields, a form
dialog that shows the server's per-field messages next to its fields, injectable file
dialogs, small product / member pickers, list screens over short server lists, and the
import dialog (dry-run preview with per-row errors, then commit).

Money is integer fen everywhere; a :class:`MoneyEdit` parses what people type as yuan with
:func:`common.money.parse_yuan` (never a float).
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common import payment
from common.errors import ApiError
from common.money import BP_100_PERCENT, MoneyError, format_fen, format_plain, parse_yuan
from common.schemas.base import Page

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtCore, QtWidgets, Signal
from ..widgets.context import Services
from ..widgets.listview import PagedListView
from ..widgets.paged import Column, PagedTableModel

# --- values -------------------------------------------------------------------------------

def money(fen: int | None) -> str:
    """Table cell for an amount in fen (empty when there is none)."""
    return "" if fen is None else format_fen(fen)


def zhe(bp: int) -> str:
    """Discount rate in basis points as shoppers read it: 9000 → '9折', 8500 → '8.5折'."""
    if bp >= 10_000:
        return tr("bo.no_discount")
    tenths = bp / 1000  # display only (not money)
    n = f"{tenths:.2f}".rstrip("0").rstrip(".")
    return tr("bo.zhe", n=n, pct=f"{bp / 100:g}")


def parse_zhe(text: str) -> int:
    """'9' / '9折' → 9000 (the rate PAID, bp); '8.5' → 8500; '85' → 8500; '10' or '' → 10000.
    ValueError else. The one 折 reader is :func:`common.payment.parse_zhe` (percent OFF)."""
    return BP_100_PERCENT - payment.parse_zhe(text)  # PaymentModelError is a ValueError


def active_text(active: bool) -> str:
    return tr("bo.status.active" if active else "bo.status.inactive")


def local_date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


class FieldError(ValueError):
    """A value typed into the form that cannot be sent (shown next to the field ``key``)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


# --- widgets ------------------------------------------------------------------------------

class MoneyEdit(QtWidgets.QLineEdit):
    """An amount in yuan ('12.5', '¥12.50'); :meth:`fen` returns integer fen.

    ``optional``: empty means None. ``signed``: '-3.50' is allowed (adjustments)."""

    def __init__(self, fen: int | None = None, *, optional: bool = False, signed: bool = False,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.optional = optional
        self.signed = signed
        self.setPlaceholderText(tr("bo.optional") if optional else tr("bo.money_hint"))
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.set_fen(fen)

    def set_fen(self, fen: int | None) -> None:
        self.setText("" if fen is None else format_plain(fen))

    def fen(self, key: str = "") -> int | None:
        text = self.text().strip()
        if not text:
            if self.optional:
                return None
            raise FieldError(key, tr("bo.required"))
        try:
            value = parse_yuan(text)
        except MoneyError:
            raise FieldError(key, tr("bo.bad_money")) from None
        if value < 0 and not self.signed:
            raise FieldError(key, tr("bo.bad_money"))
        return value


def int_of(edit: QtWidgets.QLineEdit, key: str, optional: bool = False) -> int | None:
    text = edit.text().strip()
    if not text:
        if optional:
            return None
        raise FieldError(key, tr("bo.required"))
    try:
        return int(text)
    except ValueError:
        raise FieldError(key, tr("bo.bad_int")) from None


def date_of(edit: QtWidgets.QLineEdit, key: str) -> str | None:
    text = edit.text().strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise FieldError(key, tr("bo.bad_date")) from None


def line_edit(text: str | None = "", name: str = "", placeholder: str = "",
              max_length: int = 0) -> QtWidgets.QLineEdit:
    w = QtWidgets.QLineEdit(text or "")
    if name:
        w.setObjectName(name)
    if placeholder:
        w.setPlaceholderText(placeholder)
    if max_length:
        w.setMaxLength(max_length)
    return w


def button(text: str, name: str, slot: Callable[[], Any]) -> QtWidgets.QPushButton:
    b = QtWidgets.QPushButton(text)
    b.setObjectName(name)
    b.clicked.connect(lambda _=False: slot())
    return b


class FileDialogs:
    """File choosers behind one object so tests can pass paths without a native dialog."""

    def open_path(self, parent: QtWidgets.QWidget | None, title: str, filter_: str
                  ) -> str | None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(parent, title, "", filter_)
        return path or None

    def save_path(self, parent: QtWidgets.QWidget | None, title: str, default_name: str,
                  filter_: str) -> str | None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(parent, title, default_name, filter_)
        return path or None


class FormDialog(QtWidgets.QDialog):
    """A dialog with a form; Save sends :meth:`body` through :meth:`call` in the background.

    Subclasses add rows with :meth:`add_field` and implement ``body()`` (may raise
    :class:`FieldError` for a value that cannot even be sent) and ``call(body, key)``
    (runs in a worker: only the API). The server's per-field messages appear under the
    fields, its message in ``services.dialogs.error``. Saving again with the same content
    reuses the Idempotency-Key, so a retried save is done once.

    Signals:
        saved(object): what the server returned.
    """

    saved = Signal(object)

    def __init__(self, services: Services, title: str, name: str,
                 parent: QtWidgets.QWidget | None = None, min_width: int = 460) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.services = services
        self.field_errors: dict[str, QtWidgets.QLabel] = {}
        self._last: tuple[Any, str] | None = None
        self.form = QtWidgets.QFormLayout()
        self.form.setFieldGrowthPolicy(
            QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Save
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Save)
        assert self.save_button is not None
        self.save_button.setText(tr("common.save"))
        self.save_button.setObjectName("save")
        cancel = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        assert cancel is not None
        cancel.setText(tr("common.cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.layout_ = QtWidgets.QVBoxLayout(self)
        self.layout_.addLayout(self.form)
        self.extra = QtWidgets.QVBoxLayout()
        self.layout_.addLayout(self.extra, 1)
        self.layout_.addWidget(self.buttons)
        self.setMinimumWidth(min_width)

    def add_field(self, key: str, label: str, widget: QtWidgets.QWidget,
                  error_key: str | None = None) -> QtWidgets.QWidget:
        if not widget.objectName():
            widget.setObjectName(key)
        self.form.addRow(label, widget)
        err = QtWidgets.QLabel()
        err.setObjectName(f"error_{key}")
        err.setStyleSheet("color: #b00020;")
        err.setWordWrap(True)
        err.setVisible(False)
        self.form.addRow("", err)
        self.field_errors[error_key or key] = err
        if isinstance(widget, QtWidgets.QLineEdit):  # typing again hides the old message
            widget.textEdited.connect(lambda _t, e=err: e.setVisible(False))
        return widget

    def show_field_error(self, key: str, message: str) -> bool:
        label = self.field_errors.get(key) or self.field_errors.get(key.split(".")[0])
        if label is None:
            return False
        label.setText(message)
        label.setVisible(True)
        return True

    # subclasses
    def body(self) -> Any:
        raise NotImplementedError

    def call(self, body: Any, key: str) -> Any:
        raise NotImplementedError

    def submit(self) -> None:
        for label in self.field_errors.values():
            label.setVisible(False)
        try:
            body = self.body()
        except FieldError as e:
            if not self.show_field_error(e.key, e.message):
                self.services.dialogs.info(self, e.message)
            return
        if body is None:  # nothing changed
            self.accept()
            return
        key = self._last[1] if self._last and self._last[0] == body else str(uuid.uuid4())
        self._last = (body, key)
        self.save_button.setEnabled(False)
        self.services.runner.op(lambda: self.call(body, key), self._saved, self._failed,
                                owner=self)

    def _saved(self, result: Any) -> None:
        self.save_button.setEnabled(True)
        self.saved.emit(result)
        self.accept()

    def _failed(self, err: ApiError) -> None:
        self.save_button.setEnabled(True)
        for key, msg in err.fields.items():
            self.show_field_error(key, msg)
        self.services.dialogs.error(self, err)


def changed(body: dict[str, Any], original: Any) -> dict[str, Any] | None:
    """Only the fields whose value differs from ``original`` (None when nothing changed)."""
    out = {k: v for k, v in body.items() if getattr(original, k, object()) != v}
    return out or None


class Picker(QtWidgets.QWidget):
    """Search box + result list for one server-side search (products, members).

    ``search(text)`` runs ``find(text)`` (→ list) in the background; the chosen item is
    :meth:`current`. Signals: results(list) after a search arrived."""

    results = Signal(object)

    def __init__(self, services: Services, find: Callable[[str], Sequence[Any]],
                 label: Callable[[Any], str], placeholder: str,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._find = find
        self._label = label
        self.edit = QtWidgets.QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setObjectName("pickSearch")
        self.combo = QtWidgets.QComboBox()
        self.combo.setObjectName("pickResult")
        self.combo.setMinimumWidth(220)
        self.combo.addItem(tr("bo.pick.none"), None)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        lay.addWidget(self.combo, 1)
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(lambda: self.search(self.edit.text().strip()))
        self.edit.textEdited.connect(lambda _t: self._timer.start())
        self.edit.returnPressed.connect(lambda: self.search(self.edit.text().strip()))
        self._generation = 0

    def search(self, text: str) -> None:
        self._timer.stop()
        self._generation += 1
        gen, find = self._generation, self._find
        self.services.runner.op(lambda: list(find(text)), lambda items: self._show(gen, items),
                                lambda e: self.services.dialogs.error(self, e), owner=self)

    def _show(self, gen: int, items: list[Any]) -> None:
        if gen != self._generation:
            return
        self.combo.clear()
        if not items:
            self.combo.addItem(tr("bo.pick.none"), None)
        for it in items:
            self.combo.addItem(self._label(it), it)
        self.results.emit(items)

    def current(self) -> Any:
        return self.combo.currentData()


def product_picker(services: Services) -> Picker:
    api = services.api
    return Picker(services, lambda q: api.search_products(1, 20, q=q).items,
                  lambda p: f"{p.name}（{format_fen(p.price)}）"
                            + (f" {p.barcodes[0]}" if p.barcodes else ""),
                  tr("bo.pick.search"))


def member_picker(services: Services) -> Picker:
    api = services.api
    return Picker(services, lambda q: api.list_members(1, 20, q=q).items,
                  lambda m: f"{m.name} {m.number}" + (f" {m.phone}" if m.phone else ""),
                  tr("bo.pick.member"))


# --- list screens -------------------------------------------------------------------------

def whole_list(fetch: Callable[[], Sequence[Any]]) -> Callable[[int, int, Any], Page[Any]]:
    """Adapt an endpoint that returns a short whole list (levels, rules, templates) to the
    paged model: one page, ``has_more`` false."""
    def _fetch(page: int, size: int, _filters: Any) -> Page[Any]:
        return Page[Any](items=list(fetch()), page=1, page_size=size, has_more=False)
    return _fetch


class ListScreen(QtWidgets.QWidget):
    """A back-office list: tools row, a paged table, new / edit buttons.

    Subclasses set ``dialog_class`` usage through :meth:`make_dialog`."""

    def __init__(self, services: Services, name: str,
                 fetch: Callable[[int, int, Any], Page[Any]], columns: Sequence[Column],
                 page_size: int = 50, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.services = services
        self.model = PagedTableModel(services.runner, fetch, columns, page_size=page_size)
        self.list = PagedListView(services, self.model)
        self.last_dialog: QtWidgets.QDialog | None = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        self.list.activated.connect(self.edit)

    def start(self, reload: bool = False) -> None:
        if reload or (self.model.pages_loaded == 0 and not self.model.loading):
            self.model.reload()

    def add_buttons(self, *buttons: QtWidgets.QWidget, stretch_first: bool = True) -> None:
        if stretch_first:
            self.list.tools.addStretch(1)
        for b in buttons:
            self.list.tools.addWidget(b)
        refresh = QtWidgets.QPushButton(tr("common.refresh"))
        refresh.clicked.connect(lambda _=False: self.model.reload())
        self.list.tools.addWidget(refresh)

    def make_dialog(self, item: Any | None) -> FormDialog:
        raise NotImplementedError

    def show_dialog(self, dlg: QtWidgets.QDialog) -> QtWidgets.QDialog:
        self.last_dialog = dlg
        dlg.open()  # window-modal, non-blocking (tests drive it)
        return dlg

    def new(self) -> FormDialog:
        dlg = self.make_dialog(None)
        dlg.saved.connect(lambda _x: self.model.reload())
        self.show_dialog(dlg)
        return dlg

    def selected(self) -> Any | None:
        item = self.list.selected_item()
        if item is None:
            self.services.dialogs.info(self, tr("bo.select_first"))
        return item

    def edit(self, item: Any | None = None) -> FormDialog | None:
        item = item if item is not None else self.selected()
        if item is None:
            return None
        dlg = self.make_dialog(item)
        dlg.saved.connect(self._saved)
        self.show_dialog(dlg)
        return dlg

    def _saved(self, new: Any) -> None:
        if any(getattr(x, "id", None) == getattr(new, "id", -1) for x in self.model.items):
            self.model.replace_item(lambda x: x.id == new.id, new)
        else:
            self.model.reload()


# --- import / export ----------------------------------------------------------------------

class ImportDialog(QtWidgets.QDialog):
    """Choose a CSV/xlsx file → the server checks it (dry run) → the preview lists every bad
    row with its number and reason → "确认导入" sends the same file for real.

    ``run(filename, content_base64, dry_run)`` is the API call (runs in a worker).

    Signals:
        checked(object): the dry-run report arrived.
        imported(object): the real import's report arrived.
    """

    checked = Signal(object)
    imported = Signal(object)

    def __init__(self, services: Services, what: str,
                 run: Callable[[str, str, bool], Any], files: FileDialogs,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle(tr("bo.import.title", what=what))
        self.services = services
        self._run = run
        self.files = files
        self.filename: str | None = None
        self.content: str | None = None
        self.report: Any = None
        choose = button(tr("bo.import.choose"), "chooseFile", self.choose)
        self.file_label = QtWidgets.QLabel(tr("bo.import.no_file"))
        self.file_label.setObjectName("fileLabel")
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        self.errors = QtWidgets.QTableWidget(0, 2)
        self.errors.setObjectName("importErrors")
        self.errors.setHorizontalHeaderLabels([tr("bo.import.col.row"),
                                               tr("bo.import.col.message")])
        self.errors.horizontalHeader().setStretchLastSection(True)
        self.errors.verticalHeader().setVisible(False)
        self.errors.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.commit_button = button(tr("bo.import.commit"), "commitImport", self.commit)
        self.commit_button.setEnabled(False)
        close = button(tr("common.close"), "closeImport", self.reject)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(choose)
        top.addWidget(self.file_label, 1)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.commit_button)
        bottom.addWidget(close)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(self.errors, 1)
        lay.addLayout(bottom)
        self.resize(640, 420)

    def choose(self) -> None:
        path = self.files.open_path(self, self.windowTitle(), tr("bo.import.filter"))
        if path:
            self.load(path)

    def load(self, path: str) -> None:
        """Read the file and send it for checking (dry run)."""
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            self.services.dialogs.info(self, tr("bo.import.read_failed", error=e.strerror or e))
            return
        self.filename = Path(path).name
        self.content = base64.b64encode(data).decode()
        self.file_label.setText(tr("bo.import.file", name=self.filename))
        self.summary.setText(tr("bo.import.checking"))
        self.commit_button.setEnabled(False)
        self.errors.setRowCount(0)
        name, content, run = self.filename, self.content, self._run
        self.services.runner.op(lambda: run(name, content, True), self._checked,
                                self._failed, owner=self)

    def _failed(self, err: ApiError) -> None:
        self.summary.setText(err.message(i18n.language()))
        self.services.dialogs.error(self, err)

    def _show_report(self, report: Any) -> None:
        errors = [(e["row"], e["message"]) if isinstance(e, dict) else (e.row, e.message)
                  for e in report.errors]
        self.errors.setRowCount(len(errors))
        for i, (row, msg) in enumerate(errors):
            cell = QtWidgets.QTableWidgetItem(str(row))
            cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.errors.setItem(i, 0, cell)
            self.errors.setItem(i, 1, QtWidgets.QTableWidgetItem(str(msg)))
        self.errors.resizeColumnToContents(0)
        self.summary.setText(tr("bo.import.summary", rows=report.rows, created=report.created,
                                updated=report.updated, errors=len(errors)))

    def _checked(self, report: Any) -> None:
        self.report = report
        self._show_report(report)
        ok = not report.errors and report.rows > 0
        self.summary.setText(self.summary.text() + "\n"
                             + tr("bo.import.ready" if ok else "bo.import.fix"))
        self.commit_button.setEnabled(ok)
        self.checked.emit(report)

    def commit(self) -> None:
        if not (self.filename and self.content):
            return
        self.commit_button.setEnabled(False)
        name, content, run = self.filename, self.content, self._run
        self.services.runner.op(lambda: run(name, content, False), self._imported,
                                self._failed, owner=self)

    def _imported(self, report: Any) -> None:
        self.report = report
        self._show_report(report)
        self.summary.setText(tr("bo.import.done", created=report.created,
                                updated=report.updated))
        self.imported.emit(report)


def export_to_file(services: Services, parent: QtWidgets.QWidget, files: FileDialogs,
                   default_name: str, fetch: Callable[[str], Any],
                   done: Callable[[str], None] | None = None) -> None:
    """Ask for a path, fetch the export (``fetch(fmt)`` → FileOut) and write it — both in
    the background. The format follows the chosen file's ending (.xlsx or else CSV)."""
    filter_ = f"{tr('bo.export.filter_csv')};;{tr('bo.export.filter_xlsx')}"
    path = files.save_path(parent, tr("bo.export.title"), default_name, filter_)
    if not path:
        return
    fmt = "xlsx" if path.lower().endswith(".xlsx") else "csv"

    def work() -> str:
        out = fetch(fmt)
        Path(path).write_bytes(base64.b64decode(out.content_base64))
        return path

    def ok(p: str) -> None:
        services.dialogs.info(parent, tr("bo.export.done", path=p))
        if done is not None:
            done(p)

    services.runner.op(work, ok, lambda e: services.dialogs.error(parent, e), owner=parent)
