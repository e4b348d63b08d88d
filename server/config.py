"""Per-machine configuration: the data directory and its ``lanpos.toml``.

Data directory: ``--data-dir DIR``, else ``$LANPOS_DATA_DIR``, else
``~/.local/share/lanpos`` (``%LOCALAPPDATA%\\lanpos`` on Windows).

``<data_dir>/lanpos.toml`` (written by ``lanpos-server init``, mode 0600 because it holds the
database passwords)::

    [server]
    host = "0.0.0.0"          # the LAN address counters connect to: TLS only (ops/tlsfront.py)
    port = 8600               # plain HTTP, on 127.0.0.1 only (this machine's tools, tests)
    tls = true                # the TLS front (nginx); false: this machine only, no LAN access
    tls_port = 0              # the counters' port, https; 0 = port + 43 (8643)
    workers = 0               # API worker processes (0 = one per core)
    threads = 16              # waitress threads in each worker

    [database]
    url = ""                  # empty: managed MariaDB below; else mysql+pymysql://user:pw@host/db
    name = "lanpos"
    managed_port = 3407       # port of the managed MariaDB (127.0.0.1 only)
    server_id = 1
    app_user = "lanpos"
    app_password = "..."      # generated
    root_password = "..."     # generated, managed instance only

    [security]
    token_ttl_hours = 16      # a login lasts a working day
    max_failed_logins = 5     # wrong passwords within the window, then the account is locked
    lockout_minutes = 15      # ... for this long
    max_failed_logins_per_address = 10  # failed logins from one computer within the window,
                              # then it is refused (429) whatever account it tries; keep it
                              # above max_failed_logins: one address locks at most 10 // 5 = 2
    login_window_minutes = 15 # the window both limits count in (README "登录与账号锁定")

    [shop]
    name = "..."              # seeds the shop name in the database at init/demo (the shop
                              # settings, GET/PUT /settings/shop, are the source afterwards)
    timezone = ""             # the shop's IANA time zone, e.g. "Asia/Shanghai"; empty = this
                              # machine's: the business day, backup schedule, `restore --to`,
                              # reports' days (server/clock.py)

    [backup]                  # see server/backup/ and README "Operating: backup, restore"
    enabled = true            # the scheduler inside `lanpos-server run`
    dir = ""                  # empty: <data_dir>/backups
    daily_at = "03:00"        # a daily backup at this shop time (missed: at the next start)
    interval_hours = 4        # plus one every N hours within opening hours (0 = off)
    open_at = "09:00"
    close_at = "22:00"
    keep_last = 7             # retention: the newest K, plus the newest of each of the last
    keep_daily = 14           # ... D days,
    keep_weekly = 8           # ... W weeks,
    keep_monthly = 12         # ... M months; the newest verified backup is never deleted
    destinations = []         # extra folders (USB disk, NAS): an encrypted copy of each backup
    verify_after_backup = true  # test-restore each new backup in a throwaway MariaDB
    compress_level = 1        # gzip level 1-9 (1: fastest, the dump is the bottleneck otherwise)
    scratch_dir = ""          # throwaway instances for verify; empty: <data_dir>/tmp

    [replication]             # the standby pair: README "Standby server and failover"
    peer = ""                 # the other server's API address (set by pairing)
    listen = "127.0.0.1"      # the managed MariaDB's address; "0.0.0.0" once a standby is paired
    semi_sync = false         # primary: acknowledge a sale only once the standby has it
    semi_sync_timeout_ms = 3000  # standby silent this long: the primary sells alone (warns)
    advertise = ""            # this server's API address as the other server reaches it
"""

from __future__ import annotations

import os
import secrets
import sys
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

DEFAULT_API_PORT = 8600
TLS_PORT_OFFSET = 43  # the TLS port when none is set: 8600 -> 8643
LOOPBACK = "127.0.0.1"
DEFAULT_DB_PORT = 3407
CONFIG_NAME = "lanpos.toml"
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux


def default_data_dir() -> Path:
    env = os.environ.get("LANPOS_DATA_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "lanpos"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "lanpos"


@dataclass
class ServerSection:
    """``[server]``. Plain HTTP is served on 127.0.0.1 only; every other address gets TLS from
    the managed nginx in front (``server.ops.tlsfront``), on ``host``:``effective_tls_port``."""

    host: str = "0.0.0.0"  # where the TLS front listens (counters connect here)
    port: int = DEFAULT_API_PORT  # plain HTTP on 127.0.0.1 (waitress)
    tls: bool = True
    tls_port: int = 0  # 0: port + TLS_PORT_OFFSET
    workers: int = 0  # API worker processes; 0 = one per core (Windows: served in-process)
    threads: int = 16  # waitress threads per worker

    @property
    def effective_tls_port(self) -> int:
        return self.tls_port or self.port + TLS_PORT_OFFSET

    def api_url(self, host: str) -> str:
        """This server's address as a machine on the LAN uses it (https on the TLS port)."""
        host = f"[{host}]" if ":" in host else host
        return f"https://{host}:{self.effective_tls_port}"


@dataclass
class DatabaseSection:
    url: str = ""
    name: str = "lanpos"
    managed_port: int = DEFAULT_DB_PORT
    server_id: int = 1
    app_user: str = "lanpos"
    app_password: str = ""
    root_password: str = ""


@dataclass
class SecuritySection:
    token_ttl_hours: int = 16
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    max_failed_logins_per_address: int = 10
    login_window_minutes: int = 15
    # Argon2id cost; the defaults follow argon2-cffi's RFC 9106 "low memory" profile.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536


@dataclass
class ShopSection:
    """``[shop]``. ``name`` only seeds the shop name in the database at ``init`` / ``demo``
    when the database has none: the shop settings (``GET/PUT /settings/shop``, edited in the
    back office) are its source. ``timezone`` is the shop's IANA time zone (e.g.
    ``Asia/Shanghai``; empty = this machine's zone): the one clock of the business day, the
    backup schedule, ``restore --to`` and reports' days (``server.clock``). It replaces
    ``[backup] timezone``, which is still read from older files."""

    name: str = "lanpos 门店"
    timezone: str = ""


@dataclass
class BackupSection:
    enabled: bool = True
    dir: str = ""
    daily_at: str = "03:00"
    interval_hours: int = 4
    open_at: str = "09:00"
    close_at: str = "22:00"
    keep_last: int = 7
    keep_daily: int = 14
    keep_weekly: int = 8
    keep_monthly: int = 12
    destinations: list[str] = field(default_factory=list)
    verify_after_backup: bool = True
    compress_level: int = 1
    scratch_dir: str = ""


@dataclass
class ReplicationSection:
    """``[replication]``: the standby pair (issue 13). Written by ``standby init`` (on the
    standby) and by the pairing (on the primary); the replication account itself lives in the
    standby's MariaDB (``CHANGE MASTER``), not here."""

    peer: str = ""  # the other server's API address, e.g. http://192.168.1.11:8600
    listen: str = "127.0.0.1"  # where the managed MariaDB listens (0.0.0.0 once paired)
    semi_sync: bool = False  # primary: a commit waits until the standby has received it
    semi_sync_timeout_ms: int = 3000  # ... but no longer: then the primary sells alone
    advertise: str = ""  # this server's API address as the other one reaches it


SECTIONS = ("server", "database", "security", "shop", "backup", "replication")


@dataclass
class Config:
    data_dir: Path
    server: ServerSection = field(default_factory=ServerSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    security: SecuritySection = field(default_factory=SecuritySection)
    shop: ShopSection = field(default_factory=ShopSection)
    backup: BackupSection = field(default_factory=BackupSection)
    replication: ReplicationSection = field(default_factory=ReplicationSection)

    @property
    def path(self) -> Path:
        return self.data_dir / CONFIG_NAME

    @property
    def managed(self) -> bool:
        return not self.database.url

    @property
    def mariadb_dir(self) -> Path:
        return self.data_dir / "mariadb"

    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    @property
    def backup_dir(self) -> Path:
        if self.backup.dir:
            return Path(self.backup.dir).expanduser()
        return self.data_dir / "backups"

    def exists(self) -> bool:
        return self.path.exists()

    @classmethod
    def load(cls, data_dir: Path | str | None = None) -> Config:
        data_dir = Path(data_dir).expanduser() if data_dir else default_data_dir()
        cfg = cls(data_dir=data_dir.resolve())
        if cfg.path.exists():
            with cfg.path.open("rb") as f:
                raw = tomllib.load(f)
            cfg._apply(raw)
            # before [shop] timezone there was [backup] timezone: it is the shop's zone
            legacy_tz = raw.get("backup", {}).get("timezone")
            if legacy_tz and not cfg.shop.timezone:
                cfg.shop.timezone = str(legacy_tz)
        return cfg

    def _apply(self, raw: dict[str, Any]) -> None:
        """Set the known keys of each section from ``raw`` (unknown keys are ignored)."""
        for section in SECTIONS:
            obj = getattr(self, section)
            known = {f.name for f in fields(obj)}
            for key, value in raw.get(section, {}).items():
                if key in known:
                    setattr(obj, key, value)

    def to_dict(self) -> dict[str, Any]:
        """The effective configuration (command-line overrides included) as plain data: what
        the supervisor hands its worker processes."""
        return {"data_dir": str(self.data_dir),
                **{section: asdict(getattr(self, section)) for section in SECTIONS}}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Config:
        cfg = cls(data_dir=Path(raw["data_dir"]))
        cfg._apply(raw)
        return cfg

    # [replication] changes while the server runs (pairing, promotion, switchover), in one
    # process or another: the file is its source, read fresh, changed key by key
    def fresh_replication(self) -> ReplicationSection:
        """``[replication]`` as the file says now (a worker's copy is from its start)."""
        if not self.path.exists():
            return self.replication
        self.replication = Config.load(self.data_dir).replication
        return self.replication

    def save_replication(self, **changes: Any) -> None:
        """Change these ``[replication]`` keys in the file (and here), nothing else."""
        fresh = Config.load(self.data_dir) if self.exists() else self
        for key, value in changes.items():
            setattr(fresh.replication, key, value)
            setattr(self.replication, key, value)
        fresh.save()

    def ensure_secrets(self) -> None:
        if not self.database.app_password:
            self.database.app_password = secrets.token_urlsafe(18)
        if self.managed and not self.database.root_password:
            self.database.root_password = secrets.token_urlsafe(18)

    def save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = ["# lanpos configuration - see README.md 'Configuration'"]
        for section in SECTIONS:
            out.append(f"\n[{section}]")
            for key, value in asdict(getattr(self, section)).items():
                out.append(f"{key} = {_toml_value(value)}")
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
        if os.name == "posix":
            os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        d = self.database
        base = f"mysql+pymysql://{quote_plus(d.app_user)}:{quote_plus(d.app_password)}"
        sock = self.mariadb_dir / "mariadb.sock"
        if os.name == "posix" and len(str(sock)) <= MAX_SOCKET_PATH:
            # the unix socket: no TCP stack per statement (~60 µs each; a sale makes ~30)
            return f"{base}@localhost/{d.name}?charset=utf8mb4&unix_socket={quote_plus(str(sock))}"
        return f"{base}@127.0.0.1:{d.managed_port}/{d.name}?charset=utf8mb4"


def _toml_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    s = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'
