"""Replication statements on the managed MariaDB (as its root, over the unix socket).

Everything here is MariaDB's own machinery: GTID replication (``MASTER_USE_GTID=slave_pos``)
over TLS, semi-sync (built into MariaDB >= 10.3), ``read_only``. Account statements run with
``sql_log_bin = 0``: accounts are per machine and never replicated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from server.ops.mariadb import ManagedMariaDB

REPL_USER = "lanpos_repl"


@contextlib.contextmanager
def admin(mdb: ManagedMariaDB, timeout: int = 5) -> Iterator[Any]:
    conn = mdb.admin_connect(connect_timeout=timeout)
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def variables(mdb: ManagedMariaDB, *names: str) -> dict[str, Any]:
    with admin(mdb) as cur:
        cur.execute("SELECT " + ", ".join(f"@@global.{n}" for n in names))
        row = cur.fetchone()
    return dict(zip(names, row, strict=True))


def status(mdb: ManagedMariaDB, *names: str) -> dict[str, str]:
    with admin(mdb) as cur:
        cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN ("
                    + ", ".join(["%s"] * len(names)) + ")", names)
        return {k: v for k, v in cur.fetchall()}


@dataclass(frozen=True)
class SlaveStatus:
    configured: bool
    master_host: str = ""
    master_port: int = 0
    io_running: str = "No"  # Yes | No | Connecting
    sql_running: str = "No"
    seconds_behind: int | None = None
    last_io_error: str = ""
    last_sql_error: str = ""
    gtid_io_pos: str = ""  # what the IO thread has received
    relay_drained: bool = True  # the SQL thread has applied all it received

    @property
    def error(self) -> str:
        return self.last_sql_error or self.last_io_error


def slave_status(mdb: ManagedMariaDB) -> SlaveStatus:
    with admin(mdb) as cur:
        cur.execute("SHOW SLAVE STATUS")
        row = cur.fetchone()
        if row is None:
            return SlaveStatus(configured=False)
        cols = [d[0] for d in cur.description]
    r = dict(zip(cols, row, strict=True))
    drained = (r.get("Master_Log_File") == r.get("Relay_Master_Log_File")
               and int(r.get("Read_Master_Log_Pos") or 0)
               == int(r.get("Exec_Master_Log_Pos") or 0))
    sbm = r.get("Seconds_Behind_Master")
    return SlaveStatus(
        configured=bool(r.get("Master_Host")), master_host=r.get("Master_Host") or "",
        master_port=int(r.get("Master_Port") or 0),
        io_running=r.get("Slave_IO_Running") or "No",
        sql_running=r.get("Slave_SQL_Running") or "No",
        seconds_behind=None if sbm is None else int(sbm),
        last_io_error=r.get("Last_IO_Error") or "", last_sql_error=r.get("Last_SQL_Error") or "",
        gtid_io_pos=r.get("Gtid_IO_Pos") or "", relay_drained=drained)


def gtids(mdb: ManagedMariaDB) -> dict[str, str]:
    v = variables(mdb, "gtid_binlog_pos", "gtid_slave_pos", "gtid_current_pos",
                  "gtid_binlog_state")
    return {k: str(val or "") for k, val in v.items()}


def wait_quiet(mdb: ManagedMariaDB, user: str, timeout: float = 10.0) -> bool:
    """Wait until no session of ``user`` runs a statement (True) or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with admin(mdb) as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s "
                        "AND COMMAND <> 'Sleep'", (user,))
            if cur.fetchone()[0] == 0:
                return True
        time.sleep(0.05)
    return False


# -- the primary's side -------------------------------------------------------------------------
def create_replication_user(mdb: ManagedMariaDB, host: str, database: str) -> tuple[str, str]:
    """The standby's account, allowed from its address only, TLS required. It may replicate
    and read the shop database (the seed is a consistent dump over the same TLS connection):
    no more than replication itself sends it. Returns (user, password)."""
    password = secrets.token_urlsafe(24)
    with admin(mdb) as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("DROP USER IF EXISTS %s@%s", (REPL_USER, host))
        cur.execute("CREATE USER %s@%s IDENTIFIED BY %s REQUIRE SSL",
                    (REPL_USER, host, password))
        cur.execute("GRANT REPLICATION SLAVE, REPLICATION SLAVE ADMIN, BINLOG MONITOR, "
                    "RELOAD ON *.* TO %s@%s", (REPL_USER, host))
        cur.execute(f"GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON `{database}`.* "
                    "TO %s@%s", (REPL_USER, host))
        cur.execute("FLUSH PRIVILEGES")
    return REPL_USER, password


def replication_hosts(mdb: ManagedMariaDB) -> list[str]:
    with admin(mdb) as cur:
        cur.execute("SELECT Host FROM mysql.user WHERE User = %s", (REPL_USER,))
        return [r[0] for r in cur.fetchall()]


def set_semi_sync_master(mdb: ManagedMariaDB, on: bool, timeout_ms: int) -> None:
    with admin(mdb) as cur:
        cur.execute("SET GLOBAL rpl_semi_sync_master_wait_point = 'AFTER_SYNC'")
        cur.execute(f"SET GLOBAL rpl_semi_sync_master_timeout = {int(timeout_ms)}")
        cur.execute(f"SET GLOBAL rpl_semi_sync_master_enabled = {1 if on else 0}")


@dataclass(frozen=True)
class SemiSync:
    enabled: bool
    active: bool  # Rpl_semi_sync_master_status: waiting for the standby (not fallen back)
    clients: int
    wait_point: str


def semi_sync(mdb: ManagedMariaDB) -> SemiSync:
    v = variables(mdb, "rpl_semi_sync_master_enabled", "rpl_semi_sync_master_wait_point")
    st = status(mdb, "Rpl_semi_sync_master_status", "Rpl_semi_sync_master_clients")
    return SemiSync(enabled=bool(int(v["rpl_semi_sync_master_enabled"])),
                    active=str(st.get("Rpl_semi_sync_master_status", "OFF")).upper() == "ON",
                    clients=int(st.get("Rpl_semi_sync_master_clients", 0) or 0),
                    wait_point=str(v["rpl_semi_sync_master_wait_point"]))


# -- the standby's side -------------------------------------------------------------------------
def change_master(mdb: ManagedMariaDB, *, host: str, port: int, user: str, password: str,
                  ca_file: str, slave_pos: str | None = None) -> None:
    with admin(mdb) as cur:
        cur.execute("STOP SLAVE")
        cur.execute("RESET SLAVE ALL")
        if slave_pos is not None:
            cur.execute("SET GLOBAL gtid_slave_pos = %s", (slave_pos,))
        cur.execute(
            "CHANGE MASTER TO MASTER_HOST = %s, MASTER_PORT = %s, MASTER_USER = %s, "
            "MASTER_PASSWORD = %s, MASTER_SSL = 1, MASTER_SSL_CA = %s, "
            "MASTER_SSL_VERIFY_SERVER_CERT = 0, MASTER_USE_GTID = slave_pos, "
            "MASTER_CONNECT_RETRY = 2, MASTER_HEARTBEAT_PERIOD = 2",
            (host, int(port), user, password, ca_file))
        cur.execute("START SLAVE")


def stop_replication(mdb: ManagedMariaDB, forget: bool = True) -> None:
    with admin(mdb) as cur:
        cur.execute("STOP SLAVE")
        if forget:
            cur.execute("RESET SLAVE ALL")


def reset_binlog(mdb: ManagedMariaDB) -> None:
    """Forget this instance's own binary log (a fresh standby before its seed: anything in it
    — the accounts just made — would be errant transactions)."""
    with admin(mdb) as cur:
        cur.execute("RESET MASTER")


def last_sale(mdb: ManagedMariaDB, database: str) -> tuple[str, dt.datetime] | None:
    with admin(mdb) as cur:
        cur.execute(f"SELECT number, created_at FROM `{database}`.sales "
                    "ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
    if row is None:
        return None
    at = row[1]
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return str(row[0]), at
