"""A burst of sign-ins to one live `bookly serve`: with a budget ample for the wait, every one is
served (the old fixed queue of two refused most of such a burst); with no budget, those that
would wait are refused with 503, `Retry-After` and the operation's name.

The ample budget is far above what this burst needs on any machine, so that a loaded CI machine's
slow hashes cannot turn the first case into the second."""

import asyncio

import httpx

from tests.factories import PASSWORD, signup_body
from tests.support.live import LiveServers

API = "/api/v1"
BURST = 16


async def _sign_up_accounts(client: httpx.AsyncClient, count: int) -> list[str]:
    emails = []
    for _ in range(count):  # one at a time: the burst is the sign-ins
        body = signup_body()
        response = await client.post(f"{API}/auth/signup", json=body)
        assert response.status_code == 201, response.text
        emails.append(body["email"])
    return emails


async def _burst(client: httpx.AsyncClient, emails: list[str]) -> list[httpx.Response]:
    # Each connection opened first, so that the sign-ins leave together.
    await asyncio.gather(*(client.get("/healthz") for _ in emails))
    return await asyncio.gather(
        *(
            client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
            for email in emails
        )
    )


def _client(url: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    return httpx.AsyncClient(base_url=url, timeout=60, limits=limits)


async def test_a_burst_of_sign_ins_within_the_budget_is_served(live_servers: LiveServers) -> None:
    server = live_servers.start(env={"PASSWORD_HASH_WAIT_BUDGET_SECONDS": "60"})
    async with _client(server.url) as client:
        emails = await _sign_up_accounts(client, BURST)
        responses = await _burst(client, emails)
    assert [response.status_code for response in responses] == [200] * BURST, [
        response.text for response in responses if response.status_code != 200
    ]


async def test_with_no_budget_the_overflow_is_refused_by_name(live_servers: LiveServers) -> None:
    server = live_servers.start(
        env={"PASSWORD_HASH_WAIT_BUDGET_SECONDS": "0", "PASSWORD_HASH_CONCURRENCY": "1"}
    )
    async with _client(server.url) as client:
        emails = await _sign_up_accounts(client, BURST)
        responses = await _burst(client, emails)
        signups = await asyncio.gather(
            *(client.post(f"{API}/auth/signup", json=signup_body()) for _ in range(BURST))
        )
    for burst, served, operation in ((responses, 200, "sign-ins"), (signups, 201, "signups")):
        statuses = [response.status_code for response in burst]
        # The first is hashed at once; of the rest, whoever finds a hash under way is refused.
        assert served in statuses
        assert 503 in statuses
        assert set(statuses) == {served, 503}
        for refused in (response for response in burst if response.status_code == 503):
            assert int(refused.headers["Retry-After"]) >= 1
            problem = refused.json()
            assert problem["error_code"] == "service_unavailable"
            assert problem["detail"] == f"Too many {operation} at once; retry shortly."
