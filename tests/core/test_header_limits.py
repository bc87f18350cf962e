"""Request headers are limited in total size and in number (MAX_HEADER_BYTES, MAX_HEADER_COUNT):
beyond, 431 as a problem document, and the server goes on serving everyone else."""

import httpx
import pytest

from tests.conftest import Harness
from tests.support.live import LiveServers

BOOKS = "/api/v1/books"


def _assert_431(response: httpx.Response) -> None:
    assert response.status_code == 431, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error_code"] == "request_header_fields_too_large"


async def test_headers_over_the_size_limit_get_431(harness: Harness) -> None:
    limit = harness.context.settings.max_header_bytes
    _assert_431(await harness.client.get(BOOKS, headers={"X-Padding": "a" * limit}))
    just_under = {"X-Padding": "a" * (limit // 2)}
    assert (await harness.client.get(BOOKS, headers=just_under)).status_code == 200


async def test_too_many_headers_get_431(harness: Harness) -> None:
    limit = harness.context.settings.max_header_count
    many = [(f"X-Header-{n}", "1") for n in range(limit + 1)]
    _assert_431(await harness.client.get(BOOKS, headers=many))
    assert (await harness.client.get(BOOKS, headers=many[:50])).status_code == 200


@pytest.mark.parametrize("padding", [20_000, 60_000])
def test_a_live_server_answers_431_and_keeps_serving(
    live_servers: LiveServers, padding: int
) -> None:
    server = live_servers.start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        refused = client.get(BOOKS, headers={"X-Padding": "a" * padding})
        assert refused.status_code == 431, refused.text
        assert client.get(BOOKS).status_code == 200
    with httpx.Client(base_url=server.url, timeout=10) as fresh:
        assert fresh.get(BOOKS).status_code == 200
