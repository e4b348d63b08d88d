"""Members: search, create, edit, birthdays, PIN, stored value, points, ledgers, import and
export. Cards, levels, count cards and coupons are in ``membership.py``."""

from __future__ import annotations

import base64

from common.schemas.base import Page, PageQuery
from common.schemas.catalog import FileOut, ImportIn
from common.schemas.members import (
    AnonymiseIn,
    BirthdayQuery,
    LedgerEntryOut,
    LedgerQuery,
    MemberCreate,
    MemberImportReportOut,
    MemberOut,
    MemberQuery,
    MembershipSettings,
    MembershipSettingsPatch,
    MemberUpdate,
    PinIn,
    PointsAdjustIn,
    PointsEntryOut,
    PointsExpiryIn,
    PointsExpiryOut,
    PointsRedeemIn,
    PointsResultOut,
    RechargeIn,
    StoredValueAdjustIn,
    StoredValueEntryOut,
    StoredValuePaymentIn,
    StoredValueRefundIn,
    StoredValueResultOut,
)
from common.schemas.reports import MemberExportQuery
from server.clock import shop_clock
from server.domain import (
    count_cards,
    ledger_refs,
    member_import,
    member_privacy,
    points,
    tabular,
    wallet,
)
from server.domain import members as members_domain

from .base import ALL_STAFF, MANAGERS, OWNER, ApiBlueprint, Ctx

bp = ApiBlueprint("members", __name__, tag="members")


def _one(ctx: Ctx, member, viewed: bool = True) -> MemberOut:
    """The member's own record: the full phone to every role (``common.privacy``); a
    cashier's reading it is audited (``member_privacy.record_view``)."""
    if viewed:
        member_privacy.record_view(ctx.db, ctx.me, member.id,
                                   writable=ctx.state.policy.accepts_writes)
    return MemberOut.model_validate(members_domain.views(ctx.db, [member], viewer=ctx.me.role,
                                                         own_record=True)[0])


def _page(ctx: Ctx, rows, more: bool, query) -> Page[MemberOut]:
    """A list: phones masked for roles without the permission."""
    items = [MemberOut.model_validate(v)
             for v in members_domain.views(ctx.db, rows, viewer=ctx.me.role)]
    return Page[MemberOut](items=items, page=query.page, page_size=query.page_size,
                           has_more=more)


def _sv(res: wallet.Result) -> StoredValueResultOut:
    return StoredValueResultOut(entry=StoredValueEntryOut.model_validate(res.entry),
                                sv_principal=res.sv_principal, sv_bonus=res.sv_bonus,
                                stored_value=res.stored_value,
                                forfeited_bonus=res.forfeited_bonus)


def _pts(res: points.Result) -> PointsResultOut:
    return PointsResultOut(entry=PointsEntryOut.model_validate(res.entry), points=res.points)


# -- members -------------------------------------------------------------------------------
@bp.endpoint("GET", "/members", roles=ALL_STAFF, query=MemberQuery, response=Page[MemberOut])
def list_members(ctx: Ctx, query: MemberQuery) -> Page[MemberOut]:
    """Search members: full phone, last 4 digits, card number, member number, name (part),
    pinyin initials. Exact matches first; paged on the server."""
    rows, more = members_domain.search(ctx.db, query.q, query.page, query.page_size,
                                       query.level_id, query.include_inactive)
    return _page(ctx, rows, more, query)


@bp.endpoint("POST", "/members", roles=ALL_STAFF, body=MemberCreate, response=MemberOut,
             status=201)
def create_member(ctx: Ctx, body: MemberCreate) -> MemberOut:
    """Create a member (optionally issuing a card at once)."""
    return _one(ctx, members_domain.create(ctx.db, ctx.me, body), viewed=False)


@bp.endpoint("GET", "/members/birthdays", roles=ALL_STAFF, query=BirthdayQuery,
             response=Page[MemberOut])
def birthdays(ctx: Ctx, query: BirthdayQuery) -> Page[MemberOut]:
    """Members with a birthday this month (the shop's) or in ``month``, by day."""
    month = query.month or shop_clock(ctx.state.config).today().month
    rows, more = members_domain.birthdays(ctx.db, month, query.page, query.page_size)
    return _page(ctx, rows, more, query)


@bp.endpoint("GET", "/members/settings", roles=ALL_STAFF, response=MembershipSettings)
def get_settings(ctx: Ctx) -> MembershipSettings:
    """Membership settings: PIN threshold and lockout, points redemption rate and expiry."""
    return members_domain.get_settings(ctx.db)


@bp.endpoint("PUT", "/members/settings", roles=MANAGERS, body=MembershipSettingsPatch,
             response=MembershipSettings)
def put_settings(ctx: Ctx, body: MembershipSettingsPatch) -> MembershipSettings:
    """Change membership settings (only the fields sent; audited)."""
    return members_domain.put_settings(ctx.db, ctx.me, body)


@bp.endpoint("GET", "/members/<int:member_id>", roles=ALL_STAFF, response=MemberOut)
def get_member(ctx: Ctx, member_id: int) -> MemberOut:
    """One member with balances and cards."""
    return _one(ctx, members_domain.get(ctx.db, member_id))


@bp.endpoint("PATCH", "/members/<int:member_id>", roles=ALL_STAFF, body=MemberUpdate,
             response=MemberOut)
def update_member(ctx: Ctx, member_id: int, body: MemberUpdate) -> MemberOut:
    """Edit a member. Level changes and (de)activation: manager/owner. Never deleted."""
    return _one(ctx, members_domain.update(ctx.db, ctx.me, member_id, body))


@bp.endpoint("POST", "/members/<int:member_id>/anonymise", roles=OWNER, body=AnonymiseIn,
             response=MemberOut)
def anonymise_member(ctx: Ctx, member_id: int, body: AnonymiseIn) -> MemberOut:
    """注销会员 at the member's request (owner; audited; idempotent): name, phone, birthday,
    notes and the other personal fields are removed, the member is deactivated; ledgers,
    sales and balances are kept unchanged. Editing the record afterwards: 409
    ``member_anonymised``."""
    m = member_privacy.anonymise(ctx.db, ctx.me, member_id, body.reason)
    return _one(ctx, m, viewed=False)


@bp.endpoint("PUT", "/members/<int:member_id>/pin", roles=ALL_STAFF, body=PinIn,
             response=MemberOut)
def set_pin(ctx: Ctx, member_id: int, body: PinIn) -> MemberOut:
    """Set the member's payment PIN (changing one needs the old PIN, or a manager)."""
    return _one(ctx, members_domain.set_pin(ctx.db, ctx.me, ctx.state.passwords, member_id,
                                            body.pin, body.old_pin))


@bp.endpoint("DELETE", "/members/<int:member_id>/pin", roles=MANAGERS, response=MemberOut)
def clear_pin(ctx: Ctx, member_id: int) -> MemberOut:
    """Remove the member's PIN and any PIN lockout (manager/owner)."""
    return _one(ctx, members_domain.clear_pin(ctx.db, ctx.me, member_id))


@bp.endpoint("POST", "/members/<int:member_id>/pin/unlock", roles=MANAGERS,
             response=MemberOut)
def unlock_pin(ctx: Ctx, member_id: int) -> MemberOut:
    """Clear a PIN lockout, keeping the PIN (manager/owner)."""
    return _one(ctx, members_domain.unlock_pin(ctx.db, ctx.me, member_id))


# -- stored value --------------------------------------------------------------------------
@bp.endpoint("POST", "/members/<int:member_id>/recharges", roles=ALL_STAFF, body=RechargeIn,
             response=StoredValueResultOut, status=201)
def recharge(ctx: Ctx, member_id: int, body: RechargeIn) -> StoredValueResultOut:
    """充值: principal paid by cash/card/WeChat/Alipay; the best active bonus rule adds
    bonus."""
    return _sv(wallet.recharge(ctx.db, ctx.me, member_id, body.amount, body.method,
                               reference=body.reference, note=body.note))


@bp.endpoint("GET", "/members/<int:member_id>/recharges", roles=ALL_STAFF, query=PageQuery,
             response=Page[StoredValueEntryOut])
def list_recharges(ctx: Ctx, member_id: int, query: PageQuery) -> Page[StoredValueEntryOut]:
    """The member's recharges, newest first."""
    members_domain.get(ctx.db, member_id)
    rows, more = wallet.entries(ctx.db, member_id, query.page, query.page_size, "recharge")
    return Page[StoredValueEntryOut](items=[StoredValueEntryOut.model_validate(r) for r in rows],
                                     page=query.page, page_size=query.page_size, has_more=more)


@bp.endpoint("POST", "/members/<int:member_id>/stored-value/payments", roles=ALL_STAFF,
             body=StoredValuePaymentIn, response=StoredValueResultOut, status=201)
def pay(ctx: Ctx, member_id: int, body: StoredValuePaymentIn) -> StoredValueResultOut:
    """快速消费: pay from stored value (principal first, then bonus). Refusals: 409
    ``insufficient_balance``; 422 ``card_lost`` / ``card_frozen`` / ``pin_required`` /
    ``pin_wrong`` / ``pin_locked``."""
    return _sv(wallet.pay(ctx.db, ctx.me, ctx.state.passwords, member_id, body.amount,
                          ref_type="quick", ref_id=None, card_no=body.card_no, pin=body.pin,
                          note=body.note))


@bp.endpoint("POST", "/members/<int:member_id>/stored-value/adjustments", roles=MANAGERS,
             body=StoredValueAdjustIn, response=StoredValueResultOut, status=201)
def adjust_stored_value(ctx: Ctx, member_id: int, body: StoredValueAdjustIn
                        ) -> StoredValueResultOut:
    """Manual correction of principal and/or bonus (manager/owner, reason, audited)."""
    return _sv(wallet.adjust(ctx.db, ctx.me, member_id, body.principal_change,
                             body.bonus_change, body.reason))


@bp.endpoint("POST", "/members/<int:member_id>/stored-value/refunds", roles=OWNER,
             body=StoredValueRefundIn, response=StoredValueResultOut, status=201)
def refund_stored_value(ctx: Ctx, member_id: int, body: StoredValueRefundIn
                        ) -> StoredValueResultOut:
    """退储值 (owner): pay unspent principal back; the same share of bonus is forfeited."""
    return _sv(wallet.cash_refund(ctx.db, ctx.me, member_id, body.amount, body.method,
                                  body.reason))


# -- points --------------------------------------------------------------------------------
@bp.endpoint("GET", "/members/<int:member_id>/points", roles=ALL_STAFF, query=PageQuery,
             response=Page[PointsEntryOut])
def list_points(ctx: Ctx, member_id: int, query: PageQuery) -> Page[PointsEntryOut]:
    """The member's points ledger, newest first."""
    members_domain.get(ctx.db, member_id)
    rows, more = points.entries(ctx.db, member_id, query.page, query.page_size)
    return Page[PointsEntryOut](items=[PointsEntryOut.model_validate(r) for r in rows],
                                page=query.page, page_size=query.page_size, has_more=more)


@bp.endpoint("POST", "/members/<int:member_id>/points", roles=MANAGERS, body=PointsAdjustIn,
             response=PointsResultOut, status=201)
def adjust_points(ctx: Ctx, member_id: int, body: PointsAdjustIn) -> PointsResultOut:
    """Manual points adjustment (manager/owner, reason, audited)."""
    return _pts(points.adjust(ctx.db, ctx.me, member_id, body.change, body.reason))


@bp.endpoint("POST", "/members/<int:member_id>/points/redemptions", roles=ALL_STAFF,
             body=PointsRedeemIn, response=PointsResultOut, status=201)
def redeem_points(ctx: Ctx, member_id: int, body: PointsRedeemIn) -> PointsResultOut:
    """Redeem points for a gift (积分兑换礼品). 409 ``insufficient_points``."""
    return _pts(points.redeem(ctx.db, ctx.me, member_id, body.points, ref_type="gift",
                              ref_id=None, kind="gift", note=body.gift))


@bp.endpoint("POST", "/points/expiry", roles=MANAGERS, body=PointsExpiryIn,
             response=PointsExpiryOut)
def expire_points(ctx: Ctx, body: PointsExpiryIn) -> PointsExpiryOut:
    """Run the points expiry job now (points earned more than N months ago)."""
    n, total, cutoff = points.expire(ctx.db, ctx.me, body.months)
    return PointsExpiryOut(members=n, points=total, cutoff=cutoff)


# -- ledgers -------------------------------------------------------------------------------
@bp.endpoint("GET", "/members/<int:member_id>/ledger", roles=ALL_STAFF, query=LedgerQuery,
             response=Page[LedgerEntryOut])
def ledger(ctx: Ctx, member_id: int, query: LedgerQuery) -> Page[LedgerEntryOut]:
    """One of the member's ledgers (``book``: stored_value, points, count_cards), newest
    first."""
    members_domain.get(ctx.db, member_id)
    items: list[LedgerEntryOut] = []
    if query.book == "stored_value":
        rows, more = wallet.entries(ctx.db, member_id, query.page, query.page_size)
        refs = ledger_refs.human_refs(ctx.db, rows, book=query.book)
        items = [LedgerEntryOut(
            id=r.id, book="stored_value", kind=r.kind,
            change=r.principal_change + r.bonus_change,
            balance_after=r.principal_after + r.bonus_after,
            principal_change=r.principal_change, bonus_change=r.bonus_change,
            principal_after=r.principal_after, bonus_after=r.bonus_after, method=r.method,
            ref_type=r.ref_type, ref_id=r.ref_id, ref_no=ref, note=r.note,
            staff_id=r.staff_id, at=r.at)
            for r, ref in zip(rows, refs, strict=True)]
    elif query.book == "points":
        prow, more = points.entries(ctx.db, member_id, query.page, query.page_size)
        refs = ledger_refs.human_refs(ctx.db, prow, book=query.book)
        items = [LedgerEntryOut(id=r.id, book="points", kind=r.kind, change=r.change,
                                balance_after=r.balance_after, ref_type=r.ref_type,
                                ref_id=r.ref_id, ref_no=ref, note=r.note, staff_id=r.staff_id,
                                at=r.at)
                 for r, ref in zip(prow, refs, strict=True)]
    else:
        crow, more = count_cards.entries(ctx.db, member_id, query.page, query.page_size)
        refs = ledger_refs.human_refs(ctx.db, crow, book=query.book)
        items = [LedgerEntryOut(id=r.id, book="count_cards", kind=r.kind, change=r.change,
                                balance_after=r.balance_after, card_id=r.card_id,
                                ref_type=r.ref_type, ref_id=r.ref_id, ref_no=ref, note=r.note,
                                staff_id=r.staff_id, at=r.at)
                 for r, ref in zip(crow, refs, strict=True)]
    return Page[LedgerEntryOut](items=items, page=query.page, page_size=query.page_size,
                                has_more=more)


# -- import / export -----------------------------------------------------------------------
@bp.endpoint("POST", "/members/import", roles=MANAGERS, body=ImportIn,
             response=MemberImportReportOut, max_body=tabular.MAX_UPLOAD_BODY)
def import_members(ctx: Ctx, body: ImportIn) -> MemberImportReportOut:
    """Import members from CSV/Excel. ``dry_run`` (default) only reports errors per row; a
    real import is all-or-nothing; opening balances/points become ledger entries; rows match
    existing members by external id, phone or member number, so a re-run does not
    duplicate."""
    data = tabular.decode_upload(body.content_base64)
    report = member_import.import_members(ctx.db, ctx.me, body.filename, data, body.dry_run)
    return MemberImportReportOut.model_validate(report)


@bp.endpoint("GET", "/members/export", roles=OWNER, query=MemberExportQuery,
             response=FileOut)
def export_members(ctx: Ctx, query: MemberExportQuery) -> FileOut:
    """Export members as CSV or Excel (base64 in JSON): every phone and birthday at once, so
    owner only; audited (``member.export``, the row count). With ``kind`` (and its
    parameters, as ``GET /reports/member-list``): only that list's members — 会员关怀's
    list to call, with the full numbers the report page masks (the list recorded too)."""
    clock = shop_clock(ctx.state.config)
    data = member_import.export_members(ctx.db, ctx.me, query.format,
                                        care=query.care_list(), clock=clock,
                                        today=clock.today())
    ctype = ("text/csv" if query.format == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = f"members-{query.kind}" if query.kind else "members"
    return FileOut(filename=f"{name}.{query.format}", content_type=ctype,
                   content_base64=base64.b64encode(data).decode())
