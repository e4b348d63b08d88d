"""The standby's side of pairing: ``standby init`` (seed a new standby) and ``rejoin`` (an old
primary becomes the new standby), run by the CLI while this data directory is not served.

Seeding is a consistent GTID-stamped dump of the primary (``mariadb-dump --single-transaction
--gtid --master-data=2``, the backup format) read over TLS with the replication account,
loaded here without writing this server's binary log, then GTID replication from the dump's
position (``MASTER_USE_GTID=slave_pos``). bench/README.md has the dump against
``mariadb-backup`` figures.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common.tlspin import same_fingerprint
from server.backup.dumpfile import DbTarget, dump_to_file, iter_sql, load_file
from server.config import Config
from server.ops.tls import TlsFiles, ca_fingerprint, ensure_certificates
from server.replication import dbops, gtid, peer, physical
from server.runtime import Runtime
from server.state import ServerRole, SharedState

log = logging.getLogger(__name__)

Say = Callable[[str], None]
KNOWN_KEYS_BATCH = 500
ORPHAN_DAYS = 30


class SeedError(RuntimeError):
    pass


def local_address_towards(host: str) -> str:
    """This machine's address on the route to ``host`` (what the primary sees)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((socket.gethostbyname(host), 9))  # no packet is sent
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"


def _host_of(address: str) -> str:
    return urlsplit(peer.api_base(address)).hostname or "127.0.0.1"


def _root_address(address: str) -> str:
    """'http://h:8600/api/v1' → 'http://h:8600' (as kept in [replication] peer)."""
    parts = urlsplit(peer.api_base(address))
    return f"{parts.scheme}://{parts.netloc}"


def _login(primary: str, username: str | None, password: str | None,
           pairing_code: str | None) -> tuple[str | None, dict[str, Any]]:
    """(token, extra pairing body): the owner's login, or the back office's pairing code."""
    if pairing_code:
        return None, {"pairing_code": pairing_code}
    if not username or not password:
        raise SeedError("the owner's login is needed: --username and --password "
                        "(or --pairing-code from the primary's back office)")
    try:
        return peer.login(primary, username, password), {}
    except peer.PeerError as e:
        raise SeedError(f"login on {primary} failed: {e}") from e


def pin_primary(cfg: Config, primary: str, *, fingerprint: str | None = None,
                confirm: Callable[[str], bool] | None = None, say: Say = print) -> None:
    """Trust the primary's CA for https before anything secret goes to it (the owner's
    password, the pairing code): its fingerprint must equal ``fingerprint`` (as shown on the
    primary's screen and back office), or ``confirm(fingerprint)`` says a person compared it.
    Nothing to pin for http (127.0.0.1: one machine)."""
    if urlsplit(peer.api_base(primary)).scheme != "https":
        return
    try:
        pem, found = peer.fetch_ca(primary)
    except peer.PeerError as e:
        raise SeedError(f"the primary at {primary} does not answer over TLS: {e}") from e
    if fingerprint:
        if not same_fingerprint(fingerprint, found):
            raise SeedError(f"the primary's certificate fingerprint is {found}, not the one "
                            "given: this is not the primary (or not its certificate); "
                            "nothing was sent to it")
    elif confirm is None or not confirm(found):
        raise SeedError(f"the primary's certificate fingerprint is {found}: compare it with "
                        "the one the primary shows (lanpos-server status, or the back office "
                        "双机热备) and pass it with --fingerprint")
    files = ensure_certificates(cfg.tls_dir)
    files.peer_ca.write_text(pem)
    say(f"trusting the primary's certificate {found}")


def attach(cfg: Config, *, primary: str, username: str | None = None,
           password: str | None = None, pairing_code: str | None = None,
           advertise: str | None = None, seed: bool = True, method: str = "auto",
           say: Say = print, fingerprint: str | None = None,
           confirm: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """Pair with ``primary`` and replicate from it: from a fresh seed (``seed``; ``method``
    dump | physical | auto: physical for a large database when both machines have
    mariadb-backup), or from this database's own position (an old primary that holds nothing
    the new one lacks)."""
    if not cfg.managed:
        raise SeedError("a standby needs lanpos's own managed database (no [database] url)")
    pin_primary(cfg, primary, fingerprint=fingerprint, confirm=confirm, say=say)
    h = peer.health(primary, timeout=5)
    if not h.reachable:
        raise SeedError(f"the primary at {primary} does not answer: {h.error}")
    if h.role != ServerRole.PRIMARY.value:
        raise SeedError(f"{primary} is not a primary (role {h.role})")
    token, pair_body = _login(primary, username, password, pairing_code)
    pair_body |= {"seed": method if seed else "none", "physical_ok": physical.available()}
    p, host, adv = request_pairing(cfg, primary, token, pair_body, advertise, say)
    if cfg.database.server_id == int(p["server_id"]):
        cfg.database.server_id = int(p["server_id"]) + 1
    cfg.database.name = p["database"]
    r = cfg.replication
    r.peer, r.listen, r.semi_sync, r.advertise = _root_address(primary), "0.0.0.0", False, adv
    cfg.save()
    tls = TlsFiles(cfg.tls_dir)
    shared = SharedState.for_data_dir(cfg.data_dir)
    try:
        shared.set_role(ServerRole.STANDBY,
                        by=f"standby init ({username or 'pairing code'})")
        shared.learn_epoch(int(p["epoch"]), by=f"primary {primary}")
        shared.adopt_cluster_id(str(p["cluster_id"]))  # one pair, one cluster
    finally:
        shared.close()
    rt = Runtime(cfg)
    t0 = time.monotonic()
    try:
        rt.start_database()  # read-only: this is a standby now
        mdb = rt.mariadb
        assert mdb is not None
        trust_primary_ca(tls, p)
        position = dbops.gtids(mdb)["gtid_binlog_pos"]
        dbops.stop_replication(mdb)
        seconds: dict[str, float] = {}
        if seed and p.get("seed") == "physical":
            position = _seed_physical(cfg, rt, p, host, tls, say, seconds)
        elif seed:
            position = _seed(cfg, rt, p, host, tls, say, seconds)
        replicate_from(mdb, tls, p, host, position)
        st = _wait_streaming(mdb)
        if st.io_running != "Yes" or st.sql_running != "Yes":
            raise SeedError(f"replication did not start: IO {st.io_running}, SQL "
                            f"{st.sql_running}: {st.error}")
        say(f"replicating from {host}:{p['db_port']} over TLS from GTID {position or '(start)'}"
            f" in {time.monotonic() - t0:.1f}s")
        return {"primary": primary, "advertise": adv, "gtid": position, **seconds,
                "seconds": round(time.monotonic() - t0, 2)}
    finally:
        rt.stop_database()


def request_pairing(cfg: Config, primary: str, token: str | None, pair_body: dict[str, Any],
                    advertise: str | None, say: Say = print
                    ) -> tuple[dict[str, Any], str, str]:
    """Ask ``primary`` for a replication account: (its answer, its host, our address)."""
    host = _host_of(primary)
    me = local_address_towards(host)
    plain = urlsplit(peer.api_base(primary)).scheme == "http"  # one machine (127.0.0.1)
    adv = advertise or cfg.fresh_replication().advertise or (
        f"http://{me}:{cfg.server.port}" if plain else cfg.server.api_url(me))
    pair_body = {**pair_body, "ca_pem": ensure_certificates(cfg.tls_dir).ca_pem()}
    say(f"pairing with the primary at {_root_address(primary)} (this standby: {adv}) ...")
    try:
        p = peer.checked(primary, "POST", "/replication/pair", {**pair_body, "advertise": adv},
                         token=token, timeout=120)
    except peer.PeerError as e:
        raise SeedError(f"pairing refused by the primary: {e}") from e
    return p, host, adv


def trust_primary_ca(tls: TlsFiles, p: dict[str, Any]) -> None:
    if ca_fingerprint(p["ca_pem"]) != p["ca_fingerprint"]:
        raise SeedError("the primary's CA certificate does not match its fingerprint")
    tls.peer_ca.write_text(p["ca_pem"])


def replicate_from(mdb: Any, tls: TlsFiles, p: dict[str, Any], host: str,
                   position: str | None) -> None:
    dbops.change_master(mdb, host=host, port=int(p["db_port"]), user=p["user"],
                        password=p["password"], ca_file=str(tls.peer_ca), slave_pos=position)


def attach_running(cfg: Config, primary: str, token: str,
                   advertise: str | None) -> dict[str, Any]:
    """A switchover's last step, on the old primary while it serves: pair with the new
    primary and replicate from this database's own final position (the histories are equal)."""
    p, host, adv = request_pairing(cfg, primary, token, {}, advertise, say=log.info)
    tls = TlsFiles(cfg.tls_dir)
    trust_primary_ca(tls, p)
    mdb = Runtime(cfg).managed_instance()
    mdb.set_read_only(True)
    position = dbops.gtids(mdb)["gtid_binlog_pos"]
    replicate_from(mdb, tls, p, host, position)
    cfg.save_replication(peer=_root_address(primary), semi_sync=False, advertise=adv)
    return {"gtid": position, "primary": primary}


def _seed_physical(cfg: Config, rt: Runtime, p: dict[str, Any], host: str, tls: TlsFiles,
                   say: Say, seconds: dict[str, float]) -> str:
    mdb = rt.mariadb
    assert mdb is not None
    into = cfg.mariadb_dir / "seed"
    shutil.rmtree(into, ignore_errors=True)
    say(f"copying the primary's data files (mariadb-backup over TLS, "
        f"{p.get('database_bytes', 0) / 1_048_576:.0f} MB of shop data) ...")
    t0 = time.monotonic()
    try:
        position = physical.fetch(host, int(p["stream_port"]), p["stream_secret"],
                                  tls.peer_ca, into)
        seconds["copy_seconds"] = round(time.monotonic() - t0, 2)
        t1 = time.monotonic()
        physical.install(mdb, into, cfg)
        seconds["install_seconds"] = round(time.monotonic() - t1, 2)
    except physical.PhysicalSeedError as e:
        raise SeedError(f"the physical copy failed: {e}") from e
    finally:
        shutil.rmtree(into, ignore_errors=True)
    rt.apply_fencing()
    dbops.reset_binlog(mdb)
    with dbops.admin(mdb) as cur:
        cur.execute("SET GLOBAL gtid_slave_pos = %s", (position,))
    say(f"  copied in {seconds['copy_seconds']:.1f}s, installed in "
        f"{seconds['install_seconds']:.1f}s")
    return position


def _seed(cfg: Config, rt: Runtime, p: dict[str, Any], host: str, tls: TlsFiles, say: Say,
          seconds: dict[str, float]) -> str:
    mdb = rt.mariadb
    assert mdb is not None
    db = cfg.database.name
    with dbops.admin(mdb) as cur:  # a clean slate, not in any binary log
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        cur.execute(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 "
                    "COLLATE utf8mb4_unicode_ci")
    dbops.reset_binlog(mdb)  # then no binary log holds a GTID the empty position would lack
    with dbops.admin(mdb) as cur:
        cur.execute("SET GLOBAL gtid_slave_pos = ''")
    remote = DbTarget(database=db, user=p["user"], password=p["password"], host=host,
                      port=int(p["db_port"]), admin=False, ssl_ca=str(tls.peer_ca))
    work = cfg.data_dir / "tmp"
    work.mkdir(parents=True, exist_ok=True)
    seed_file = work / f"seed-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.sql.gz"
    try:
        say("copying the primary's data (consistent dump over TLS) ...")
        res = dump_to_file(remote, seed_file)
        seconds["dump_seconds"] = round(res.seconds, 2)
        if not res.scanner.gtid:
            raise SeedError("the primary's dump carries no GTID position")
        say(f"  {res.raw_bytes / 1_048_576:.1f} MB in {res.seconds:.1f}s; loading ...")
        seconds["load_seconds"] = round(
            load_file(DbTarget.managed(mdb, db), iter_sql(seed_file)), 2)
    finally:
        with contextlib.suppress(OSError):
            seed_file.unlink()
    return res.scanner.gtid


def _wait_streaming(mdb: Any, timeout: float = 30.0) -> dbops.SlaveStatus:
    deadline = time.monotonic() + timeout
    st = dbops.slave_status(mdb)
    while time.monotonic() < deadline:
        st = dbops.slave_status(mdb)
        if st.io_running == "Yes" and st.sql_running == "Yes":
            return st
        if st.last_sql_error or (st.last_io_error and "1236" in st.last_io_error):
            return st
        time.sleep(0.2)
    return st


# -- rejoin: an old primary becomes the new standby ----------------------------------------------
def rejoin(cfg: Config, *, primary: str | None, username: str, password: str,
           advertise: str | None = None, export_dir: Path | None = None,
           say: Say = print) -> dict[str, Any]:
    """Compare histories with the new primary, show and export what only this server has,
    then replicate from the new primary (re-seeded when the histories differ)."""
    new_primary = primary or cfg.replication.peer
    if not new_primary:
        raise SeedError("which server is the primary now? give --primary https://HOST:8643")
    h = peer.health(new_primary, timeout=5)
    if not h.reachable or h.role != ServerRole.PRIMARY.value:
        raise SeedError(f"{new_primary} is not an answering primary "
                        f"({h.error or 'role ' + str(h.role)})")
    token = peer.login(new_primary, username, password)
    theirs = peer.checked(new_primary, "GET", "/replication/position", token=token)
    rt = Runtime(cfg)
    try:
        rt.start_database()
        mdb = rt.mariadb
        assert mdb is not None
        mine = dbops.gtids(mdb)
        only = gtid.only_on(mine["gtid_binlog_state"], theirs["gtid_binlog_state"])
        orphans = _orphans(rt, new_primary, token) if only else []
    finally:
        rt.stop_database()
    export = None
    if only:
        n = sum(seq - have for _d, _s, have, seq in only)
        say(f"this server holds {n} transaction(s) the new primary does not have "
            f"({', '.join(f'{d}-{s}-{have + 1}..{seq}' for d, s, have, seq in only)}): "
            "written while the standby was not acknowledging")
        export = _export(cfg, export_dir, orphans, only)
        for o in orphans:
            say(f"  {o['at']}  counter {o.get('counter') or '-':<4} {o['what']}")
        say(f"  exported to {export} — re-enter them on the new primary if they are real "
            "sales; this server is now re-seeded from the new primary")
    else:
        say("histories agree: this server holds nothing the new primary lacks")
    res = attach(cfg, primary=new_primary, username=username, password=password,
                 advertise=advertise, seed=bool(only), say=say)
    return {**res, "only_here": len(orphans), "export": str(export) if export else None,
            "reseeded": bool(only)}


def _orphans(rt: Runtime, new_primary: str, token: str) -> list[dict[str, Any]]:
    """The counters' writes (sales, refunds, recharges …) only this server has: every such
    write left an idempotency record in its transaction; the new primary lacks its key."""
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=ORPHAN_DAYS)
    mdb = rt.mariadb
    assert mdb is not None
    with dbops.admin(mdb) as cur:
        cur.execute(f"SELECT i.`key`, i.endpoint, i.status_code, i.response, i.created_at, "
                    f"s.username FROM `{rt.config.database.name}`.idempotency_keys i LEFT JOIN "
                    f"`{rt.config.database.name}`.staff s ON s.id = i.staff_id "
                    "WHERE i.created_at >= %s AND i.status_code < 300 ORDER BY i.created_at",
                    (since,))
        rows = cur.fetchall()
    missing: set[str] = set()
    for i in range(0, len(rows), KNOWN_KEYS_BATCH):
        keys = [r[0] for r in rows[i:i + KNOWN_KEYS_BATCH]]
        known = peer.checked(new_primary, "POST", "/replication/known-keys", {"keys": keys},
                             token=token)
        missing |= set(keys) - set(known["known"])
    out = []
    for key, endpoint, status, response, created_at, username in rows:
        if key not in missing:
            continue
        try:
            body = json.loads(response) if response else None
        except ValueError:
            body = None
        out.append({"key": key, "endpoint": endpoint, "status": status,
                    "at": f"{created_at:%Y-%m-%d %H:%M:%S} UTC", "staff": username,
                    "counter": (body or {}).get("counter") if isinstance(body, dict) else None,
                    "what": describe(endpoint, body), "response": body})
    return out


def describe(endpoint: str, body: Any) -> str:
    """'sale 20261201-01-0042 ¥25.00' — a line the owner can act on."""
    b = body if isinstance(body, dict) else {}
    number = b.get("number") or b.get("sale_number") or ""
    total = b.get("total") if "total" in b else b.get("amount")
    money = f" ¥{int(total) / 100:.2f}" if isinstance(total, int) else ""
    kind = endpoint.split(" ", 1)[-1].removeprefix("/api/v1/")
    return f"{kind} {number}{money}".strip()


def _export(cfg: Config, export_dir: Path | None, orphans: list[dict[str, Any]],
            only: list[tuple[int, int, int, int]]) -> Path:
    d = export_dir or cfg.data_dir
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"only-on-old-primary-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps({"gtids": [f"{a}-{b}-{c + 1}..{e}" for a, b, c, e in only],
                                "writes": orphans}, ensure_ascii=False, indent=2),
                    encoding="utf-8")
    return path
