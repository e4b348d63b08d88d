"""Strings of offline selling: the local journal of offline sales, its replay and the support
command line (``lanpos-client journal …``): part of the catalogue of :mod:`client.strings`.
Simplified Chinese first, English second."""

from __future__ import annotations

OFFLINE_STRINGS: dict[str, tuple[str, str]] = {
    # the counter in offline mode (client/counter/offline_mode.py, checkout, payment)
    "offline.banner": ("服务器无法连接 · 离线收银中（仅限现金/银行卡/微信/支付宝）",
                       "No server answers · selling offline (cash, bank card, WeChat Pay, "
                       "Alipay only)"),
    "offline.banner_certificate": (
        "服务器证书与本机信任的不一致，已拒绝连接 · 离线收银中 · 请店长在「设置」核对证书",
        "The server's certificate is not the one this counter trusts: refused · selling "
        "offline · a manager must check the certificate in Settings"),
    "offline.pending": ("{n} 笔离线单待上传", "{n} offline sales waiting to upload"),
    "offline.refused_count": ("{n} 笔离线单被服务器拒绝，请告知店长",
                              "{n} offline sales refused by the server: tell the manager"),
    "offline.back_online": ("服务器已恢复，正在上传离线单",
                            "The server is back: uploading the offline sales"),
    "offline.all_sent": ("离线单已全部上传", "All offline sales are uploaded"),
    "offline.no_journal": ("本机离线单记录不可用，离线时不能收银：{reason}",
                           "The offline journal is not available, no offline sales: {reason}"),
    "offline.no_journal_configured": ("未配置离线单目录", "no offline directory configured"),
    "offline.scan_unknown": ("本机商品库里没有“{q}”，服务器又无法连接：这件商品现在无法收银，"
                             "请放到一边，联网后再扫",
                             "“{q}” is not in this counter's catalogue and no server answers: "
                             "it cannot be sold now; put it aside and scan it again later"),
    "offline.refused.stored_value": ("离线收银时不能用储值支付（余额在服务器上），"
                                     "请改用现金、银行卡、微信或支付宝",
                                     "Stored value cannot be used offline (the balance is on "
                                     "the server): take cash, card, WeChat Pay or Alipay"),
    "offline.refused.points": ("离线收银时不能用积分抵扣（积分在服务器上）",
                               "Points cannot be redeemed offline (they are on the server)"),
    "offline.refused.coupon": ("离线收银时不能用优惠券，已取消本单的优惠券",
                               "Coupons cannot be used offline: the coupon was taken off"),
    "offline.refused.count_card": ("离线收银时不能用次卡，已取消本单的次卡抵扣",
                                   "Count cards cannot be used offline: taken off this sale"),
    "offline.refused.approval": ("离线时不能请店长授权：超过您权限的折扣请取消后再结账",
                                 "No manager approval offline: take off the discount above "
                                 "your limit, then pay"),
    "offline.refused.recharge": ("服务器无法连接，离线时不能充值（余额在服务器上）",
                                 "No server answers: recharges are not possible offline"),
    "offline.refused.refund": ("服务器无法连接，离线时不能退款，请联网后再办理",
                               "No server answers: refunds are not possible offline"),
    "offline.refused.cards": ("服务器无法连接，离线时不能办理会员卡业务",
                              "No server answers: card operations are not possible offline"),
    "offline.refused.sell_card": ("服务器无法连接，离线时不能售次卡",
                                  "No server answers: count cards cannot be sold offline"),
    "offline.refused.hold": ("服务器无法连接，离线时不能挂单或取单",
                             "No server answers: orders cannot be held or resumed offline"),
    "offline.refused.shift": ("服务器无法连接，离线时不能开班或交班",
                              "No server answers: shifts cannot be opened or closed offline"),
    "offline.pay_note": ("离线收银：按本机商品库计价，联网后自动上传",
                         "Selling offline: priced from this counter's catalogue, uploaded "
                         "when the server is back"),
    "offline.journaled": ("服务器未应答，本单已存为离线单 {number}",
                          "No answer from the server: kept as offline sale {number}"),
    "offline.sale_done": ("离线单 {number} · 合计 {total}", "Offline sale {number} · {total}"),
    "offline.sale_done_cash": ("离线单 {number} · 应收 {total} · 实收 {tendered} · 找零 {change}",
                               "Offline sale {number} · due {total} · cash {tendered} · "
                               "change {change}"),
    "offline.warn_logout": ("还有 {n} 笔离线单没有上传到服务器。离线单保存在本机，下次联网时"
                            "会自动上传。确定现在换班或退出吗？",
                            "{n} offline sales are not uploaded yet. They stay on this counter "
                            "and go up when the server is back. Switch staff / quit now?"),
    "offline.warn_shift_close": ("还有 {n} 笔离线单没有上传，交班报表里还没有它们的金额。"
                                 "请等服务器恢复、离线单上传完成后再交班。仍要现在交班吗？",
                                 "{n} offline sales are not uploaded: the shift report does "
                                 "not count them yet. Wait until they are up. Close the shift "
                                 "anyway?"),
    # a member typed offline in the member panel (client/counter/member_panel.py)
    "offline.member_ref.phone": ("离线：已按手机号 {ref} 记录会员，联网后补积分",
                                 "Offline: member recorded by mobile number {ref}; points "
                                 "are added when the server is back"),
    "offline.member_ref.card": ("离线：已按卡号 {ref} 记录会员，联网后补积分",
                                "Offline: member recorded by card number {ref}; points are "
                                "added when the server is back"),
    "offline.member_ref.name": ("本机查过的会员：{name}", "Looked up here earlier: {name}"),
    "offline.member_ref.refused": ("离线时请输入完整手机号或卡号（服务器无法连接，不能按姓名"
                                   "或手机尾号查找）",
                                   "Offline, type the full mobile number or the card number "
                                   "(no server: no search by name or last digits)"),
    # the journal file (client/offline/journal.py)
    "offline.journal.damaged": (
        "离线单记录文件已损坏，收银台不能继续记录离线单：{path}（{reason}）。"
        "文件已原样保留，请勿删除。恢复办法：1. 把这个文件复制一份交给技术支持，"
        "里面的离线单可以导出补录；"
        "2. 把它改名（例如在文件名后面加上“已损坏”）后重新启动收银台，会新建一个空的记录文件。",
        "The offline sales journal is damaged and the counter cannot record offline sales: "
        "{path} ({reason}). The file is kept as it is; do not delete it. To recover: 1. give "
        "a copy of this file to support, who can export its offline sales and enter them; "
        "2. rename it (e.g. add .damaged to its name) and start the counter again: a new "
        "empty journal is made."),
    "offline.journal.missing_main": (
        "离线单记录文件不见了，但它的日志文件还在",
        "the journal file is missing but its write-ahead log is still there"),
    "offline.journal.not_journal": ("不是离线单记录文件", "not an offline sales journal"),
    # states of a journaled sale
    "offline.state.pending": ("待上传", "waiting"),
    "offline.state.sent": ("已上传", "sent"),
    "offline.state.refused": ("被拒绝", "refused"),
    # replay
    "offline.replay.busy": ("另一个程序正在上传离线单，请稍后再试",
                            "Another program is sending the offline sales; try again later"),
    "offline.replay.conflict": ("服务器上已有这笔单，内容不同：{message}",
                                "The server already has this sale with other contents: "
                                "{message}"),
    # the back office 离线单核对 (client/backoffice/offline_review.py)
    "menu.offline_review": ("离线单核对", "Offline sales review"),
    "offline.review.col.at": ("时间", "Time"),
    "offline.review.col.sale": ("销售单号", "Sale number"),
    "offline.review.col.local": ("离线单号", "Offline number"),
    "offline.review.col.counter": ("收银台", "Counter"),
    "offline.review.col.kind": ("差异", "Difference"),
    "offline.review.col.counter_amount": ("收银台收", "Counter charged"),
    "offline.review.col.server_amount": ("现在应收", "Would charge now"),
    "offline.review.col.message": ("说明", "Details"),
    "offline.review.by_day": ("只看这一天", "Only this day"),
    "offline.review.hint": ("离线单已按收银台当时的价格入账；这里列出与现在价格、商品、会员的"
                            "不同之处，供店长核对",
                            "Offline sales stand as the counter made them; here is what "
                            "differs from today's prices, products and members, to review"),
    "label.offline.price_changed": ("价格已变", "Price changed"),
    "label.offline.product_inactive": ("商品已停售", "Product no longer sold"),
    "label.offline.member_unknown": ("会员未找到", "Member not found"),
    "label.offline.total_differs": ("金额不同", "Total differs"),
    "label.offline.stock_negative": ("库存为负", "Stock below zero"),
    "label.offline.staff_unknown": ("服务人员未找到", "Serving staff not found"),
    "label.offline.cashier_unknown": ("收银员未找到", "Cashier not found"),
    "label.offline.no_shift": ("无班次", "No shift"),
    # the sales report (client/backoffice/reports.py)
    "rep.offline": ("其中离线单 {n} 笔 {total}", "of which offline sales: {n}, {total}"),
    # the support command line (client/offline/cli.py)
    "offline.cli.header": ("离线单号          时间              金额        状态",
                           "Local number      Time              Total       State"),
    "offline.cli.none": ("没有离线单", "No offline sales"),
    "offline.cli.summary": ("待上传 {pending} 笔，已上传 {sent} 笔，被拒绝 {refused} 笔",
                            "{pending} waiting, {sent} sent, {refused} refused"),
    "offline.cli.server_number": ("服务器单号 {number}", "server number {number}"),
    "offline.cli.no_server": ("没有配置服务器地址：请在命令后面加上 --server 地址",
                              "No server address configured: give one with --server"),
    "offline.cli.password": ("{user} 的密码：", "Password of {user}: "),
    "offline.cli.login_failed": ("登录失败：{message}", "Login failed: {message}"),
    "offline.cli.sent": ("已上传 {number} → 服务器单号 {server_number}",
                         "Sent {number} → server number {server_number}"),
    "offline.cli.refused": ("被拒绝 {number}：{message}", "Refused {number}: {message}"),
    "offline.cli.stopped": ("上传中断：{message}", "Stopped: {message}"),
    "offline.cli.result": ("本次上传 {sent} 笔，仍待上传 {remaining} 笔，被拒绝 {refused} 笔",
                           "Sent now {sent}, still waiting {remaining}, refused {refused}"),
}
