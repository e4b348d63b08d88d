"""The back-office screens, in menu order: the ONE place a screen is registered. The
:class:`~client.backoffice.window.BackOffice` tabs and the main window's 后台 menu are both
built from :func:`backoffice_screens` (manager and owner; the server still checks every
write, e.g. shop settings are the owner's: a manager sees them and gets the server's message
on saving)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from common.schemas.base import Role
from common.schemas.staff import StaffOut

from ..i18n import tr
from ..qt import QtWidgets
from ..widgets.context import Services
from .activities import ActivitiesScreen, PromotionsScreen
from .attendance import AttendanceScreen
from .audit import AuditScreen
from .backups import BackupScreen
from .care import CareScreen
from .countcards import CountCardTemplatesScreen
from .coupons import CouponsScreen
from .levels import LevelsScreen
from .members import MembersScreen
from .offline_review import OfflineReviewScreen
from .products import ProductsScreen
from .recharge_rules import RechargeRulesScreen
from .reports import ReportsScreen
from .shop import ShopSettingsScreen
from .staff import StaffScreen
from .standby import StandbyScreen


@dataclass(frozen=True)
class ScreenSpec:
    """One back-office screen: ``name`` is its attribute on the back office (``office.products``)
    and its menu action (``menu_products``); ``separated`` puts a line above it in the menu."""

    name: str
    title_key: str
    make: Callable[[Services, StaffOut, int], QtWidgets.QWidget]
    owner_only: bool = False
    separated: bool = False


SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("products", "menu.products", lambda s, me, n: ProductsScreen(s, page_size=n)),
    ScreenSpec("members", "menu.members",
               lambda s, me, n: MembersScreen(s, page_size=n, me=me)),
    ScreenSpec("levels", "menu.levels", lambda s, me, n: LevelsScreen(s, page_size=n)),
    ScreenSpec("recharge_rules", "menu.recharge_rules",
               lambda s, me, n: RechargeRulesScreen(s, page_size=n)),
    ScreenSpec("count_cards", "menu.count_cards",
               lambda s, me, n: CountCardTemplatesScreen(s, page_size=n)),
    ScreenSpec("coupons", "menu.coupons", lambda s, me, n: CouponsScreen(s, page_size=n)),
    ScreenSpec("shop", "menu.shop", lambda s, me, n: ShopSettingsScreen(s)),
    ScreenSpec("reports", "menu.reports", lambda s, me, n: ReportsScreen(s, me)),
    # 会员关怀: care lists, a coupon to a list, the owner's contact export
    ScreenSpec("care", "menu.care", lambda s, me, n: CareScreen(s, me, page_size=n)),
    # 促销 (a discount on a category, a price for a level, double points) and 活动
    ScreenSpec("promotions", "menu.promotions",
               lambda s, me, n: PromotionsScreen(s, page_size=n)),
    ScreenSpec("activities", "menu.activities",
               lambda s, me, n: ActivitiesScreen(s, page_size=n)),
    # what replayed offline sales did otherwise than the server would charge today
    ScreenSpec("offline_review", "menu.offline_review",
               lambda s, me, n: OfflineReviewScreen(s, page_size=n)),
    # both servers and the guided failover (owner and manager; the failover: owner)
    ScreenSpec("standby", "menu.standby", lambda s, me, n: StandbyScreen(s, me)),
    ScreenSpec("staff", "menu.staff", lambda s, me, n: StaffScreen(s, me, page_size=n),
               separated=True),
    # 考勤: the month of every staff member, their days, 排班 and corrections
    ScreenSpec("attendance", "menu.attendance", lambda s, me, n: AttendanceScreen(s)),
    ScreenSpec("audit", "menu.audit", lambda s, me, n: AuditScreen(s, page_size=n)),
    # backups and restores are the owner's
    ScreenSpec("backups", "menu.backups", lambda s, me, n: BackupScreen(s), owner_only=True),
)


@dataclass(frozen=True)
class Screen:
    spec: ScreenSpec
    widget: QtWidgets.QWidget

    @property
    def title(self) -> str:
        return tr(self.spec.title_key)


def backoffice_screens(services: Services, me: StaffOut, page_size: int) -> list[Screen]:
    """The screens ``me`` may see, built, in menu order."""
    return [Screen(spec, spec.make(services, me, page_size)) for spec in SCREENS
            if not spec.owner_only or me.role == Role.OWNER]
