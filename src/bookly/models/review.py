import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, UniqueConstraint, Uuid
from sqlmodel import Field, SQLModel

from bookly.core.db import UTCDateTime, utcnow


class Review(SQLModel, table=True):
    __tablename__ = "reviews"
    __table_args__ = (
        # One review per user per book, whatever races happen (a violation becomes 409).
        UniqueConstraint("user_uid", "book_uid"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        # Keyset orders of the three review lists (newest first).
        Index("ix_reviews_book_uid_created_at_uid", "book_uid", "created_at", "uid"),
        Index("ix_reviews_user_uid_created_at_uid", "user_uid", "created_at", "uid"),
        Index("ix_reviews_created_at_uid", "created_at", "uid"),
    )

    uid: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    book_uid: uuid.UUID = Field(
        sa_type=Uuid, sa_column_args=[ForeignKey("books.uid", ondelete="CASCADE")]
    )
    user_uid: uuid.UUID = Field(
        sa_type=Uuid, sa_column_args=[ForeignKey("users.uid", ondelete="CASCADE")]
    )
    rating: int = Field(sa_type=SmallInteger)
    review_text: str = Field(max_length=5000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
