"""The column types of the tables (store/models.py), the same on SQLite and PostgreSQL.

Aware datetimes stored as UTC, vocabulary enums stored as their values, IMAP numbers wide
enough for PostgreSQL, and the Field helpers the models declare their columns with.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Integer, String
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

__all__ = ["IMAP_NUMBER", "EnumValue", "UTCDateTime", "enum_column", "utc_column"]


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        # SQLite keeps the text of a naive UTC time; PostgreSQL's timestamptz takes the aware
        # value as it is (a naive one would be read in the session's TimeZone).
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


#: An IMAP UID or UIDVALIDITY: unsigned 32 bits (RFC 9051), past PostgreSQL's INTEGER (signed
#: 32 bits); SQLite's INTEGER holds 64 bits, so it stays INTEGER there (revision 0011).
IMAP_NUMBER = Integer().with_variant(BigInteger(), "postgresql")


class EnumValue(TypeDecorator[StrEnum]):
    """Stores a vocabulary enum as its value (the Indonesian word) and gives the enum back.

    SQLAlchemy's own Enum type would store the member's *name* and add a constraint; the
    value keeps the column readable and the schema a plain string, on SQLite and PostgreSQL.
    """

    impl = String()
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: StrEnum | str | None, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum(value)


def enum_column(enum: type[StrEnum], default: StrEnum | None = None, nullable: bool = False,
                 index: bool = False) -> Any:
    column: Column[Any] = Column(EnumValue(enum), nullable=nullable, index=index)
    if default is None and not nullable:
        return Field(sa_column=column)
    return Field(default=default, sa_column=column)
