from __future__ import annotations

from flask import current_app
from sqlalchemy import text

from common import __version__
from common.schemas.system import HealthOut
from server.db.migrate import current_revision

from .base import PUBLIC, ApiBlueprint, Ctx

bp = ApiBlueprint("health", __name__, tag="system")


@bp.endpoint("GET", "/health", roles=PUBLIC, response=HealthOut)
def health(ctx: Ctx) -> HealthOut:
    """Server health: status, role (primary/standby), database state, version. No login."""
    state = current_app.extensions["lanpos"]
    db_state = "ok"
    schema = None
    warnings: list[str] = []
    try:
        ctx.db.execute(text("SELECT 1"))
        schema = current_revision(state.engine)
    except Exception:
        db_state = "unavailable"
    for check in state.extras.get("health_checks", []):
        warnings.extend(check(ctx))
    backups = state.extras.get("backups")
    backup_age = backups.newest_verified_age_seconds() if backups is not None else None
    status = "ok" if db_state == "ok" and not warnings else ("down" if db_state != "ok"
                                                             else "degraded")
    return HealthOut(status=status, role=state.role, database=db_state, version=__version__,
                     schema_version=schema, maintenance=state.maintenance,
                     shop_name=state.config.shop.name,
                     newest_verified_backup_age_seconds=backup_age, warnings=warnings)
