"""HTTP layer: one blueprint per feature, all under /api/v1."""

from __future__ import annotations

from flask import Flask

from common.schemas.base import API_PREFIX

from . import (
    activities,
    appointments,
    attendance,
    audit,
    auth,
    backups,
    catalog,
    health,
    held_orders,
    members,
    membership,
    openapi,
    replication,
    reports,
    sales,
    shifts,
    shop,
    staff,
    stock,
)
from .base import ApiBlueprint

__all__ = ["API_PREFIX", "blueprints", "register_blueprints"]


def blueprints() -> list[ApiBlueprint]:
    return [health.bp, openapi.bp, auth.bp, staff.bp, audit.bp, catalog.bp, stock.bp,
            backups.bp, members.bp, membership.bp, sales.bp, held_orders.bp, shifts.bp,
            shop.bp, reports.bp, attendance.bp, appointments.bp, activities.bp,
            replication.bp]


def register_blueprints(app: Flask) -> None:
    for bp in blueprints():
        app.register_blueprint(bp, url_prefix=API_PREFIX)
