"""The catalogue on disk: the backup folder itself (never the database, which a restore
replaces). A backup is ``<id>.sql.gz`` + ``<id>.json`` (manifest) + ``<id>.verify.json`` (the
last test restore); only complete pairs are listed."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dumpfile import (
    BackupError,
    DumpScanner,
    _iso,
    _parse_iso,
    _write_json_atomic,
    file_sha256,
    iter_sql,
)

DATA_SUFFIX = ".sql.gz"
MANIFEST_SUFFIX = ".json"
VERIFY_SUFFIX = ".verify.json"
ID_RE = re.compile(r"^lanpos-\d{8}-\d{6}Z(?:-\d{1,3})?$")
FORMAT_VERSION = 1


@dataclass
class BackupInfo:
    id: str
    path: Path
    manifest: dict[str, Any]
    verification: dict[str, Any] | None = None

    @property
    def started_at(self) -> dt.datetime:
        return _parse_iso(self.manifest["started_at"])

    @property
    def ended_at(self) -> dt.datetime:
        return _parse_iso(self.manifest["ended_at"])

    @property
    def verified(self) -> bool | None:
        """True: a test restore passed; False: it failed; None: not verified yet."""
        return None if self.verification is None else bool(self.verification.get("ok"))

    @property
    def manifest_path(self) -> Path:
        return self.path.with_name(self.id + MANIFEST_SUFFIX)

    @property
    def verify_path(self) -> Path:
        return self.path.with_name(self.id + VERIFY_SUFFIX)

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "id": self.id, "file": str(self.path), "reason": m.get("reason"),
            "started_at": m["started_at"], "ended_at": m["ended_at"],
            "size": m["size"], "sha256": m["sha256"], "tables": m["tables"],
            "total_rows": sum(m["tables"].values()), "binlog": m.get("binlog"),
            "app_version": m.get("app_version"), "schema_revision": m.get("schema_revision"),
            "verified": self.verified, "verification": self.verification,
        }


def read_backup(path: Path) -> BackupInfo:
    """A backup from its data file (``.sql.gz``) or manifest path."""
    path = Path(path)
    name = path.name
    for suffix in (VERIFY_SUFFIX, MANIFEST_SUFFIX, DATA_SUFFIX):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    data = path.with_name(name + DATA_SUFFIX)
    man = path.with_name(name + MANIFEST_SUFFIX)
    if data.is_file() and not man.is_file() and path == data:
        # just the dump file (e.g. copied by hand): rebuild the manifest from its content;
        # the gzip CRCs still catch damage, and it counts as unverified until verified
        manifest = manifest_from_file(data)
        with contextlib.suppress(OSError):
            _write_json_atomic(man, manifest)
        return BackupInfo(name, data, manifest, None)
    if not data.is_file() or not man.is_file():
        raise BackupError("backup_not_found", status=404, backup=str(path))
    try:
        manifest = json.loads(man.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BackupError("backup_corrupt", backup=name) from e
    ver = None
    vp = path.with_name(name + VERIFY_SUFFIX)
    if vp.is_file():
        with contextlib.suppress(OSError, ValueError):
            ver = json.loads(vp.read_text(encoding="utf-8"))
    return BackupInfo(manifest.get("id", name), data, manifest, ver)


def manifest_from_file(data: Path) -> dict[str, Any]:
    """A manifest for a dump file that came without one (read from the dump itself)."""
    sc = DumpScanner()
    for chunk in iter_sql(data):
        sc.feed(chunk)
    sc.finish()
    if not sc.completed:
        raise BackupError("backup_corrupt", backup=data.name)
    st = data.stat()
    at = _iso(dt.datetime.fromtimestamp(st.st_mtime, dt.UTC))
    name = data.name[: -len(DATA_SUFFIX)] if data.name.endswith(DATA_SUFFIX) else data.stem
    return {
        "format": FORMAT_VERSION, "id": name, "file": data.name, "reason": "imported",
        "started_at": at, "ended_at": at, "seconds": None, "size": st.st_size,
        "sql_bytes": sc.raw_bytes, "sha256": file_sha256(data), "compression": "gzip",
        "database": None, "tables": dict(sorted(sc.tables.items())),
        "views": sorted(sc.views),
        "binlog": ({"file": sc.binlog_file, "position": sc.binlog_pos, "gtid": sc.gtid}
                   if sc.binlog_file else None),
        "app_version": None, "schema_revision": sc.schema_revision,
        "host": None, "rebuilt_from_dump": True,
    }


def list_backups(folder: Path) -> list[BackupInfo]:
    """Complete backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    out = []
    for man in folder.glob("lanpos-*" + MANIFEST_SUFFIX):
        if man.name.endswith(VERIFY_SUFFIX):
            continue
        with contextlib.suppress(BackupError):
            out.append(read_backup(man))
    out.sort(key=lambda b: (b.manifest.get("started_at", ""), b.id))
    return out
