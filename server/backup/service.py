"""BackupService: backup, verify, restore and point-in-time recovery for one lanpos data
directory — the façade the CLI, the API and the scheduler use, composing the modules of this
package (see ``server/backup/__init__.py``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from common import __version__
from server.clock import ShopClock, shop_clock
from server.config import BackupSection, Config
from server.domain import audit as audit_log
from server.ops.mariadb import ManagedMariaDB
from server.runtime import Runtime
from server.state import SharedState

from . import crypt, pitr
from . import restore as live_restore
from . import verify as test_restore
from .catalogue import (
    DATA_SUFFIX,
    FORMAT_VERSION,
    ID_RE,
    MANIFEST_SUFFIX,
    VERIFY_SUFFIX,
    BackupInfo,
    list_backups,
    read_backup,
)
from .dumpfile import (
    DUMP_FLAGS,
    PARTIAL_SUFFIX,
    BackupError,
    DbTarget,
    Progress,
    _disk_error,
    _fsync_dir,
    _iso,
    _noop,
    _write_json_atomic,
    dump_to_file,
    utcnow,
)
from .retention import RetentionItem, RetentionPolicy, plan_retention
from .schedule import validate_settings
from .verify import VerifyResult

log = logging.getLogger(__name__)

MIN_FREE_BYTES = 16 * 1024 * 1024
LAST_ERROR_KEY = "backup.last_error"
NO_KEY_ERROR = ("未设置备份密钥，未复制：不会把未加密的备份写到 U 盘/NAS "
                "(no backup key set up: copies are never written unencrypted)")
RESTORE_REASON = "正在还原备份 restoring a backup"


class BackupService:
    """Backup, verify, restore and point-in-time recovery for one lanpos data directory.

    ``runtime`` is a :class:`server.runtime.Runtime` (its managed MariaDB, engine, config);
    ``shared`` the data directory's shared state (maintenance during a restore, the last
    error), by default opened from the data directory. ``serving``: a live API answers on this
    data directory, so a restore first lets in-flight requests finish (``drain_seconds``).
    """

    def __init__(self, runtime: Runtime, shared: SharedState | None = None, *,
                 serving: bool = False) -> None:
        self.runtime = runtime
        self.shared = shared if shared is not None else SharedState.for_data_dir(
            runtime.config.data_dir)
        self.serving = serving
        self._work_lock = threading.RLock()
        self.drain_seconds = 1.0
        self.min_free_bytes = MIN_FREE_BYTES  # refuse to start a backup with less free space

    @property
    def last_error(self) -> str | None:
        """The last failed backup job or scheduled backup (a health warning until one works);
        in the shared state, so that every worker's /health shows it."""
        return self.shared.value(LAST_ERROR_KEY)

    @last_error.setter
    def last_error(self, message: str | None) -> None:
        self.shared.put_value(LAST_ERROR_KEY, message)

    # -- configuration ---------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self.runtime.config

    @property
    def settings(self) -> BackupSection:
        return self.config.backup

    @property
    def folder(self) -> Path:
        return self.config.backup_dir

    @property
    def clock(self) -> ShopClock:
        """The shop's clock (``[shop] timezone``): schedule, retention days, ``restore --to``."""
        return shop_clock(self.config)

    @property
    def tz(self) -> dt.tzinfo:
        return self.clock.tz

    def target(self) -> DbTarget:
        cfg = self.config
        if cfg.managed:
            mdb = self.runtime.mariadb or self.runtime.managed_instance()
            return DbTarget.managed(mdb, cfg.database.name)
        return DbTarget.from_url(cfg.database.url)

    # -- listing ---------------------------------------------------------------------------
    def list(self) -> list[BackupInfo]:
        return list_backups(self.folder)

    @property
    def key(self) -> crypt.BackupKey:
        """The owner's key for the copies in the destinations (``server.backup.crypt``)."""
        return crypt.BackupKey(self.config.data_dir)

    def get(self, ref: str | Path, unlock: crypt.Unlock | None = None) -> BackupInfo:
        """A backup by id (in the backup folder) or by a file path (anywhere). An encrypted
        copy (``….sql.gz.age``, e.g. on a USB disk) needs ``unlock``: it is decrypted and
        checked completely into the backup folder first (:meth:`open_copy`)."""
        s = str(ref)
        if crypt.is_encrypted_ref(s) and not ID_RE.match(s):
            if unlock is None:
                raise BackupError("backup_key_needed", status=400)
            return self.open_copy(s, unlock)
        if ID_RE.match(s):
            return read_backup(self.folder / (s + MANIFEST_SUFFIX))
        p = Path(s).expanduser()
        if p.exists():
            return read_backup(p)
        raise BackupError("backup_not_found", status=404, backup=s)

    def open_copy(self, ref: str | Path, unlock: crypt.Unlock) -> BackupInfo:
        """Decrypt an encrypted copy into the local backup folder (nothing else is touched;
        a wrong key or a damaged copy is a clear error and leaves no file)."""
        with self._work_lock:
            info = crypt.open_copy(ref, unlock, self.key, self.folder)
        log.info("opened the encrypted copy %s as backup %s", ref, info.id)
        return info

    def newest_verified(self) -> BackupInfo | None:
        good = [b for b in self.list() if b.verified]
        return good[-1] if good else None

    # -- backup ----------------------------------------------------------------------------
    def _new_id(self, started: dt.datetime) -> str:
        base = "lanpos-" + started.astimezone(dt.UTC).strftime("%Y%m%d-%H%M%SZ")
        cand, n = base, 1
        while (self.folder / (cand + MANIFEST_SUFFIX)).exists() or \
                (self.folder / (cand + DATA_SUFFIX)).exists() or \
                (self.folder / f".{cand}{DATA_SUFFIX}{PARTIAL_SUFFIX}").exists():
            n += 1
            cand = f"{base}-{n}"
        return cand

    def _estimate_bytes(self, target: DbTarget) -> int:
        try:
            conn = target.connect(timeout=5)
        except BackupError:
            raise
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COALESCE(SUM(data_length), 0) FROM information_schema.tables"
                            " WHERE table_schema = %s", (target.database,))
                row = cur.fetchone()
                return int(row[0]) if row else 0
        finally:
            conn.close()

    def backup(self, reason: str = "manual", progress: Progress = _noop,
               copy: bool = True) -> BackupInfo:
        with self._work_lock:
            return self._backup(reason, progress, copy)

    def _backup(self, reason: str, progress: Progress, copy: bool) -> BackupInfo:
        folder = self.folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(folder).free
        except OSError as e:
            raise _disk_error(e, folder) from e
        if free < self.min_free_bytes:
            raise BackupError("backup_disk_full", status=507, path=str(folder))
        target = self.target()
        expected = self._estimate_bytes(target)  # also: is the database up?
        started = utcnow()
        bid = self._new_id(started)
        tmp = folder / f".{bid}{DATA_SUFFIX}{PARTIAL_SUFFIX}"
        progress(0.01, "dump")
        res = dump_to_file(target, tmp, self.settings.compress_level, progress,
                           int(expected * 1.1))
        ended = utcnow()
        sc = res.scanner
        manifest = {
            "format": FORMAT_VERSION,
            "id": bid,
            "file": bid + DATA_SUFFIX,
            "reason": reason,
            "started_at": _iso(started),
            "ended_at": _iso(ended),
            "seconds": round(res.seconds, 3),
            "size": res.size,
            "sql_bytes": res.raw_bytes,
            "sha256": res.sha256,
            "compression": f"gzip-{self.settings.compress_level}",
            "database": target.database,
            "tables": dict(sorted(sc.tables.items())),
            "views": sorted(sc.views),
            "binlog": ({"file": sc.binlog_file, "position": sc.binlog_pos, "gtid": sc.gtid}
                       if sc.binlog_file else None),
            "app_version": __version__,
            "schema_revision": sc.schema_revision,
            "host": socket.gethostname(),
            "dump_flags": list(DUMP_FLAGS),
        }
        data = folder / (bid + DATA_SUFFIX)
        man = folder / (bid + MANIFEST_SUFFIX)
        man_tmp = folder / f".{bid}{MANIFEST_SUFFIX}{PARTIAL_SUFFIX}"
        try:
            with man_tmp.open("w", encoding="utf-8") as f:
                json.dump(manifest, f, ensure_ascii=False, indent=2)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, data)
            os.replace(man_tmp, man)
            _fsync_dir(folder)
        except OSError as e:
            for p in (tmp, man_tmp):
                with contextlib.suppress(OSError):
                    p.unlink()
            if not man.exists():
                with contextlib.suppress(OSError):
                    data.unlink()
            raise _disk_error(e, folder) from e
        info = BackupInfo(bid, data, manifest)
        log.info("backup %s (%s): %d bytes, %d rows, %.1fs", bid, reason, res.size,
                 sc.total_rows, res.seconds)
        progress(0.97, "copy")
        if copy:
            self.copy_to_destinations(info)
        progress(1.0, "done")
        return info

    def cleanup_partials(self) -> list[Path]:
        """Remove temp files left by an interrupted backup (server killed mid-dump)."""
        removed = []
        if self.folder.is_dir():
            for p in self.folder.glob(f".lanpos-*{PARTIAL_SUFFIX}"):
                with contextlib.suppress(OSError):
                    p.unlink()
                    removed.append(p)
        return removed

    # -- destinations ----------------------------------------------------------------------
    @property
    def _dest_status_path(self) -> Path:
        return self.folder / "destinations.json"

    def destination_status(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads(self._dest_status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def copy_to_destinations(self, info: BackupInfo) -> dict[str, dict[str, Any]]:
        """Copy the backup (+ manifest, + verification), encrypted with the owner's key
        (``server.backup.crypt``), to every extra folder. Without a key nothing is copied (a
        copy is never written in the clear) and each destination says so. A missing or
        unwritable destination is recorded (health warning), never fatal. A missing folder is
        not created: an unplugged USB disk must not fill the system disk instead."""
        status = self.destination_status()
        status = {k: v for k, v in status.items() if k in self.settings.destinations}
        key = self.key
        configured = key.configured
        for dest in self.settings.destinations:
            entry: dict[str, Any] = {"at": _iso(utcnow()), "backup": info.id}
            try:
                d = Path(dest).expanduser()
                if not configured:
                    raise BackupError("backup_key_missing", status=409)
                if not d.is_dir():
                    raise FileNotFoundError(errno.ENOENT, "folder not found (disk unplugged?)",
                                            str(d))
                crypt.write_copy(info, d, key)
                entry["ok"] = True
                entry["encrypted"] = True
                leftovers = crypt.plain_copies(d)
                if leftovers:
                    entry["plain_copies"] = len(leftovers)
            except BackupError as e:
                entry["ok"] = False
                entry["error"] = NO_KEY_ERROR if e.code == "backup_key_missing" else str(e)
                log.warning("backup copy to %s refused: %s", dest, entry["error"])
            except Exception as e:  # OSError, or pyrage failing to write: never fatal
                entry["ok"] = False
                entry["error"] = f"{getattr(e, 'strerror', None) or e}"
                log.warning("backup copy to %s failed: %s", dest, e)
            status[dest] = entry
        if self.settings.destinations or self._dest_status_path.exists():
            with contextlib.suppress(OSError):
                _write_json_atomic(self._dest_status_path, status)
        return status

    # -- retention -------------------------------------------------------------------------
    def apply_retention(self) -> list[str]:
        """Delete backups the policy does not keep (here and in the destinations)."""
        with self._work_lock:
            backups = self.list()
            tz = self.tz
            items = [RetentionItem(b.id, b.started_at.astimezone(tz), b.verified)
                     for b in backups]
            keep = plan_retention(items, RetentionPolicy.from_settings(self.settings))
            doomed = [b.id for b in backups if b.id not in keep]
            folders = [self.folder] + [Path(d).expanduser() for d in self.settings.destinations]
            for bid in doomed:
                for folder in folders:
                    for suffix in (MANIFEST_SUFFIX, VERIFY_SUFFIX, DATA_SUFFIX,
                                   *crypt.COPY_SUFFIXES):
                        with contextlib.suppress(OSError):
                            (folder / (bid + suffix)).unlink()
            if doomed:
                log.info("retention removed %d backups: %s", len(doomed), ", ".join(doomed))
            return doomed

    # -- throwaway instance ----------------------------------------------------------------
    @contextlib.contextmanager
    def scratch_instance(self) -> Iterator[ManagedMariaDB]:
        base = test_restore.scratch_base(self.settings, self.config.data_dir)
        with test_restore.scratch_instance(base) as mdb:
            yield mdb

    # -- verify ----------------------------------------------------------------------------
    def verify(self, ref: str | Path, progress: Progress = _noop,
               unlock: crypt.Unlock | None = None) -> VerifyResult:
        with self._work_lock:
            return self._verify(self.get(ref, unlock), progress)

    def verify_newest(self) -> VerifyResult | None:
        backups = self.list()
        if not backups or backups[-1].verified is not None:
            return None
        return self.verify(backups[-1].id)

    def _verify(self, info: BackupInfo, progress: Progress) -> VerifyResult:
        res = test_restore.verify_backup(info, self.scratch_instance, progress)
        if info.path.parent.resolve() == self.folder.resolve():
            info.verification = asdict(res)
            self.copy_to_destinations(info)
        progress(1.0, "done")
        log.info("verified %s: %s %s", info.id, "OK" if res.ok else "FAILED", res.problems[:3])
        return res

    # -- restore ---------------------------------------------------------------------------
    def check_restorable(self, info: BackupInfo, force: bool) -> None:
        live_restore.check_restorable(info, force)

    def restore(self, ref: str | Path, force: bool = False, progress: Progress = _noop,
                safety_backup: bool = True, *, by: str = "lanpos-server restore",
                job_id: str | None = None,
                unlock: crypt.Unlock | None = None) -> dict[str, Any]:
        """Replace the live data with a backup. ``by`` / ``job_id``: who holds the maintenance
        that every API worker answers with meanwhile. An encrypted copy is decrypted and
        checked completely (``unlock``) before anything else happens."""
        with self._work_lock:
            info = self.get(ref, unlock)
            self.check_restorable(info, force)
            return self._restore(info, progress, safety_backup, None, by, job_id)

    def _restore(self, info: BackupInfo, progress: Progress, safety_backup: bool,
                 replay: live_restore.Replay | None, by: str,
                 job_id: str | None) -> dict[str, Any]:
        def safety(p: Progress) -> BackupInfo:
            return self._backup("pre-restore", p, copy=True)

        def maintenance(reason: str | None) -> None:
            if reason is None:
                self.shared.end_maintenance(job_id)
            else:
                self.shared.begin_maintenance(reason, by, job_id)

        return live_restore.restore_live(
            info, self.target(), self.runtime, self._journal, progress,
            safety_backup=safety if safety_backup else None,
            maintenance=maintenance,
            drain_seconds=self.drain_seconds if self.serving else 0,
            replay=replay)

    @property
    def _journal(self) -> live_restore.RestoreJournal:
        return live_restore.RestoreJournal(self.folder)

    def restore_events(self) -> list[dt.datetime]:
        return self._journal.events()

    # -- point in time ---------------------------------------------------------------------
    def parse_local_time(self, text_: str) -> dt.datetime:
        """'2026-11-23 14:05' (shop local time) → aware UTC datetime."""
        return pitr.parse_local_time(text_, self.clock)

    def pitr_moment(self, text_: str) -> dt.datetime:
        """The moment of a point-in-time restore (UTC); not in the future."""
        return pitr.pitr_moment(text_, self.clock)

    def binlog_files_from(self, first: str) -> list[Path]:
        mdb = (self.runtime.mariadb or self.runtime.managed_instance()) \
            if self.config.managed else None
        return pitr.binlog_files_from(mdb, first)

    def pick_pitr_base(self, when_utc: dt.datetime, force: bool = False) -> BackupInfo:
        return pitr.pick_base(self.list(), when_utc, self.restore_events(), force)

    def restore_to(self, when_text: str, force: bool = False, progress: Progress = _noop, *,
                   by: str = "lanpos-server restore", job_id: str | None = None
                   ) -> dict[str, Any]:
        when = self.pitr_moment(when_text)
        with self._work_lock:
            base = self.pick_pitr_base(when, force)
            self.check_restorable(base, force)
            bl = base.manifest["binlog"]
            files = self.binlog_files_from(bl["file"])
            replay = pitr.binlog_replay(when, when_text, bl, files)
            return self._restore(base, progress, True, replay, by, job_id)

    # -- settings and audit ----------------------------------------------------------------
    def update_settings(self, changes: dict[str, Any], session: Any = None,
                        actor: Any = None) -> BackupSection:
        """Change [backup] settings in lanpos.toml (validated; nothing saved on a problem).
        ``timezone`` is the shop's zone (``[shop] timezone``), changed here too. With
        ``session`` and ``actor`` the change is audited in that session."""
        changes = dict(changes)
        for key in ("dir", "scratch_dir"):
            if changes.get(key):
                changes[key] = str(Path(changes[key]).expanduser())
        if "destinations" in changes:
            changes["destinations"] = [d.strip() for d in changes["destinations"] if d.strip()]
        timezone = changes.get("timezone", self.config.shop.timezone)
        before = {**asdict(self.settings), "timezone": self.config.shop.timezone}
        new = replace(self.settings, **{k: v for k, v in changes.items() if k != "timezone"})
        problems = validate_settings(new, timezone, self.config.data_dir)
        if problems:
            raise BackupError("backup_settings_invalid", status=400, reason="; ".join(problems))
        self.config.backup = new
        if timezone != self.config.shop.timezone:
            self.config.shop = replace(self.config.shop, timezone=timezone)
        self.config.save()
        if session is not None and actor is not None:
            after = {**asdict(new), "timezone": timezone}
            audit_log.write(session, actor, "backup.settings", "backup", None,
                            before={k: before[k] for k in changes},
                            after={k: after[k] for k in changes})
        return new

    # -- the owner's key for encrypted copies ----------------------------------------------
    def key_status(self) -> dict[str, Any]:
        return crypt.key_status(self.key)

    def setup_key(self, passphrase: str, session: Any = None,
                  actor: Any = None) -> dict[str, Any]:
        """Set up the owner's backup key (``server.backup.crypt``). Returns the status plus
        ``recovery_key`` — the secret key for the recovery sheet, shown once, never stored in
        the clear. The newest backup is then copied (encrypted) to the destinations that were
        waiting for a key. Audited (the recipient only)."""
        with self._work_lock:
            secret = self.key.setup(passphrase)
        status = self.key_status()
        if session is not None and actor is not None:
            audit_log.write(session, actor, "backup.key_setup", "backup", None,
                            after={"recipient": status["recipient"]})
        backups = self.list()
        if backups and self.settings.destinations:
            with self._work_lock:
                self.copy_to_destinations(backups[-1])
        else:  # no backup to copy yet: the "no key" refusals are over all the same
            waiting = self.destination_status()
            fresh = {d: st for d, st in waiting.items() if st.get("error") != NO_KEY_ERROR}
            if fresh != waiting:
                with contextlib.suppress(OSError):
                    _write_json_atomic(self._dest_status_path, fresh)
        return {**status, "recovery_key": secret}

    def change_key(self, new_passphrase: str, unlock: crypt.Unlock, session: Any = None,
                   actor: Any = None) -> dict[str, Any]:
        """A new passphrase for the same key (opened with the old one or the recovery key):
        every older copy stays readable. The destinations get the re-wrapped key file at
        their next copy. Audited."""
        with self._work_lock:
            self.key.change(new_passphrase, unlock)
            for dest in self.settings.destinations:
                try:
                    crypt.refresh_key_file(Path(dest).expanduser(), self.key)
                except OSError as e:  # unplugged: it gets the new file at its next copy
                    log.info("backup key file not refreshed in %s: %s", dest, e)
        status = self.key_status()
        if session is not None and actor is not None:
            audit_log.write(session, actor, "backup.key_change", "backup", None,
                            after={"recipient": status["recipient"],
                                   "with": "recovery key" if unlock.secret_key
                                   else "passphrase"})
        return status

    def audit(self, actor: Any, action: str, entity_id: str | None,
              after: dict[str, Any] | None = None) -> None:
        """An audit entry in a session of its own (after a restore the request's session
        belongs to a database that no longer exists)."""
        if actor is None:
            return
        try:
            audit_log.write_apart(self.runtime.session_factory, actor, action, "backup",
                                  entity_id, after=after)
        except Exception as e:
            log.warning("could not write the audit entry %s: %s", action, e)


    # -- health ----------------------------------------------------------------------------
    def health_warnings(self, now: dt.datetime | None = None) -> list[str]:
        now = now or utcnow()
        out = []
        good = self.newest_verified()
        if good is None:
            out.append("还没有通过还原验证的备份 (no verified backup yet)")
        else:
            age = now - good.ended_at
            if age > dt.timedelta(days=1):
                out.append(f"最新的已验证备份已有 {age.days} 天 {age.seconds // 3600} 小时 "
                           f"(newest verified backup {good.id} is older than a day)")
        backups = self.list()
        if backups and backups[-1].verified is False:
            out.append(f"最新备份 {backups[-1].id} 未通过还原验证 "
                       f"(the newest backup failed its test restore)")
        if self.settings.destinations and not self.key.configured:
            out.append("已设置额外备份位置，但还没有备份密钥：不会复制到 U 盘/NAS，请在“数据备份”里"
                       "设置备份口令 (destinations are set but no backup key: nothing is copied "
                       "until the owner sets a backup passphrase)")
        for dest, st in self.destination_status().items():
            if dest not in self.settings.destinations:
                continue
            if not st.get("ok"):
                out.append(f"备份复制到 {dest} 失败：{st.get('error')} "
                           f"(backup copy to {dest} failed)")
            elif st.get("plain_copies"):
                out.append(f"{dest} 里还有 {st['plain_copies']} 份未加密的旧备份，请删除 "
                           f"(lanpos-*.sql.gz/.json: unencrypted copies from before; delete "
                           f"them)")
        if self.last_error:
            out.append(f"上次备份任务失败：{self.last_error} (last backup job failed)")
        return out

    def newest_verified_age_seconds(self) -> int | None:
        good = self.newest_verified()
        return None if good is None else int((utcnow() - good.ended_at).total_seconds())


def pre_migration_backup(runtime: Runtime, current_revision: str | None) -> None:
    """Runtime.pre_migration_hooks entry: a safety backup before any schema change."""
    if current_revision is None:
        return  # an empty database: nothing to protect
    info = BackupService(runtime).backup(reason=f"pre-migration-{current_revision}")
    log.info("safety backup before migration: %s", info.id)
