from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from bookly.core.db import UTCDateTime, utcnow


class IdempotencyRecord(SQLModel, table=True):
    """A create done under an `Idempotency-Key`, with its answer, written in the transaction of
    the create itself: the key exists if and only if the effect does."""

    __tablename__ = "idempotency_keys"

    # Whose key it is: the caller's uid, or "anonymous" for signup and reset requests (whose
    # request digest covers the whole body, password included, so a key alone replays nothing).
    principal: str = Field(max_length=40, primary_key=True)
    key: str = Field(max_length=255, primary_key=True)
    # HMAC of the method, the path and the canonical body: the same key with another request is
    # refused, not replayed.
    request_digest: str = Field(max_length=64)
    status_code: int
    body: str = Field(sa_column=Column(Text, nullable=False))
    # The answer's headers that belong to it (`Location`, `ETag`).
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
