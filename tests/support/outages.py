"""What an outage looks like to a client: a fast 503 problem document with `Retry-After`."""

import time
from collections.abc import Awaitable

import httpx


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error_code"] == "service_unavailable"
    assert int(response.headers["retry-after"]) > 0


async def timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    """The response and the seconds it took."""
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started
