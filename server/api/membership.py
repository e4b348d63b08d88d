"""Levels (and level prices), recharge bonus rules, member cards, count cards and coupons."""

from __future__ import annotations

from pydantic import Field

from common.schemas.base import ApiModel, Page
from common.schemas.members import (
    CardIssueIn,
    CardLookupOut,
    CardOut,
    CardQuery,
    CardReissueIn,
    CountCardOut,
    CountCardQuery,
    CountCardSellIn,
    CountCardTemplateIn,
    CountCardTemplateOut,
    CountCardTemplatePatch,
    CountCardUseIn,
    CouponIssueIn,
    CouponIssueOut,
    CouponOut,
    CouponQuery,
    CouponRedeemIn,
    CouponTemplateIn,
    CouponTemplateOut,
    CouponTemplatePatch,
    LedgerEntryOut,
    LevelIn,
    LevelOut,
    LevelPatch,
    LevelPriceOut,
    LevelPricesIn,
    MemberOut,
    RechargeRuleIn,
    RechargeRuleOut,
    RechargeRulePatch,
    VoidIn,
)
from server.clock import shop_clock
from server.domain import count_cards, coupons, member_cards, member_care, wallet
from server.domain import members as members_domain

from .base import ALL_STAFF, MANAGERS, ApiBlueprint, Ctx

bp = ApiBlueprint("membership", __name__, tag="membership")


class IncludeInactiveQuery(ApiModel):
    include_inactive: bool = False


class CountCardUseOut(ApiModel):
    card: CountCardOut
    entry: LedgerEntryOut


class NoteIn(ApiModel):
    note: str | None = Field(None, max_length=255)


# -- levels --------------------------------------------------------------------------------
@bp.endpoint("GET", "/levels", roles=ALL_STAFF, query=IncludeInactiveQuery,
             response=list[LevelOut])
def list_levels(ctx: Ctx, query: IncludeInactiveQuery) -> list[LevelOut]:
    """Member levels, lowest rank first."""
    return [LevelOut.model_validate(lv)
            for lv in members_domain.list_levels(ctx.db, query.include_inactive)]


@bp.endpoint("POST", "/levels", roles=MANAGERS, body=LevelIn, response=LevelOut, status=201)
def create_level(ctx: Ctx, body: LevelIn) -> LevelOut:
    """Create a level: discount rate, points per yuan, upgrade threshold."""
    return LevelOut.model_validate(members_domain.create_level(ctx.db, ctx.me, body))


@bp.endpoint("PATCH", "/levels/<int:level_id>", roles=MANAGERS, body=LevelPatch,
             response=LevelOut)
def update_level(ctx: Ctx, level_id: int, body: LevelPatch) -> LevelOut:
    """Change a level."""
    return LevelOut.model_validate(members_domain.update_level(ctx.db, ctx.me, level_id, body))


@bp.endpoint("GET", "/levels/<int:level_id>/prices", roles=ALL_STAFF,
             response=list[LevelPriceOut])
def get_level_prices(ctx: Ctx, level_id: int) -> list[LevelPriceOut]:
    """Fixed member prices of this level, per product."""
    return [LevelPriceOut.model_validate(p)
            for p in members_domain.level_prices(ctx.db, level_id)]


@bp.endpoint("PUT", "/levels/<int:level_id>/prices", roles=MANAGERS, body=LevelPricesIn,
             response=list[LevelPriceOut])
def put_level_prices(ctx: Ctx, level_id: int, body: LevelPricesIn) -> list[LevelPriceOut]:
    """Replace the level's fixed member prices (audited)."""
    return [LevelPriceOut.model_validate(p)
            for p in members_domain.set_level_prices(ctx.db, ctx.me, level_id, body)]


# -- recharge rules ------------------------------------------------------------------------
@bp.endpoint("GET", "/recharge-rules", roles=ALL_STAFF, query=IncludeInactiveQuery,
             response=list[RechargeRuleOut])
def list_rules(ctx: Ctx, query: IncludeInactiveQuery) -> list[RechargeRuleOut]:
    """Recharge bonus tiers (充 X 送 Y); the client previews with
    ``common.membership_rules.pick_bonus_rule``."""
    return [RechargeRuleOut.model_validate(r)
            for r in wallet.list_rules(ctx.db, query.include_inactive)]


@bp.endpoint("POST", "/recharge-rules", roles=MANAGERS, body=RechargeRuleIn,
             response=RechargeRuleOut, status=201)
def create_rule(ctx: Ctx, body: RechargeRuleIn) -> RechargeRuleOut:
    """Add a bonus tier."""
    return RechargeRuleOut.model_validate(wallet.create_rule(ctx.db, ctx.me, body))


@bp.endpoint("PATCH", "/recharge-rules/<int:rule_id>", roles=MANAGERS, body=RechargeRulePatch,
             response=RechargeRuleOut)
def update_rule(ctx: Ctx, rule_id: int, body: RechargeRulePatch) -> RechargeRuleOut:
    """Change or deactivate a bonus tier."""
    return RechargeRuleOut.model_validate(wallet.update_rule(ctx.db, ctx.me, rule_id, body))


# -- cards ---------------------------------------------------------------------------------
@bp.endpoint("GET", "/cards", roles=ALL_STAFF, query=CardQuery, response=CardLookupOut)
def lookup_card(ctx: Ctx, query: CardQuery) -> CardLookupOut:
    """A scanned/swiped card and its member (any status: the client shows lost/frozen)."""
    card = member_cards.find(ctx.db, query.card_no)
    member = members_domain.views(ctx.db, [members_domain.get(ctx.db, card.member_id)],
                                  viewer=ctx.me.role)[0]  # a look-up: as in a list
    return CardLookupOut(card=CardOut.model_validate(card), member=MemberOut.model_validate(member))


@bp.endpoint("POST", "/cards", roles=ALL_STAFF, body=CardIssueIn, response=CardOut, status=201)
def issue_card(ctx: Ctx, body: CardIssueIn) -> CardOut:
    """Issue a card to a member who has no active card."""
    return CardOut.model_validate(member_cards.issue(ctx.db, ctx.me, body.member_id,
                                                     body.card_no))


@bp.endpoint("POST", "/cards/<int:card_id>/lost", roles=ALL_STAFF, body=NoteIn,
             response=CardOut)
def report_lost(ctx: Ctx, card_id: int, body: NoteIn) -> CardOut:
    """挂失: the card stops working at once."""
    return CardOut.model_validate(member_cards.report_lost(ctx.db, ctx.me, card_id))


@bp.endpoint("POST", "/cards/<int:card_id>/reissue", roles=ALL_STAFF, body=CardReissueIn,
             response=CardOut, status=201)
def reissue(ctx: Ctx, card_id: int, body: CardReissueIn) -> CardOut:
    """补办: a lost card gets a new number; balances stay with the member."""
    return CardOut.model_validate(member_cards.reissue(ctx.db, ctx.me, card_id, body.card_no))


@bp.endpoint("POST", "/cards/<int:card_id>/freeze", roles=MANAGERS, body=NoteIn,
             response=CardOut)
def freeze(ctx: Ctx, card_id: int, body: NoteIn) -> CardOut:
    """Freeze a card (manager/owner)."""
    return CardOut.model_validate(member_cards.set_frozen(ctx.db, ctx.me, card_id, True))


@bp.endpoint("POST", "/cards/<int:card_id>/unfreeze", roles=MANAGERS, body=NoteIn,
             response=CardOut)
def unfreeze(ctx: Ctx, card_id: int, body: NoteIn) -> CardOut:
    """Unfreeze a card (manager/owner)."""
    return CardOut.model_validate(member_cards.set_frozen(ctx.db, ctx.me, card_id, False))


# -- count cards ---------------------------------------------------------------------------
def _cc(card) -> CountCardOut:
    out = CountCardOut.model_validate(card)
    out.expired = count_cards.is_expired(card)
    return out


@bp.endpoint("GET", "/count-card-templates", roles=ALL_STAFF, query=IncludeInactiveQuery,
             response=list[CountCardTemplateOut])
def list_cc_templates(ctx: Ctx, query: IncludeInactiveQuery) -> list[CountCardTemplateOut]:
    """Count-card templates (次卡/套餐)."""
    return [CountCardTemplateOut.model_validate(t)
            for t in count_cards.list_templates(ctx.db, query.include_inactive)]


@bp.endpoint("POST", "/count-card-templates", roles=MANAGERS, body=CountCardTemplateIn,
             response=CountCardTemplateOut, status=201)
def create_cc_template(ctx: Ctx, body: CountCardTemplateIn) -> CountCardTemplateOut:
    """Create a count-card template."""
    return CountCardTemplateOut.model_validate(count_cards.create_template(ctx.db, ctx.me, body))


@bp.endpoint("PATCH", "/count-card-templates/<int:template_id>", roles=MANAGERS,
             body=CountCardTemplatePatch, response=CountCardTemplateOut)
def update_cc_template(ctx: Ctx, template_id: int, body: CountCardTemplatePatch
                       ) -> CountCardTemplateOut:
    """Change a count-card template (cards already sold keep their terms)."""
    return CountCardTemplateOut.model_validate(
        count_cards.update_template(ctx.db, ctx.me, template_id, body))


@bp.endpoint("GET", "/count-cards", roles=ALL_STAFF, query=CountCardQuery,
             response=Page[CountCardOut])
def list_count_cards(ctx: Ctx, query: CountCardQuery) -> Page[CountCardOut]:
    """A member's count cards with remaining uses and expiry."""
    rows, more = count_cards.of_member(ctx.db, query.member_id, query.page, query.page_size,
                                       query.usable_only)
    return Page[CountCardOut](items=[_cc(c) for c in rows], page=query.page,
                              page_size=query.page_size, has_more=more)


@bp.endpoint("POST", "/count-cards", roles=ALL_STAFF, body=CountCardSellIn,
             response=CountCardOut, status=201)
def sell_count_card(ctx: Ctx, body: CountCardSellIn) -> CountCardOut:
    """Sell a count card now (outside a sale); ``method`` stored_value pays from the
    member's stored value."""
    return _cc(count_cards.sell_direct(ctx.db, ctx.me, ctx.state.passwords, body.member_id,
                                       body.template_id, body.method, body.reference,
                                       body.card_no, body.pin))


@bp.endpoint("POST", "/count-cards/<int:card_id>/uses", roles=ALL_STAFF, body=CountCardUseIn,
             response=CountCardUseOut, status=201)
def use_count_card(ctx: Ctx, card_id: int, body: CountCardUseIn) -> CountCardUseOut:
    """Use a count card (核销) outside a sale. 422 ``count_card_expired``, 409
    ``count_card_used_up``."""
    entry = count_cards.use(ctx.db, ctx.me, card_id, member_id=body.member_id, uses=body.uses,
                            ref_type="direct", ref_id=None, note=body.note)
    card = count_cards.get(ctx.db, card_id)
    return CountCardUseOut(card=_cc(card), entry=LedgerEntryOut(
        id=entry.id, book="count_cards", kind=entry.kind, change=entry.change,
        balance_after=entry.balance_after, card_id=entry.card_id, ref_type=entry.ref_type,
        ref_id=entry.ref_id, note=entry.note, staff_id=entry.staff_id, at=entry.at))


# -- coupons -------------------------------------------------------------------------------
def _coupons(ctx: Ctx, rows) -> list[CouponOut]:
    tpls = coupons.templates_by_id(ctx.db, [c.template_id for c in rows])
    out = []
    for c in rows:
        t = tpls[c.template_id]
        out.append(CouponOut.model_validate({
            **{k: getattr(c, k) for k in CouponOut.model_fields if hasattr(c, k)},
            "name": t.name, "kind": t.kind, "amount_fen": t.amount_fen,
            "percent_bp": t.percent_bp, "threshold_fen": t.threshold_fen,
            "category_ids": list(t.category_ids or [])}))
    return out


@bp.endpoint("GET", "/coupon-templates", roles=ALL_STAFF, query=IncludeInactiveQuery,
             response=list[CouponTemplateOut])
def list_coupon_templates(ctx: Ctx, query: IncludeInactiveQuery) -> list[CouponTemplateOut]:
    """Coupon templates."""
    return [CouponTemplateOut.model_validate(t)
            for t in coupons.list_templates(ctx.db, query.include_inactive)]


@bp.endpoint("POST", "/coupon-templates", roles=MANAGERS, body=CouponTemplateIn,
             response=CouponTemplateOut, status=201)
def create_coupon_template(ctx: Ctx, body: CouponTemplateIn) -> CouponTemplateOut:
    """Create a coupon template: amount off above a threshold, or percent off."""
    return CouponTemplateOut.model_validate(coupons.create_template(ctx.db, ctx.me, body))


@bp.endpoint("PATCH", "/coupon-templates/<int:template_id>", roles=MANAGERS,
             body=CouponTemplatePatch, response=CouponTemplateOut)
def update_coupon_template(ctx: Ctx, template_id: int, body: CouponTemplatePatch
                           ) -> CouponTemplateOut:
    """Rename, change validity or deactivate a coupon template."""
    return CouponTemplateOut.model_validate(
        coupons.update_template(ctx.db, ctx.me, template_id, body))


@bp.endpoint("GET", "/coupons", roles=ALL_STAFF, query=CouponQuery, response=Page[CouponOut])
def list_coupons(ctx: Ctx, query: CouponQuery) -> Page[CouponOut]:
    """Coupons by member, status or code."""
    rows, more = coupons.search(ctx.db, query.page, query.page_size, query.member_id,
                                query.status, query.code)
    return Page[CouponOut](items=_coupons(ctx, rows), page=query.page,
                           page_size=query.page_size, has_more=more)


@bp.endpoint("POST", "/coupons", roles=MANAGERS, body=CouponIssueIn, response=CouponIssueOut,
             status=201)
def issue_coupons(ctx: Ctx, body: CouponIssueIn) -> CouponIssueOut:
    """Issue a coupon to one member, to every active member of a level, or to every member
    of a list (会员关怀 ``members``: as ``GET /reports/member-list`` defines it). One
    transaction, audited once with the count (and the list); ``batch_id`` (sent as the
    Idempotency-Key too): a retry issues nothing twice. ``notify``: a message to each member
    through the shop's message sender (none built in: recorded, not sent)."""
    clock = shop_clock(ctx.state.config)
    return member_care.issue_coupons(ctx.db, ctx.me, body, clock=clock, today=clock.today(),
                                     sender=ctx.state.services.messages)


@bp.endpoint("POST", "/coupons/<int:coupon_id>/redemptions", roles=ALL_STAFF,
             body=CouponRedeemIn, response=CouponOut, status=201)
def redeem_coupon(ctx: Ctx, coupon_id: int, body: CouponRedeemIn) -> CouponOut:
    """Use a coupon outside checkout (e.g. against a paper bill). Once only: 409
    ``coupon_used``."""
    c = coupons.redeem(ctx.db, ctx.me, coupon_id, member_id=body.member_id, ref_type="direct",
                       ref_id=body.note, today=shop_clock(ctx.state.config).today())
    return _coupons(ctx, [c])[0]


@bp.endpoint("POST", "/coupons/<int:coupon_id>/void", roles=MANAGERS, body=VoidIn,
             response=CouponOut)
def void_coupon(ctx: Ctx, coupon_id: int, body: VoidIn) -> CouponOut:
    """Void an unused coupon (manager/owner, reason, audited)."""
    return _coupons(ctx, [coupons.void(ctx.db, ctx.me, coupon_id, body.reason)])[0]


@bp.endpoint("GET", "/coupons/<int:coupon_id>", roles=ALL_STAFF, response=CouponOut)
def get_coupon(ctx: Ctx, coupon_id: int) -> CouponOut:
    """One coupon."""
    return _coupons(ctx, [coupons.get(ctx.db, coupon_id)])[0]

