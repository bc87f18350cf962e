import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text
from sqlmodel import Field, SQLModel

from bookly.core.db import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DEAD = "dead"


class OutboxMessage(SQLModel, table=True):
    """An email waiting to be sent, written in the same transaction as the change that needs
    it: a rolled-back change leaves no row, a committed one always has one."""

    __tablename__ = "outbox"
    __table_args__ = (
        # What a dispatcher claims: due messages still queued, oldest first.
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        CheckConstraint("status IN ('queued', 'sent', 'dead')", name="status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    template: str = Field(max_length=64)
    recipient: str = Field(max_length=320)
    # The template's variables (names, links); rendered when the message is sent.
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # Fixed when queued, so a message sent twice (a crash after sending) reads as one.
    message_id: str = Field(max_length=255, unique=True)
    status: OutboxStatus = Field(default=OutboxStatus.QUEUED, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
