"""Bringing a server up: config → database (managed or external) → migrations. The app is
``server.app.create_app(runtime.config, runtime.connect())`` (this module never imports the
app or the API: the backup service and the CLI build on it).

Shared by every CLI command and by the tests, so that tests run the very code a shop runs.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.config import Config, ReplicationSection
from server.db import migrate
from server.db.session import make_engine, make_session_factory
from server.ops.lock import FileLock
from server.ops.mariadb import ManagedMariaDB, pick_free_port, port_is_free
from server.ops.tls import TlsFiles, ensure_certificates
from server.replication import peer
from server.roles import database_writable
from server.state import SharedState

log = logging.getLogger(__name__)


def replication_settings(r: ReplicationSection) -> dict[str, str]:
    """The managed MariaDB's replication settings (both roles: a switchover swaps them).

    Semi-sync waits at ``AFTER_SYNC`` — set explicitly: MariaDB's default ``AFTER_COMMIT``
    lets other sessions see (and a counter be told about) a commit the standby never got, which
    a failover then loses. The primary waits only while a standby is paired."""
    return {
        "rpl_semi_sync_master_enabled": "ON" if r.semi_sync else "OFF",
        "rpl_semi_sync_master_wait_point": "AFTER_SYNC",
        "rpl_semi_sync_master_timeout": str(max(100, int(r.semi_sync_timeout_ms))),
        "rpl_semi_sync_slave_enabled": "ON",
        # a standby notices a dead primary within seconds, not the default minute
        "slave_net_timeout": "10",
        "slave_parallel_threads": "0",
    }


class ServerRunning(RuntimeError):
    """A second server was started on a data directory that is already being served."""


@dataclass
class Runtime:
    config: Config
    mariadb: ManagedMariaDB | None = None
    engine: Engine | None = None
    _factory: sessionmaker[Session] | None = field(default=None, repr=False)
    writable: bool = True  # the database takes writes (apply_fencing)

    def __post_init__(self) -> None:
        # https to the other server of the pair trusts the CA pinned at pairing, only that
        peer.use_trust(TlsFiles(self.config.tls_dir).peer_ca)

    # -- database ----------------------------------------------------------------------------
    def managed_instance(self) -> ManagedMariaDB:
        d = self.config.database
        return ManagedMariaDB(self.config.mariadb_dir, d.managed_port,
                              root_password=d.root_password, server_id=d.server_id,
                              bind_address=self.config.replication.listen, read_only=True,
                              tls=ensure_certificates(self.config.tls_dir),
                              extra_settings=replication_settings(self.config.replication))

    def apply_fencing(self) -> bool:
        """Make the managed database writable iff this server is the primary of the newest
        epoch it knows (its shared state); read-only otherwise. Called after every start of
        the database (it boots read-only) and by the replication monitor. Returns whether the
        database takes writes. An external database is not fenced here (the app user cannot
        change ``read_only``): the API's role check still refuses writes."""
        if self.mariadb is None:
            return True
        with contextlib.closing(SharedState.for_data_dir(self.config.data_dir)) as shared:
            self.writable = database_writable(shared.snapshot())
        self.mariadb.set_read_only(not self.writable)
        return self.writable

    def start_database(self) -> None:
        """Start the managed MariaDB (creating it on first use) and make sure the shop
        database and the application user exist. No-op for an external database."""
        cfg = self.config
        if not cfg.managed:
            return
        cfg.ensure_secrets()
        mdb = self.managed_instance()
        fresh = not mdb.is_initialized()
        if fresh:
            if mdb.running_pid() is None and not port_is_free(cfg.database.managed_port):
                cfg.database.managed_port = pick_free_port(cfg.database.managed_port + 1)
                mdb.port = cfg.database.managed_port
            mdb.root_password = ""
        cfg.save()
        mdb.start()
        if fresh:
            mdb.secure_root(cfg.database.root_password)
        mdb.ensure_app_database(cfg.database.name, cfg.database.app_user,
                                cfg.database.app_password)
        self.mariadb = mdb
        self.apply_fencing()

    def stop_database(self, adopted_too: bool = False) -> None:
        """Disconnect, and stop the managed MariaDB if this runtime started it. An instance
        that was already running (a live ``lanpos-server run`` uses it) is left alone unless
        ``adopted_too`` — only the server that holds the data directory's lock passes that."""
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        if self.mariadb is not None:
            if self.mariadb.started_here or adopted_too:
                self.mariadb.stop()
            self.mariadb = None

    def server_lock(self):
        """Hold ``<data_dir>/server.lock`` for the life of a server process; raises
        ``ServerRunning`` if another lanpos server already serves this data directory."""
        lock = FileLock(self.config.data_dir / "server.lock")
        if not lock.acquire():
            raise ServerRunning(
                f"another lanpos server is already running on {self.config.data_dir}")
        return contextlib.closing(lock)

    def connect(self) -> Engine:
        if self.engine is None:
            self.engine = make_engine(self.config.database_url(),
                                      pool_size=self.config.server.threads + 2)
            self._factory = make_session_factory(self.engine)
        return self.engine

    @property
    def session_factory(self) -> sessionmaker[Session]:
        self.connect()
        assert self._factory is not None
        return self._factory

    def migrate(self) -> bool:
        """Bring the schema to head. Returns True if anything was applied."""
        engine = self.connect()
        if not migrate.needs_upgrade(engine):
            return False
        before = migrate.current_revision(engine)
        for hook in self.pre_migration_hooks:
            hook(self, before)
        log.info("migrating database schema from %s to %s", before, migrate.head_revision())
        migrate.upgrade(engine)
        return True

    # Called with (runtime, current_revision) before a migration runs: the backup issue
    # hooks a safety backup in here.
    pre_migration_hooks: list = field(default_factory=list)

    def up(self) -> Engine:
        """Database started, connected and migrated (a standby's schema comes from its
        primary, by replication: it never migrates)."""
        self.start_database()
        engine = self.connect()
        if self.writable:
            self.migrate()
        return engine
