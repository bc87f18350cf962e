"""All table models, imported together so metadata and relationships are complete."""

from bookly.models.book import Book
from bookly.models.idempotency import IdempotencyRecord
from bookly.models.outbox import OutboxMessage, OutboxStatus
from bookly.models.review import Review
from bookly.models.session import AuthSession
from bookly.models.tag import BookTag, Tag
from bookly.models.user import Role, User

__all__ = [
    "AuthSession",
    "Book",
    "BookTag",
    "IdempotencyRecord",
    "OutboxMessage",
    "OutboxStatus",
    "Review",
    "Role",
    "Tag",
    "User",
]
