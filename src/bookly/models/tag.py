import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Uuid
from sqlmodel import Field, SQLModel

from bookly.core.db import UTCDateTime, utcnow


class Tag(SQLModel, table=True):
    __tablename__ = "tags"

    uid: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Stored normalised (trimmed, lower-cased, inner spaces collapsed), so unique means unique.
    name: str = Field(max_length=40, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BookTag(SQLModel, table=True):
    """A tag on a book; the link goes when either side does."""

    __tablename__ = "book_tags"

    book_uid: uuid.UUID = Field(
        sa_type=Uuid,
        primary_key=True,
        sa_column_args=[ForeignKey("books.uid", ondelete="CASCADE")],
    )
    tag_uid: uuid.UUID = Field(
        sa_type=Uuid,
        primary_key=True,
        index=True,
        sa_column_args=[ForeignKey("tags.uid", ondelete="CASCADE")],
    )
