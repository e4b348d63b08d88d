"""The catalogue's version: every catalogue write a counter must learn (a product created or
changed — price, barcodes, active… — or a level price) takes the next version under the
``catalog_state`` row's lock and stamps the products it changed with it
(``Product.changed_seq``). The lock is held until the write commits, so versions follow
commit order: a reader that sees version v in its snapshot sees every change up to v and
none after (``catalog_sync.snapshot``).

Only the db layer below: ``catalog`` and ``members`` call :func:`bump`."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from server.db.catalog import Product


def bump(session: Session, product_ids: Iterable[int]) -> int:
    """Take the next version and stamp these products with it; returns the version. The
    caller has flushed the products (they have ids)."""
    ids = sorted(set(product_ids))
    done = session.execute(text(
        "UPDATE catalog_state SET version = LAST_INSERT_ID(version + 1) WHERE id = 1"))
    if done.rowcount == 1:  # type: ignore[attr-defined]
        version = int(session.execute(text("SELECT LAST_INSERT_ID()")).scalar_one())
    else:  # the row is missing (a database emptied or restored without it): start above
        # every stamp (a concurrent first write waits on the key, then takes the next)
        version = int(session.execute(text(
            "SELECT COALESCE(MAX(changed_seq), 0) + 1 FROM products")).scalar_one())
        ins = session.execute(text(
            "INSERT INTO catalog_state (id, version) VALUES (1, :v) "
            "ON DUPLICATE KEY UPDATE version = LAST_INSERT_ID(version + 1)"), {"v": version})
        if ins.rowcount != 1:  # type: ignore[attr-defined]
            version = int(session.execute(text("SELECT LAST_INSERT_ID()")).scalar_one())
    if ids:
        session.execute(update(Product).where(Product.id.in_(ids))
                        .values(changed_seq=version)
                        .execution_options(synchronize_session=False))
    return version


def current(session: Session) -> int:
    """The version a reader's snapshot holds (a plain consistent read, no lock)."""
    v = session.execute(text("SELECT version FROM catalog_state WHERE id = 1")).scalar()
    if v is None:
        v = session.execute(text("SELECT COALESCE(MAX(changed_seq), 0) FROM products")
                            ).scalar_one()
    return int(v)
