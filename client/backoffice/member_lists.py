"""The member-list picker shared by 报表's 会员名单 and 会员关怀: which list (``LIST_KINDS``)
and its own setting — days (沉睡: not seen for; 次卡到期: expiring within; 会员关怀's new
members: joined in the last N days), the low-balance threshold (empty: the shop's setting),
the uses left of a count card. It only reads the widgets: the list's definition is
``catalogue.member_list_def``."""

from __future__ import annotations

from ..i18n import tr
from ..qt import QtCore, QtWidgets, Signal
from ..reports.catalogue import LIST_KINDS, Options
from .common import FieldError, MoneyEdit


class ListOptions(QtCore.QObject):
    """The picker's widgets (put them in a tool bar: :meth:`widgets`).

    Signals:
        changed(): another list was picked (the visible settings changed).
    """

    changed = Signal()

    def __init__(self, parent: QtCore.QObject | None = None, *, days_for_new: bool = False
                 ) -> None:
        super().__init__(parent)
        self.days_for_new = days_for_new
        self.kind_label = QtWidgets.QLabel(tr("rep.kind"))
        self.kind = QtWidgets.QComboBox()
        self.kind.setObjectName("listKind")
        for k in LIST_KINDS:
            self.kind.addItem(tr(f"rep.kind.{k}"), k)
        self.days_label = QtWidgets.QLabel(tr("rep.days"))
        self.days = QtWidgets.QSpinBox()
        self.days.setObjectName("dormantDays")
        self.days.setRange(1, 3650)
        self.days.setValue(60)
        self.days.setSuffix(tr("rep.days_suffix"))
        self.threshold_label = QtWidgets.QLabel(tr("rep.threshold"))
        self.threshold = MoneyEdit(optional=True)
        self.threshold.setObjectName("lowBalance")
        self.threshold.setPlaceholderText(tr("rep.threshold_hint"))
        self.threshold.setMaximumWidth(110)
        self.uses_label = QtWidgets.QLabel(tr("rep.uses"))
        self.uses = QtWidgets.QSpinBox()
        self.uses.setObjectName("cardUses")
        self.uses.setRange(1, 1000)
        self.uses.setValue(2)
        self.uses.setSuffix(tr("rep.uses_suffix"))
        self._listing = False  # until a screen shows the picker (show_for)
        # each list keeps its own number of days (沉睡 60, 次卡到期 30, 新会员 30)
        self._days = {"dormant": 60, "card_expiring": 30, "new": 30}
        self._days_of = self.current
        self.days.setValue(self._days.get(self.current, 60))
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())

    def widgets(self) -> list[QtWidgets.QWidget]:
        return [self.kind_label, self.kind, self.days_label, self.days, self.threshold_label,
                self.threshold, self.uses_label, self.uses]

    @property
    def current(self) -> str:
        return str(self.kind.currentData())

    def choose(self, kind: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))

    def options(self) -> Options:
        """The picked list's settings; a threshold that is not an amount raises
        :class:`FieldError`."""
        threshold = self.threshold.fen("threshold") if self.current == "low_balance" else None
        if threshold is not None and threshold <= 0:
            raise FieldError("threshold", tr("bo.bad_money"))
        return Options(days=self.days.value(), kind=self.current, threshold=threshold,
                       uses=self.uses.value())

    def show_for(self, listing: bool) -> None:
        """Show the picker (``listing``) and the setting of the picked list, or nothing."""
        self._listing = listing
        kind = self.current
        with_days = kind in ("dormant", "card_expiring") or (kind == "new"
                                                             and self.days_for_new)
        self.days_label.setText(tr("rep.days.new") if kind == "new" else
                                tr("rep.days.card_expiring") if kind == "card_expiring"
                                else tr("rep.days"))
        for w, on in ((self.kind_label, True), (self.kind, True),
                      (self.days_label, with_days), (self.days, with_days),
                      (self.threshold_label, kind == "low_balance"),
                      (self.threshold, kind == "low_balance"),
                      (self.uses_label, kind == "card_low"), (self.uses, kind == "card_low")):
            w.setVisible(listing and on)

    def _kind_changed(self) -> None:
        if self._days_of in self._days:
            self._days[self._days_of] = self.days.value()
        self._days_of = self.current
        if self.current in self._days:
            self.days.setValue(self._days[self.current])
        self.show_for(self._listing)
        self.changed.emit()
