"""Strings of the payment dialog and quick cash, order discount (折) and 抹零: part of the catalogue
of :mod:`client.strings`. Simplified Chinese first, English second."""

from __future__ import annotations

PAYMENT_STRINGS: dict[str, tuple[str, str]] = {
    # field labels, each with its key
    "payment.discount": ("整单折扣 ({k})", "Order discount ({k})"),
    "payment.discount_hint": ("折数，如 9.5 = 九五折", "rate, e.g. 9.5 = 5% off"),
    "payment.discount_invalid": ("折扣请填写如 9.5（九五折）或 88（八八折）",
                                 "Enter the rate as e.g. 9.5 (5% off) or 88 (12% off)"),
    "payment.stored_value": ("储值 ({k})（余额 {balance}）",
                             "Stored value ({k}) ({balance})"),
    "payment.points": ("积分 ({k})（有 {balance}，{rate}分=¥1）",
                       "Points ({k}) ({balance}; {rate} = ¥1)"),
    "payment.method.card": ("银行卡 ({k})", "Bank card ({k})"),
    "payment.method.wechat": ("微信 ({k})", "WeChat Pay ({k})"),
    "payment.method.alipay": ("支付宝 ({k})", "Alipay ({k})"),
    "payment.cash": ("实收现金 ({k})", "Cash handed over ({k})"),
    "payment.coupon": ("优惠券 ({k})", "Coupon ({k})"),
    "payment.keys": ("Enter / F9 确认收款 · Ctrl+1…4 快捷现金 · Esc 返回 · "
                     "先输其他支付方式，剩余用现金；扫付款码自动选微信或支付宝",
                     "Enter / F9 confirm · Ctrl+1…4 quick cash · Esc back · other tenders "
                     "first, the rest is cash; a scanned payment code picks WeChat or Alipay"),
    # 抹零
    "payment.rounding": ("抹零 ({k})：{mode}", "Round off ({k}): {mode}"),
    "payment.rounding.none": ("不抹零", "none"),
    "payment.rounding.jiao": ("抹到角", "to 0.10"),
    "payment.rounding.yuan": ("抹到元", "to 1.00"),
    "payment.rounding_off": ("本店未开启抹零（店主可在门店设置中开启）",
                             "Rounding off is not enabled for this shop (shop settings)"),
    "payment.order_discount_note": ("整单{zhe} 优惠 {amount}", "Order {zhe}: {amount} off"),
    "payment.rounding_note": ("抹零 {amount}", "Rounded off {amount}"),
    # problems (common.payment codes)
    "payment.problem.needs_member": ("储值和积分支付需要先选择会员",
                                     "Stored value and points need a member"),
    "payment.problem.sv_short": ("储值余额不足（余额 {balance}）",
                                 "Not enough stored value ({balance})"),
    "payment.problem.points_short": ("积分不足（有 {balance} 分）",
                                     "Not enough points ({balance})"),
    "payment.problem.overpaid": ("非现金支付超出应收 {amount}（只有现金可以找零）",
                                 "Non-cash payments exceed the total by {amount} (only cash "
                                 "gives change)"),
    "payment.problem.tendered_short": ("现金实收不足，应收现金 {amount}",
                                       "Cash handed over is less than {amount}"),
    "payment.problem.pin_missing": ("请输入会员支付密码", "Enter the member's PIN"),
    # scan-to-pay
    "payment.not_a_pay_code": ("这不是微信或支付宝付款码；商品请返回收银界面扫描",
                               "Not a WeChat / Alipay payment code; scan products at the "
                               "checkout"),
    "payment.nothing_due": ("已经付清，无需再扫付款码", "Nothing is left to pay"),
    "payment.code_scanned": ("已扫{method}付款码：{amount}", "{method} code scanned: {amount}"),
    # cash recharge: tendered, change, confirmation
    "payment.recharge.tendered": ("实收现金", "Cash handed over"),
    "payment.recharge.tendered_hint": ("不填 = 现金刚好", "empty = exact cash"),
    "payment.recharge.change": ("找零", "Change"),
    "payment.recharge.review": ("请核对后再按 Enter 确认充值",
                                "Check, then press Enter to top up"),
    "payment.recharge.summary": ("充值 {amount} · 赠送 {bonus}\n实收 {tendered} · 找零 {change}",
                                 "Top-up {amount} · bonus {bonus}\nhanded over {tendered} · "
                                 "change {change}"),
    "payment.recharge.summary_other": ("充值 {amount} · 赠送 {bonus}\n{method}",
                                       "Top-up {amount} · bonus {bonus}\n{method}"),
    "payment.recharge.next": ("下一步 (Enter)", "Next (Enter)"),
    "payment.recharge.confirm": ("确认充值 (Enter)", "Confirm top-up (Enter)"),
    "payment.recharge.back": ("返回修改", "Back"),
    "payment.recharge.cancel": ("取消 (Esc)", "Cancel (Esc)"),
    "payment.recharge.tendered_short": ("实收现金不足，应收 {amount}",
                                        "Cash handed over is less than {amount}"),
    # back office: the shop's 抹零 rule
    "payment.shop.max_rounding": ("收银抹零", "Rounding off at the counter"),
    "payment.shop.rounding.none": ("不允许抹零", "not allowed"),
    "payment.shop.rounding.jiao": ("最多抹到角（抹去分）", "down to 0.10 (drop the fen)"),
    "payment.shop.rounding.yuan": ("最多抹到元（抹去角和分）", "down to 1.00 (drop jiao and fen)"),
}
