"""Message boxes behind one injectable object, so tests pass a recording stub.

``show_error(parent, err)`` shows the cashier-readable message of an
:class:`~common.errors.ApiError` (with its per-field messages), never a traceback.
"""

from __future__ import annotations

from common.errors import ApiError

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtGui, QtWidgets


def error_text(err: ApiError) -> str:
    text = err.message(i18n.language())
    if err.fields:
        text += "\n" + "\n".join(f"• {i18n.field_label(k)}：{v}" for k, v in err.fields.items())
    return text


class Dialogs:
    """The real message boxes (modal)."""

    def error(self, parent: QtWidgets.QWidget | None, err: ApiError) -> None:
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, tr("common.error_title"),
                                    error_text(err), QtWidgets.QMessageBox.StandardButton.Ok,
                                    parent)
        box.setObjectName("errorBox")
        box.exec()

    def info(self, parent: QtWidgets.QWidget | None, text: str) -> None:
        QtWidgets.QMessageBox.information(parent, tr("common.info_title"), text)

    def confirm(self, parent: QtWidgets.QWidget | None, text: str) -> bool:
        b = QtWidgets.QMessageBox.StandardButton
        return QtWidgets.QMessageBox.question(parent, tr("common.confirm_title"), text,
                                              b.Yes | b.No, b.No) == b.Yes


def show_error(parent: QtWidgets.QWidget | None, err: ApiError,
               dialogs: Dialogs | None = None) -> None:
    (dialogs or Dialogs()).error(parent, err)


_BUTTON_KEYS = {"Ok": "common.ok", "Cancel": "common.cancel", "Save": "common.save",
                "Close": "common.close", "Yes": "common.yes", "No": "common.no"}


def name_buttons(box: QtWidgets.QDialogButtonBox) -> QtWidgets.QDialogButtonBox:
    """Give a button box's standard buttons the catalogue's words (Qt names them "OK",
    "Cancel", "Save" in English whatever the interface language)."""
    sb = QtWidgets.QDialogButtonBox.StandardButton
    for name, key in _BUTTON_KEYS.items():
        button = box.button(getattr(sb, name))
        if button is not None and key in i18n.STRINGS:
            button.setText(tr(key))
    return box


def accept_cancel(dialog: QtWidgets.QDialog, accept_text: str, accept_name: str
                  ) -> tuple[QtWidgets.QDialogButtonBox, QtWidgets.QPushButton]:
    """(button box, its accept button): ``accept_text`` (object name ``accept_name``) and
    取消, wired to the dialog's accept and reject."""
    box = QtWidgets.QDialogButtonBox()
    ok = box.addButton(accept_text, QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
    assert ok is not None
    ok.setObjectName(accept_name)
    box.addButton(tr("common.cancel"), QtWidgets.QDialogButtonBox.ButtonRole.RejectRole)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box, ok


class EnterDialog(QtWidgets.QDialog):
    """A dialog whose Enter (either key) always calls :meth:`enter` — never a default button,
    so a focused button or a scanner's trailing Enter cannot act twice. Subclasses decide in
    ``enter`` what Enter means now (confirm when complete, else go where input is missing)."""

    def enter(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def keyPressEvent(self, event: QtGui.QKeyEvent | None) -> None:
        if event is not None and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.enter()
            return
        super().keyPressEvent(event)
