"""``lanpos-client``: the PyQt6 counter application (entry point)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lanpos-client",
                                description="lanpos counter client (收银台客户端); "
                                            "'lanpos-client journal list|replay': the "
                                            "offline sales journal without the GUI")
    p.add_argument("--server", action="append", default=None,
                   help="server address, e.g. http://192.168.1.10:8600 (repeat for the standby)")
    p.add_argument("--counter", default=None, help="counter name, e.g. 01")
    p.add_argument("--lang", choices=["zh", "en"], default=None, help="interface language")
    p.add_argument("--check", action="store_true",
                   help="check this installation: load Qt and every client module, show the "
                        "first window, print a report and exit (0: ok); works offscreen "
                        "(QT_QPA_PLATFORM=offscreen); reads no settings, calls no server")
    p.add_argument("--screenshot", default=None, metavar="PNG",
                   help="with --check: save the first window as a PNG")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["journal"]:  # lanpos-client journal list|replay (no GUI, no Qt)
        from client.offline.cli import main as journal_main

        return journal_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.check:
        from client.shell.selfcheck import run_check

        return run_check(args)
    from client.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
