"""Interface strings: Simplified Chinese first, English second.

``tr(key, **params)`` looks a key up in :data:`STRINGS` for the current language and formats
it. The language is chosen once at start-up (``set_language``, from the settings or
``--lang``); windows built afterwards use it, so a change applies to windows built after it
(the app rebuilds its windows when the language is changed in the settings dialog).
Server messages arrive already translated (the client sends ``Accept-Language``).
"""

from __future__ import annotations

from typing import Any

ZH = "zh"
EN = "en"
LANGS = (ZH, EN)

STRINGS: dict[str, tuple[str, str]] = {
    # app
    "app.title": ("lanpos 收银台", "lanpos counter"),
    "common.ok": ("确定", "OK"),
    "common.cancel": ("取消", "Cancel"),
    "common.save": ("保存", "Save"),
    "common.close": ("关闭", "Close"),
    "common.refresh": ("刷新", "Refresh"),
    "common.search": ("搜索", "Search"),
    "common.loading": ("正在加载…", "Loading…"),
    "common.error_title": ("出错了", "Error"),
    "common.info_title": ("提示", "Notice"),
    "common.confirm_title": ("请确认", "Please confirm"),
    "common.yes": ("是", "Yes"),
    "common.no": ("否", "No"),
    "common.more_rows": ("向下滚动加载更多", "Scroll down for more"),
    "common.no_more_rows": ("共 {n} 条", "{n} rows"),
    "common.more_rows_n": ("已加载 {n} 条，向下滚动加载更多", "{n} loaded, scroll for more"),
    "common.not_yet": ("此功能将在后续版本开放", "This feature is coming in a later version"),
    # network errors made by the client itself
    "net.unreachable": ("无法连接服务器（{server}），请检查网络或联系店长",
                        "Cannot reach the server ({server}); check the network"),
    "net.timeout": ("服务器响应超时，请稍后重试", "The server did not answer in time; retry"),
    "net.bad_response": ("服务器返回了无法识别的内容（HTTP {http_status}）",
                         "The server sent an unreadable answer (HTTP {http_status})"),
    "net.no_server": ("尚未设置服务器地址", "No server address is set"),
    "client.internal": ("程序出错：{detail}", "Program error: {detail}"),
    # roles
    "role.owner": ("店主", "Owner"),
    "role.manager": ("店长", "Manager"),
    "role.cashier": ("收银员", "Cashier"),
    # setup
    "setup.title": ("收银台设置", "Counter setup"),
    "setup.intro": ("请填写后台服务器地址（例如 192.168.1.10:8600）。备用服务器可以不填。",
                    "Enter the back-office server address (e.g. 192.168.1.10:8600). "
                    "The standby is optional."),
    "setup.primary": ("主服务器", "Primary server"),
    "setup.standby": ("备用服务器", "Standby server"),
    "setup.counter": ("收银台名称", "Counter name"),
    "setup.language": ("界面语言", "Language"),
    "setup.test": ("测试连接", "Test connection"),
    "setup.testing": ("正在连接…", "Connecting…"),
    "setup.test_ok": ("连接成功：{shop}（{role}，版本 {version}）",
                      "Connected: {shop} ({role}, version {version})"),
    "setup.primary_required": ("请填写主服务器地址", "Enter the primary server address"),
    "setup.counter_required": ("请填写收银台名称", "Enter the counter name"),
    "setup.bad_address": ("地址格式不正确：{address}", "Not a valid address: {address}"),
    "server.primary": ("主服务器", "primary"),
    "server.standby": ("备用服务器", "standby"),
    # login
    "login.title": ("登录收银台", "Log in"),
    "login.heading": ("员工登录", "Staff login"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.busy": ("正在登录…", "Logging in…"),
    "login.counter": ("收银台：{counter}", "Counter: {counter}"),
    "login.server": ("服务器：{server}", "Server: {server}"),
    "login.settings": ("设置…", "Settings…"),
    "login.fill_in": ("请输入用户名和密码", "Enter username and password"),
    # main window
    "main.title": ("lanpos 收银台 {counter} — {name}（{role}）",
                   "lanpos counter {counter} — {name} ({role})"),
    "menu.counter": ("收银(&C)", "&Counter"),
    "menu.checkout": ("收银台", "Checkout"),
    "menu.backoffice": ("后台管理(&B)", "&Back office"),
    "menu.staff": ("员工管理", "Staff"),
    "menu.audit": ("操作日志", "Audit log"),
    "menu.shift": ("交班(&S)", "&Shift"),
    "menu.switch_staff": ("换班 / 切换收银员", "Switch staff"),
    "menu.settings": ("收银台设置…", "Counter settings…"),
    "menu.quit": ("退出", "Quit"),
    "status.staff": ("{name}（{role}）", "{name} ({role})"),
    "status.counter": ("收银台 {counter}", "Counter {counter}"),
    "status.server.primary": ("主服务器 {server}", "Primary server {server}"),
    "status.server.primary.tip": ("本收银台正在使用主服务器", "This counter uses the primary"),
    "status.server.standby": ("⚠ 备用服务器 {server}（只读，不能收银）",
                              "⚠ Standby server {server} (read-only: no sales)"),
    "status.server.standby.tip": (
        "主服务器没有响应，本收银台只能连上备用服务器：可以查询，不能收银、充值或修改数据。\n"
        "主服务器恢复后会自动切回；如主服务器已坏，请店主在 后台管理 → 双机热备 中切换。",
        "The primary does not answer; only the standby does: look-ups work, sales do not.\n"
        "The counter switches back by itself; if the primary is broken the owner promotes "
        "the standby in Back office → Standby."),
    "status.server.stale": ("⚠ 旧主服务器 {server}（已被替代，不能收银）",
                            "⚠ Old primary {server} (replaced: no sales)"),
    "status.server.stale.tip": (
        "这台服务器已被备用服务器替代。收银台正在寻找新的主服务器；如长时间停在这里，"
        "请检查网络或收银台设置中的服务器地址。",
        "This server was replaced by the standby. The counter is looking for the new primary; "
        "if it stays here, check the network and the server addresses in the settings."),
    "status.moved": ("已切换到主服务器 {server}", "Now using the primary server {server}"),
    "switch.confirm_cart": ("购物车中还有 {n} 件商品，换班会清空购物车。确定换班吗？",
                            "The cart still has {n} items and will be cleared. Switch staff?"),
    # checkout
    "checkout.scan": ("扫码 / 输入条码后按回车", "Scan or type a barcode, then Enter"),
    "checkout.scan_label": ("条码", "Barcode"),
    "checkout.col.name": ("品名", "Item"),
    "checkout.col.qty": ("数量", "Qty"),
    "checkout.col.price": ("单价", "Price"),
    "checkout.col.discount": ("优惠", "Discount"),
    "checkout.col.amount": ("金额", "Amount"),
    "checkout.member": ("会员", "Member"),
    "checkout.no_member": ("未选择会员（F2 查找会员）", "No member (F2 to find one)"),
    "checkout.totals": ("合计", "Totals"),
    "checkout.items": ("件数", "Items"),
    "checkout.list_total": ("原价", "List price"),
    "checkout.discount": ("优惠", "Discount"),
    "checkout.total": ("应收", "To pay"),
    "checkout.keys": ("功能键", "Function keys"),
    "checkout.looking_up": ("正在查找 {code}…", "Looking up {code}…"),
    "checkout.added": ("已加入：{name}", "Added: {name}"),
    "checkout.remove_line": ("删除所选行 (Del)", "Remove line (Del)"),
    "checkout.qty_plus": ("数量 +1 (+)", "Qty +1 (+)"),
    "checkout.qty_minus": ("数量 −1 (−)", "Qty −1 (−)"),
    "checkout.clear": ("清空", "Clear"),
    "key.member": ("会员", "Member"),
    "key.hold": ("挂单", "Hold"),
    "key.resume": ("取单", "Resume"),
    "key.pay": ("结账", "Pay"),
    "key.back": ("返回", "Back"),
    # back office
    "bo.title": ("后台管理", "Back office"),
    "staff.search": ("搜索用户名 / 姓名", "Search username / name"),
    "staff.include_inactive": ("显示已停用", "Show inactive"),
    "staff.new": ("新建员工", "New staff"),
    "staff.edit": ("编辑", "Edit"),
    "staff.unlock": ("解锁", "Unlock"),
    "staff.col.username": ("用户名", "Username"),
    "staff.col.name": ("姓名", "Name"),
    "staff.col.role": ("角色", "Role"),
    "staff.col.phone": ("手机", "Phone"),
    "staff.col.status": ("状态", "Status"),
    "staff.col.created": ("创建时间", "Created"),
    "staff.active": ("正常", "Active"),
    "staff.inactive": ("已停用", "Inactive"),
    "staff.locked": ("已锁定至 {until}", "Locked until {until}"),
    "staff.dialog_new": ("新建员工", "New staff account"),
    "staff.dialog_edit": ("编辑员工：{username}", "Edit staff: {username}"),
    "staff.password": ("密码", "Password"),
    "staff.password_keep": ("留空则不修改", "Leave empty to keep"),
    "staff.is_active": ("启用", "Active"),
    "staff.select_first": ("请先选择一名员工", "Select a staff member first"),
    "staff.unlocked": ("已解锁：{username}", "Unlocked: {username}"),
    "staff.saved": ("已保存", "Saved"),
    "audit.action": ("操作", "Action"),
    "audit.entity": ("对象", "Entity"),
    "audit.entity_id": ("对象编号", "Entity id"),
    "audit.filter": ("筛选", "Filter"),
    "audit.col.at": ("时间", "Time"),
    "audit.col.staff": ("员工", "Staff"),
    "audit.col.counter": ("收银台", "Counter"),
    "audit.col.reason": ("原因", "Reason"),
    "audit.col.ip": ("IP", "IP"),
    "audit.details": ("变更内容", "Changes"),
    "audit.before": ("修改前", "Before"),
    "audit.after": ("修改后", "After"),
    # field names in server validation messages
    "field.username": ("用户名", "Username"),
    "field.display_name": ("姓名", "Name"),
    "field.password": ("密码", "Password"),
    "field.phone": ("手机", "Phone"),
    "field.role": ("角色", "Role"),
    "field.name": ("名称", "Name"),
    "field.price": ("价格", "Price"),
    "field.barcodes": ("条码", "Barcodes"),
    "field.counter": ("收银台", "Counter"),
}

# The counter's checkout flows and the standby screens keep their strings in their own
# modules (fewer edit clashes).
from .i18n_counter import COUNTER_STRINGS  # noqa: E402
from .i18n_standby import STANDBY_STRINGS  # noqa: E402

STRINGS.update(COUNTER_STRINGS)
STRINGS.update(STANDBY_STRINGS)

_current = ZH


def set_language(lang: str) -> None:
    """Choose the interface language (``'zh'`` or ``'en'``; anything else means Chinese)."""
    global _current
    _current = EN if lang == EN else ZH


def language() -> str:
    return _current


def tr(key: str, **params: Any) -> str:
    """The string for ``key`` in the current language, formatted with ``params``."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if _current == EN else pair[0]
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def field_label(field: str) -> str:
    """'display_name' → '姓名' (unknown fields as they are)."""
    key = f"field.{field.split('.')[0]}"
    return tr(key) if key in STRINGS else field


def role_label(role: str) -> str:
    return tr(f"role.{role}")
