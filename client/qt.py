"""The one import shim for Qt (qutebrowser style).

Every Qt import in ``client`` (except ``client.devices``, which owns its own tiny Qt piece)
goes through here, so a move to another binding or version touches one file::

    from client.qt import QtCore, QtGui, QtWidgets, Signal, Slot
"""

from __future__ import annotations

from PyQt6 import QtCharts, QtCore, QtGui, QtPrintSupport, QtWidgets
from PyQt6 import sip as _sip

Signal = QtCore.pyqtSignal
Slot = QtCore.pyqtSlot
Qt = QtCore.Qt


def is_deleted(obj: object) -> bool:
    """True when the C++ side of a Qt object is gone (a closed, deleted widget)."""
    return isinstance(obj, _sip.simplewrapper) and _sip.isdeleted(obj)


__all__ = ["Qt", "QtCharts", "QtCore", "QtGui", "QtPrintSupport", "QtWidgets", "Signal", "Slot",
           "is_deleted"]
