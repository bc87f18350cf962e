"""Password hashing: Argon2id (OWASP minimum cost) off the event loop; bcrypt verifies imports."""

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from bookly.core.errors import ServiceUnavailable

_hasher = PasswordHash(
    (Argon2Hasher(memory_cost=19 * 1024, time_cost=2, parallelism=1), BcryptHasher())
)
# Verified for unknown emails so that a failed login costs the same whether or not the
# account exists.
_DUMMY_HASH = _hasher.hash("bookly-dummy-password-for-timing")
# Hashing threads give way to the event loop when they share a core with it, so a burst of
# logins slows other logins, not every other request.
HASHING_THREAD_NICENESS = 10

ResultT = TypeVar("ResultT")


def _lower_priority() -> None:
    if sys.platform == "linux":  # there, a thread id names just that thread
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_THREAD_NICENESS)


class PasswordHasher:
    """Hashes in `concurrency` low-priority threads (Argon2 releases the GIL). At most `queue`
    (default: as many again) more callers wait their turn; past that a caller is refused at once
    (503, `Retry-After`) rather than queueing without bound while it holds a database connection.
    """

    def __init__(self, concurrency: int, queue: int | None = None):
        self._threads = ThreadPoolExecutor(
            concurrency, thread_name_prefix="bookly-hashing", initializer=_lower_priority
        )
        self._capacity = concurrency + (concurrency if queue is None else queue)
        self._admitted = 0

    async def hash(self, password: str) -> str:
        return await self._run(partial(_hasher.hash, password))

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Check a password; with no hash (unknown account) spend the same time and fail."""
        check = partial(_hasher.verify, password, password_hash or _DUMMY_HASH)
        matches = await self._run(check)
        return matches and password_hash is not None

    def ensure_room(self) -> None:
        """Refuse at once when the queue is full, before the caller does any other work."""
        if self._admitted >= self._capacity:
            raise ServiceUnavailable(
                "Too many sign-ins at once; retry shortly.", retry_after_seconds=1
            )

    async def _run(self, work: Callable[[], ResultT]) -> ResultT:
        self.ensure_room()
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._threads, work)
        finally:
            self._admitted -= 1
