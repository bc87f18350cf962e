import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Uuid
from sqlmodel import Field, SQLModel

from bookly.core.db import UTCDateTime, utcnow


class AuthSession(SQLModel, table=True):
    """One login. Its refresh token rotates; `revoked_at` is the truth for revocation."""

    __tablename__ = "sessions"

    sid: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_uid: uuid.UUID = Field(
        sa_type=Uuid,
        sa_column_args=[ForeignKey("users.uid", ondelete="CASCADE")],
        index=True,
    )
    refresh_jti: uuid.UUID
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    user_agent: str = Field(default="", max_length=255)
    ip: str = Field(default="", max_length=64)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
