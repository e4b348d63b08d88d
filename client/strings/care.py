"""Strings of member care (会员关怀): the back office's 会员关怀 screen, its 发券 dialog, the
care lists in 报表's 会员名单 and the low-balance setting: part of the catalogue of
:mod:`client.strings`. Simplified Chinese first, English second."""

from __future__ import annotations

CARE_STRINGS: dict[str, tuple[str, str]] = {
    "menu.care": ("会员关怀", "Member care"),
    # the lists (报表 → 会员名单 and 会员关怀)
    "rep.kind.low_balance": ("储值余额不足", "Low stored value"),
    "rep.kind.card_low": ("次卡快用完", "Count cards running low"),
    "rep.kind.card_expiring": ("次卡将到期", "Count cards expiring"),
    "rep.days.new": ("最近", "Joined in the last"),
    "rep.days.card_expiring": ("到期不超过", "Expiring within"),
    "rep.threshold": ("余额低于", "Balance below"),
    "rep.threshold_hint": ("默认：会员设置", "default: the setting"),
    "rep.uses": ("剩余不超过", "Uses left at most"),
    "rep.uses_suffix": (" 次", " uses"),
    "rout.t.low_balance": ("储值余额低于 {amount} 的会员", "Stored value below {amount}"),
    "rout.t.card_low": ("次卡剩余不超过 {uses} 次的会员", "Count cards with {uses} uses or "
                        "fewer left"),
    "rout.t.card_expiring": ("次卡 {days} 天内到期的会员", "Count cards expiring within "
                             "{days} days"),
    "rout.list_more_unknown": ("这里列出前 {shown} 人，后面还有", "The first {shown} are "
                               "listed; there are more"),
    "rout.h.people_more": ("{n} 人以上", "more than {n}"),
    "rout.col.card": ("次卡", "Count card"),
    "rout.col.card_uses_left": ("剩余次数", "Uses left"),
    "rout.col.card_expires_at": ("到期时间", "Expires"),
    "msettings.care_low_balance": ("储值余额不足提醒线（会员关怀）",
                                   "Low stored value below (member care)"),
    "field.care_low_balance": ("余额提醒线", "Low balance"),
    # the screen
    "care.prev": ("◀ 上一页", "◀ Previous"),
    "care.next": ("下一页 ▶", "Next ▶"),
    "care.page": ("第 {page} 页", "Page {page}"),
    "care.page_of": ("第 {page} 页，共 {n} 人", "Page {page} of {n} members"),
    "care.coupon": ("发券…", "Send a coupon…"),
    "care.export": ("导出联系方式…", "Export contacts…"),
    "care.export_hint": ("店主专用：导出名单上全部会员的完整手机号，用于电话回访（记入操作日志）",
                         "Owner only: every member of the list with the full phone number, "
                         "to call them (recorded in the audit log)"),
    "care.exported": ("已导出：{path}", "Exported: {path}"),
    # 发券 to a list
    "care.coupon.title": ("给名单上的会员发券", "A coupon to everyone on the list"),
    "care.coupon.list": ("名单", "List"),
    "care.coupon.template": ("优惠券", "Coupon"),
    "care.coupon.reach": ("发放人数", "Members"),
    "care.coupon.counting": ("正在统计人数…", "Counting…"),
    "care.coupon.reach_n": ("将给 {n} 位会员各发一张", "One each to {n} members"),
    "care.coupon.no_template": ("还没有可用的优惠券模板（后台 → 优惠券）",
                                "No coupon template yet (Back office → Coupons)"),
    "care.coupon.notify": ("同时发送短信 / 微信通知", "Also send an SMS / WeChat message"),
    "care.coupon.notify_hint": ("需要接入短信或微信服务商；未接入时只记录，不会真正发送",
                                "Needs an SMS or WeChat provider; without one the messages "
                                "are recorded, not sent"),
    "care.coupon.confirm": ("确认发券", "Issue"),
    "care.coupon.done": ("已发放 {n} 张优惠券", "{n} coupons issued"),
    "care.coupon.already": ("这批优惠券已发放过（{n} 张），没有重复发放",
                            "This batch was issued before ({n} coupons): nothing issued twice"),
}
