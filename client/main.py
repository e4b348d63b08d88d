"""``lanpos-client``: the PyQt6 counter application (entry point)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lanpos-client",
                                description="lanpos counter client (收银台客户端)")
    p.add_argument("--server", action="append", default=None,
                   help="server address, e.g. http://192.168.1.10:8600 (repeat for the standby)")
    p.add_argument("--counter", default=None, help="counter name, e.g. 01")
    p.add_argument("--lang", choices=["zh", "en"], default=None, help="interface language")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from client.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
