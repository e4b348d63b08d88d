"""Activities (活动: publish, sign up, check in, cancel, statistics) and promotions (促销).
Rules: ``server/domain/activities.py`` and ``server/domain/promotions.py``."""

from __future__ import annotations

from common.schemas.activities import (
    ActivityIn,
    ActivityOut,
    ActivityQuery,
    ActivityStatsListOut,
    ActivityStatsQuery,
    ActivityUpdate,
    CancelIn,
    PromotionIn,
    PromotionOut,
    PromotionQuery,
    PromotionUpdate,
    SignupIn,
    SignupOut,
    SignupQuery,
)
from common.schemas.base import Page
from server.clock import shop_clock
from server.domain import activities, promotions
from server.domain import members as members_domain

from .base import ALL_STAFF, MANAGERS, ApiBlueprint, Ctx

bp = ApiBlueprint("activities", __name__, tag="activities")


def _now(ctx: Ctx):
    return shop_clock(ctx.state.config).now().replace(tzinfo=None)


@bp.endpoint("GET", "/activities", roles=ALL_STAFF, query=ActivityQuery,
             response=Page[ActivityOut])
def list_activities(ctx: Ctx, query: ActivityQuery) -> Page[ActivityOut]:
    """Activities, paged: ``upcoming`` (not ended, soonest first) for the counter, else the
    newest first."""
    return activities.list_page(ctx.db, query, _now(ctx))


@bp.endpoint("POST", "/activities", roles=MANAGERS, body=ActivityIn, response=ActivityOut,
             status=201)
def create_activity(ctx: Ctx, body: ActivityIn) -> ActivityOut:
    """Publish an activity (a class, an event, a members' day) with time, place, capacity
    and price (0 = free). Audited."""
    return activities.out(activities.create(ctx.db, ctx.me, body))


@bp.endpoint("GET", "/activities/<int:activity_id>", roles=ALL_STAFF, response=ActivityOut)
def get_activity(ctx: Ctx, activity_id: int) -> ActivityOut:
    """One activity with its seats taken and left."""
    return activities.out(activities.get(ctx.db, activity_id))


@bp.endpoint("PATCH", "/activities/<int:activity_id>", roles=MANAGERS, body=ActivityUpdate,
             response=ActivityOut)
def update_activity(ctx: Ctx, activity_id: int, body: ActivityUpdate) -> ActivityOut:
    """Change an activity, or cancel it (``status`` cancelled: no more sign-ups). The
    capacity cannot go below the seats taken. Audited."""
    return activities.out(activities.update_activity(ctx.db, ctx.me, activity_id, body))


@bp.endpoint("GET", "/activities/<int:activity_id>/signups", roles=ALL_STAFF,
             query=SignupQuery, response=Page[SignupOut])
def list_signups(ctx: Ctx, activity_id: int, query: SignupQuery) -> Page[SignupOut]:
    """The sign-ups of an activity, paged (the phone masked for roles without the
    permission)."""
    return activities.signups_page(ctx.db, activity_id, query, viewer=ctx.me.role)


@bp.endpoint("POST", "/activities/<int:activity_id>/signups", roles=ALL_STAFF, body=SignupIn,
             response=SignupOut, status=201)
def sign_up(ctx: Ctx, activity_id: int, body: SignupIn) -> SignupOut:
    """Sign a member up for a FREE activity (a priced one: a cart line with ``activity_id``,
    paid through the sale). 409 ``activity_full`` when the last seat went meanwhile."""
    member = members_domain.get(ctx.db, body.member_id)
    members_domain.require_active(member)
    s = activities.sign_up_free(ctx.db, ctx.me, activity_id, member, at=_now(ctx))
    return activities.signup_out(s, activities.get(ctx.db, activity_id), member.name)


@bp.endpoint("POST", "/activities/<int:activity_id>/signups/<int:signup_id>/check-in",
             roles=ALL_STAFF, response=SignupOut)
def check_in(ctx: Ctx, activity_id: int, signup_id: int) -> SignupOut:
    """Check a signed-up member in (签到)."""
    s = activities.check_in(ctx.db, ctx.me, signup_id, activity_id)
    return activities.signup_out(s, activities.get(ctx.db, activity_id))


@bp.endpoint("POST", "/activities/<int:activity_id>/signups/<int:signup_id>/cancel",
             roles=ALL_STAFF, body=CancelIn, response=SignupOut)
def cancel_signup(ctx: Ctx, activity_id: int, signup_id: int, body: CancelIn) -> SignupOut:
    """Cancel a free sign-up with a reason; the seat is free again. A paid one is cancelled
    by refunding its sale line."""
    s = activities.cancel(ctx.db, ctx.me, signup_id, body.reason, activity_id)
    return activities.signup_out(s, activities.get(ctx.db, activity_id))


@bp.endpoint("GET", "/members/<int:member_id>/activity-signups", roles=ALL_STAFF,
             response=list[SignupOut])
def member_signups(ctx: Ctx, member_id: int) -> list[SignupOut]:
    """A member's sign-ups for activities not ended yet (the counter's member panel)."""
    members_domain.get(ctx.db, member_id)
    return activities.member_signups(ctx.db, member_id, _now(ctx))


@bp.endpoint("GET", "/reports/activities", roles=MANAGERS, query=ActivityStatsQuery,
             response=ActivityStatsListOut)
def activity_stats(ctx: Ctx, query: ActivityStatsQuery) -> ActivityStatsListOut:
    """Statistics per activity starting in the period: sign-ups, attendance, cancellations,
    revenue (paid seats less refunds)."""
    return activities.stats(ctx.db, query.date_from, query.date_to)


# --- promotions -----------------------------------------------------------------------------
@bp.endpoint("GET", "/promotions", roles=MANAGERS, query=PromotionQuery,
             response=Page[PromotionOut])
def list_promotions(ctx: Ctx, query: PromotionQuery) -> Page[PromotionOut]:
    """Promotions, newest first, by state (upcoming / running / ended / stopped)."""
    return promotions.list_page(ctx.db, query, _now(ctx))


@bp.endpoint("POST", "/promotions", roles=MANAGERS, body=PromotionIn, response=PromotionOut,
             status=201)
def create_promotion(ctx: Ctx, body: PromotionIn) -> PromotionOut:
    """Create a promotion for a period (shop time). Audited; counters get it with their
    catalogue snapshot."""
    return promotions.out(promotions.create(ctx.db, ctx.me, body), _now(ctx))


@bp.endpoint("GET", "/promotions/<int:promotion_id>", roles=MANAGERS, response=PromotionOut)
def get_promotion(ctx: Ctx, promotion_id: int) -> PromotionOut:
    """One promotion."""
    return promotions.out(promotions.get(ctx.db, promotion_id), _now(ctx))


@bp.endpoint("PATCH", "/promotions/<int:promotion_id>", roles=MANAGERS, body=PromotionUpdate,
             response=PromotionOut)
def update_promotion(ctx: Ctx, promotion_id: int, body: PromotionUpdate) -> PromotionOut:
    """Change a promotion or stop it (``active`` false). Audited with before and after."""
    return promotions.out(promotions.update(ctx.db, ctx.me, promotion_id, body), _now(ctx))
