"""What every screen gets injected: the API client, the task runner, the dialogs."""

from __future__ import annotations

from dataclasses import dataclass, field

from common.schemas.staff import StaffOut

from ..api import ApiClient
from ..devices.facade import DeviceService
from ..settings import ClientSettings
from ..tasks import TaskRunner
from .dialogs import Dialogs


@dataclass
class Services:
    api: ApiClient
    runner: TaskRunner
    dialogs: Dialogs = field(default_factory=Dialogs)
    settings: ClientSettings = field(default_factory=ClientSettings)
    devices: DeviceService | None = None  # the counter's devices (made by the checkout if None)


@dataclass(frozen=True)
class SessionInfo:
    """The logged-in staff member at this counter."""

    staff: StaffOut
    counter: str

    @property
    def role(self) -> str:
        return self.staff.role.value

    @property
    def is_manager(self) -> bool:
        return self.staff.role.rank >= 2
