import uuid
from datetime import date, datetime

from sqlalchemy import Column, Computed, Float, ForeignKey, Index, Integer, Table, Uuid, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Field, SQLModel

from bookly.core.db import UTCDateTime, utcnow

PUBLISHED_ASCENDING = "coalesce(published_date, '9999-12-31')"
PUBLISHED_DESCENDING = "coalesce(published_date, '0001-01-01')"

# What full-text search reads on PostgreSQL; SQLite searches the same columns with LIKE.
SEARCH_CONFIG = "english"
# Title words weigh most in the ranking, then the author's, then the description's.
_SEARCH_DOCUMENT = " || ".join(
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce({column}, '')), '{weight}')"
    for column, weight in (("title", "A"), ("author", "B"), ("description", "C"))
)


class Book(SQLModel, table=True):
    """A book. `rating_*` summarise its reviews and change in the same transaction as they do."""

    __tablename__ = "books"
    __table_args__ = (
        # Keyset orders: every sort of `GET /books` has an index ending in the uid tie-breaker.
        Index("ix_books_created_at_uid", "created_at", "uid"),
        Index("ix_books_title_uid", "title", "uid"),
        # Unknown dates sort last both ways: as the last day ascending, as the first descending.
        Index("ix_books_published_last_uid", text(PUBLISHED_ASCENDING), "uid"),
        Index("ix_books_published_first_uid", text(PUBLISHED_DESCENDING), "uid"),
        Index("ix_books_rating_avg_uid", "rating_avg", "uid"),
        Index("ix_books_owner_uid_created_at_uid", "owner_uid", "created_at", "uid"),
        # PostgreSQL only: a generated tsvector with a GIN index (migrations skip it on SQLite).
        Column(
            "search_vector",
            TSVECTOR,
            Computed(_SEARCH_DOCUMENT, persisted=True),
            info={"postgresql_only": True},
        ),
        Index(
            "ix_books_search_vector",
            "search_vector",
            postgresql_using="gin",
            info={"postgresql_only": True},
        ),
    )
    # The search vector lives in the table but is never loaded into objects.
    __mapper_args__ = {"exclude_properties": ["search_vector"]}

    uid: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    title: str = Field(max_length=255)
    author: str = Field(max_length=255)
    publisher: str | None = Field(default=None, max_length=255)
    published_date: date | None = None
    page_count: int | None = None
    language: str | None = Field(default=None, max_length=2)
    # As given, without separators; `isbn13` is the same number as ISBN-13, unique, so an
    # ISBN-10 and its ISBN-13 form are one book.
    isbn: str | None = Field(default=None, max_length=13)
    isbn13: str | None = Field(default=None, max_length=13, unique=True)
    description: str | None = Field(default=None, max_length=5000)
    owner_uid: uuid.UUID | None = Field(
        default=None,
        sa_type=Uuid,
        sa_column_args=[ForeignKey("users.uid", ondelete="SET NULL")],
    )
    rating_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    rating_sum: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    # 0 while unrated (the API shows null then), so sorting and indexing need no NULL handling.
    rating_avg: float = Field(default=0.0, sa_column=Column(Float, nullable=False, default=0.0))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# The Core table, for relative updates and the search vector the mapper leaves out.
books_table: Table = Book.__table__  # type: ignore[attr-defined]
