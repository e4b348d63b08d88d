"""Declarative base, naming convention and the column types every model shares.

Money is always ``Fen`` (BIGINT integer fen). Timestamps are UTC (``utcnow()``), stored as
DATETIME(6) without a zone; the API writes them in ISO 8601 with ``+00:00``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, MetaData, String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TABLE_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
              "mysql_collate": "utf8mb4_unicode_ci"}


def utcnow() -> dt.datetime:
    """Current UTC time, naive (as stored), microsecond precision."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# BIGINT everywhere for ids and money; BIGINT UNSIGNED is avoided so that negative ledger
# amounts and differences never overflow in SQL arithmetic.
BigId = BigInteger().with_variant(mysql.BIGINT(), "mysql")
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")

intpk = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]
Fen = Annotated[int, mapped_column(BigInteger, nullable=False)]
"""Money in integer fen (分)."""
created_ts = Annotated[dt.datetime, mapped_column(Timestamp, nullable=False, default=utcnow)]
str16 = Annotated[str, mapped_column(String(16))]
str32 = Annotated[str, mapped_column(String(32))]
str64 = Annotated[str, mapped_column(String(64))]
str128 = Annotated[str, mapped_column(String(128))]
str255 = Annotated[str, mapped_column(String(255))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: Timestamp, int: BigInteger}
