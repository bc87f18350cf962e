import uuid
from datetime import date, datetime

from sqlalchemy import (
    Column,
    Computed,
    Float,
    ForeignKey,
    Index,
    Integer,
    Table,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Field, SQLModel

from bookly.core.db import UTCDateTime, utcnow

PUBLISHED_ASCENDING = "coalesce(published_date, '9999-12-31')"
PUBLISHED_DESCENDING = "coalesce(published_date, '0001-01-01')"

# What search reads on PostgreSQL: the words of a book without accents, lower case, unstemmed
# (stems, typos and prefixes are the query's to expand, books/search.py), weighted by where they
# stand: the title itself (A), the series in its trailing parenthesis (B), the author (C), the
# description (D). Punctuation is made a space first, so that the words are the runs of letters
# and digits that books/search_words.py finds ("Catch-22" is "catch" and "22", "R.R." is "r r").
SEARCH_CONFIG = "bookly_words"
SERIES_OPENS = " ("
_MAIN_TITLE = f"split_part(title, '{SERIES_OPENS}', 1)"
_SEARCHED_PARTS = (
    (_MAIN_TITLE, "A"),
    (f"substr(title, length({_MAIN_TITLE}) + 1)", "B"),
    ("coalesce(author, '')", "C"),
    ("coalesce(description, '')", "D"),
)
SEARCH_DOCUMENT = " || ".join(
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, "
    f"regexp_replace({part}, '[[:punct:]]+', ' ', 'g')), '{weight}')"
    for part, weight in _SEARCHED_PARTS
)
# SQLite: an FTS5 table of the same four parts (as books/search_words.py splits and folds
# them) and the book's uid, written with the book (books/search_index.py).
SQLITE_SEARCH_TABLE = "books_search"


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
            Computed(SEARCH_DOCUMENT, persisted=True),
            info={"postgresql_only": True},
        ),
        # Without GIN's pending list: every search would read it through (a list of up to
        # 4 MB of new books' words, until a vacuum moves them into the index).
        Index(
            "ix_books_search_vector",
            "search_vector",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
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


class SearchTerm(SQLModel, table=True):
    """A word of some book's text (as books/search_words.py splits and folds it), with its
    English stem. Written in the transaction that writes the book; never removed (a word no
    book has any more matches nothing, which costs a search no more than a typo would)."""

    __tablename__ = "search_terms"

    term: str = Field(primary_key=True, max_length=64)
    stem: str = Field(max_length=64, index=True)


class SearchTermKey(SQLModel, table=True):
    """A term under each of its deletion keys (search_words.term_keys), by which a misspelt
    query word finds it."""

    __tablename__ = "search_term_keys"

    key: str = Field(primary_key=True, max_length=64)
    term: str = Field(primary_key=True, max_length=64)


search_terms_table: Table = SearchTerm.__table__  # type: ignore[attr-defined]
search_term_keys_table: Table = SearchTermKey.__table__  # type: ignore[attr-defined]
