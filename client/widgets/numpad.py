"""An on-screen numpad for touch counters (amounts, quantities, codes).

``Numpad.attach(line_edit)`` registers a field; the keys type into the attached field that
last had the keyboard focus (the keys themselves never take the focus, so the field keeps its
cursor and selection). 确定 is a real Enter key press on that field: ``returnPressed`` fires
and, in a dialog, the default button acts — exactly as the hardware Enter key would.
"""

from __future__ import annotations

from ..i18n import tr
from ..qt import Qt, QtCore, QtGui, QtWidgets, Signal, is_deleted

KEY_MIN = 48  # px: the smallest touch target

# (text or key name, row, column, row span, column span)
LAYOUT: tuple[tuple[str, int, int, int, int], ...] = (
    ("7", 0, 0, 1, 1), ("8", 0, 1, 1, 1), ("9", 0, 2, 1, 1), ("back", 0, 3, 1, 1),
    ("4", 1, 0, 1, 1), ("5", 1, 1, 1, 1), ("6", 1, 2, 1, 1), ("clear", 1, 3, 1, 1),
    ("1", 2, 0, 1, 1), ("2", 2, 1, 1, 1), ("3", 2, 2, 1, 1), ("enter", 2, 3, 2, 1),
    ("0", 3, 0, 1, 1), ("00", 3, 1, 1, 1), (".", 3, 2, 1, 1),
)


class Numpad(QtWidgets.QWidget):
    """Keys 0–9, 00, ., ← (backspace), 清除 (clear), 确定 (Enter).

    Signals:
        confirmed(object): 确定 was pressed; the field it went to (a QLineEdit).
    """

    confirmed = Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("numpad")
        self.fields: list[QtWidgets.QLineEdit] = []
        self._target: QtWidgets.QLineEdit | None = None
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        for name, r, c, rs, cs in LAYOUT:
            text = tr(f"numpad.{name}") if name in ("back", "clear", "enter") else name
            b = QtWidgets.QPushButton(text)
            b.setObjectName(f"numpad_{name}")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the field keeps the focus
            b.setAutoDefault(False)  # never a dialog's default button
            b.setMinimumSize(KEY_MIN + 8, KEY_MIN)
            b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                            QtWidgets.QSizePolicy.Policy.Expanding)
            f = b.font()
            f.setPointSize(f.pointSize() + 3)
            f.setBold(name == "enter")
            b.setFont(f)
            if name == "enter":
                b.setStyleSheet("background: #1b5e20; color: white;")
            b.clicked.connect(lambda _=False, n=name: self.press(n))
            grid.addWidget(b, r, c, rs, cs)
            self.buttons[name] = b
        app = QtWidgets.QApplication.instance()
        if isinstance(app, QtWidgets.QApplication):
            app.focusChanged.connect(self._focus_changed)

    # --- fields -----------------------------------------------------------------------
    def attach(self, field: QtWidgets.QLineEdit) -> None:
        """Type into ``field`` when it was the last attached field with the focus."""
        if field not in self.fields:
            self.fields.append(field)
            field.destroyed.connect(lambda _=None, f=field: self._forget(f))
        if self._target is None or field.hasFocus():
            self._target = field

    def _forget(self, field: QtWidgets.QLineEdit) -> None:
        self.fields = [f for f in self.fields if f is not field]
        if self._target is field:
            self._target = None

    def _focus_changed(self, _old: QtWidgets.QWidget | None,
                       new: QtWidgets.QWidget | None) -> None:
        if is_deleted(self):
            return
        if new is not None and any(new is f for f in self.fields):
            self._target = new  # type: ignore[assignment]

    @property
    def target(self) -> QtWidgets.QLineEdit | None:
        t = self._target
        if t is None or is_deleted(t):
            return None
        return t

    # --- keys -------------------------------------------------------------------------
    def press(self, name: str) -> None:
        """What a key does (``"0"``–``"9"``, ``"00"``, ``"."``, ``"back"``, ``"clear"``,
        ``"enter"``)."""
        t = self.target
        if t is None or not t.isEnabled() or t.isReadOnly():
            return
        if name == "back":
            t.backspace()
        elif name == "clear":
            t.clear()
        elif name == "enter":
            for kind in (QtCore.QEvent.Type.KeyPress, QtCore.QEvent.Type.KeyRelease):
                QtWidgets.QApplication.sendEvent(
                    t, QtGui.QKeyEvent(kind, Qt.Key.Key_Return,
                                       Qt.KeyboardModifier.NoModifier, "\r"))
            self.confirmed.emit(t)
            return
        else:
            t.insert(name)  # honours the field's validator and maximum length
        if t.window().isActiveWindow() and not t.hasFocus():
            t.setFocus()


__all__ = ["KEY_MIN", "Numpad"]
