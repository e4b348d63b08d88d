"""``lanpos-client journal list|replay``: the offline sales journal without the GUI, for the
person on the phone with the shop.

``list``: the pending and the recent offline sales (local number, time, total, state; the
server's number of a sent one, the server's message of a refused one) and the counts.
``replay``: log in and send the pending ones now, one line per sale. The journal and the
servers are those of the client's settings file (``--config``, else ``$LANPOS_CLIENT_CONFIG``
or the default), ``--journal`` / ``--server`` override them. The password is read from
``--password-stdin`` (one line), else ``$LANPOS_PASSWORD``, else asked for.

Exit status: 0 done (for replay: nothing left pending, none refused); 1 sales still pending
(no server answered, another replay was running); 2 the journal is damaged or the login
was refused; 3 the server refused some sales (they stay in the journal, state ``refused``).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from common.errors import ApiError
from common.money import format_fen

from .. import i18n
from ..api import ApiClient
from ..settings import SettingsStore, apply_args
from . import journal_path
from .journal import Journal, JournalDamaged, JournalRecord
from .replay import ReplayOutcome, replay

EXIT_OK, EXIT_PENDING, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lanpos-client journal",
                                description="offline sales journal (离线单记录)")
    p.add_argument("--config", type=Path, default=None, help="the client's settings file")
    p.add_argument("--journal", type=Path, default=None, help="the journal file itself")
    p.add_argument("--lang", choices=["zh", "en"], default=None)
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="pending and recent offline sales")
    ls.add_argument("--limit", type=int, default=50, help="recent sales to show (default 50)")
    rp = sub.add_parser("replay", help="send the pending offline sales now")
    rp.add_argument("--server", action="append", default=None, help="server address")
    rp.add_argument("--user", default=None,
                    help="staff to log in as (default: the cashier of the first pending sale)")
    rp.add_argument("--password-stdin", action="store_true",
                    help="read the password from the first line of standard input")
    return p


def state_label(state: str) -> str:
    """待上传 / 已上传 / 被拒绝 (the state of a journaled sale, for people)."""
    key = {"pending": "offline.state.pending", "sent": "offline.state.sent",
           "refused": "offline.state.refused"}.get(state)
    return i18n.tr(key) if key else state


def _line(rec: JournalRecord) -> str:
    when = rec.recorded_at.astimezone().strftime("%Y-%m-%d %H:%M")
    text = (f"{rec.number:<16}  {when}  {format_fen(rec.total):>10}  "
            f"{state_label(rec.state)}")
    if rec.state == "sent" and rec.server_number:
        text += "  " + i18n.tr("offline.cli.server_number", number=rec.server_number)
    elif rec.error:
        text += "  " + rec.error
    return text


def cmd_list(journal: Journal, limit: int) -> int:
    pending = journal.pending()
    shown = {r.seq for r in pending}
    recent = [r for r in journal.recent(limit) if r.seq not in shown]
    rows = sorted(pending + recent, key=lambda r: r.seq)
    if not rows:
        print(i18n.tr("offline.cli.none"))
    else:
        print(i18n.tr("offline.cli.header"))
        for rec in rows:
            print(_line(rec))
    c = journal.counts()
    print(i18n.tr("offline.cli.summary", pending=c["pending"], sent=c["sent"],
                  refused=c["refused"]))
    return EXIT_OK


def _password(args: argparse.Namespace, user: str) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    env = os.environ.get("LANPOS_PASSWORD")
    if env:
        return env
    return getpass.getpass(i18n.tr("offline.cli.password", user=user))


def cmd_replay(journal: Journal, args: argparse.Namespace, servers: Sequence[str],
               counter: str, lang: str, pins: Mapping[str, str] | None = None) -> int:
    pending = journal.pending()
    if not pending:
        print(i18n.tr("offline.cli.result", sent=0, remaining=0,
                      refused=journal.counts()["refused"]))
        return EXIT_OK
    if not servers:
        print(i18n.tr("offline.cli.no_server"), file=sys.stderr)
        return EXIT_FAILED
    user = args.user or pending[0].entry.cashier
    api = ApiClient(servers, counter=pending[0].entry.counter or counter, lang=lang,
                    pins=pins)  # the certificates the counter trusts (its settings)
    try:
        try:
            api.login(user, _password(args, user))
        except ApiError as e:
            print(i18n.tr("offline.cli.login_failed", message=str(e)), file=sys.stderr)
            return EXIT_PENDING if e.status == 0 else EXIT_FAILED  # no server / refused

        def progress(o: ReplayOutcome) -> None:
            if o.state == "sent":
                print(i18n.tr("offline.cli.sent", number=o.number,
                              server_number=o.server_number), flush=True)
            elif o.state == "refused":
                print(i18n.tr("offline.cli.refused", number=o.number, message=o.message),
                      flush=True)
            else:
                print(i18n.tr("offline.cli.stopped", message=o.message), flush=True)

        result = replay(api, journal, on_progress=progress)
        if result.busy:
            print(i18n.tr("offline.replay.busy"))
        print(i18n.tr("offline.cli.result", sent=result.sent, remaining=result.remaining,
                      refused=result.refused))
        with contextlib.suppress(ApiError):
            api.logout()  # else the token expires on its own
    finally:
        api.close()
    if result.remaining:
        return EXIT_PENDING
    return EXIT_REFUSED if result.refused else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    store = SettingsStore(args.config) if args.config else SettingsStore()
    settings = apply_args(store.load(), getattr(args, "server", None), None, args.lang)
    i18n.set_language(settings.lang)
    path = args.journal or journal_path(store.path)
    try:
        journal = Journal(path)
    except JournalDamaged as e:
        print(str(e), file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.command == "list":
            return cmd_list(journal, args.limit)
        return cmd_replay(journal, args, settings.servers, settings.counter, settings.lang,
                          settings.pins)
    finally:
        journal.close()
