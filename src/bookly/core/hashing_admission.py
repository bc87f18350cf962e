"""Admission to the password-hashing threads by expected waiting time.

A burst of sign-ins is worth queueing for: users would rather wait 200 ms than be refused. A
request that hashes is admitted while its expected wait for a hashing thread stays within a
budget (`PASSWORD_HASH_WAIT_BUDGET_SECONDS`); past it, it is refused at once with 503 and a
`Retry-After` of when the queue should have shrunk to the budget.

An admitted request waits its turn holding nothing: only `TURNS_PER_THREAD` requests per thread
are past that point at once, so waiting sign-ins never hold the database connections that every
other request needs (bench/README.md, "Login storm"). A request thus passes two stages, and the
slower bounds its wait:
- the hashing threads: the hashes admitted before it, less one per thread, times the measured
  time of one hash (a moving average), shared by the threads that can run at once;
- the turns: the requests waiting for one before it, plus itself, times the measured time a
  request holds its turn (a moving average: its database work, and its time in an event loop
  that may be flooded by other requests), shared by the turns. When clients that ignore
  `Retry-After` flood the process, this stage is the slower one, by far.
"""

import asyncio
import math
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum

from bookly.core.errors import ServiceUnavailable

# One request hashing and one doing its database work before or after: a thread never idles
# for a round trip, and at most this many requests per thread hold a pooled connection.
TURNS_PER_THREAD = 2


class PasswordWork(Enum):
    """What a request hashes passwords for: its name in a refusal, and the hashes it costs."""

    SIGN_IN = ("sign-ins", 1)
    SIGN_UP = ("signups", 1)
    PASSWORD_CHANGE = ("password changes", 2)  # the current password, then the new one
    PASSWORD_RESET = ("password resets", 1)
    ACCOUNT_DELETION = ("account deletions", 1)
    # A hash outside any request's turn (the CLI, seeding): it takes a turn of its own.
    OTHER = ("password checks", 1)

    def __init__(self, plural: str, hashes: int):
        self.plural = plural
        self.hashes = hashes


class MovingAverage:
    """How long something takes (one hash, one turn): an exponentially weighted moving average
    of its measurements, so the estimate follows a machine that gets busier (or quieter) within
    a few of them."""

    def __init__(self, initial_seconds: float, weight: float = 0.2):
        self._seconds = initial_seconds
        self._weight = weight

    @property
    def seconds(self) -> float:
        return self._seconds

    def record(self, seconds: float) -> None:
        self._seconds += self._weight * (seconds - self._seconds)


@dataclass
class _Ticket:
    """An admitted request's place: the hashes it was admitted for and has not yet done."""

    admission: "HashingAdmission"
    remaining: int


# The ticket of the request running in this context (set by `HashingAdmission.turn`).
_current_ticket: ContextVar[_Ticket | None] = ContextVar("bookly_hashing_ticket", default=None)


def parallel_threads(threads: int) -> int:
    """Threads that can hash at the same time: no more than the CPUs this process may use."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(threads, cpus or 1))


class HashingAdmission:
    """`clock` (monotonic seconds) times the turns; `hash_time` is measured by the hasher."""

    def __init__(
        self,
        threads: int,
        wait_budget_seconds: float,
        hash_time: MovingAverage,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hash_time = hash_time
        self.turn_time = MovingAverage(0.0)
        self._budget = wait_budget_seconds
        self._parallel = parallel_threads(threads)
        self._turn_count = TURNS_PER_THREAD * threads
        self._turns = asyncio.Semaphore(self._turn_count)
        self._clock = clock
        self._pending_hashes = 0  # of admitted requests, not yet done
        self._waiting = 0  # admitted requests not yet holding a turn

    def expected_wait_seconds(self) -> float:
        """How long a request admitted now would wait before its first hash starts."""
        hashes_ahead = self._pending_hashes - self._parallel + 1
        for_a_thread = max(0, hashes_ahead) * self.hash_time.seconds / self._parallel
        for_a_turn = 0.0
        if self._turns.locked():
            for_a_turn = (self._waiting + 1) * self.turn_time.seconds / self._turn_count
        return max(for_a_thread, for_a_turn)

    @asynccontextmanager
    async def turn(self, work: PasswordWork) -> AsyncIterator[None]:
        """Admit a request that hashes for `work` (503 at once when its wait would exceed the
        budget), wait for its turn, and hold the turn for the block."""
        wait = self.expected_wait_seconds()
        if wait > self._budget:
            raise ServiceUnavailable(
                f"Too many {work.plural} at once; retry shortly.",
                retry_after_seconds=max(1, math.ceil(wait - self._budget)),
            )
        ticket = _Ticket(self, work.hashes)
        self._pending_hashes += ticket.remaining
        context_token = _current_ticket.set(ticket)
        try:
            self._waiting += 1
            try:
                await self._turns.acquire()
            finally:
                self._waiting -= 1
            started = self._clock()
            try:
                yield
            finally:
                self._turns.release()
                self.turn_time.record(self._clock() - started)
        finally:
            self._pending_hashes -= ticket.remaining  # those it was admitted for but skipped
            ticket.remaining = 0
            _current_ticket.reset(context_token)

    @asynccontextmanager
    async def hashing(self) -> AsyncIterator[None]:
        """Around one hash: within the turn of the request running it, or a turn of its own."""
        ticket = _current_ticket.get()
        if ticket is None or ticket.admission is not self:
            async with self.turn(PasswordWork.OTHER), self.hashing():
                yield
            return
        try:
            yield
        finally:
            if ticket.remaining > 0:
                ticket.remaining -= 1
                self._pending_hashes -= 1
