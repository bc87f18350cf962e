"""What search keeps beside a book, written in the book's own transaction: the vocabulary of
words (with stems and deletion keys) that query words are expanded against, on both databases;
and on SQLite the book's row of the FTS5 table (PostgreSQL computes its search vector itself).

Statements are built here and run by the caller, on an async connection (requests, the seed) or
a sync one (the migration that indexes books stored before search had these)."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable, Uuid, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bookly.books import search_words
from bookly.models.book import (
    SQLITE_SEARCH_TABLE,
    search_term_keys_table,
    search_terms_table,
)

ROWS_PER_STATEMENT = 1000


@dataclass(frozen=True)
class BookText:
    uid: uuid.UUID
    title: str
    author: str
    description: str | None


def vocabulary(books: Iterable[BookText]) -> list[str]:
    """The distinct words of the books, sorted (concurrent writers then lock shared words in
    one order)."""
    terms: set[str] = set()
    for book in books:
        for part in (book.title, book.author, book.description):
            terms.update(search_words.words(part))
    return sorted(t for t in terms if len(t) <= search_words.MAX_TERM_LETTERS)


def new_terms_statements(dialect: str, terms: Sequence[str]) -> list[Executable]:
    """Statements that store the terms not yet stored, each returning the terms it stored."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statements: list[Executable] = []
    for start in range(0, len(terms), ROWS_PER_STATEMENT):
        chunk = terms[start : start + ROWS_PER_STATEMENT]
        rows = [
            {"term": term, "stem": stem}
            for term, stem in zip(chunk, search_words.stems(chunk), strict=True)
        ]
        statements.append(
            insert(search_terms_table)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(search_terms_table.c.term)
        )
    return statements


def key_rows(terms: Iterable[str]) -> list[dict[str, str]]:
    return [
        {"key": key, "term": term} for term in terms for key in sorted(search_words.term_keys(term))
    ]


def keys_statements(dialect: str, terms: Iterable[str]) -> list[Executable]:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = key_rows(terms)
    return [
        insert(search_term_keys_table)
        .values(rows[start : start + ROWS_PER_STATEMENT])
        .on_conflict_do_nothing()
        for start in range(0, len(rows), ROWS_PER_STATEMENT)
    ]


# SQLite: the book's row of the FTS5 table, its words as search_words splits and folds them.
_FORGET_ROW = text(f"DELETE FROM {SQLITE_SEARCH_TABLE} WHERE uid = :uid").bindparams(  # noqa: S608
    bindparam("uid", type_=Uuid)
)
_WRITE_ROW = text(
    f"INSERT INTO {SQLITE_SEARCH_TABLE} (uid, main_title, series, author, description)"  # noqa: S608
    " VALUES (:uid, :main_title, :series, :author, :description)"
).bindparams(bindparam("uid", type_=Uuid))


def sqlite_row(book: BookText) -> dict[str, Any]:
    main_title, series = search_words.split_title(book.title)
    parts = {
        "main_title": main_title,
        "series": series,
        "author": book.author,
        "description": book.description,
    }
    return {"uid": book.uid} | {name: " ".join(search_words.words(v)) for name, v in parts.items()}


def sqlite_row_statements() -> tuple[Executable, Executable]:
    """Forget a book's row, and write it (each run with `sqlite_row`'s parameters)."""
    return _FORGET_ROW, _WRITE_ROW


async def index_books(connection: AsyncConnection, books: Sequence[BookText]) -> None:
    """Keep search in step with `books`, just written (created or changed) on `connection`."""
    dialect = connection.dialect.name
    stored: list[str] = []
    for statement in new_terms_statements(dialect, vocabulary(books)):
        stored += (await connection.execute(statement)).scalars().all()
    for statement in keys_statements(dialect, stored):
        await connection.execute(statement)
    if dialect == "sqlite" and books:
        rows = [sqlite_row(book) for book in books]
        for statement in sqlite_row_statements():
            await connection.execute(statement, rows)


# PostgreSQL: the search index's pending list, for bulk loads only. Without it (the index's
# setting, for searches' sake) every book's words go into the GIN index one by one, which made
# `bookly seed` take 1.8 times as long; with it, they are merged into the index in bulk at the end.
_SEARCH_INDEX = "ix_books_search_vector"


async def start_bulk_load(connection: AsyncConnection) -> None:
    if connection.dialect.name == "postgresql":
        await connection.execute(text(f"ALTER INDEX {_SEARCH_INDEX} SET (fastupdate = on)"))


async def end_bulk_load(connection: AsyncConnection) -> None:
    if connection.dialect.name == "postgresql":
        await connection.execute(text(f"ALTER INDEX {_SEARCH_INDEX} SET (fastupdate = off)"))
        await connection.execute(text(f"SELECT gin_clean_pending_list('{_SEARCH_INDEX}')"))
