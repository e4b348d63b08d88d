"""The back-office screens of issue 5 §3, in menu order, added to the :class:`BackOffice`
tabs (manager and owner; the server still checks every write, e.g. shop settings are the
owner's: a manager sees them and gets the server's message on saving)."""

from __future__ import annotations

from common.schemas.staff import StaffOut

from ..i18n import tr
from ..qt import QtWidgets
from .bo_countcards import CountCardTemplatesScreen
from .bo_coupons import CouponsScreen
from .bo_levels import LevelsScreen
from .bo_members import MembersScreen
from .bo_products import ProductsScreen
from .bo_recharge import RechargeRulesScreen
from .bo_reports import ReportsScreen
from .bo_shop import ShopSettingsScreen
from .bo_standby import StandbyScreen
from .context import Services


def add_backoffice_screens(office: QtWidgets.QTabWidget, services: Services, me: StaffOut,
                           page_size: int) -> list[tuple[str, QtWidgets.QWidget, str]]:
    """Create the screens, add them as tabs, set them as attributes of ``office``
    (``office.products`` …); returns (menu name, screen, title) for the menu."""
    screens: list[tuple[str, QtWidgets.QWidget, str]] = [
        ("products", ProductsScreen(services, page_size=page_size), tr("menu.products")),
        ("members", MembersScreen(services, page_size=page_size), tr("menu.members")),
        ("levels", LevelsScreen(services, page_size=page_size), tr("menu.levels")),
        ("recharge_rules", RechargeRulesScreen(services, page_size=page_size),
         tr("menu.recharge_rules")),
        ("count_cards", CountCardTemplatesScreen(services, page_size=page_size),
         tr("menu.count_cards")),
        ("coupons", CouponsScreen(services, page_size=page_size), tr("menu.coupons")),
        ("shop", ShopSettingsScreen(services), tr("menu.shop")),
        ("reports", ReportsScreen(services), tr("menu.reports")),
        # both servers and the guided failover (owner and manager; the failover: owner)
        ("standby", StandbyScreen(services, me), tr("menu.standby")),
    ]
    for name, screen, title in screens:
        setattr(office, name, screen)
        office.add_screen(screen, title)  # type: ignore[attr-defined]
    return screens
