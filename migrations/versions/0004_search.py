"""search: words without accents, weighted by where they stand; a vocabulary for typos and stems

PostgreSQL: a text search configuration that folds accents (`unaccent`) and keeps words whole,
and the search vector rebuilt with it (title, series, author, description). SQLite: an FTS5
table of the same parts. Both: the vocabulary of the books' words with stems and deletion keys.
Books stored before are indexed here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 12:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from bookly.books import search_index
from bookly.models.book import books_table

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MAIN_TITLE = "split_part(title, ' (', 1)"
_SEARCH_DOCUMENT = " || ".join(
    "setweight(to_tsvector('bookly_words'::regconfig, "
    f"regexp_replace({part}, '[[:punct:]]+', ' ', 'g')), '{weight}')"
    for part, weight in (
        (_MAIN_TITLE, "A"),
        (f"substr(title, length({_MAIN_TITLE}) + 1)", "B"),
        ("coalesce(author, '')", "C"),
        ("coalesce(description, '')", "D"),
    )
)
_ENGLISH_DOCUMENT = (  # revision 0002's
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(author, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')"
)
_BOOKS_PER_BATCH = 5000
# The parser's token types that may hold letters with accents.
_ACCENTED_TOKENS = "word, numword, hword, numhword, hword_part"


def upgrade() -> None:
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("stem", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_search_terms")),
    )
    with op.batch_alter_table("search_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_terms_stem"), ["stem"], unique=False)
    op.create_table(
        "search_term_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key", "term", name=op.f("pk_search_term_keys")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute("CREATE TEXT SEARCH CONFIGURATION bookly_words (COPY = simple)")
        op.execute(
            "ALTER TEXT SEARCH CONFIGURATION bookly_words"
            f" ALTER MAPPING FOR {_ACCENTED_TOKENS} WITH unaccent, simple"
        )
        # Without GIN's pending list, which every search would read through (up to 4 MB of
        # new books' words, until a vacuum moves them into the index).
        _replace_search_vector(_SEARCH_DOCUMENT, fastupdate="off")
    else:
        # The words as books/search_index.py writes them: already folded, split by spaces. Rows
        # are the books' by uid (a rowid of `books`, which has no integer key, may change in a
        # VACUUM); a book's row is found by reading the table through, as on a delete.
        op.execute(
            "CREATE VIRTUAL TABLE books_search USING fts5("
            "uid UNINDEXED, main_title, series, author, description,"
            " tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')"
        )
        op.execute(
            "CREATE TRIGGER books_search_forget AFTER DELETE ON books BEGIN"
            " DELETE FROM books_search WHERE uid = OLD.uid; END"
        )
    _index_stored_books()


def _replace_search_vector(document: str, **index_options: str) -> None:
    op.drop_index("ix_books_search_vector", table_name="books")
    op.drop_column("books", "search_vector")
    op.add_column(
        "books",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(document, persisted=True),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_books_search_vector",
        "books",
        ["search_vector"],
        postgresql_using="gin",
        postgresql_with=index_options,
    )


def _index_stored_books() -> None:
    """The books stored before, in batches (a catalogue may not fit in memory at once)."""
    connection = op.get_bind()
    dialect = connection.dialect.name
    columns = (books_table.c.uid, books_table.c.title, books_table.c.author)
    result = connection.execute(
        sa.select(*columns, books_table.c.description),
        execution_options={"yield_per": _BOOKS_PER_BATCH},
    )
    for rows in result.partitions():
        books = [search_index.BookText(*row) for row in rows]
        stored: list[str] = []
        for statement in search_index.new_terms_statements(dialect, search_index.vocabulary(books)):
            stored += connection.execute(statement).scalars().all()
        for statement in search_index.keys_statements(dialect, stored):
            connection.execute(statement)
        if dialect == "sqlite":
            rows_written = [search_index.sqlite_row(book) for book in books]
            connection.execute(search_index.sqlite_row_statements()[1], rows_written)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace_search_vector(_ENGLISH_DOCUMENT)
        op.execute("DROP TEXT SEARCH CONFIGURATION bookly_words")
        op.execute("DROP EXTENSION IF EXISTS unaccent")
    else:
        op.execute("DROP TRIGGER books_search_forget")
        op.execute("DROP TABLE books_search")
    op.drop_table("search_term_keys")
    with op.batch_alter_table("search_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_terms_stem"))
    op.drop_table("search_terms")
