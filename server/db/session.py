"""Engine and session factory. One session per request (or per CLI use case)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

# MariaDB error numbers
ER_LOCK_WAIT_TIMEOUT = 1205
ER_LOCK_DEADLOCK = 1213
ER_DUP_ENTRY = 1062
RETRYABLE = {ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK}
# connection lost / can't connect / server gone away / shutdown in progress
CONNECTION_ERRORS = {2002, 2003, 2006, 2013, 2055, 1053, 1927}


LOCK_WAIT_TIMEOUT_S = 10  # every pooled connection's innodb_lock_wait_timeout
PING_IDLE_SECONDS = 30.0  # a connection idle longer than this is pinged before use


def make_engine(url: str, pool_size: int = 10, echo: bool = False) -> Engine:
    """The engine of one process. Two round trips per request are saved (bench/README.md):

    * no ``pool_pre_ping`` on every checkout: only a connection that sat idle in the pool for
      ``PING_IDLE_SECONDS`` is pinged first (a busy pool's connections are known good; one
      that died meanwhile — the database was restarted — fails its request with
      ``503 database_unavailable``, SQLAlchemy drops the whole pool, and the counter's retry
      gets a fresh connection);
    * no reset ``ROLLBACK`` when a connection goes back to the pool: every session ends in a
      COMMIT or a ROLLBACK of its own (``Session.close()`` and ``Connection.close()`` roll back
      a transaction still open), so the pool's extra one is a wasted round trip.
    """
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=3600,  # below MariaDB's wait_timeout (8 h)
        pool_pre_ping=False,
        pool_reset_on_return=None,
        pool_timeout=10,
        isolation_level="REPEATABLE READ",
        connect_args={"connect_timeout": 5, "read_timeout": 60, "write_timeout": 60},
        echo=echo,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - trivial
        with dbapi_conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")
            cur.execute(f"SET SESSION innodb_lock_wait_timeout = {LOCK_WAIT_TIMEOUT_S}")

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn, record):
        record.info["lanpos_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy):
        since = record.info.get("lanpos_idle_since")
        if since is not None and time.monotonic() - since > PING_IDLE_SECONDS:
            try:
                dbapi_conn.ping(False)
            except Exception as e:  # the pool discards it and takes (or makes) another
                raise DisconnectionError("idle connection is gone") from e

    return engine


def lock_row(session: Session, model: type[T], pk: Any) -> T | None:
    """``SELECT … FOR UPDATE`` of one row by primary key, refreshed from the locked read
    (``populate_existing``: a copy loaded earlier in the session may be stale). InnoDB holds
    the lock until the transaction ends, so a second call in the same transaction returns the
    session's copy without another round trip (it is the locked row, with this transaction's
    own changes)."""
    txn = session.get_transaction()
    held = session.info.get("locked_rows")
    if held is None or held[0] is not txn:
        held = (txn, {})  # strong references: the identity map alone would let them go
        session.info["locked_rows"] = held
    key = (model, pk)
    obj = held[1].get(key)
    # reuse the locked copy unless something expired it (a savepoint rollback): a plain
    # reload would read the transaction's snapshot, which may predate the locked read
    if obj is not None and not inspect(obj).expired_attributes:
        return obj
    mapper_pk = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
    obj = session.scalars(select(model).where(mapper_pk == pk).with_for_update()
                          .execution_options(populate_existing=True)).one_or_none()
    if obj is not None:
        held[1][key] = obj
    return obj


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def mysql_errno(exc: BaseException) -> int | None:
    orig = getattr(exc, "orig", exc)
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and mysql_errno(exc) in RETRYABLE


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError) and mysql_errno(exc) in CONNECTION_ERRORS:
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def run_in_transaction(factory: sessionmaker[Session], fn: Callable[[Session], T],
                       attempts: int = 5) -> T:
    """Run ``fn(session)`` and commit; retry the whole unit on deadlock / lock wait time-out."""
    for attempt in range(1, attempts + 1):
        session = factory()
        try:
            result = fn(session)
            session.commit()
            return result
        except DBAPIError as e:
            session.rollback()
            if is_retryable(e) and attempt < attempts:
                time.sleep(0.01 * attempt)
                continue
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    raise AssertionError("unreachable")
