import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, func
from sqlmodel import Field, SQLModel

from bookly.core.db import UTCDateTime, utcnow


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class User(SQLModel, table=True):
    __tablename__ = "users"
    # Usernames are unique regardless of case; emails are stored lower-cased.
    __table_args__ = (
        Index("uq_users_username_lower", func.lower(Column("username")), unique=True),
    )

    uid: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(sa_column=Column("username", String(32), nullable=False))
    email: str = Field(max_length=320, unique=True)
    first_name: str = Field(max_length=50)
    last_name: str = Field(max_length=50)
    password_hash: str = Field(max_length=255)
    role: Role = Field(default=Role.USER, sa_type=String(16))
    is_verified: bool = False
    # The nonce in the current verification link: a resend replaces it (older links die) and
    # verifying clears it (the link dies once used).
    email_verification_nonce: str | None = Field(default=None, max_length=64)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
