"""Standby server and guided failover (issue 13), with real parts: two real ``lanpos-server
run`` processes on this machine, each with its own managed MariaDB, data directory and ports,
paired by ``lanpos-server standby init``; counters ringing sales through them over HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterator

import pymysql
import pytest
import requests

from bench.env import ServerProcess
from bench.pair import OWNER_PW, Pair, cli, db_conn, finish, kill_hard, ring, sale_counts
from client.api import ApiClient, normalize_server
from common import tlspin
from common.schemas.replication import CLUSTER_HEADER, EPOCH_HEADER, ROLE_HEADER
from server.config import Config
from server.ops.mariadb import pick_free_port
from server.ops.tls import TlsFiles
from server.state import SharedState


@pytest.fixture
def pair(tmp_path, request) -> Iterator[Pair]:
    code = request.node.get_closest_marker("pairing_code") is not None
    physical = request.node.get_closest_marker("physical_seed") is not None
    tls = request.node.get_closest_marker("tls_pair") is not None
    p = Pair(tmp_path).start(pairing_code=code, seed="physical" if physical else "auto",
                             tls=tls)
    try:
        yield p
    finally:
        p.stop()


def _sale(url: str, token: str, product: int, epoch: int | None = None,
          cluster: str | None = None) -> requests.Response:
    sid = str(uuid.uuid4())
    h = {"Authorization": f"Bearer {token}", "Idempotency-Key": sid}
    if epoch is not None:
        h[EPOCH_HEADER] = str(epoch)
    if cluster is not None:
        h[CLUSTER_HEADER] = cluster
    return requests.post(url + "/sales", json={
        "id": sid, "lines": [{"product_id": product, "qty": 1}],
        "payments": [{"method": "cash", "amount": 300}]}, headers=h, timeout=15)


def _variables(data, *names: str) -> dict:
    conn = db_conn(data)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT " + ", ".join(f"@@global.{n}" for n in names))
            return dict(zip(names, cur.fetchone(), strict=True))
    finally:
        conn.close()


def _root_sql(data, sql: str, *params) -> list[tuple]:
    conn = db_conn(data)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        conn.close()


# -- pairing ---------------------------------------------------------------------------------
@pytest.mark.tls_pair
def test_a_pair_over_tls_pins_each_other_and_tells_counters_the_standby(pair: Pair, tmp_path):
    """Two machines' way (issue 16): the standby pinned the primary by the fingerprint the
    primary shows, each trusts the other's CA, and a counter that pinned only the primary
    learns the standby and its certificate from the primary, then reads from it over TLS."""
    p_tls, s_tls = TlsFiles(pair.p_dir / "tls"), TlsFiles(pair.s_dir / "tls")
    assert "trusting the primary's certificate " + p_tls.fingerprint() in pair.init_output
    assert tlspin.ca_fingerprint(s_tls.peer_ca.read_text()) == p_tls.fingerprint()
    assert tlspin.ca_fingerprint(p_tls.peer_ca.read_text()) == s_tls.fingerprint()
    standby_url = pair.standby.https_url()
    assert Config.load(pair.p_dir).replication.peer == standby_url.removesuffix("/api/v1")
    assert Config.load(pair.s_dir).replication.peer == pair.primary.https_url().removesuffix(
        "/api/v1")

    primary_url = pair.primary.https_url()
    api = ApiClient([primary_url], pins={primary_url: p_tls.ca_pem()}, max_attempts=1)
    try:
        assert api.login("owner", OWNER_PW).staff.username == "owner"
        assert api.health().replication is not None
        assert normalize_server(standby_url) in api.servers  # learned from the primary
        assert tlspin.ca_fingerprint(api.pins[normalize_server(standby_url)]) == \
            s_tls.fingerprint()
        h = api.health(server=standby_url)  # over TLS, checked against the learned pin
        assert h.role == "standby"
        # and a sale rung over TLS through the primary (counter 01's shift) is on the standby
        api.token = pair.token
        sid = str(uuid.uuid4())
        sale = api.request("POST", "/sales", key=sid, server=primary_url, body={
            "id": sid, "lines": [{"product_id": pair.product(), "qty": 1}],
            "payments": [{"method": "cash", "amount": 300}]})
        assert sale["id"] == sid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sale_counts(pair.s_dir).get(sid) != 1:
            time.sleep(0.2)
        assert sale_counts(pair.s_dir).get(sid) == 1
    finally:
        api.close()

    # a second standby that is given the wrong fingerprint sends nothing to the primary
    events = SharedState.for_data_dir(pair.p_dir)
    before = len(events.events("standby_paired"))
    r = cli("standby", "init", "--primary", primary_url, "--data-dir", str(tmp_path / "s2"),
            "--port", str(pick_free_port(19900)), "--db-port", str(pick_free_port(35900)),
            "--username", "owner", "--password", OWNER_PW, "--fingerprint",
            s_tls.fingerprint())
    assert r.returncode == 2 and "not the one given" in r.stderr, r.stdout + r.stderr
    assert len(events.events("standby_paired")) == before


def test_a_sale_reaches_the_standby_within_a_second_with_semi_sync_after_sync(pair: Pair):
    product = pair.product()
    r = _sale(pair.primary.url, pair.token, product)
    assert r.status_code == 201, r.text
    sale = r.json()
    t0 = time.monotonic()
    while True:  # the owner's token is replicated too: the standby serves reads with it
        got = requests.get(pair.standby.url + f"/sales/{sale['id']}", headers=pair.headers(),
                           timeout=5)
        if got.status_code == 200 or time.monotonic() - t0 > 1.0:
            break
        time.sleep(0.02)
    assert got.status_code == 200, got.text
    assert got.json()["number"] == sale["number"]
    assert got.headers[ROLE_HEADER] == "standby" and got.headers[EPOCH_HEADER] == "1"
    cluster = r.headers[CLUSTER_HEADER]
    assert got.headers[CLUSTER_HEADER] == cluster  # one pair, one cluster id

    # an epoch from another installation (a counter's memory of an old server) fences nothing
    r = _sale(pair.primary.url, pair.token, product, epoch=9, cluster="0123456789abcdef")
    assert r.status_code == 201, r.text
    assert r.headers[ROLE_HEADER] == "primary" and r.headers[EPOCH_HEADER] == "1"
    newest = r.json()["number"]

    # semi-sync on, waiting AFTER_SYNC, and a standby attached; the standby is read-only
    p = _variables(pair.p_dir, "rpl_semi_sync_master_enabled",
                   "rpl_semi_sync_master_wait_point", "read_only", "bind_address")
    assert p == {"rpl_semi_sync_master_enabled": 1,
                 "rpl_semi_sync_master_wait_point": "AFTER_SYNC", "read_only": 0,
                 "bind_address": "0.0.0.0"}
    assert _variables(pair.s_dir, "read_only", "rpl_semi_sync_slave_enabled") == {
        "read_only": 1, "rpl_semi_sync_slave_enabled": 1}
    h = pair.wait(pair.primary, lambda h: h["replication"]["semi_sync"] == "on")
    assert h["replication"]["state"] == "streaming"
    assert not [w for w in h["warnings"] if "备用" in w]
    s = pair.wait(pair.standby, lambda h: h["replication"]["state"] == "streaming")
    assert s["role"] == "standby" and s["epoch"] == 1
    assert s["replication"]["lag_transactions"] == 0

    # the replication account: the standby's address only, TLS required, and TLS in use
    accounts = _root_sql(pair.p_dir, "SELECT Host, JSON_VALUE(Priv, '$.ssl_type') FROM "
                                     "mysql.global_priv WHERE User = 'lanpos_repl'")
    assert accounts == [("127.0.0.1", "1")]  # 1 = REQUIRE SSL
    ssl = _root_sql(pair.s_dir, "SHOW SLAVE STATUS")
    assert ssl, "no replication configured on the standby"
    assert _root_sql(pair.p_dir, "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                 "WHERE USER = 'lanpos_repl'")[0][0] == 1

    # writes on the standby: a clear refusal, nothing written
    r = _sale(pair.standby.url, pair.token, product)
    assert r.status_code == 503 and r.json()["error"]["code"] == "standby_read_only"
    # a counter that starts while only the standby answers can still log in and read: the
    # token is kept in the standby's shared state (its database is a replica)
    r = requests.post(pair.standby.url + "/auth/login",
                      json={"username": "owner", "password": "wrong"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "login_failed"
    r = requests.post(pair.standby.url + "/auth/login",
                      json={"username": "owner", "password": OWNER_PW, "counter": "02"},
                      timeout=10)
    assert r.status_code == 200, r.text
    local = {"Authorization": f"Bearer {r.json()['token']}"}
    me = requests.get(pair.standby.url + "/auth/me", headers=local, timeout=10)
    assert me.status_code == 200 and me.json()["counter"] == "02"
    got = requests.get(pair.standby.url + f"/sales/{sale['id']}", headers=local, timeout=5)
    assert got.status_code == 200 and got.json()["number"] == sale["number"]
    assert requests.get(pair.primary.url + "/auth/me", headers=local,
                        timeout=10).status_code == 401  # the standby's own login
    out = requests.post(pair.standby.url + "/auth/logout", headers=local, timeout=10)
    assert out.status_code == 204
    assert requests.get(pair.standby.url + "/auth/me", headers=local,
                        timeout=10).status_code == 401

    # the owner's dashboard, on either server
    st = requests.get(pair.standby.url + "/replication/status", headers=pair.headers(),
                      timeout=10).json()
    assert st["this"]["role"] == "standby" and st["this"]["io_thread"] == "Yes"
    assert st["this"]["last_sale"]["number"] == newest
    assert st["peer"]["role"] == "primary" and st["peer"]["reachable"] is True
    assert st["this"]["disk_free_bytes"] > 0
    # every worker of the primary knows its standby (not only the one that did the pairing)
    pids: set[str] = set()
    for _ in range(200):
        if len(pids) == 2:
            break
        r = requests.get(pair.primary.url + "/replication/status",
                         headers={**pair.headers(), "Connection": "close"}, timeout=10)
        pids.add(r.headers["X-Lanpos-Process"])
        assert r.json()["peer"]["role"] == "standby", r.json()
    assert len(pids) == 2, pids


def test_kill9_primary_while_20_counters_sell_then_promote_loses_and_doubles_nothing(
        pair: Pair):
    product = pair.product()
    servers = [pair.primary.url, pair.standby.url]
    stop, counters = ring(servers, pair.token, product, 20)
    try:
        deadline = time.monotonic() + 60
        while sum(len(c.acknowledged) for c in counters) < 60 and time.monotonic() < deadline:
            time.sleep(0.1)
        before = sum(len(c.acknowledged) for c in counters)
        kill_hard(pair.primary)  # lanpos and its mariadbd, at once
        time.sleep(1.0)
        r = pair.promote(counter_last_sale=None)
        assert r.status_code == 200, r.text
        promoted = r.json()
        assert promoted["role"] == "primary" and promoted["epoch"] == 2
        assert promoted["backup_job_id"]
        assert {c["code"]: c["ok"] for c in promoted["checks"]} == {
            "is_standby": True, "primary_unreachable": True, "counter_view": True,
            "relay_log_applied": True, "no_errant_gtids": True, "disk_space": True}
        promoted_at = time.monotonic()
        time.sleep(3.0)
        after = sum(len(c.acknowledged) for c in counters)
    finally:
        acked, errors = finish(stop, counters)
    assert not errors, errors[:5]
    assert before >= 60 and after > before
    resumed = min((t for c in counters for t in c.acked_at if t > promoted_at), default=None)
    assert resumed is not None and resumed - promoted_at < 15

    # every acknowledged sale is on the new primary exactly once
    counts = sale_counts(pair.s_dir)
    missing = [s for s in acked if counts.get(s) != 1]
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged sales lost: {missing[:3]}"
    assert len(set(acked)) == len(acked)
    r = cli("verify", "--data-dir", str(pair.s_dir))
    assert r.returncode == 0 and "0 failed" in r.stdout, r.stdout + r.stderr
    h = pair.health(pair.standby)
    assert h["role"] == "primary" and h["epoch"] == 2
    audit = _root_sql(pair.s_dir, "SELECT action FROM audit_log WHERE action = "
                                  "'standby.promote'")
    assert audit == [("standby.promote",)]

    # the old primary comes back: read-only, refuses writes, says why
    pair.primary = ServerProcess(pair.p_dir, port=pair.primary.port, threads=8,
                                 workers=2).start()
    old = pair.health(pair.primary)
    assert old["role"] == "stale" and old["epoch"] == 2
    assert any("rejoin" in w for w in old["warnings"])
    assert _variables(pair.p_dir, "read_only") == {"read_only": 1}
    cluster = requests.get(pair.standby.url + "/health", timeout=5).headers[CLUSTER_HEADER]
    r = _sale(pair.primary.url, pair.token, product, epoch=2, cluster=cluster)
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "stale_primary" and "替代" in err["message"]
    assert _sale(pair.primary.url, pair.token, product).status_code == 409  # no epoch sent

    # rejoin: the old primary becomes the new standby and replicates new sales
    pair.primary.stop()
    r = cli("rejoin", "--data-dir", str(pair.p_dir), "--username", "owner", "--password",
            OWNER_PW, "--primary", pair.standby.url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "rejoined as the standby" in r.stdout
    pair.primary = ServerProcess(pair.p_dir, port=pair.primary.port, threads=8,
                                 workers=2).start()
    h = pair.wait(pair.primary, lambda h: h["replication"]["state"] == "streaming")
    assert h["role"] == "standby" and h["epoch"] == 2
    new_sale = _sale(pair.standby.url, pair.token, product, epoch=2, cluster=cluster)
    assert new_sale.status_code == 201, new_sale.text
    sid = new_sale.json()["id"]
    deadline = time.monotonic() + 5
    while sale_counts(pair.p_dir).get(sid) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sale_counts(pair.p_dir).get(sid) == 1
    assert sale_counts(pair.p_dir) == sale_counts(pair.s_dir)


def test_a_standby_gone_past_the_timeout_primary_sells_alone_and_warns(pair: Pair):
    product = pair.product()
    assert _sale(pair.primary.url, pair.token, product).status_code == 201
    pair.wait(pair.primary, lambda h: h["replication"]["semi_sync"] == "on")
    mdb_pid = int((pair.s_dir / "mariadb" / "mariadbd.pid").read_text())
    os.kill(mdb_pid, signal.SIGSTOP)  # the standby machine hangs
    try:
        t0 = time.monotonic()
        r = _sale(pair.primary.url, pair.token, product)
        waited = time.monotonic() - t0
        assert r.status_code == 201, r.text  # a shop must not stop
        assert waited >= 1.0  # it waited for the standby (timeout 1.5 s) before going alone
        for _ in range(5):
            assert _sale(pair.primary.url, pair.token, product).status_code == 201
        h = pair.wait(pair.primary, lambda h: h["replication"]["semi_sync"] == "fallen_back")
        assert any("备用服务器已断开" in w for w in h["warnings"])
        fell_back_at = h["replication"]["semi_sync_since"]
        assert fell_back_at
    finally:
        os.kill(mdb_pid, signal.SIGCONT)
    # it comes back, catches up, the warning clears, and both times are recorded
    assert _sale(pair.primary.url, pair.token, product).status_code == 201
    h = pair.wait(pair.primary, lambda h: h["replication"]["semi_sync"] == "on", timeout=40)
    assert not [w for w in h["warnings"] if "备用" in w]
    assert h["replication"]["semi_sync_since"] > fell_back_at
    deadline = time.monotonic() + 10
    while sale_counts(pair.s_dir) != sale_counts(pair.p_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sale_counts(pair.s_dir) == sale_counts(pair.p_dir)
    st = requests.get(pair.primary.url + "/replication/status", headers=pair.headers(),
                      timeout=10).json()
    states = [c["state"] for c in st["this"]["semi_sync_fallbacks"]]
    assert states[:2] == ["on", "fallen_back"]


def test_switchover_there_and_back_with_counters_selling(pair: Pair):
    product = pair.product()
    servers = [pair.primary.url, pair.standby.url]
    stop, counters = ring(servers, pair.token, product, 6, pause=0.02)
    try:
        time.sleep(1.0)
        r = cli("switchover", "--data-dir", str(pair.p_dir), "--primary", pair.primary.url,
                "--username", "owner", "--password", OWNER_PW)
        assert r.returncode == 0, r.stdout + r.stderr
        time.sleep(1.5)
        mid = sum(len(c.acknowledged) for c in counters)
        assert pair.health(pair.standby)["role"] == "primary"
        assert pair.health(pair.primary)["role"] == "standby"
        r = cli("switchover", "--data-dir", str(pair.p_dir), "--primary", pair.standby.url,
                "--username", "owner", "--password", OWNER_PW)
        assert r.returncode == 0, r.stdout + r.stderr
        time.sleep(1.5)
    finally:
        acked, errors = finish(stop, counters)
    assert not errors, errors[:5]
    assert len(acked) > mid > 0
    p, s = pair.health(pair.primary), pair.health(pair.standby)
    assert (p["role"], p["epoch"], s["role"], s["epoch"]) == ("primary", 3, "standby", 3)
    deadline = time.monotonic() + 10
    while sale_counts(pair.s_dir) != sale_counts(pair.p_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    counts = sale_counts(pair.p_dir)
    assert all(counts.get(sid) == 1 for sid in acked)
    assert len(counts) == len(acked)  # nothing unacknowledged slipped in, nothing doubled
    assert sale_counts(pair.s_dir) == counts


@pytest.mark.pairing_code
def test_guided_failover_refuses_with_its_reasons(pair: Pair):
    # this pair was made with a one-time pairing code: used up, it pairs nothing more
    assert pair.pairing_code and pair.health(pair.standby)["role"] == "standby"
    r = requests.post(pair.primary.url + "/replication/pair",
                      json={"advertise": "http://127.0.0.1:1", "pairing_code":
                            pair.pairing_code}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "pairing_code_invalid"
    r = requests.post(pair.primary.url + "/replication/pair",
                      json={"advertise": "http://127.0.0.1:1"}, timeout=10)
    assert r.status_code == 401  # neither a code nor the owner's token
    audit = _root_sql(pair.p_dir, "SELECT action, JSON_VALUE(after, '$.with') FROM audit_log "
                                  "WHERE action LIKE 'standby.pair%%' ORDER BY id")
    assert audit == [("standby.pairing_code", None), ("standby.pair", "pairing code")]
    product = pair.product()
    assert _sale(pair.primary.url, pair.token, product).status_code == 201

    # the primary still answers: refused, overridable, nothing changed
    r = pair.promote(primary_reachable_from_counter=True)
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "promote_refused" and "仍有应答" in err["message"]
    checks = {c["code"]: c for c in err["details"]["checks"]}
    assert not checks["primary_unreachable"]["ok"] and checks["primary_unreachable"][
        "overridable"]
    assert not checks["counter_view"]["ok"]
    assert pair.health(pair.standby)["role"] == "standby"
    # without the owner's confirmation: refused
    r = pair.promote(confirm_primary_off=False)
    assert r.status_code == 409 and "确认" in r.json()["error"]["message"]
    # a wrong password: 401
    r = requests.post(pair.standby.url + "/replication/promote", json={
        "username": "owner", "password": "wrong", "confirm_primary_off": True}, timeout=30)
    assert r.status_code == 401

    # the check alone (what the back office shows first) changes nothing
    r = requests.post(pair.standby.url + "/replication/promote/check", headers=pair.headers(),
                      json={"counter_last_sale": "20261201-01-0001",
                            "primary_reachable_from_counter": False}, timeout=30)
    assert r.status_code == 200, r.text
    assert "备用服务器最后一笔销售是" in r.json()["summary"]
    assert "20261201-01-0001" in r.json()["summary"]

    # the standby behind: its SQL thread stopped while sales came in, then the primary died
    _root_sql(pair.s_dir, "STOP SLAVE SQL_THREAD")
    for _ in range(3):
        assert _sale(pair.primary.url, pair.token, product).status_code == 201
    kill_hard(pair.primary)
    time.sleep(0.5)
    r = pair.promote()
    assert r.status_code == 409, r.text
    checks = {c["code"]: c for c in r.json()["error"]["details"]["checks"]}
    assert checks["primary_unreachable"]["ok"]
    assert not checks["relay_log_applied"]["ok"]
    assert "没应用完" in checks["relay_log_applied"]["message"]
    _root_sql(pair.s_dir, "START SLAVE SQL_THREAD")

    # an errant transaction written on the standby itself
    conn = db_conn(pair.s_dir)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS oops (id INT PRIMARY KEY)")
    finally:
        conn.close()
    r = pair.promote()
    assert r.status_code == 409, r.text
    checks = {c["code"]: c for c in r.json()["error"]["details"]["checks"]}
    assert checks["relay_log_applied"]["ok"]
    assert not checks["no_errant_gtids"]["ok"] and not checks["no_errant_gtids"]["overridable"]
    assert pair.health(pair.standby)["role"] == "standby"
    assert Config.load(pair.s_dir).replication.peer  # nothing was changed by the refusals
    # the same refusal from the standby's terminal
    r = cli("promote", "--data-dir", str(pair.s_dir), "--yes")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "[✘] 备用服务器有不属于主服务器的数据" in r.stdout and "refused" in r.stderr
    assert pair.health(pair.standby)["role"] == "standby"


@pytest.mark.physical_seed
def test_a_physical_seed_over_tls_gets_this_machines_own_accounts(pair: Pair):
    """mariadb-backup streamed over TLS (large shops seed this way: bench/README.md)."""
    assert "physical copy" in pair.init_output, pair.init_output
    product = pair.product()
    r = _sale(pair.primary.url, pair.token, product)
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 5
    while sale_counts(pair.s_dir).get(r.json()["id"]) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sale_counts(pair.s_dir) == sale_counts(pair.p_dir)
    assert pair.wait(pair.standby, lambda h: h["replication"]["state"] == "streaming")

    # the copy came with the primary's accounts: the standby has its own now
    p_cfg, s_cfg = Config.load(pair.p_dir), Config.load(pair.s_dir)
    assert p_cfg.database.root_password != s_cfg.database.root_password
    users = _root_sql(pair.s_dir, "SELECT User, Host FROM mysql.user ORDER BY 1, 2")
    assert not [u for u in users if u[0] == "lanpos_repl"], users
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(unix_socket=str(s_cfg.mariadb_dir / "mariadb.sock"), user="root",
                        password=p_cfg.database.root_password).close()
    assert _variables(pair.s_dir, "read_only", "server_id") == {"read_only": 1, "server_id": 2}
    r = cli("verify", "--data-dir", str(pair.s_dir))
    assert r.returncode == 0 and "0 failed" in r.stdout, r.stdout + r.stderr

    # the primary dies; the owner promotes from the standby's terminal
    kill_hard(pair.primary)
    r = cli("promote", "--data-dir", str(pair.s_dir), "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "promoted: this server is now the primary of epoch 2" in r.stdout
    assert "[✔] 备用服务器连不上主服务器" in r.stdout
    h = pair.health(pair.standby)
    assert h["role"] == "primary" and h["epoch"] == 2
    assert _variables(pair.s_dir, "read_only") == {"read_only": 0}
    assert _sale(pair.standby.url, pair.token, product).status_code == 201


def test_rejoin_lists_and_exports_the_sales_only_the_old_primary_has(pair: Pair):
    """Sales acknowledged while semi-sync had fallen back exist only on the old primary: a
    failover loses them from the shop's history, so rejoin shows and exports them first."""
    product = pair.product()
    assert _sale(pair.primary.url, pair.token, product).status_code == 201
    pair.wait(pair.primary, lambda h: h["replication"]["semi_sync"] == "on")
    _root_sql(pair.s_dir, "STOP SLAVE IO_THREAD")  # the standby stops receiving ...
    alone = [_sale(pair.primary.url, pair.token, product) for _ in range(3)]
    assert all(r.status_code == 201 for r in alone)  # (the primary sells alone)
    pair.wait(pair.primary, lambda h: h["replication"]["semi_sync"] == "fallen_back")
    kill_hard(pair.primary)  # ... and then the primary dies
    r = pair.promote()
    assert r.status_code == 200, r.text
    only_old = {s.json()["number"] for s in alone}
    assert not only_old & {n for (n,) in _root_sql(pair.s_dir, "SELECT number FROM sales")}

    pair.primary.proc = None
    r = cli("rejoin", "--data-dir", str(pair.p_dir), "--username", "owner", "--password",
            OWNER_PW, "--primary", pair.standby.url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "transaction(s) the new primary does not have" in r.stdout
    for number in only_old:  # each listed for the owner, with its amount
        assert any(number in line and "¥3.00" in line for line in r.stdout.splitlines()), (
            number, r.stdout)
    export = next(pair.p_dir.glob("only-on-old-primary-*.json"))
    data = json.loads(export.read_text(encoding="utf-8"))
    assert {w["response"]["number"] for w in data["writes"]} == only_old
    assert "(re-seeded)" in r.stdout
    # re-seeded from the new primary: served as its standby, without its own old sales
    pair.primary = ServerProcess(pair.p_dir, port=pair.primary.port, threads=8,
                                 workers=2).start()
    h = pair.wait(pair.primary, lambda h: h["replication"]["state"] == "streaming")
    assert h["role"] == "standby" and h["epoch"] == 2
    assert sale_counts(pair.p_dir) == sale_counts(pair.s_dir)
