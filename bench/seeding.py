"""``python -m bench seeding [--data-dir DIR]`` — how long a new standby takes to seed.

On the full bench data (1M members, 10M sale lines; generated once into the data dir, as
``python -m bench full`` does), served by a real ``lanpos-server run``:

* ``lanpos-server standby init --seed dump`` end to end — pairing, a consistent GTID-stamped
  ``mariadb-dump`` read over TLS with the replication account, loaded into the standby's own
  managed MariaDB, replication started;
* ``lanpos-server standby init --seed physical`` — the same with ``mariadb-backup`` streamed
  over TLS (``server.replication.physical``);
* plain **mariadb-backup** on one machine, for reference: ``--backup``, ``--prepare``,
  ``--copy-back`` into a fresh datadir and a ``mariadbd`` started on it (no network).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from server.ops.mariadb import ManagedMariaDB, find_tool, pick_free_port

from .__main__ import SIZES, ensure_generated, log
from .env import ServerProcess, machine_info, open_runtime
from .generate import BENCH_PASSWORD
from .pair import cli

RESULTS = Path(__file__).resolve().parent / "results"


def _timed(cmd: list[str]) -> float:
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {(r.stderr or r.stdout)[-1500:]}")
    return time.monotonic() - t0


def mariadb_backup(rt: Any, scratch: Path) -> dict[str, float]:
    tool = find_tool("mariadb-backup", "mariabackup")
    mdb = rt.mariadb
    target = scratch / "xb"
    creds = [f"--socket={mdb.socket_path}", "--user=root", f"--password={mdb.root_password}"]
    out = {"backup_s": _timed([tool, "--backup", f"--target-dir={target}", *creds])}
    out["prepare_s"] = _timed([tool, "--prepare", f"--target-dir={target}"])
    fresh = ManagedMariaDB(scratch / "restored", pick_free_port(36500),
                           root_password=mdb.root_password, server_id=77)
    fresh.datadir.mkdir(parents=True)
    fresh.binlog_dir.mkdir(parents=True)
    out["copy_back_s"] = _timed([tool, "--copy-back", f"--target-dir={target}",
                                 f"--datadir={fresh.datadir}"])
    t0 = time.monotonic()
    fresh.start(timeout=600)
    out["start_s"] = time.monotonic() - t0
    fresh.stop()
    out["size_mb"] = sum(p.stat().st_size for p in target.rglob("*") if p.is_file()) / 1e6
    out["total_s"] = sum(v for k, v in out.items() if k.endswith("_s"))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench seeding", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir())
                   / "lanpos-bench-full")
    p.add_argument("--skip-backup-tool", action="store_true")
    p.add_argument("--methods", default="dump,physical",
                   help="standby init --seed methods to time (default dump,physical)")
    a = p.parse_args(argv)
    rt = open_runtime(a.data_dir)
    result: dict[str, Any] = {"machine": machine_info(rt)}
    scratch = Path(tempfile.mkdtemp(prefix="lanpos-seeding-", dir=a.data_dir.parent))
    server = None
    try:
        result["generate"] = ensure_generated(rt, SIZES["full"]["gen"],
                                              a.data_dir / "bench-generated.json")
        if not a.skip_backup_tool:
            log("mariadb-backup: backup, prepare, copy-back, start …")
            result["mariadb_backup"] = mariadb_backup(rt, scratch)
            log(f"  {result['mariadb_backup']}")
        rt.stop_database()
        server = ServerProcess(a.data_dir, threads=8, workers=2).start(timeout=600)
        for method in a.methods.split(","):
            s_port = pick_free_port(server.port + 1)
            log(f"standby init --seed {method} (over TLS, then replication) …")
            t0 = time.monotonic()
            r = cli("standby", "init", "--primary", server.url, "--data-dir",
                    str(scratch / f"standby-{method}"), "--port", str(s_port), "--db-port",
                    str(pick_free_port(34900)), "--username", "owner", "--password",
                    BENCH_PASSWORD, "--advertise", f"http://127.0.0.1:{s_port}",
                    "--seed", method, timeout=7200)
            total = time.monotonic() - t0
            if r.returncode != 0:
                raise RuntimeError(r.stdout + r.stderr)
            figures = {k: float(v) for k, v in re.findall(
                r"(dump|load|physical copy|install) ([\d.]+)s", r.stdout)}
            result[f"standby_init_{method}"] = {"total_s": total, **figures}
            log(f"  {result[f'standby_init_{method}']}")
            shutil.rmtree(scratch / f"standby-{method}", ignore_errors=True)
    finally:
        if server is not None:
            server.stop()
        rt.stop_database()
        shutil.rmtree(scratch, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"seeding-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps({k: v for k, v in result.items() if k.startswith(("standby_init",
                                                                          "mariadb_backup"))},
                     indent=1))
    print(f"result: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
