"""Password hashing: Argon2id (OWASP minimum cost) off the event loop; bcrypt verifies imports."""

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from bookly.core.hashing_admission import HashingAdmission, MovingAverage, PasswordWork

_hasher = PasswordHash(
    (Argon2Hasher(memory_cost=19 * 1024, time_cost=2, parallelism=1), BcryptHasher())
)
# Verified for unknown emails so that a failed login costs the same whether or not the
# account exists. Its hashing time is the first estimate of every hash's.
_started = time.perf_counter()
_DUMMY_HASH = _hasher.hash("bookly-dummy-password-for-timing")
_DUMMY_HASH_SECONDS = time.perf_counter() - _started
# Hashing threads give way to the event loop when they share a core with it, so a burst of
# logins slows other logins, not every other request.
HASHING_THREAD_NICENESS = 10

ResultT = TypeVar("ResultT")
Timer = Callable[[], float]


def _lower_priority() -> None:
    if sys.platform == "linux":  # there, a thread id names just that thread
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_THREAD_NICENESS)


class PasswordHasher:
    """Hashes in `concurrency` low-priority threads (Argon2 releases the GIL). A request that
    hashes takes a turn first (`turn`, core/hashing_admission.py): it waits for a thread while
    its expected wait stays within `wait_budget_seconds`, and is refused (503) past it.

    `timer` measures each hash (in its thread), `clock` each turn (on the event loop); tests
    pass their own, or their own `hash_time` estimate.
    """

    def __init__(
        self,
        concurrency: int,
        wait_budget_seconds: float = 1.0,
        *,
        hash_time: MovingAverage | None = None,
        timer: Timer = time.perf_counter,
        clock: Timer = time.monotonic,
    ):
        self._threads = ThreadPoolExecutor(
            concurrency, thread_name_prefix="bookly-hashing", initializer=_lower_priority
        )
        self.admission = HashingAdmission(
            concurrency,
            wait_budget_seconds,
            hash_time or MovingAverage(_DUMMY_HASH_SECONDS),
            clock,
        )
        self._timer = timer

    def turn(self, work: PasswordWork) -> AbstractAsyncContextManager[None]:
        """`async with hasher.turn(work):` around a request's hashes, before it takes anything
        else (a database connection): admitted or refused at once, then its turn."""
        return self.admission.turn(work)

    async def hash(self, password: str) -> str:
        return await self._run(partial(_hasher.hash, password))

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Check a password; with no hash (unknown account) spend the same time and fail."""
        check = partial(_hasher.verify, password, password_hash or _DUMMY_HASH)
        matches = await self._run(check)
        return matches and password_hash is not None

    async def _run(self, work: Callable[[], ResultT]) -> ResultT:
        async with self.admission.hashing():
            loop = asyncio.get_running_loop()
            result, seconds = await loop.run_in_executor(self._threads, self._timed, work)
            self.admission.hash_time.record(seconds)
            return result

    def _timed(self, work: Callable[[], ResultT]) -> tuple[ResultT, float]:
        """In the hashing thread: the result, and how long it took (its wall time, which grows
        when the threads share their cores with other work, as the estimate should)."""
        started = self._timer()
        result = work()
        return result, self._timer() - started
