"""The one string catalogue (client/strings/): every key the client uses exists in both
languages, the Chinese text has no English word in it, placeholders agree; every code the
server writes into the audit log has a label; and a walk over the real screens (the owner's,
who sees them all; Chinese) finds no English word on a label, button, group box, tab or
table header."""

from __future__ import annotations

import ast
import importlib
import re
import string
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from client import labels
from client.i18n import STRINGS
from client.strings import CATALOGUE
from common.schemas import activities as sact
from common.schemas.base import Role
from common.schemas.sales import PAYMENT_LABELS_ZH, PaymentMethod

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "client"

#: Latin words allowed in the Chinese interface, and why: product and protocol names, key
#: names printed on the keyboard, and abbreviations a Chinese shop uses as they are.
ALLOWED = frozenset({
    "lanpos",                                   # the product's name
    "PIN", "SKU", "ID", "UUID", "QR",           # as used in Chinese POS software
    *(f"F{n}" for n in range(1, 13)), "Ctrl", "Esc", "Enter", "Tab", "Alt", "Shift",  # keys
    "Del", "Delete", "Backspace", "PgUp", "PgDn",
    "TLS", "IP", "URL", "HTTP", "HTTPS", "CA", "GTID", "SHA",  # network, replication
    "MariaDB",                                  # the database's name, shown in diagnostics
    "USB", "COM", "ESC", "POS",                 # printer ports and the ESC/POS protocol
    "MB", "KB", "GB", "mm", "CSV", "Excel", "PDF", "PNG", "JPG",  # units and file formats
    "TCP", "GBK", "GB18030", "UTF",             # printer connection and code pages
    "U", "NAS",                                 # U 盘, a network disk
    "Windows", "Linux",                         # the counter's operating system
})
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: Not words but things typed or shown as they are: placeholders ``{name}``, menu
#: accelerators ``(&C)`` and key chords ``Ctrl+Z``, file patterns ``*.csv`` / ``.xlsx``,
#: addresses and device paths (``http://…``, ``/dev/ttyUSB0``, ``COM3``), and a command line
#: of our own programs (``lanpos-server standby init …``, an option ``--server``) to type,
#: and a certificate fingerprint (32 hexadecimal pairs: ``2A DB 25 …`` — "DB" is no word).
NOT_WORDS = re.compile(r"\{[^{}]*\}|\(&[A-Z]\)|(?:Ctrl|Alt|Shift)\+[A-Z]\b|\*?\.[a-z]{2,4}\b"
                       r"|https?://\S+|/dev/\S+|\bCOM\d+|lanpos-\w+[^\n]*|--[a-z][\w-]*"
                       r"|(?<![\w])/[\w.\-]+(?:/[\w.\-]+)+"  # … and a directory
                       r"|\b[0-9A-F]{2}(?:[ :\n][0-9A-F]{2}){31}\b")


def english_words(text: str) -> list[str]:
    """Latin words in ``text`` that are not allowed (see :data:`ALLOWED`, :data:`NOT_WORDS`)."""
    return [w for w in WORD.findall(NOT_WORDS.sub(" ", text))
            if w not in ALLOWED and not re.fullmatch(r"[A-Za-z]?\d+[A-Za-z]?", w)]


def fields(text: str) -> set[str]:
    return {f for _l, f, _s, _c in string.Formatter().parse(text) if f is not None}


# --- the catalogue -------------------------------------------------------------------------
#: Keys whose two languages say it differently on purpose; the caller passes both fields.
OWN_PLACEHOLDERS = {
    "bo.zhe": "Chinese counts 折 (8.5折), English the percent paid (85% of price)",
}


def test_every_entry_has_both_languages_and_the_same_placeholders() -> None:
    bad = []
    for key, pair in CATALOGUE.items():
        if not (isinstance(pair, tuple) and len(pair) == 2
                and all(isinstance(t, str) and t.strip() for t in pair)):
            bad.append(f"{key}: needs non-empty zh and en")
            continue
        zh, en = pair
        try:
            if fields(zh) != fields(en) and key not in OWN_PLACEHOLDERS:
                bad.append(f"{key}: placeholders {sorted(fields(zh))} ≠ {sorted(fields(en))}")
        except ValueError as e:
            bad.append(f"{key}: {e}")
    assert bad == []
    assert STRINGS is CATALOGUE


def test_no_english_word_in_the_chinese_texts() -> None:
    bad = {key: english_words(zh) for key, (zh, _en) in CATALOGUE.items() if english_words(zh)}
    assert bad == {}


def test_the_allow_list_itself() -> None:
    assert english_words("F7 重打，Esc 返回，PIN 码，{name} 会员") == []
    assert english_words("保存 Save") == ["Save"]
    assert english_words("recharge_cash ¥500") == ["recharge_cash"]


# --- every key the code uses ---------------------------------------------------------------
#: Keys built at run time (``tr(f"prefix.{x}")``) whose values the test cannot read from a
#: literal loop or a module constant: (prefix, suffix) → the values, and where they come from.
MANUAL: dict[tuple[str, str], typing.Iterable[str]] = {
    ("role.", ""): [r.value for r in Role],
    ("server.", ""): ("primary", "standby"),                           # setup_dialog
    ("status.server.", ""): ("primary", "standby", "stale"),           # server_watch
    ("status.server.", ".tip"): ("primary", "standby", "stale"),
    ("pay.method.", ""): typing.get_args(PaymentMethod),
    ("checkout.col.", ""): (),   # CartModel.COLUMNS, resolved below
    ("payment.problem.", ""): (),  # common.payment problem codes, resolved below
    ("payment.rounding.", ""): ("none", "jiao", "yuan"),               # Rounding
    ("jobs.state.", ""): ("pending", "printed", "failed"),             # PrintJob.state
    ("offline.state.", ""): ("pending", "sent", "refused"),            # journal states
    ("prod.kind.", ""): ("product", "service"),
    ("standby.role.", ""): (),   # resolved from its function, below
    ("failover.step.", ""): ("check", "confirm", "result"),
    ("cpn.kind.", ""): ("amount", "percent"),
    ("cpn.status.", ""): ("issued", "redeemed", "voided"),
    ("numpad.", ""): ("back", "clear", "enter"),
    ("approval.why.", ""): ("discount", "refund", "open_price"),      # ApprovalIn.purpose
    ("cards.status.", ""): ("active", "lost", "frozen", "replaced"),
    ("cards.done.", ""): ("lost", "reissue", "freeze", "unfreeze"),
    ("key.", ""): (),            # CheckoutScreen.KEYS, resolved below
    ("backup.job.", ""): ("backup", "verify", "restore", "restore_to"),
    ("backup.reason.", ""): ("scheduled-daily", "scheduled-interval", "pre-restore",
                             "pre-migration", "manual"),
    ("rout.col.", ""): (),       # the report catalogue's columns, resolved below
    ("rout.label.", ""): (),     # … the first column of each sales grouping
    ("rout.r.", ""): (),         # … the reports' titles
    ("rout.r.sales_", ""): (),   # … the sales groupings' table titles
    ("rout.void.", ""): ("coupon", "count_card"),               # VoidExceptionOut.kind
    ("rep.kind.", ""): ("new", "dormant", "birthdays_month", "birthdays_week",  # LIST_KINDS
                        "low_balance", "card_low", "card_expiring"),
    ("rep.period.", ""): ("range", "day", "month"),                  # ReportSpec.period
    ("att.action.", ""): ("in", "break_start", "break_end", "out"),   # ClockAction
    ("att.state.", ""): ("off", "working", "break"),                  # AttendanceState
    ("att.fix.", ""): ("add", "change", "remove"),                    # CorrectionAction
    ("appt.status.", ""): ("booked", "checked_in", "cancelled", "no_show"),  # appointments
    ("act.kind.", ""): typing.get_args(sact.ActivityKind),
    ("act.astatus.", ""): typing.get_args(sact.ActivityStatus),
    ("act.status.", ""): typing.get_args(sact.SignupStatus),
    ("act.counter.done.", ""): typing.get_args(sact.SignupStatus),    # _done(…, what)
    ("promo.kind.", ""): typing.get_args(sact.PromotionKind),
    ("promo.state.", ""): ("upcoming", "running", "ended", "stopped"),  # PromotionOut.state
}


def _resolved_manual() -> dict[tuple[str, str], list[str]]:
    from client.counter.checkout import CartModel, CheckoutScreen
    from client.reports import catalogue
    from common import payment

    out = {k: list(v) for k, v in MANUAL.items()}
    out[("checkout.col.", "")] = list(CartModel.COLUMNS)
    out[("key.", "")] = [name for name, _key in CheckoutScreen.KEYS]
    out[("rout.col.", "")] = catalogue.column_keys()
    out[("rout.label.", "")] = list(catalogue.SALES_GROUPS)
    out[("rout.r.", "")] = [r.key for r in catalogue.REPORTS]
    out[("rout.r.sales_", "")] = list(catalogue.SALES_GROUPS)
    out[("payment.problem.", "")] = [v for k, v in vars(payment).items()
                                     if k.isupper() and isinstance(v, str)
                                     and f"payment.problem.{v}" in CATALOGUE]
    out[("standby.role.", "")] = [k[len("standby.role."):] for k in CATALOGUE
                                  if k.startswith("standby.role.")]
    return out


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _constants(node: ast.AST, path: Path) -> list[str] | None:
    """A tuple/list of string constants, or a module constant holding one."""
    if isinstance(node, (ast.Tuple, ast.List)):
        vals = []
        for e in node.elts:
            if isinstance(e, ast.Constant) and isinstance(e.value, str):
                vals.append(e.value)
            elif isinstance(e, ast.Tuple) and e.elts and isinstance(e.elts[0], ast.Constant):
                vals.append(str(e.elts[0].value))  # (name, …) rows
            elif isinstance(e, ast.Constant):
                vals.append("" if e.value is None else str(e.value))
            else:
                return None
        return vals
    if isinstance(node, ast.Name):
        value = getattr(importlib.import_module(_module_of(path)), node.id, None)
        if isinstance(value, (tuple, list, frozenset, set, dict)):
            return [str(v[0] if isinstance(v, tuple) else v) for v in value]
    return None


def _loop_values(name: str, at: ast.AST, parents: dict, path: Path) -> list[str] | None:
    """``for name in (...)`` around ``at``, or the constant first arguments of the calls of
    the function ``name`` is a parameter of."""
    node = at
    while node in parents:
        node = parents[node]
        loops = [node] if isinstance(node, ast.For) else list(node.generators) if isinstance(
            node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)) else []
        for loop in loops:
            target = loop.target
            names = [target] if isinstance(target, ast.Name) else (
                target.elts if isinstance(target, ast.Tuple) else [])
            for i, t in enumerate(names):
                if isinstance(t, ast.Name) and t.id == name:
                    vals = _constants(loop.iter, path)
                    if vals is not None and isinstance(target, ast.Tuple) and i:
                        return None
                    return vals
        if isinstance(node, (ast.FunctionDef, ast.Lambda)) and name in [
                a.arg for a in node.args.args]:
            if not isinstance(node, ast.FunctionDef):
                return None
            tree = node
            while tree in parents:
                tree = parents[tree]
            calls = [c for c in ast.walk(tree) if isinstance(c, ast.Call)
                     and isinstance(c.func, ast.Name) and c.func.id == node.name and c.args]
            vals = [c.args[0].value for c in calls if isinstance(c.args[0], ast.Constant)]
            return vals or None
    return None


def used_keys() -> tuple[set[str], list[str]]:
    """(keys, problems): every key of ``tr(...)`` and of ``Column(_, key, …)`` in client/."""
    manual = _resolved_manual()
    keys: set[str] = set()
    problems: list[str] = []
    for path in sorted(CLIENT.rglob("*.py")):
        if "strings" in path.relative_to(CLIENT).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        parents = _parents(tree)
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            f = call.func
            fname = f.id if isinstance(f, ast.Name) else f.attr if isinstance(
                f, ast.Attribute) else ""
            if fname == "Column" and len(call.args) >= 2 and isinstance(
                    call.args[1], ast.Constant):
                keys.add(call.args[1].value)
                continue
            if fname != "tr" or not call.args:
                continue
            arg = call.args[0]
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                keys.add(arg.value)
                continue
            if isinstance(arg, ast.IfExp):
                for side in (arg.body, arg.orelse):
                    if isinstance(side, ast.Constant):
                        keys.add(side.value)
                continue
            if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Dict):
                keys.update(v.value for v in arg.value.values if isinstance(v, ast.Constant))
                continue
            if isinstance(arg, ast.JoinedStr) and len(arg.values) in (2, 3):
                head, expr = arg.values[0], arg.values[1]
                tail = arg.values[2] if len(arg.values) == 3 else None
                if not (isinstance(head, ast.Constant) and isinstance(expr, ast.FormattedValue)
                        and (tail is None or isinstance(tail, ast.Constant))):
                    continue
                prefix, suffix, value = head.value, tail.value if tail else "", expr.value
            elif isinstance(arg, ast.BinOp) and isinstance(arg.left, ast.Constant):
                prefix, suffix, value = arg.left.value, "", arg.right
            else:
                continue  # a key held in a variable: its literal is checked where it is
            vals = manual.get((prefix, suffix))
            if vals is None and isinstance(value, ast.Name):
                vals = _loop_values(value.id, call, parents, path)
            fallback = ""
            if vals is None and isinstance(value, ast.BoolOp):  # f"x.{g or 'none'}"
                inner, other = value.values[0], value.values[-1]
                fallback = other.value if isinstance(other, ast.Constant) else ""
                if isinstance(inner, ast.Name):
                    vals = _loop_values(inner.id, call, parents, path)
            if not vals:
                problems.append(f"{where}: tr of a key built from {prefix!r}…{suffix!r}: add "
                                f"its values to MANUAL in {Path(__file__).name}")
                continue
            keys.update(f"{prefix}{v or fallback}{suffix}" for v in vals)
    return keys, problems


def test_every_key_the_client_uses_is_in_the_catalogue() -> None:
    keys, problems = used_keys()
    assert len(keys) > 500  # the scan found the code's keys
    missing = sorted(k for k in keys if k not in CATALOGUE)
    assert {"unresolved": problems, "missing": missing} == {"unresolved": [], "missing": []}


# --- code → label ------------------------------------------------------------------------
def _server_audit_actions() -> set[str]:
    """Every action the server writes: the first string argument that looks like
    ``thing.verb`` of a call to ``write``/``write_apart``/``audit``/``_audit``."""
    actions: set[str] = set()
    chosen: dict[Path, ast.AST] = {}  # action = "a.b" if … else "c.d"; write(…, action, …)
    for path in (ROOT / "server").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.IfExp)
                    and any(isinstance(t, ast.Name) and t.id == "action"
                            for t in node.targets)):
                chosen[path] = node.value
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            f = call.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(
                f, ast.Attribute) else ""
            if name not in ("write", "write_apart", "audit", "_audit"):
                continue
            for a in call.args[:4]:
                if isinstance(a, ast.Name) and a.id == "action":
                    a = chosen.get(path, a)
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and re.fullmatch(
                        r"[a-z_]+\.[a-z_]+", a.value):
                    actions.add(a.value)
                elif isinstance(a, ast.JoinedStr) and isinstance(a.values[0], ast.Constant) \
                        and a.values[0].value == "points.":
                    actions.update({"points.redeem", "points.gift"})  # points.redeem(kind=…)
                elif isinstance(a, ast.IfExp):
                    actions.update(x.value for x in (a.body, a.orelse)
                                   if isinstance(x, ast.Constant) and isinstance(x.value, str)
                                   and re.fullmatch(r"[a-z_]+\.[a-z_]+", x.value))
    return actions


def test_every_audit_action_of_the_server_has_a_label() -> None:
    actions = _server_audit_actions()
    assert {"sale.create", "sale.refund", "drawer.open", "card.freeze",
            "database.restart"} <= actions  # the scan found the calls
    assert sorted(a for a in actions if f"label.audit.{a}" not in CATALOGUE) == []
    assert labels.audit_action("sale.create") == "销售"
    assert labels.audit_action("something.new") == "something.new"  # a newer server's code


def test_payment_labels_are_one_set() -> None:
    """The server's labels (receipts, PaymentOut.label) and the catalogue's agree."""
    for method, zh in PAYMENT_LABELS_ZH.items():
        assert labels.payment_method(method) == zh
        if f"pay.method.{method}" in CATALOGUE:
            assert CATALOGUE[f"pay.method.{method}"][0] == zh


def test_bilingual_server_texts() -> None:
    from client import i18n

    text = "还没有通过还原验证的备份 (no verified backup yet)"
    assert labels.bilingual(text) == "还没有通过还原验证的备份"
    i18n.set_language("en")
    try:
        assert labels.bilingual(text) == "no verified backup yet"
    finally:
        i18n.set_language("zh")
    assert labels.bilingual("备份目录（外接）") == "备份目录（外接）"


def test_backup_steps_in_words() -> None:
    steps: set[str] = set()
    for path in (ROOT / "server" / "backup").rglob("*.py"):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id == "progress" and len(call.args) == 2
                    and isinstance(call.args[1], ast.Constant)):
                steps.add(call.args[1].value)
    assert "scratch instance" in steps
    assert sorted(s for s in steps if f"label.step.{s}" not in CATALOGUE) == []
    assert labels.job_step("verify scratch instance") == "验证：启动临时数据库"
    assert labels.job_step("12 MB") == "12 MB"
    assert english_words(labels.job_step("verify row counts")) == []


# --- the widget walk -----------------------------------------------------------------------
def visible_texts(root) -> Iterator[tuple[str, str]]:
    """(widget, text) of every visible label, button, group box, tab and table header."""
    from client.qt import QtWidgets

    widgets = [root, *root.findChildren(QtWidgets.QWidget)]
    for w in widgets:
        if not w.isVisibleTo(root) and w is not root:
            continue
        name = f"{type(w).__name__}#{w.objectName()}"
        if isinstance(w, (QtWidgets.QLabel, QtWidgets.QAbstractButton)):
            yield name, w.text()
        elif isinstance(w, QtWidgets.QGroupBox):
            yield name, w.title()
        elif isinstance(w, QtWidgets.QTabBar):
            for i in range(w.count()):
                yield name, w.tabText(i)
        elif isinstance(w, QtWidgets.QHeaderView) and w.orientation().name == "Horizontal":
            model = w.model()
            if model is not None:
                from client.qt import Qt
                for c in range(model.columnCount()):
                    yield name, str(model.headerData(c, Qt.Orientation.Horizontal) or "")


def _english_on(root) -> list[str]:
    return sorted({f"{name}: {text!r}" for name, text in visible_texts(root)
                   if english_words(re.sub(r"<[^>]+>", " ", text))})


@pytest.fixture
def owner_window(qtbot, services, owner):
    """The main window of the owner (who sees every back-office screen), in Chinese."""
    from client.shell.main_window import MainWindow
    from client.widgets.context import SessionInfo
    from tests.conftest import TEST_PASSWORD

    res = services.api.login("boss", TEST_PASSWORD)
    win = MainWindow(services, SessionInfo(res.staff, res.counter))
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.wait_exposed(win)
    yield win
    win.counter.shutdown()


def test_no_english_word_on_the_screens(qtbot, owner_window, screenshots) -> None:
    from client.backoffice.screens import SCREENS
    from client.counter.device_settings import DeviceSettingsDialog, PrintJobsDialog
    from client.counter.held import HeldOrdersDialog
    from client.counter.refund import RefundDialog, ReprintDialog
    from client.counter.shift import ShiftOpenDialog

    from .conftest import save_shot

    win = owner_window
    found: dict[str, list[str]] = {}
    found["counter"] = _english_on(win)
    counter = win.counter
    for name, open_dialog, cls in (("refund", counter.refund, RefundDialog),
                                   ("reprint", counter.reprint, ReprintDialog),
                                   ("shift_open", counter.shift_open, ShiftOpenDialog),
                                   ("held", counter.resume, HeldOrdersDialog),
                                   ("print_jobs", counter.print_jobs, PrintJobsDialog),
                                   ("devices", counter.device_settings, DeviceSettingsDialog)):
        dialogs: list = []
        counter.dialog_opened.connect(dialogs.append)
        open_dialog()
        qtbot.wait_until(lambda dialogs=dialogs: bool(dialogs), timeout=5000)
        dlg = dialogs[-1]
        assert isinstance(dlg, cls)
        qtbot.wait(300)
        found[name] = _english_on(dlg)
        dlg.reject()
        counter.dialog_opened.disconnect(dialogs.append)
    assert win.backoffice is not None
    for spec in SCREENS:
        screen = win.backoffice.screen(spec.name)
        assert screen is not None, spec.name  # the owner sees every screen
        win.show_backoffice_screen(spec.name)
        qtbot.wait(300)  # its first page arrives
        found[f"backoffice.{spec.name}"] = _english_on(screen)
    save_shot(win, screenshots / "strings_walk_last_screen.png")
    assert {k: v for k, v in found.items() if v} == {}
