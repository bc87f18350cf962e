"""Password hashing: Argon2id (OWASP minimum cost) off the event loop; bcrypt verifies imports."""

from functools import partial

import anyio
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

_hasher = PasswordHash(
    (Argon2Hasher(memory_cost=19 * 1024, time_cost=2, parallelism=1), BcryptHasher())
)
# Verified for unknown emails so that a failed login costs the same whether or not the
# account exists.
_DUMMY_HASH = _hasher.hash("bookly-dummy-password-for-timing")


class PasswordHasher:
    """Runs hashing in worker threads (Argon2 releases the GIL), a few at a time."""

    def __init__(self, concurrency: int):
        self._limiter = anyio.CapacityLimiter(concurrency)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(_hasher.hash, password, limiter=self._limiter)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Check a password; with no hash (unknown account) spend the same time and fail."""
        check = partial(_hasher.verify, password, password_hash or _DUMMY_HASH)
        matches = await anyio.to_thread.run_sync(check, limiter=self._limiter)
        return matches and password_hash is not None
