"""/metrics can be kept private (issue 15): a scrape token, an allow-list of networks, or both."""

import pytest

from bookly.core.config import Settings
from tests.support.apps import app_client

TOKEN = "a-scrape-token-of-some-length"


def _with(settings: Settings, **changes: object) -> Settings:
    return Settings(**{**settings.model_dump(), **changes})


async def test_metrics_are_open_by_default(settings: Settings) -> None:
    async with app_client(settings) as (_, client):
        assert (await client.get("/metrics")).status_code == 200


async def test_a_scrape_token_is_required_when_set(settings: Settings) -> None:
    async with app_client(_with(settings, metrics_token=TOKEN)) as (_, client):
        missing = await client.get("/metrics")
        assert missing.status_code == 401
        assert missing.json()["error_code"] == "not_authenticated"
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-it"})
        assert wrong.status_code == 401
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200
        assert "bookly_http_requests_total" in right.text


@pytest.mark.parametrize(
    ("networks", "client_ip", "status"),
    [
        ("10.0.0.0/8,192.0.2.1", "10.1.2.3", 200),
        ("10.0.0.0/8,192.0.2.1", "192.0.2.1", 200),
        ("10.0.0.0/8", "203.0.113.7", 403),
        ("2001:db8::/32", "2001:db8::5", 200),
    ],
)
async def test_an_allow_list_of_networks_is_enforced_when_set(
    settings: Settings, networks: str, client_ip: str, status: int
) -> None:
    allowed = _with(settings, metrics_allow_networks=networks)
    async with app_client(allowed, client_ip=client_ip) as (_, client):
        response = await client.get("/metrics")
        assert response.status_code == status, response.text
        if status == 403:
            assert response.json()["error_code"] == "forbidden"


async def test_both_must_hold_when_both_are_set(settings: Settings) -> None:
    both = _with(settings, metrics_token=TOKEN, metrics_allow_networks="10.0.0.0/8")
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with app_client(both, client_ip="203.0.113.7") as (_, client):
        assert (await client.get("/metrics", headers=bearer)).status_code == 403
    async with app_client(both, client_ip="10.0.0.9") as (_, client):
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers=bearer)).status_code == 200
