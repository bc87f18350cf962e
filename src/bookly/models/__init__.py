"""All table models, imported together so metadata and relationships are complete."""

from bookly.models.outbox import OutboxMessage, OutboxStatus
from bookly.models.session import AuthSession
from bookly.models.user import Role, User

__all__ = ["AuthSession", "OutboxMessage", "OutboxStatus", "Role", "User"]
