"""Follow the primary: a ``QTimer`` that asks every server's ``/health`` in the background.

Every ``INTERVAL_MS`` :meth:`client.api.ApiClient.follow` runs on the task pool (never on the
GUI thread, never touching a widget there); it makes the primary of the newest epoch the
active server. So after the owner promotes the standby, every counter moves to it within a
few seconds, without a restart, with its cart as it was (the cart lives in the window, not in
the connection). ``updated`` tells the window, which names the server in its status bar.

The probe has a task runner of its own: a poll every few seconds does not flicker the app's
"busy" state, and at most one probe is in flight.
"""

from __future__ import annotations

import logging

from common.errors import ApiError

from ..api import ROLE_PRIMARY, ROLE_STALE, ROLE_STANDBY, FollowResult, display_server
from ..i18n import tr
from ..qt import QtCore, Signal
from ..tasks import TaskRunner
from ..widgets.context import Services

log = logging.getLogger(__name__)

#: status-bar styles: a standby or a replaced primary takes no sales — say so loudly
WARN_STYLE = ("QLabel { background-color: #b00020; color: white; font-weight: bold; "
              "padding: 1px 8px; border-radius: 3px; }")
OK_STYLE = ""


def role_in_use(role: str | None, address: str, servers: list[str]) -> str:
    """The role to show for the server in use: what it reported, else (a server that has not
    said yet) the order of the settings (the first address is the primary)."""
    if role in (ROLE_PRIMARY, ROLE_STANDBY, ROLE_STALE):
        return role
    return ROLE_PRIMARY if not servers or address == servers[0] else ROLE_STANDBY


def server_status(role: str, address: str) -> tuple[str, str, bool]:
    """(status-bar text, tooltip, warn) for the server in use."""
    server = display_server(address) if address else "—"
    key = {ROLE_STANDBY: "standby", ROLE_STALE: "stale"}.get(role, "primary")
    return (tr(f"status.server.{key}", server=server), tr(f"status.server.{key}.tip"),
            key != "primary")


class ServerWatch(QtCore.QObject):
    """See module doc.

    Signals:
        updated(object): a :class:`~client.api.FollowResult` after every probe.
        moved(object): the same, when the active server changed.
    """

    updated = Signal(object)
    moved = Signal(object)

    INTERVAL_MS = 3000

    def __init__(self, services: Services, parent: QtCore.QObject | None = None,
                 interval_ms: int | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = TaskRunner(parent=self)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(interval_ms or self.INTERVAL_MS)
        self.timer.timeout.connect(self.probe)
        self.in_flight = False
        self.last: FollowResult | None = None

    def start(self) -> None:
        self.timer.start()
        self.probe()

    def stop(self) -> None:
        self.timer.stop()

    def probe(self) -> None:
        if self.in_flight:
            return
        self.in_flight = True
        api = self.services.api  # read now: the app may have replaced the client
        self.runner.op(api.follow, self._done, self._failed, owner=self)

    def _done(self, res: FollowResult) -> None:
        self.in_flight = False
        self.last = res
        self.updated.emit(res)
        if res.moved:
            self.moved.emit(res)

    def _failed(self, err: ApiError) -> None:
        self.in_flight = False
        log.warning("server probe failed: %s", err.code)
