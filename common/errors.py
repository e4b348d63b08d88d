"""The one error type of lanpos and its message catalogue.

Server code raises ``ApiError(code, status=..., **params)``; the API turns it into the
envelope ``{"error": {"code", "message", "fields", ...}}``. The client raises the same type
when it reads an envelope, so a cashier sees the server's message, never a traceback.

Messages are looked up by code in ``MESSAGES`` (Simplified Chinese first, English second) and
formatted with ``params``; an explicit ``message=`` overrides the catalogue.
"""

from __future__ import annotations

from typing import Any

ZH = "zh"
EN = "en"
LANGS = (ZH, EN)

MESSAGES: dict[str, tuple[str, str]] = {
    # generic
    "validation_error": ("输入有误，请检查标出的项目", "Some fields are not valid"),
    "invalid_json": ("请求内容不是有效的 JSON", "The request body is not valid JSON"),
    "json_too_deep": ("请求内容层级太深（最多 {limit} 层）",
                      "The request body is nested too deeply (at most {limit} levels)"),
    "unauthorized": ("请先登录", "Please log in"),
    "token_expired": ("登录已过期，请重新登录", "Your login has expired, please log in again"),
    "forbidden": ("您没有权限执行此操作", "You are not allowed to do this"),
    "not_found": ("找不到{what}", "{what} not found"),
    "route_not_found": ("接口不存在", "No such API endpoint"),
    "method_not_allowed": ("不支持该请求方法", "Method not allowed for this endpoint"),
    "conflict": ("数据冲突，请刷新后重试", "Conflict, please refresh and retry"),
    "payload_too_large": ("提交的内容太大（上限 {limit}）", "Request too large (limit {limit})"),
    "database_unavailable": ("数据库暂时无法连接，请稍后重试或联系店长",
                             "The database is unavailable; retry shortly or call the manager"),
    "standby_read_only": ("这是备用服务器（只读），请连接主服务器",
                          "This is the standby server (read-only); use the primary"),
    "maintenance": ("系统维护中（{reason}），请稍候", "Under maintenance ({reason}), please wait"),
    "stale_primary": ("此服务器已被备用服务器替代（{replaced_at}），不能再收银；"
                      "收银台将自动切换到新的主服务器",
                      "This server was replaced by the standby ({replaced_at}) and takes no "
                      "sales; the counter switches to the new primary"),
    "promote_refused": ("不能切换到备用服务器：{reason}", "Cannot promote the standby: {reason}"),
    "not_a_standby": ("这台服务器不是备用服务器", "This server is not a standby"),
    "pairing_failed": ("配对失败：{reason}", "Pairing failed: {reason}"),
    "pairing_code_invalid": ("配对码不对或已过期，请在主服务器后台重新生成",
                             "The pairing code is wrong or expired; make a new one on the primary"),
    "needs_managed_database": ("双机热备需要 lanpos 自带的数据库（未配置外部数据库）",
                               "A standby needs lanpos's own managed database"),
    "internal_error": ("服务器内部错误，请联系管理员（编号 {ref}）",
                       "Internal server error; tell the administrator (ref {ref})"),
    "busy_retry": ("系统繁忙，请重试", "The system is busy, please retry"),
    # idempotency
    "idempotency_key_required": ("缺少请求编号（Idempotency-Key）",
                                 "Missing Idempotency-Key header"),
    "idempotency_key_invalid": ("请求编号（Idempotency-Key）格式不正确",
                                "Idempotency-Key is not valid"),
    "idempotency_mismatch": ("同一请求编号已用于不同的内容，请勿重复使用",
                             "This Idempotency-Key was already used with different content"),
    # auth and staff
    "login_failed": ("用户名或密码错误（还可尝试 {left} 次）",
                     "Wrong username or password ({left} attempts left)"),
    "account_locked": ("密码错误次数过多，账号已锁定，请 {minutes} 分钟后再试或联系店长",
                       "Too many failed logins; the account is locked for {minutes} minutes"),
    "account_disabled": ("该账号已停用", "This account is disabled"),
    "too_many_attempts": ("这台电脑登录失败次数过多，请 {minutes} 分钟后再试",
                          "Too many failed logins from this computer; try again in {minutes} "
                          "minutes"),
    "username_taken": ("用户名“{username}”已被使用", "Username '{username}' is already taken"),
    "cannot_manage_role": ("您不能管理{role}账号", "You cannot manage {role} accounts"),
    "last_owner": ("至少要保留一个启用的店主账号", "At least one active owner must remain"),
    # catalog and stock
    "barcode_not_found": ("找不到条码 {barcode} 对应的商品", "No product with barcode {barcode}"),
    "barcode_taken": ("条码 {barcode} 已被其他商品使用",
                      "Barcode {barcode} belongs to another product"),
    "sku_taken": ("货号 {sku} 已被使用", "SKU {sku} is already used"),
    "duplicate_name": ("名称“{name}”已存在", "The name '{name}' already exists"),
    "insufficient_stock": ("{name} 库存不足（现有 {stock}）",
                           "Not enough stock of {name} ({stock} left)"),
    "stock_not_tracked": ("{name} 不管理库存", "{name} has no stock tracking"),
    "stock_not_zero": ("{name} 还有库存 {stock}，请先盘点为 0 再停用库存管理",
                       "{name} still has {stock} in stock; count it to 0 first"),
    # membership
    "phone_taken": ("手机号 {phone} 已被会员“{name}”使用",
                    "Phone {phone} belongs to member '{name}'"),
    "member_number_taken": ("会员号 {number} 已被使用", "Member number {number} is already used"),
    "external_id_taken": ("原系统编号 {external_id} 已被使用",
                          "External id {external_id} is already used"),
    "member_inactive": ("会员“{name}”已停用", "Member '{name}' is deactivated"),
    "member_anonymised": ("该会员已注销，个人信息已删除，不能再修改",
                          "This member was anonymised; the record can no longer be edited"),
    "insufficient_balance": ("储值余额不足：需要 {amount}，可用 {balance}",
                             "Not enough stored value: {amount} needed, {balance} available"),
    "card_not_found": ("找不到卡号 {card_no}", "No member card {card_no}"),
    "card_taken": ("卡号 {card_no} 已被使用", "Card number {card_no} is already used"),
    "card_lost": ("卡 {card_no} 已挂失，不能使用", "Card {card_no} was reported lost"),
    "card_frozen": ("卡 {card_no} 已冻结，不能使用", "Card {card_no} is frozen"),
    "card_not_of_member": ("卡 {card_no} 不属于该会员", "Card {card_no} belongs to another member"),
    "card_bad_status": ("卡 {card_no} 当前状态为“{status}”，不能{action}",
                        "Card {card_no} is {status}; cannot {action}"),
    "member_has_card": ("该会员已有在用的卡 {card_no}；换卡请先挂失再补办",
                        "The member already has card {card_no}; report it lost and reissue"),
    "pin_required": ("请输入会员支付密码", "The member's payment PIN is required"),
    "pin_wrong": ("支付密码错误（还可尝试 {left} 次）", "Wrong payment PIN ({left} attempts left)"),
    "pin_locked": ("支付密码错误次数过多，已锁定 {minutes} 分钟；请稍后再试或请店长重置",
                   "Too many wrong PINs; locked for {minutes} minutes (a manager can reset it)"),
    "insufficient_points": ("积分不足：需要 {points}，现有 {balance}",
                            "Not enough points: {points} needed, {balance} available"),
    "count_card_expired": ("次卡“{name}”已于 {date} 过期，不能使用",
                           "Count card '{name}' expired on {date}"),
    "count_card_used_up": ("次卡“{name}”剩余 {left} 次，不够本次使用",
                           "Count card '{name}' has only {left} uses left"),
    "count_card_voided": ("次卡“{name}”已作废", "Count card '{name}' is void"),
    "count_card_not_of_member": ("次卡不属于该会员", "The count card belongs to another member"),
    "coupon_used": ("优惠券 {coupon} 已经使用过", "Coupon {coupon} was already used"),
    "coupon_voided": ("优惠券 {coupon} 已作废", "Coupon {coupon} is void"),
    "coupon_expired": ("优惠券 {coupon} 不在有效期内（{valid}）",
                       "Coupon {coupon} is not valid now ({valid})"),
    "coupon_not_of_member": ("优惠券 {coupon} 不属于该会员",
                             "Coupon {coupon} belongs to another member"),
    "coupon_not_redeemed": ("优惠券 {coupon} 未被使用，无需退回",
                            "Coupon {coupon} was not redeemed"),
    "refund_exceeds": ("退回金额超过可退金额 {refundable}",
                       "More than the refundable {refundable}"),
    "balance_would_be_negative": ("调整后{what}不能为负数", "{what} cannot become negative"),
    "inactive_item": ("{what}已停用", "{what} is inactive"),
    # imports
    "import_bad_file": ("文件无法读取", "The file cannot be read"),
    "import_missing_columns": ("缺少必需的列", "Required columns are missing"),
    "import_too_many_rows": ("行数太多", "Too many rows"),
    "import_rejected": ("导入的数据有误，未导入任何数据",
                        "The import has errors; nothing was imported"),
    # backup and restore
    "backup_failed": ("备份失败：{reason}", "Backup failed: {reason}"),
    "backup_disk_full": ("备份失败：{path} 所在磁盘已满，旧备份未受影响",
                         "Backup failed: the disk of {path} is full; older backups are intact"),
    "backup_tool_missing": ("找不到 MariaDB 程序 {tool}，请重新运行安装程序",
                            "MariaDB program {tool} not found; run the installer again"),
    "backup_database_down": ("数据库无法连接，无法备份/还原：{reason}",
                             "The database cannot be reached for backup/restore: {reason}"),
    "backup_not_found": ("找不到备份 {backup}", "Backup {backup} not found"),
    "backup_corrupt": ("备份 {backup} 已损坏（校验值不符），不能还原",
                       "Backup {backup} is corrupt (checksum mismatch) and cannot be restored"),
    "backup_unverified": ("备份 {backup} 尚未通过还原验证，请先验证（或强制还原）",
                          "Backup {backup} has not passed a test restore; verify it first "
                          "(or force)"),
    "backup_verify_failed": ("备份 {backup} 验证未通过，不能还原（可强制还原）",
                             "Backup {backup} failed verification (force to restore anyway)"),
    "restore_failed": ("还原失败：{reason}", "Restore failed: {reason}"),
    "restore_confirm_mismatch": ("确认内容不符：请输入备份编号 {backup}",
                                 "Confirmation does not match: type the backup id {backup}"),
    "pitr_failed": ("按时间点恢复失败：{reason}", "Point-in-time recovery failed: {reason}"),
    "backup_job_not_found": ("找不到备份任务 {job}", "Backup job {job} not found"),
    "backup_busy": ("另一个备份/还原任务（{kind}）正在进行，请稍后再试",
                    "Another backup/restore job ({kind}) is running; try again later"),
    "backup_settings_invalid": ("备份设置有误：{reason}", "Invalid backup settings: {reason}"),
    # encrypted backup copies (issue 16)
    "backup_key_wrong": ("口令或恢复密钥不对，无法解开这份备份：数据库未作任何改动",
                         "Wrong passphrase or recovery key for this backup: the database "
                         "was not changed"),
    "backup_copy_corrupt": ("加密备份 {backup} 已损坏（校验不符），无法解开：数据库未作任何改动",
                            "Encrypted backup {backup} is damaged (authentication failed): "
                            "the database was not changed"),
    "backup_copy_conflict": ("本机已有同编号但内容不同的备份 {backup}，未导入：数据库未作任何改动",
                             "A different backup with the id {backup} is already here; "
                             "nothing imported, the database was not changed"),
    "backup_key_needed": ("这份备份已加密：请输入备份口令或恢复单上的密钥",
                          "This backup is encrypted: give the backup passphrase or the "
                          "recovery sheet's key"),
    "backup_key_missing": ("还没有设置备份密钥（备份口令）：请店主在“数据备份”里设置",
                           "No backup key is set up yet: the owner sets one in Backups"),
    "backup_key_exists": ("备份密钥已经设置过；如需更换口令请用“更改口令”",
                          "A backup key is set up already; use \"change passphrase\""),
    "backup_passphrase_short": ("备份口令至少 {min} 个字符", "The backup passphrase needs at "
                                                           "least {min} characters"),
    # checkout
    "product_not_found": ("商品不存在或已下架（#{product_id}）",
                          "Product #{product_id} does not exist or is inactive"),
    "open_price_not_allowed": ("{name} 不能改价", "{name} is not an open-price item"),
    "open_price_required": ("请输入 {name} 的价格", "Enter the price of {name}"),
    "count_card_needs_member": ("使用或购买次卡需要先选择会员",
                                "Select the member first to use or buy a count card"),
    "count_card_wrong_service": ("次卡“{name}”只能用于{service}",
                                 "Count card '{name}' is only for {service}"),
    "coupon_needs_member": ("使用优惠券需要先选择会员", "Select the member first to use a coupon"),
    "payment_needs_member": ("储值和积分支付需要先选择会员",
                             "Select the member first to pay by stored value or points"),
    "points_amount_mismatch": ("{points} 积分只能抵 {value}",
                               "{points} points are worth {value}"),
    "payment_mismatch": ("付款合计 {paid} 与应付金额 {total} 不一致",
                         "Payments {paid} do not match the total {total}"),
    "rounding_not_allowed": ("本店的抹零规则是“{unit_zh}”，不能这样抹零",
                             "This shop's rounding rule is “{unit_en}”: not allowed"),
    "sale_exists": ("这笔交易已经提交过了", "This sale was already submitted"),
    "offline_not_allowed": ("离线销售只能用现金、银行卡、微信或支付宝收款，不能使用{what}",
                            "An offline sale takes cash, card, WeChat or Alipay only, "
                            "not {what}"),
    "sale_not_found": ("找不到单号 {ref}", "No sale {ref}"),
    "refund_exists": ("这笔退款已经提交过了", "This refund was already submitted"),
    "nothing_to_refund": ("单据 {number} 已全部退款", "Sale {number} is already fully refunded"),
    "refund_qty_exceeds": ("{name} 最多还能退 {left} 件",
                           "At most {left} of {name} can be refunded"),
    "count_card_sale_refund": ("次卡“{name}”只能整行退",
                               "A sold count card ({name}) is refunded as a whole line"),
    "count_card_in_use": ("次卡“{name}”已使用 {used} 次，不能退",
                          "Count card '{name}' was already used {used} times"),
    "refund_mismatch": ("退款金额计算不一致，请联系管理员", "Refund amounts do not add up"),
    "approval_invalid": ("授权无效或已过期，请店长重新授权",
                         "The approval is invalid or expired; ask the manager again"),
    "refund_needs_approval": ("收银员退款需要店长授权",
                              "A cashier's refund needs a manager's approval"),
    "approver_not_manager": ("只有店长或店主可以授权", "Only a manager or owner can approve"),
    "held_order_gone": ("挂单不存在或已被其他收银台取走",
                        "The held order is gone (resumed at another counter?)"),
    "held_order_too_new": ("这张挂单来自更新版本的系统，请先升级",
                           "This held order comes from a newer version; upgrade first"),
    "counter_required": ("请先设置收银台名称", "Set the counter name first"),
    "shift_already_open": ("收银台 {counter} 已有未交班的班次",
                           "Counter {counter} already has an open shift"),
    "shift_closed": ("该班次已交班", "The shift is already closed"),
    "no_open_shift": ("本收银台没有进行中的班次", "No open shift at this counter"),
    "shift_not_open": ("本收银台还没有开班，请先开班（收银操作 → 开班）",
                       "This counter has no open shift: open one first (Operations → Open shift)"),
    # attendance (考勤)
    "clock_secret_wrong": ("用户名、密码或 PIN 不对（还可尝试 {left} 次）；"
                           "请本人输入自己的密码或 PIN",
                           "Wrong username, password or PIN ({left} attempts left); the staff "
                           "member types their own"),
    "already_clocked_in": ("已经上班打卡了（{since} 起），不用再打",
                           "Already clocked in (since {since})"),
    "not_clocked_in": ("还没有上班打卡，请先打上班卡；漏打的请店长补录",
                       "Not clocked in: clock in first (a manager adds a missed punch)"),
    "on_break": ("正在休息中，请先结束休息", "On a break: end the break first"),
    "already_on_break": ("已经在休息了", "Already on a break"),
    "not_on_break": ("现在没有在休息", "Not on a break"),
    "correct_own_attendance": ("不能修改自己的考勤，请店主修改",
                               "You cannot correct your own attendance; the owner does"),
    "punch_already_corrected": ("这条打卡已经修改过了，请刷新后修改新的记录",
                                "This punch was already corrected; refresh and change the new one"),
    "punch_in_future": ("打卡时间不能晚于现在", "A punch cannot be in the future"),
    "punch_outside_day": ("时间不在 {date} 这个营业日内（上班须在当天，下班最晚到次日）",
                          "The time is not within the business day {date}"),
    "attendance_sequence_invalid": ("这样修改后打卡顺序不对（{time} 的“{action}”）："
                                    "应为 上班 → 开始/结束休息 → 下班",
                                    "The punches would be out of order ({action} at {time}): "
                                    "in → break start / end → out"),
    # appointments (预约)
    "booking_conflict": ("{staff} 在 {start}–{end} 已有预约（{customer}），请换个时间或换人",
                         "{staff} already has a booking {start}–{end} ({customer}); pick another "
                         "time or person"),
    "booking_no_staff_free": ("{start}–{end} 没有能做这项服务的空闲员工，请换个时间",
                              "No staff member who does this service is free {start}–{end}"),
    "booking_day_off": ("{staff} {date} 不上班，请换一天或换人",
                        "{staff} does not work on {date}; pick another day or person"),
    "booking_outside_hours": ("{staff} {date} 的工作时间是 {hours}，{start}–{end} 不在其中",
                              "{staff} works {hours} on {date}; {start}–{end} is outside"),
    "staff_not_bookable": ("{name} 不接受预约（店长可在后台员工资料中设为可预约）",
                           "{name} takes no bookings (a manager can make them bookable)"),
    "staff_cannot_serve": ("{staff} 不做“{service}”，请换人或选“任意”",
                           "{staff} does not do '{service}'; pick someone else or anyone"),
    "service_not_bookable": ("“{name}”不能预约（要先在商品资料中填写服务时长）",
                             "'{name}' cannot be booked (give the service a duration first)"),
    "class_alone": ("团课“{name}”要单独预约，不能和其他服务一起",
                    "The class '{name}' is booked on its own"),
    "class_wrong_time": ("团课“{name}”每天 {time} 开课，请预约这个时间",
                         "The class '{name}' starts at {time} every day; book that time"),
    "class_full": ("团课“{name}” {date} {time} 已约满（{capacity} 人）",
                   "The class '{name}' on {date} at {time} is full ({capacity} places)"),
    "booking_in_past": ("不能预约已经过去的时间（{start}）", "{start} is already past"),
    "booking_crosses_day": ("预约要在当天结束（{start} 起 {minutes} 分钟）",
                            "A booking must end on its day ({minutes} minutes from {start})"),
    "booking_not_open": ("这个预约{state}，不能再{action}",
                         "This booking is {state}; it cannot be {action}"),
    "booking_not_today": ("这是 {date} 的预约，只能在当天到店签到",
                          "This booking is for {date}; check in on that day"),
    "no_show_too_early": ("预约 {start} 还没开始，不能记爽约",
                          "The booking at {start} has not started; it cannot be a no-show yet"),
    # activities (活动) and promotions (促销)
    "activity_full": ("“{title}”已报满（{capacity} 人），不能再报名",
                      "“{title}” is full ({capacity} places)"),
    "activity_cancelled": ("“{title}”已取消，不能报名", "“{title}” was cancelled"),
    "activity_ended": ("“{title}”已结束，不能报名", "“{title}” has ended"),
    "already_signed_up": ("{member}已经报名了“{title}”",
                          "{member} is already signed up for “{title}”"),
    "activity_needs_payment": ("“{title}”收费 {price}，请加入购物车结账报名",
                               "“{title}” costs {price}: add it to the cart and check out"),
    "activity_needs_member": ("活动报名需要先选择会员", "Select a member to sign up"),
    "activity_one_seat": ("每位会员每个活动只能报名一个名额", "One place per member and activity"),
    "activity_capacity_below_taken": ("已有 {taken} 人报名，名额不能少于 {taken}",
                                      "{taken} places are taken: the capacity cannot be lower"),
    "signup_not_active": ("该报名已取消", "This sign-up was cancelled"),
    "already_checked_in": ("{member}已经签到了", "{member} has already checked in"),
    "signup_paid_refund": ("这是付费报名，请在“退款”中退掉销售单 {number} 的这一行，报名随之取消",
                           "A paid sign-up: refund its line on sale {number}, which cancels it"),
    "signup_checked_in": ("已签到的报名不能取消", "A checked-in sign-up cannot be cancelled"),
    "invalid_promotion": ("促销设置有误：{reason}", "The promotion is not valid: {reason}"),
}

FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("必填", "Required"),
    "null_not_allowed": ("不能为空（不修改请不要提交这一项）",
                         "Cannot be empty (leave the field out to keep it unchanged)"),
    "control_characters": ("含有不允许的隐藏字符（控制符或文字方向符），请重新输入",
                           "Contains hidden characters (control or text-direction marks) that "
                           "are not allowed; please type it again"),
    "multiline_not_allowed": ("不能换行", "Must be a single line"),
    "extra_forbidden": ("不允许的字段", "Unknown field"),
    "string_too_short": ("至少 {min_length} 个字符", "At least {min_length} characters"),
    "string_too_long": ("最多 {max_length} 个字符", "At most {max_length} characters"),
    "string_type": ("应为文字", "Must be text"),
    "int_type": ("应为整数", "Must be a whole number"),
    "int_parsing": ("应为整数", "Must be a whole number"),
    "int_from_float": ("应为整数（金额以分为单位）", "Must be a whole number (money is in fen)"),
    "bool_type": ("应为是/否", "Must be true or false"),
    "bool_parsing": ("应为是/否", "Must be true or false"),
    "greater_than": ("应大于 {gt}", "Must be greater than {gt}"),
    "greater_than_equal": ("不能小于 {ge}", "Must be at least {ge}"),
    "less_than": ("应小于 {lt}", "Must be less than {lt}"),
    "less_than_equal": ("不能大于 {le}", "Must be at most {le}"),
    "literal_error": ("应为 {expected} 之一", "Must be one of {expected}"),
    "enum": ("应为 {expected} 之一", "Must be one of {expected}"),
    "string_pattern_mismatch": ("格式不正确", "Wrong format"),
    "date_from_datetime_parsing": ("日期格式应为 YYYY-MM-DD", "Date must be YYYY-MM-DD"),
    "date_parsing": ("日期格式应为 YYYY-MM-DD", "Date must be YYYY-MM-DD"),
    "date_type": ("日期格式应为 YYYY-MM-DD", "Date must be YYYY-MM-DD"),
    "datetime_parsing": ("时间格式不正确", "Not a valid date and time"),
    "list_type": ("应为列表", "Must be a list"),
    "dict_type": ("应为对象", "Must be an object"),
    "model_type": ("应为对象", "Must be an object"),
    "too_short": ("至少 {min_length} 项", "At least {min_length} items"),
    "too_long": ("最多 {max_length} 项", "At most {max_length} items"),
    "uuid_parsing": ("应为 UUID", "Must be a UUID"),
    "uuid_type": ("应为 UUID", "Must be a UUID"),
}


def pick_lang(accept_language: str | None) -> str:
    """'en-US,en;q=0.9' → 'en'; anything else (or nothing) → 'zh'."""
    if accept_language and accept_language.strip().lower().startswith("en"):
        return EN
    return ZH


def _fmt(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def message_for(code: str, lang: str = ZH, /, **params: Any) -> str:
    pair = MESSAGES.get(code)
    if pair is None:
        return code
    return _fmt(pair[1] if lang == EN else pair[0], params)


def field_message(err_type: str, ctx: dict[str, Any] | None, fallback: str, lang: str = ZH) -> str:
    pair = FIELD_MESSAGES.get(err_type)
    if pair is None:
        return fallback
    return _fmt(pair[1] if lang == EN else pair[0], dict(ctx or {}))


class ApiError(Exception):
    """The one error type: a code, an HTTP status, a cashier-readable message, field errors."""

    def __init__(
        self,
        code: str,
        /,
        status: int = 400,
        message: str | None = None,
        fields: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        self.code = code
        self.status = status
        self.explicit_message = message
        self.fields = fields or {}
        self.params = params
        super().__init__(message or message_for(code, ZH, **params))

    def message(self, lang: str = ZH) -> str:
        if self.explicit_message:
            return self.explicit_message
        return message_for(self.code, lang, **self.params)

    def envelope(self, lang: str = ZH) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message(lang)}
        if self.fields:
            err["fields"] = self.fields
        # plain data only (a refused promotion sends its list of checks)
        extra = {k: v for k, v in self.params.items()
                 if isinstance(v, str | int | bool | list | dict)
                 and k not in ("code", "message", "fields")}
        if extra:
            err["details"] = extra
        return {"error": err}

    @classmethod
    def from_envelope(cls, status: int, payload: Any) -> ApiError:
        """Rebuild the error a server sent (used by the client)."""
        err = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(err, dict):
            return cls("internal_error", status=status, message=f"HTTP {status}")
        return cls(
            str(err.get("code", "error")),
            status=status,
            message=str(err.get("message") or err.get("code")),
            fields=err.get("fields") or {},
            **(err.get("details") or {}),
        )
