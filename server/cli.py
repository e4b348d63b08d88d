"""``lanpos-server``: init, run, migrate, demo, verify, backup, restore.

Every command takes ``--data-dir DIR`` (default: $LANPOS_DATA_DIR or ~/.local/share/lanpos)
and ``--db-url`` (an external MariaDB/MySQL instead of the managed one).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import logging.handlers
import os
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from common import __version__, tlspin
from common.errors import ApiError
from common.schemas.base import Role
from common.timezones import zone_problem
from server.backup.crypt import Unlock, is_encrypted_ref
from server.backup.jobs import job_handlers
from server.backup.service import BackupService, pre_migration_backup
from server.clock import shop_clock
from server.config import LOOPBACK, Config, default_data_dir
from server.db import migrate
from server.db.models import Staff
from server.domain import shop
from server.domain import staff as staff_domain
from server.domain.actor import Actor
from server.domain.auth import Passwords
from server.domain.verify import run_all
from server.jobs import JobRunner
from server.ops.mariadb import MariaDBError, port_is_free
from server.ops.supervisor import Supervisor, bind_socket, default_workers
from server.ops.tls import TlsFiles
from server.ops.tlsfront import TlsFront, TlsFrontError
from server.replication import peer, seed
from server.replication.failover import assess, boot_fencing
from server.replication.failover import promote as promote_standby
from server.replication.monitor import ReplicationMonitor
from server.replication.pairing import RELISTEN_JOB, relisten_handler
from server.runtime import Runtime, ServerRunning
from server.scheduler import Scheduler, daily_jobs
from server.state import ServerRole, SharedState

log = logging.getLogger("lanpos")


def _setup_logging(cfg: Config, verbose: bool = False) -> None:
    root = logging.getLogger()
    if root.handlers:
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(fmt)
    root.addHandler(err)
    try:
        logs = cfg.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(logs / "server.log", maxBytes=5_000_000,
                                                  backupCount=5, encoding="utf-8")
        fh.setFormatter(fmt)
        root.addHandler(fh)
    except OSError:
        pass


def _indented(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _load_config(args: argparse.Namespace) -> Config:
    cfg = Config.load(args.data_dir)
    if getattr(args, "db_url", None):
        cfg.database.url = args.db_url
    if getattr(args, "port", None):
        cfg.server.port = args.port
    if getattr(args, "host", None):
        cfg.server.host = args.host
    if getattr(args, "tls_port", None):
        cfg.server.tls_port = args.tls_port
    if getattr(args, "db_port", None):
        cfg.database.managed_port = args.db_port
    problem = zone_problem(cfg.shop.timezone)
    if problem:
        raise SystemExit(f"lanpos-server: error: {cfg.path} [shop] timezone: {problem}")
    peer.use_trust(TlsFiles(cfg.tls_dir).peer_ca)  # https to the other server of the pair
    return cfg


def _create_owner(rt: Runtime, username: str, password: str | None) -> str | None:
    """Create the owner account if no owner exists. Returns a generated password, if any."""

    generated = None
    with rt.session_factory() as session:
        has_owner = session.scalar(select(Staff.id).where(Staff.role == Role.OWNER.value))
        if has_owner:
            return None
        if not password:
            if sys.stdin.isatty():
                password = getpass.getpass(f"Password for the owner account '{username}': ")
            if not password:
                password = generated = secrets.token_urlsafe(9)
        sec = rt.config.security
        staff_domain.create_initial(session, Passwords(sec.argon2_time_cost,
                                                       sec.argon2_memory_kib),
                                    username, password, Role.OWNER, "店主")
        session.commit()
    return generated


def _seed_shop(rt: Runtime) -> None:
    """The shop settings in the database start with ``[shop] name`` (only if they are not
    there yet: afterwards the database is the source, edited in the back office)."""
    with rt.session_factory() as session:
        if shop.seed(session, Actor.system("init"), rt.config.shop.name):
            session.commit()


def _runtime(cfg: Config) -> Runtime:
    """A Runtime whose migrations are preceded by a safety backup (issue 7)."""
    rt = Runtime(cfg)
    rt.pre_migration_hooks.append(pre_migration_backup)
    return rt


# -- commands ---------------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    cfg = _load_config(args)
    _setup_logging(cfg, args.verbose)
    rt = _runtime(cfg)
    try:
        rt.up()
        cfg.save()
        generated = _create_owner(rt, args.owner, args.owner_password)
        _seed_shop(rt)
    finally:
        rt.stop_database()
    print(f"lanpos data directory ready: {cfg.data_dir}")
    print(f"  config: {cfg.path}")
    where = (f"managed MariaDB on 127.0.0.1:{cfg.database.managed_port}" if cfg.managed
             else "external")
    print(f"  database: {where}")
    if generated:
        print(f"  owner account: {args.owner} / {generated}   (change it after logging in)")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    cfg = _load_config(args)
    _setup_logging(cfg, args.verbose)
    rt = _runtime(cfg)
    try:
        rt.start_database()
        applied = rt.migrate()
        print(f"schema at {migrate.current_revision(rt.connect())}"
              + (" (migrated)" if applied else " (already current)"))
    finally:
        rt.stop_database()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """The shared state of a data directory, read without the database: role and epoch,
    maintenance, the running server's processes, jobs, the watchdog's last records."""
    cfg = _load_config(args)
    if not cfg.exists():
        print(f"lanpos-server: error: no lanpos data directory at {cfg.data_dir}",
              file=sys.stderr)
        return 2
    shared = SharedState.for_data_dir(cfg.data_dir)
    snap = shared.snapshot()
    c = snap.cluster
    print(f"data directory: {cfg.data_dir}")
    print(f"role: {c.role.value}   epoch: {c.epoch}   (since {c.changed_at:%Y-%m-%d %H:%M:%S} "
          f"UTC, by {c.changed_by})")
    m = snap.maintenance
    print("maintenance: " + (f"{m.reason} (by {m.by}, since {m.since:%Y-%m-%d %H:%M:%S} UTC)"
                             if m else "no"))
    repl = shared.value("replication") or {}
    if repl.get("peer") or repl.get("state", "none") != "none":
        lag = (f", lag {repl.get('lag_seconds')}s / {repl.get('lag_transactions')} transactions"
               if c.role == ServerRole.STANDBY else "")
        print(f"replication: {repl.get('state')}, semi-sync {repl.get('semi_sync')}{lag}; "
              f"the other server {repl.get('peer')} "
              f"({'answers' if repl.get('peer_reachable') else 'does not answer'}"
              f"{', ' + str(repl.get('peer_role')) if repl.get('peer_role') else ''}); "
              f"GTID {repl.get('gtid') or '-'}")
    tls = TlsFiles(cfg.tls_dir)
    if cfg.server.tls and tls.exists():
        print(f"TLS: counters connect to https://<this machine>:{cfg.server.effective_tls_port}; "
              f"certificate fingerprint {tls.fingerprint()} (证书指纹):\n"
              f"{_indented(tlspin.fingerprint_lines(tls.fingerprint()))}")
    elif not cfg.server.tls:
        print("TLS: off ([server] tls = false): only this machine can connect")
    procs = shared.value("server.processes")
    if procs:
        print(f"server: running, supervisor pid {procs['supervisor']}, "
              f"{len(procs['workers'])}/{procs['workers_wanted']} workers {procs['workers']} "
              f"x {procs['threads']} threads")
    else:
        print("server: not running")
    for job in shared.jobs(limit=5):
        print(f"job {job.id[:12]}  {job.kind:<10} {job.state.value:<8} "
              f"{job.progress:>4.0%}  {job.created_at:%Y-%m-%d %H:%M:%S}  "
              f"{job.error or job.message}")
    for e in shared.events(limit=args.events):
        detail = ", ".join(f"{k}={v}" for k, v in e.detail.items() if k != "error_log")
        print(f"{e.at:%Y-%m-%d %H:%M:%S} UTC  {e.kind:<24} {detail[:120]}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    cfg = _load_config(args)
    _setup_logging(cfg, args.verbose)
    rt = _runtime(cfg)
    try:
        rt.up()
        with rt.session_factory() as session:
            results = run_all(session)
    finally:
        rt.stop_database()
    bad = 0
    for r in results:
        print(f"[{'OK' if r.ok else 'FAIL'}] {r.name}")
        for p in r.problems[:50]:
            print(f"       - {p}")
        bad += 0 if r.ok else 1
    print(f"{len(results) - bad} passed, {bad} failed")
    return 1 if bad else 0


def _serve(rt: Runtime, args: argparse.Namespace) -> int:
    """Serve the API: the supervisor, N workers, the scheduler, the job runner, the database
    watchdog (``server.ops.supervisor``)."""
    cfg = rt.config
    shared = SharedState.for_data_dir(cfg.data_dir)
    workers = args.workers if getattr(args, "workers", None) is not None else (
        cfg.server.workers or default_workers())
    if os.name != "posix":
        workers = 0  # no socket inheritance: one process (README "Windows")
    service = BackupService(rt, shared, serving=True)
    scheduler = Scheduler(service, daily_jobs=daily_jobs(rt))
    handlers = {**job_handlers(service), RELISTEN_JOB: relisten_handler(rt)}
    runner = JobRunner(shared, handlers, failure_code="backup_failed")
    replication = ReplicationMonitor(rt, shared)
    front = TlsFront(cfg) if cfg.server.tls else None
    problem = None
    try:
        sock = bind_socket(LOOPBACK, cfg.server.port)
    except OSError as e:
        problem = (f"cannot listen on {LOOPBACK}:{cfg.server.port}: {e.strerror or e} "
                   "(another program uses the port? set [server] port)")
    if problem is None and front is not None:
        try:
            tls = front.prepare()
        except TlsFrontError as e:
            problem = str(e)
        else:
            if not port_is_free(cfg.server.effective_tls_port, cfg.server.host):
                problem = (f"cannot listen on {cfg.server.host}:{cfg.server.effective_tls_port}"
                           " (TLS): another program uses the port (set [server] tls_port)")
        if problem is not None:
            sock.close()
    if problem is not None:
        rt.stop_database(adopted_too=True)
        print(f"lanpos-server: error: {problem}", file=sys.stderr)
        return 2
    supervisor = Supervisor(rt, shared, workers=workers, threads=cfg.server.threads,
                            background=[scheduler, runner, replication],
                            verbose=bool(args.verbose), front=front)
    procs = (f"{workers} workers x {cfg.server.threads} threads" if workers else
             f"1 process x {cfg.server.threads} threads")
    print(f"lanpos server {__version__} listening on http://{LOOPBACK}:{cfg.server.port}/api/v1 "
          f"(this machine) with {procs} (data: {cfg.data_dir})", flush=True)
    if front is not None:
        host = "<this machine's address>" if cfg.server.host in ("0.0.0.0", "::") else \
            cfg.server.host
        print(f"counters connect to {cfg.server.api_url(host)} (TLS)\n"
              "server certificate fingerprint (counters compare it at setup, "
              f"服务器证书指纹):\n{_indented(tlspin.fingerprint_lines(tls.fingerprint()))}",
              flush=True)
    else:
        print("TLS front off ([server] tls = false): counters on other machines cannot connect",
              flush=True)
    try:
        return supervisor.run(sock)
    finally:
        rt.stop_database(adopted_too=True)
        print("lanpos server stopped", flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    cfg = _load_config(args)
    _setup_logging(cfg, args.verbose)
    rt = _runtime(cfg)
    with rt.server_lock():
        try:
            decided = boot_fencing(cfg)
            if decided != "unpaired":
                log.info("fencing at start: %s", decided)
            rt.up()
            if not cfg.exists():
                cfg.save()
            if rt.writable:  # a standby's accounts and settings come from its primary
                generated = _create_owner(rt, "owner", None)
                if generated:
                    print(f"created owner account: owner / {generated}")
                _seed_shop(rt)
        except BaseException:
            rt.stop_database()
            raise
        return _serve(rt, args)


def cmd_demo(args: argparse.Namespace) -> int:
    from server import demo  # the demo shop's data: only this command needs it

    cfg = _load_config(args)
    _setup_logging(cfg, args.verbose)

    rt = _runtime(cfg)
    with rt.server_lock():
        try:
            rt.up()
            cfg.save()
            sec = cfg.security
            with rt.session_factory() as session:
                loaded = demo.load(session, Passwords(sec.argon2_time_cost,
                                                      sec.argon2_memory_kib), shop_clock(cfg))
                session.commit()
            _seed_shop(rt)
        except BaseException:
            rt.stop_database()
            raise
        print("=" * 60)
        print("lanpos demo shop " + ("loaded" if loaded else "(already loaded)"))
        print("demo accounts (password for all: demo1234):")
        for username, name, role in demo.DEMO_ACCOUNTS:
            print(f"  {username:<8} {role.label_zh} {name}")
        print("=" * 60, flush=True)
        if args.no_run:
            rt.stop_database()
            return 0
        return _serve(rt, args)


def _backup_service(args: argparse.Namespace, start_db: bool = True):
    cfg = _load_config(args)
    _setup_logging(cfg, args.verbose)
    rt = _runtime(cfg)
    if start_db:
        rt.start_database()
    return rt, BackupService(rt)


def _unlock(args: argparse.Namespace) -> Unlock:
    """What opens an encrypted copy: ``--key-file`` (the recovery sheet's secret key, as text),
    ``--passphrase-file`` (its first line), else the passphrase asked at the terminal."""
    if getattr(args, "key_file", None):
        return Unlock(secret_key=Path(args.key_file).expanduser().read_text(
            encoding="utf-8", errors="replace"))
    if getattr(args, "passphrase_file", None):
        lines = Path(args.passphrase_file).expanduser().read_text(encoding="utf-8").splitlines()
        return Unlock(passphrase=lines[0] if lines else "")
    if sys.stdin.isatty():
        return Unlock(passphrase=getpass.getpass("备份口令 / backup passphrase: "))
    raise ApiError("backup_key_needed", status=400)


def _open_encrypted(svc: BackupService, args: argparse.Namespace, ref: str | None) -> str | None:
    """An encrypted copy (``….sql.gz.age``) is decrypted and checked completely into the
    backup folder before anything else (no database is started or touched for a wrong key);
    returns the id of the local backup it became (other refs as they are)."""
    if not ref or not is_encrypted_ref(ref):
        return ref
    try:
        info = svc.open_copy(ref, _unlock(args))
    except ApiError as e:
        raise SystemExit(f"lanpos-server: error: {e.message('zh')}\n"
                         f"lanpos-server: error: {e.message('en')}") from e
    print(f"decrypted {ref} -> {info.path}")
    return info.id


def _print_backup(b, tz) -> None:
    v = {True: "verified", False: "FAILED", None: "unverified"}[b.verified]
    local = b.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    print(f"{b.id}  {local}  {b.manifest['size'] / 1_048_576:8.2f} MB  "
          f"{sum(b.manifest['tables'].values()):>10} rows  {v:<10}  {b.manifest.get('reason')}")


def cmd_backup(args: argparse.Namespace) -> int:
    action = args.action
    if action == "list":
        _rt, svc = _backup_service(args, start_db=False)
        backups = svc.list()
        print(f"backups in {svc.folder}: {len(backups)}")
        key = svc.key_status()
        if svc.settings.destinations:
            print("copies to " + ", ".join(svc.settings.destinations) + ": "
                  + (f"encrypted (backup key {key['recipient'][:16]}…, set up "
                     f"{key['created_at']})" if key["configured"] else
                     "NONE — no backup key set up (back office 数据备份 → 设置备份口令)"))
        for b in reversed(backups):
            _print_backup(b, svc.tz)
        for w in svc.health_warnings():
            print(f"warning: {w}")
        return 0
    rt, svc = _backup_service(args, start_db=(action == "now"))
    try:
        if action == "verify":
            args.id = _open_encrypted(svc, args, args.id)
        if action == "now":
            info = svc.backup(reason="manual-cli")
            _print_backup(info, svc.tz)
            print(f"  file: {info.path}")
            if args.verify or (svc.settings.verify_after_backup and not args.no_verify):
                args.id = info.id
            else:
                svc.apply_retention()
                return 0
        ref = args.id
        if not ref:
            backups = svc.list()
            if not backups:
                print("no backups yet", file=sys.stderr)
                return 1
            ref = backups[-1].id
        res = svc.verify(ref)
        print(f"verify {res.backup_id}: {'OK' if res.ok else 'FAILED'} "
              f"(sha256 {'ok' if res.sha256_ok else 'BAD'}, rows "
              f"{'ok' if res.rows_ok else 'BAD'}, invariants "
              f"{'ok' if res.invariants_ok else 'BAD'}; {res.seconds:.1f}s)")
        for p in res.problems[:50]:
            print(f"  - {p}")
        if action == "now":
            svc.apply_retention()
        return 0 if res.ok else 1
    finally:
        rt.stop_database()  # leaves a running server's database alone


def _server_running(cfg: Config) -> bool:
    """Is a lanpos server using this data directory? Its managed MariaDB runs only while a
    lanpos process uses it (it stops with its parent); for an external database, is something
    listening on the API port?"""
    if not cfg.exists():
        return False
    if cfg.managed:
        return Runtime(cfg).managed_instance().running_pid() is not None
    return not port_is_free(cfg.server.port)


def cmd_restore(args: argparse.Namespace) -> int:
    if not args.backup and not args.to:
        print("lanpos-server: error: give a backup (id or file) or --to 'YYYY-MM-DD HH:MM'",
              file=sys.stderr)
        return 2
    cfg = _load_config(args)
    if _server_running(cfg) and not args.force:
        print("lanpos-server: error: a lanpos server is using this data directory: stop "
              "`lanpos-server run` first (or restore from the back-office screen)",
              file=sys.stderr)
        return 2
    rt, svc = _backup_service(args, start_db=False)
    try:
        args.backup = _open_encrypted(svc, args, args.backup)
        rt.start_database()
        if args.backup and args.verify:
            res = svc.verify(args.backup)
            print(f"verify {res.backup_id}: {'OK' if res.ok else 'FAILED'}")
            for p in res.problems[:50]:
                print(f"  - {p}")
        if args.to:
            when = svc.pitr_moment(args.to)
            base = svc.pick_pitr_base(when, args.force)
            what = (f"the data as of {args.to} ({svc.tz}) = {when:%Y-%m-%d %H:%M:%S} UTC, "
                    f"from backup {base.id} + binary log")
            confirm = args.to
        else:
            base = svc.get(args.backup)
            svc.check_restorable(base, args.force)
            what = f"backup {base.id} ({base.started_at.astimezone(svc.tz):%Y-%m-%d %H:%M})"
            confirm = base.id
        print(f"This replaces ALL data of database '{cfg.database.name}' with {what}.")
        if not args.yes:
            if not sys.stdin.isatty():
                print("lanpos-server: error: add --yes to confirm (no terminal to ask)",
                      file=sys.stderr)
                return 2
            typed = input(f"Type {confirm} to confirm: ").strip()
            if typed != confirm:
                print("not confirmed; nothing changed", file=sys.stderr)
                return 1
        if args.to:
            result = svc.restore_to(args.to, force=args.force)
        else:
            result = svc.restore(base.path, force=args.force)
        if not cfg.exists():
            cfg.save()
        print(f"restored {result['backup_id']} in {result['seconds']:.1f}s"
              + (f" (safety backup first: {result['safety_backup']})"
                 if result.get("safety_backup") else ""))
        if result.get("to"):
            print(f"  binary log replayed to {result['stop_datetime_utc']} UTC")
        print(f"  schema {result['schema_before']} -> {result['schema_after']}; invariants "
              + ("OK" if result["invariants_ok"] else "FAILED"))
        for p in result.get("problems", [])[:50]:
            print(f"  - {p}")
        return 0 if result["invariants_ok"] else 1
    finally:
        rt.stop_database()  # leaves a running server's database alone


def _owner_login(args: argparse.Namespace, where: str) -> tuple[str, str]:
    username = args.username or (input(f"owner username on {where}: ").strip()
                                 if sys.stdin.isatty() else "")
    password = args.password or (getpass.getpass(f"password of {username}: ")
                                 if sys.stdin.isatty() else "")
    if not username or not password:
        raise SystemExit("lanpos-server: error: the owner's login is needed "
                         "(--username U --password P)")
    return username, password


def _confirm_fingerprint(found: str) -> bool:
    print(f"the primary's certificate fingerprint:\n  {found}\n"
          "is it the one the primary shows (its screen at start, lanpos-server status, the "
          "back office 双机热备)?")
    return input("type yes if they are the same: ").strip().lower() in ("yes", "y")


def cmd_standby(args: argparse.Namespace) -> int:
    """``standby init``: make this data directory the standby of ``--primary``."""
    cfg = _load_config(args)
    _setup_logging(cfg, args.verbose)
    if _server_running(cfg):
        print("lanpos-server: error: a lanpos server is using this data directory: stop it "
              "first", file=sys.stderr)
        return 2
    if cfg.exists() and cfg.mariadb_dir.joinpath("data").is_dir() and not args.reseed:
        print(f"lanpos-server: error: {cfg.data_dir} already holds a lanpos database; a "
              "standby starts from an empty data directory (or add --reseed to replace it "
              "with a copy of the primary)", file=sys.stderr)
        return 2
    if args.pairing_code:
        username = password = None
    else:
        username, password = _owner_login(args, args.primary)
    try:
        res = seed.attach(cfg, primary=args.primary, username=username, password=password,
                          pairing_code=args.pairing_code, advertise=args.advertise,
                          method=args.seed, fingerprint=args.fingerprint,
                          confirm=_confirm_fingerprint if sys.stdin.isatty() else None)
    except seed.SeedError as e:
        print(f"lanpos-server: error: {e}", file=sys.stderr)
        return 2
    how = (f"physical copy {res['copy_seconds']:.1f}s, install {res['install_seconds']:.1f}s"
           if "copy_seconds" in res else
           f"dump {res.get('dump_seconds', 0):.1f}s, load {res.get('load_seconds', 0):.1f}s")
    print(f"standby ready: {cfg.data_dir} replicates {res['primary']} (seed: {how}; "
          f"{res['seconds']:.1f}s in all)")
    print(f"  serve it with: lanpos-server run --data-dir {cfg.data_dir}")
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    """Promote this standby (the back office's guided failover, from a terminal)."""
    cfg = _load_config(args)
    _setup_logging(cfg, args.verbose)
    shared = SharedState.for_data_dir(cfg.data_dir)
    if shared.cluster().role != ServerRole.STANDBY:
        print(f"lanpos-server: error: {cfg.data_dir} is not a standby (role "
              f"{shared.cluster().role.value})", file=sys.stderr)
        return 2
    serving = _server_running(cfg)
    rt = _runtime(cfg)
    if not serving:
        rt.start_database()
    clock = shop_clock(cfg)
    try:
        a = assess(cfg, shared, clock, "zh")
        for c in a.checks:
            print(f"  [{'✔' if c.ok else '✘'}] {c.message}")
        print(f"  {a.summary}")
        refused = a.refusal(args.override_primary_reachable)
        if refused:
            print("lanpos-server: error: promotion refused: "
                  + "；".join(c.message for c in refused), file=sys.stderr)
            return 1
        if not args.yes:
            if not sys.stdin.isatty():
                print("lanpos-server: error: add --yes to confirm (no terminal to ask)",
                      file=sys.stderr)
                return 2
            typed = input("确认旧服务器已关机或已拔掉网线？输入 yes 继续 / type yes: ").strip()
            if typed.lower() != "yes":
                print("not confirmed; nothing changed", file=sys.stderr)
                return 1
        res = promote_standby(cfg, shared, clock, "zh",
                              actor=Actor.system(f"cli ({getpass.getuser()})"),
                              session_factory=rt.session_factory, confirm_primary_off=True,
                              override_primary_reachable=args.override_primary_reachable,
                              queue_backup=serving)
        print(f"promoted: this server is now the primary of epoch {res['epoch']} "
              f"({res['seconds']:.1f}s)")
        if serving:
            print(f"  safety backup: job {res['backup_job_id'][:12]} (lanpos-server status)")
        else:
            info = BackupService(rt, shared).backup(reason="after-promotion")
            print(f"  safety backup {info.id}")
        return 0
    except ApiError as e:
        print(f"lanpos-server: error: {e.message('zh')}", file=sys.stderr)
        return 1
    finally:
        if not serving:
            rt.stop_database()


def cmd_rejoin(args: argparse.Namespace) -> int:
    """An old primary becomes the new standby (after comparing histories)."""
    cfg = _load_config(args)
    _setup_logging(cfg, args.verbose)
    if _server_running(cfg):
        print("lanpos-server: error: stop this server first (`lanpos-server rejoin` works on a "
              "stopped data directory; then `lanpos-server run` serves the standby)",
              file=sys.stderr)
        return 2
    username, password = _owner_login(args, args.primary or cfg.replication.peer)
    try:
        res = seed.rejoin(cfg, primary=args.primary, username=username, password=password,
                          advertise=args.advertise)
    except (seed.SeedError, peer.PeerError) as e:
        print(f"lanpos-server: error: {e}", file=sys.stderr)
        return 2
    print(f"rejoined as the standby of {res['primary']}"
          + (" (re-seeded)" if res["reseeded"] else " (from its own position)"))
    print(f"  serve it with: lanpos-server run --data-dir {cfg.data_dir}")
    return 0


def cmd_switchover(args: argparse.Namespace) -> int:
    """Move the primary role to the standby with no loss (both servers running)."""
    cfg = _load_config(args)
    primary = args.primary or f"http://127.0.0.1:{cfg.server.port}"
    h = peer.health(primary)
    if not h.reachable:
        print(f"lanpos-server: error: {primary} does not answer", file=sys.stderr)
        return 2
    if h.role != ServerRole.PRIMARY.value:
        print(f"lanpos-server: error: {primary} is not the primary (role {h.role}); give the "
              "primary's address with --primary", file=sys.stderr)
        return 2
    standby = args.standby or (h.payload or {}).get("replication", {}).get("peer")
    if not standby:
        print("lanpos-server: error: the primary has no paired standby", file=sys.stderr)
        return 2
    username, password = _owner_login(args, primary)
    t0 = time.monotonic()
    try:
        token = peer.login(primary, username, password)
        try:
            prep = peer.checked(primary, "POST", "/replication/switchover/prepare",
                                token=token, timeout=60)
            print(f"primary {primary} stopped taking sales at GTID {prep['gtid']}")
            res = peer.checked(standby, "POST", "/replication/switchover/promote", prep,
                               token=token, timeout=60)
        except peer.PeerError:
            peer.checked(primary, "POST", "/replication/switchover/abort", token=token)
            print(f"the standby did not take over: {primary} takes sales again",
                  file=sys.stderr)
            raise
        print(f"standby {standby} is now the primary of epoch {res['epoch']}")
        peer.checked(primary, "POST", "/replication/switchover/finish",
                     {"new_primary": standby}, token=token, timeout=150)
    except peer.PeerError as e:
        print(f"lanpos-server: error: switchover stopped: {e}", file=sys.stderr)
        return 1
    print(f"{primary} now replicates {standby} as its standby "
          f"({time.monotonic() - t0:.1f}s)")
    return 0


# -- parser -----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=None,
                        help=f"data directory (default: $LANPOS_DATA_DIR or {default_data_dir()})")
    common.add_argument("--db-url", default=None,
                        help="use an external MariaDB/MySQL: mysql+pymysql://user:pw@host/db "
                             "(default: the managed instance in the data directory)")
    common.add_argument("--db-port", type=int, default=None,
                        help="port of the managed MariaDB (first init only; default 3407)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    serve = argparse.ArgumentParser(add_help=False)
    serve.add_argument("--host", default=None,
                       help="the LAN address counters connect to, TLS only (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=None,
                       help="plain HTTP port on 127.0.0.1 only (default 8600)")
    serve.add_argument("--tls-port", type=int, default=None,
                       help="the counters' https port (default: --port + 43, i.e. 8643)")
    serve.add_argument("--workers", type=int, default=None,
                       help="API worker processes (default: [server] workers, else one per "
                            "core; 0 = serve from one process)")

    p = argparse.ArgumentParser(
        prog="lanpos-server",
        description="lanpos back-office server (会员管理收银系统 服务端)",
    )
    p.add_argument("--version", action="version", version=f"lanpos {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", parents=[common, serve],
                       help="create the data directory, database and owner account")
    s.add_argument("--owner", default="owner", help="owner username (default: owner)")
    s.add_argument("--owner-password", default=None,
                   help="owner password (default: asked, or generated and printed)")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("run", parents=[common, serve], help="run the API server")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("migrate", parents=[common], help="apply database schema migrations")
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("demo", parents=[common, serve],
                       help="init + load the demo shop (accounts owner/manager/cashier, "
                            "password demo1234), then run")
    s.add_argument("--no-run", action="store_true", help="load the demo data and exit")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("verify", parents=[common],
                       help="check every data invariant (balances = ledgers, ...); "
                            "exit code 1 on a problem")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("status", parents=[common],
                       help="role, epoch, maintenance, server processes, jobs and the "
                            "watchdog's records (no database needed)")
    s.add_argument("--events", type=int, default=10, help="how many recent events (default 10)")
    s.set_defaults(func=cmd_status)

    unlock = argparse.ArgumentParser(add_help=False)  # an encrypted copy (….sql.gz.age)
    unlock.add_argument("--passphrase-file", default=None,
                        help="an encrypted copy (e.g. on a USB disk): the backup passphrase is "
                             "the first line of this file (default: asked)")
    unlock.add_argument("--key-file", default=None,
                        help="an encrypted copy, opened with the recovery sheet's secret key "
                             "(AGE-SECRET-KEY-1…) in this file instead of the passphrase")

    s = sub.add_parser("backup", parents=[common, unlock],
                       help="backups: now | list | verify [ID|FILE]  (README 'Operating')")
    s.add_argument("action", choices=["now", "list", "verify"])
    s.add_argument("id", nargs="?", default=None,
                   help="verify: backup id or file (default: the newest)")
    s.add_argument("--verify", action="store_true", help="now: verify it right away")
    s.add_argument("--no-verify", action="store_true",
                   help="now: skip the verification even if verify_after_backup is set")
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser("restore", parents=[common, unlock],
                       help="replace the data with a backup (id or file), or "
                            "--to 'YYYY-MM-DD HH:MM' for point-in-time recovery")
    s.add_argument("backup", nargs="?", default=None,
                   help="backup id, .sql.gz file or encrypted copy (.sql.gz.age)")
    s.add_argument("--to", default=None,
                   help="point in time, shop local time ([shop] timezone, default this "
                        "machine's): newest backup before it + binary log up to it")
    s.add_argument("--verify", action="store_true",
                   help="test-restore the backup first (e.g. a file copied from elsewhere)")
    s.add_argument("--force", action="store_true",
                   help="restore even an unverified / failed / damaged backup")
    s.add_argument("--yes", action="store_true", help="do not ask for the typed confirmation")
    s.set_defaults(func=cmd_restore)
    login = argparse.ArgumentParser(add_help=False)
    login.add_argument("--username", default=None, help="the owner's username")
    login.add_argument("--password", default=None, help="the owner's password (default: asked)")
    login.add_argument("--advertise", default=None,
                       help="this server's API address as the other one reaches it "
                            "(default: https://<this machine's LAN address>:<TLS port>)")

    s = sub.add_parser("standby", parents=[common, serve, login],
                       help="standby init --primary https://HOST:8643: make this data "
                            "directory the primary's standby (README 'Standby server')")
    s.add_argument("action", choices=["init"])
    s.add_argument("--primary", required=True, help="the primary's address")
    s.add_argument("--pairing-code", default=None,
                   help="the one-time code from the primary's back office (双机热备 → 配对码) "
                        "instead of the owner's login")
    s.add_argument("--fingerprint", default=None,
                   help="the primary's certificate fingerprint as its screen shows it (https: "
                        "checked before the login is sent; asked on a terminal otherwise)")
    s.add_argument("--seed", choices=["auto", "dump", "physical"], default="auto",
                   help="how to copy the primary's data: a dump over TLS, a physical copy "
                        "(mariadb-backup over TLS), or auto: physical for a database over "
                        "256 MB when both machines have mariadb-backup (default)")
    s.add_argument("--reseed", action="store_true",
                   help="replace the data already in this directory with the primary's")
    s.set_defaults(func=cmd_standby)

    s = sub.add_parser("promote", parents=[common],
                       help="promote this standby to primary after the primary died")
    s.add_argument("--yes", action="store_true", help="do not ask (scripts)")
    s.add_argument("--override-primary-reachable", action="store_true",
                   help="promote although the primary still answers (a hung machine; audited)")
    s.set_defaults(func=cmd_promote)

    s = sub.add_parser("rejoin", parents=[common, serve, login],
                       help="make this old primary the standby of the new primary")
    s.add_argument("--primary", default=None,
                   help="the new primary's address (default: [replication] peer)")
    s.set_defaults(func=cmd_rejoin)

    s = sub.add_parser("switchover", parents=[common, login],
                       help="move the primary role to the standby with no loss (maintenance)")
    s.add_argument("--primary", default=None,
                   help="the primary's address (default: this machine's server)")
    s.add_argument("--standby", default=None,
                   help="the standby's address (default: the primary's paired standby)")
    s.set_defaults(func=cmd_switchover)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    try:
        return args.func(args)
    except (MariaDBError, ApiError, ServerRunning) as e:
        print(f"lanpos-server: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
