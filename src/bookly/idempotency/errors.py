"""The idempotency key's errors; each carries its status and `error_code` (core/errors.py)."""

from bookly.core.errors import Conflict, ValidationFailed


class IdempotencyKeyReused(ValidationFailed):
    error_code = "idempotency_key_reused"
    title = "Idempotency key reused"
    location = ("header", "Idempotency-Key")
    issue_type = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    error_code = "idempotency_key_in_use"
    title = "Idempotency key in use"
