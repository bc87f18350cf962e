"""What an `Idempotency-Key` adds to a create's documented responses:
`problem_responses(*KEYED, ...)` (core/openapi.py documents the replay's header)."""

from bookly.core.errors import AppError
from bookly.idempotency.errors import IdempotencyKeyInUse, IdempotencyKeyReused

# The key sent with another request (422), or while its first request still runs (409).
KEYED: tuple[type[AppError], ...] = (IdempotencyKeyReused, IdempotencyKeyInUse)
