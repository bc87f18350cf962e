"""catalogue: books, reviews, tags

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 06:59:12.709818
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(author, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')"
)


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("uid", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
    )
    op.create_table(
        "books",
        sa.Column("uid", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("publisher", sa.String(length=255), nullable=True),
        sa.Column("published_date", sa.Date(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("isbn", sa.String(length=13), nullable=True),
        sa.Column("isbn13", sa.String(length=13), nullable=True),
        sa.Column("description", sa.String(length=5000), nullable=True),
        sa.Column("owner_uid", sa.Uuid(), nullable=True),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("rating_avg", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_uid"], ["users.uid"], name=op.f("fk_books_owner_uid_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_books")),
        sa.UniqueConstraint("isbn13", name=op.f("uq_books_isbn13")),
    )
    with op.batch_alter_table("books", schema=None) as batch_op:
        batch_op.create_index("ix_books_created_at_uid", ["created_at", "uid"], unique=False)
        batch_op.create_index(
            "ix_books_owner_uid_created_at_uid", ["owner_uid", "created_at", "uid"], unique=False
        )
        # Unknown dates sort last both ways: as the last day ascending, as the first descending.
        batch_op.create_index(
            "ix_books_published_last_uid",
            [sa.text("coalesce(published_date, '9999-12-31')"), "uid"],
            unique=False,
        )
        batch_op.create_index(
            "ix_books_published_first_uid",
            [sa.text("coalesce(published_date, '0001-01-01')"), "uid"],
            unique=False,
        )
        batch_op.create_index("ix_books_rating_avg_uid", ["rating_avg", "uid"], unique=False)
        batch_op.create_index("ix_books_title_uid", ["title", "uid"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Full-text search: a generated tsvector and its GIN index (SQLite searches with LIKE).
        op.add_column(
            "books",
            sa.Column(
                "search_vector",
                postgresql.TSVECTOR(),
                sa.Computed(_SEARCH_DOCUMENT, persisted=True),
                nullable=True,
            ),
        )
        op.create_index(
            "ix_books_search_vector", "books", ["search_vector"], postgresql_using="gin"
        )

    op.create_table(
        "book_tags",
        sa.Column("book_uid", sa.Uuid(), nullable=False),
        sa.Column("tag_uid", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_uid"],
            ["books.uid"],
            name=op.f("fk_book_tags_book_uid_books"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_uid"], ["tags.uid"], name=op.f("fk_book_tags_tag_uid_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("book_uid", "tag_uid", name=op.f("pk_book_tags")),
    )
    with op.batch_alter_table("book_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_book_tags_tag_uid"), ["tag_uid"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("uid", sa.Uuid(), nullable=False),
        sa.Column("book_uid", sa.Uuid(), nullable=False),
        sa.Column("user_uid", sa.Uuid(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("review_text", sa.String(length=5000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["book_uid"], ["books.uid"], name=op.f("fk_reviews_book_uid_books"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_uid"], ["users.uid"], name=op.f("fk_reviews_user_uid_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_reviews")),
        sa.UniqueConstraint("user_uid", "book_uid", name=op.f("uq_reviews_user_uid_book_uid")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reviews_book_uid_created_at_uid", ["book_uid", "created_at", "uid"], unique=False
        )
        batch_op.create_index("ix_reviews_created_at_uid", ["created_at", "uid"], unique=False)
        batch_op.create_index(
            "ix_reviews_user_uid_created_at_uid", ["user_uid", "created_at", "uid"], unique=False
        )


def downgrade() -> None:
    op.drop_table("reviews")
    op.drop_table("book_tags")
    op.drop_table("books")
    op.drop_table("tags")
