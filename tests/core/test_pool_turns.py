"""Requests wait for a database connection in arrival order (core/db.py `PoolTurns`)."""

import asyncio

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bookly.core.db import PoolTurns


async def test_a_waiter_is_served_before_a_request_that_arrives_later() -> None:
    turns = PoolTurns(size=1, timeout_seconds=2)
    served: list[str] = []

    async def request(name: str) -> None:
        async with turns.turn():
            served.append(name)

    async with turns.turn():
        waiter = asyncio.create_task(request("waiter"))
        await asyncio.sleep(0.01)  # the waiter is in line
    # The permit is free again, and this task asks at once, before the woken waiter has run:
    # what a request that has just arrived does under load.
    await request("newcomer")
    await waiter
    assert served == ["waiter", "newcomer"]


async def test_no_turn_within_the_timeout_is_a_pool_timeout() -> None:
    turns = PoolTurns(size=1, timeout_seconds=0.05)
    async with turns.turn():
        with pytest.raises(PoolTimeoutError):
            async with turns.turn():
                pass
    async with turns.turn():  # the timed-out wait gave nothing away
        pass
