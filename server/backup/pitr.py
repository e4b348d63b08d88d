"""Point in time: restore the newest verified backup whose dump ended before the moment, then
replay the binary log from the manifest's position with ``mariadb-binlog --stop-datetime``.
The operator types shop time (``server.clock``); it is converted to UTC explicitly, and
mariadb-binlog runs with ``TZ=UTC`` (it interprets --stop-datetime in its own process time
zone)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from server.clock import ShopClock
from server.ops.mariadb import ManagedMariaDB

from .catalogue import BackupInfo
from .dumpfile import CHUNK, BackupError, DbTarget, _close_pipes, _iso, _tool, load_file, utcnow
from .restore import Replay


def parse_local_time(text_: str, clock: ShopClock) -> dt.datetime:
    """'2026-11-23 14:05' (shop local time) → aware UTC datetime."""
    s = text_.strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            naive = dt.datetime.strptime(s, fmt)
            break
        except ValueError:
            continue
    else:
        raise BackupError("pitr_failed", status=400,
                          reason=f"'{text_}' is not YYYY-MM-DD HH:MM[:SS]")
    return clock.to_utc(naive)


def pitr_moment(text_: str, clock: ShopClock) -> dt.datetime:
    """The moment of a point-in-time restore (UTC); not in the future."""
    when = parse_local_time(text_, clock)
    if when > utcnow():
        raise BackupError("pitr_failed", status=400, reason="that moment is in the future")
    return when


def binlog_files_from(mdb: ManagedMariaDB | None, first: str) -> list[Path]:
    """The managed instance's binary logs from ``first`` on (``mdb`` None: an external
    database, whose binary logs lanpos cannot read)."""
    if mdb is None:
        raise BackupError("pitr_failed", reason="point-in-time recovery needs the managed "
                                                "database's binary logs")
    index = Path(str(mdb.binlog_basename) + ".index")
    try:
        names = [Path(line.strip()).name for line in
                 index.read_text().splitlines() if line.strip()]
    except OSError as e:
        raise BackupError("pitr_failed", reason=f"binary log index: {e}") from e
    if first not in names:
        raise BackupError("pitr_failed", reason=f"binary log {first} of the backup has "
                                                "been purged; choose a later moment")
    files = [mdb.binlog_dir / n for n in names[names.index(first):]]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise BackupError("pitr_failed", reason=f"binary logs missing: {missing}")
    return files


def pick_base(backups: Sequence[BackupInfo], when_utc: dt.datetime,
              restores: Sequence[dt.datetime], force: bool = False) -> BackupInfo:
    """The newest verified backup that ended before the moment and after the last restore."""
    candidates = [b for b in backups if b.manifest.get("binlog")
                  and b.ended_at <= when_utc and (b.verified or force)
                  and b.verified is not False]
    candidates = [b for b in candidates
                  if not any(b.started_at <= r <= when_utc for r in restores)]
    if not candidates:
        raise BackupError("pitr_failed", reason="no verified backup taken before that "
                                                "moment (and after the last restore)")
    return candidates[-1]


def binlog_replay(when: dt.datetime, when_text: str, binlog: dict[str, Any],
                  files: list[Path]) -> Replay:
    """The replay step of a restore: the binary log from the backup's position up to
    ``when`` (UTC), applied to the restored database."""
    binlog_tool = _tool("mariadb-binlog", "mysqlbinlog")
    stop = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    def replay(target: DbTarget) -> dict[str, Any]:
        cmd = [binlog_tool, "--no-defaults", "--disable-log-bin",
               f"--database={target.database}", f"--start-position={binlog['position']}",
               f"--stop-datetime={stop}", *map(str, files)]
        env = {**os.environ, "TZ": "UTC"}
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
            assert proc.stdout is not None
            try:
                load_file(target, _without_gtid_seq_no(
                    iter(lambda: proc.stdout.read(CHUNK), b"")))
            finally:
                if proc.poll() is None and proc.stdout is not None:
                    proc.stdout.read()  # drain, so that it can exit
                rc = proc.wait()
                _close_pipes(proc)
            if rc != 0:
                err.seek(0)
                raise BackupError("pitr_failed", status=500,
                                  reason=err.read().decode("utf-8", "replace")[-800:])
        return {"to": _iso(when), "to_local": when_text, "stop_datetime_utc": stop,
                "binlog_files": [f.name for f in files],
                "start_position": binlog["position"]}

    return replay


_GTID_SEQ = re.compile(rb"SET @@session\.gtid_seq_no=(\d+)")


def _without_gtid_seq_no(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Replayed events must not claim their old GTID: with gtid_strict_mode the server refuses
    a sequence number below its current one, even with sql_log_bin=0. The statement becomes
    a harmless user-variable assignment (the events are applied, unlogged)."""
    carry = b""
    for chunk in chunks:
        buf = carry + chunk
        cut = buf.rfind(b"\n") + 1
        carry = buf[cut:]
        yield _GTID_SEQ.sub(rb"SET @lanpos_replayed_seq_no=\1", buf[:cut])
    if carry:
        yield _GTID_SEQ.sub(rb"SET @lanpos_replayed_seq_no=\1", carry)
