"""Serving staff (技师 / 导购) of a cart line (F10 or the 服务人员 button).

The picker lists the shop's active staff (``GET /staff/serving``), numbered. Keyboard first:
type to filter (name, pinyin initials or the number), ↑/↓ to move, Space to tick or untick,
Enter to confirm; a click ticks too. A new choice is shared equally (largest remainder,
:func:`common.serving.equal_shares`); each share can be typed as a percentage; the shares
must make 100 %. The server splits the line's commission by them from the product's rule.
"""

from __future__ import annotations

from common.errors import ApiError
from common.schemas.staff import ServingStaffOut
from common.serving import (
    MAX_SERVING,
    equal_shares,
    parse_percent,
    percent_text,
    shares_complete,
)
from common.text import pinyin_initials

from .. import i18n
from ..i18n import tr
from ..qt import Qt, QtCore, QtWidgets, Signal
from ..widgets.approval import error_label
from ..widgets.context import Services
from ..widgets.dialogs import EnterDialog
from .cart import CartLine, ServingShare

PICKER_KEYS = (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_Space, Qt.Key.Key_Return,
               Qt.Key.Key_Enter)


def staff_matches(name: str, initials: str, number: int, text: str) -> bool:
    """The filter: empty shows all; digits match the list number; else the name or its
    pinyin initials (``am`` for 阿美)."""
    t = text.strip().lower()
    if not t:
        return True
    if t.isdigit():
        return str(number) == t
    return t in name.lower() or initials.startswith(t)


class ServingStaffDialog(EnterDialog):
    """See module doc.

    Signals:
        chosen(object): the new ``list[ServingShare]`` of the line (empty: nobody).
        loaded(): the staff list arrived (tests).
    """

    chosen = Signal(object)
    loaded = Signal()

    def __init__(self, services: Services, line: CartLine,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("servingStaffDialog")
        self.services = services
        self.line = line
        self.staff: list[ServingStaffOut] = []
        self.initials: list[str] = []
        self.picked: list[int] = [s.staff_id for s in line.staff]  # ids, in the order ticked
        self.shares: dict[int, int] = {s.staff_id: s.share_bp for s in line.staff}
        self.share_edits: dict[int, QtWidgets.QLineEdit] = {}
        self.setWindowTitle(tr("serving.title"))
        self.setModal(True)

        lay = QtWidgets.QVBoxLayout(self)
        head = QtWidgets.QLabel(tr("serving.line", name=line.name, qty=line.qty,
                                   unit=line.unit))
        head.setObjectName("servingLine")
        hf = head.font()
        hf.setPointSize(hf.pointSize() + 3)
        hf.setBold(True)
        head.setFont(hf)
        head.setWordWrap(True)
        lay.addWidget(head)
        self.filter = QtWidgets.QLineEdit()
        self.filter.setObjectName("servingFilter")
        self.filter.setPlaceholderText(tr("serving.filter"))
        self.filter.setMinimumHeight(44)
        self.filter.textChanged.connect(self._filter)
        self.filter.installEventFilter(self)
        lay.addWidget(self.filter)

        body = QtWidgets.QHBoxLayout()
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("servingList")
        self.list.setMinimumWidth(240)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the filter keeps the keyboard
        self.list.setStyleSheet("QListWidget::item { min-height: 44px; }")
        self.list.itemClicked.connect(self._toggle_item)
        body.addWidget(self.list, 3)

        right = QtWidgets.QVBoxLayout()
        caption = QtWidgets.QLabel(tr("serving.shares"))
        cf = caption.font()
        cf.setBold(True)
        caption.setFont(cf)
        right.addWidget(caption)
        self.share_box = QtWidgets.QWidget()
        self.share_form = QtWidgets.QFormLayout(self.share_box)
        self.share_form.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.share_box)
        self.total = QtWidgets.QLabel()
        self.total.setObjectName("servingTotal")
        right.addWidget(self.total)
        self.equal_button = QtWidgets.QPushButton(tr("serving.equal"))
        self.equal_button.setObjectName("servingEqual")
        self.equal_button.setMinimumHeight(48)
        self.equal_button.clicked.connect(self.split_equally)
        right.addWidget(self.equal_button)
        right.addStretch(1)
        body.addLayout(right, 2)
        lay.addLayout(body, 1)

        self.error = error_label()
        lay.addWidget(self.error)
        hint = QtWidgets.QLabel(tr("serving.keys"))
        hint.setStyleSheet("color: #666;")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        buttons = QtWidgets.QHBoxLayout()
        self.cancel_button = QtWidgets.QPushButton(tr("serving.cancel"))
        self.cancel_button.setObjectName("servingCancel")
        self.cancel_button.clicked.connect(self.reject)
        self.none_button = QtWidgets.QPushButton(tr("serving.none"))
        self.none_button.setObjectName("servingNone")
        self.none_button.clicked.connect(self.clear_all)
        self.ok = QtWidgets.QPushButton(tr("serving.ok"))
        self.ok.setObjectName("servingOk")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.confirm)
        for b in (self.cancel_button, self.none_button, self.ok):
            b.setMinimumHeight(52)
            b.setAutoDefault(False)
            buttons.addWidget(b, 2 if b is self.ok else 1)
        self.ok.setDefault(True)
        lay.addLayout(buttons)
        self.setMinimumSize(620, 460)

        self.list.addItem(tr("common.loading"))
        api = services.api
        services.runner.op(api.serving_staff, self._loaded, self._failed, owner=self)
        self._show_shares()
        self.filter.setFocus()

    # --- the list -------------------------------------------------------------------------
    def _loaded(self, staff: list[ServingStaffOut]) -> None:
        self.staff = staff
        self.initials = [pinyin_initials(s.display_name) for s in staff]
        self.list.clear()
        for i, s in enumerate(staff, start=1):
            it = QtWidgets.QListWidgetItem(f"{i}  {s.display_name}")
            it.setData(Qt.ItemDataRole.UserRole, s.id)
            it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            it.setCheckState(Qt.CheckState.Checked if s.id in self.picked
                             else Qt.CheckState.Unchecked)
            f = it.font()
            f.setPointSize(f.pointSize() + 2)
            it.setFont(f)
            self.list.addItem(it)
        if not staff:
            self.error.setText(tr("serving.nobody"))
        self._filter(self.filter.text())
        self.loaded.emit()

    def _failed(self, err: ApiError) -> None:
        self.list.clear()
        self.error.setText(err.message(i18n.language()))

    def _items(self) -> list[QtWidgets.QListWidgetItem]:
        return [it for i in range(self.list.count())
                if (it := self.list.item(i)) is not None
                and it.data(Qt.ItemDataRole.UserRole) is not None]

    def _filter(self, text: str) -> None:
        shown = []
        for number, it in enumerate(self._items(), start=1):
            visible = staff_matches(self.staff[number - 1].display_name,
                                    self.initials[number - 1], number, text)
            it.setHidden(not visible)
            if visible:
                shown.append(it)
        current = self.list.currentItem()
        if shown and (current is None or current.isHidden()):
            self.list.setCurrentItem(shown[0])

    def _move(self, step: int) -> None:
        visible = [it for it in self._items() if not it.isHidden()]
        if not visible:
            return
        current = self.list.currentItem()
        i = visible.index(current) if current in visible else -1
        self.list.setCurrentItem(visible[max(0, min(len(visible) - 1, i + step))])

    def toggle_current(self) -> None:
        it = self.list.currentItem()
        if it is not None and not it.isHidden():
            self._toggle_item(it)

    def _toggle_item(self, it: QtWidgets.QListWidgetItem) -> None:
        sid = it.data(Qt.ItemDataRole.UserRole)
        if sid is None:
            return
        self.list.setCurrentItem(it)
        if sid in self.picked:
            self.picked.remove(sid)
        elif len(self.picked) >= MAX_SERVING:
            self.error.setText(tr("serving.too_many", n=MAX_SERVING))
            return
        else:
            self.picked.append(sid)
        it.setCheckState(Qt.CheckState.Checked if sid in self.picked
                         else Qt.CheckState.Unchecked)
        self.split_equally()  # a new choice is shared equally
        if self.filter.text():
            self.filter.clear()  # ready for the next name
        self.filter.setFocus()

    # --- shares ---------------------------------------------------------------------------
    def name_of(self, sid: int) -> str:
        s = next((s for s in self.staff if s.id == sid), None)
        if s is not None:
            return s.display_name
        return next((st.name for st in self.line.staff if st.staff_id == sid), str(sid))

    def split_equally(self) -> None:
        self.shares = dict(zip(self.picked, equal_shares(len(self.picked)), strict=True))
        self._show_shares()

    def clear_all(self) -> None:
        self.picked = []
        for it in self._items():
            it.setCheckState(Qt.CheckState.Unchecked)
        self.split_equally()
        self.filter.setFocus()

    def _show_shares(self) -> None:
        while self.share_form.rowCount():
            self.share_form.removeRow(0)
        self.share_edits = {}
        for sid in self.picked:
            edit = QtWidgets.QLineEdit(percent_text(self.shares.get(sid, 0)).rstrip("%"))
            edit.setObjectName(f"servingShare{sid}")
            edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            edit.setMinimumHeight(40)
            edit.setMaximumWidth(110)
            edit.textEdited.connect(lambda text, s=sid: self._share_typed(s, text))
            row = QtWidgets.QHBoxLayout()
            row.addWidget(edit)
            row.addWidget(QtWidgets.QLabel("%"))
            row.addStretch(1)
            self.share_form.addRow(self.name_of(sid), row)
            self.share_edits[sid] = edit
        self._check()

    def _share_typed(self, sid: int, text: str) -> None:
        bp = parse_percent(text)
        self.shares[sid] = bp if bp is not None else -1
        self._check()

    def current_shares(self) -> list[ServingShare]:
        return [ServingShare(sid, self.name_of(sid), self.shares.get(sid, 0))
                for sid in self.picked]

    def _check(self) -> None:
        bps = [self.shares.get(sid, 0) for sid in self.picked]
        if not self.picked:
            self.total.setText(tr("serving.nobody_picked"))
            self.total.setStyleSheet("color: #666;")
            self.ok.setEnabled(True)
            return
        if any(b < 0 for b in bps):
            self.total.setText(tr("serving.bad_percent"))
            ok = False
        else:
            ok = shares_complete(bps)
            self.total.setText(tr("serving.total", pct=percent_text(sum(bps))))
        self.total.setStyleSheet("" if ok else "color: #b00020; font-weight: bold;")
        self.ok.setEnabled(ok)

    def enter(self) -> None:
        self.confirm()

    def confirm(self) -> None:
        if not self.ok.isEnabled():
            return
        self.chosen.emit(self.current_shares())
        self.accept()

    # --- keys -----------------------------------------------------------------------------
    def eventFilter(self, obj: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if obj is self.filter and event is not None \
                and event.type() == QtCore.QEvent.Type.ShortcutOverride \
                and event.key() in PICKER_KEYS:  # type: ignore[attr-defined]
            event.accept()  # ours, before any shortcut: they arrive as key presses
            return True
        if obj is self.filter and event is not None \
                and event.type() == QtCore.QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if key == Qt.Key.Key_Down:
                self._move(1)
                return True
            if key == Qt.Key.Key_Up:
                self._move(-1)
                return True
            if key == Qt.Key.Key_Space:
                self.toggle_current()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.confirm()
                return True
        return super().eventFilter(obj, event)


__all__ = ["ServingStaffDialog", "staff_matches"]
