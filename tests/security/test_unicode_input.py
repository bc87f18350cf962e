"""Unicode edge cases (ASVS v5 V1.2 / V2.2 input handling): each is stored and returned exactly,
or refused with 422 — never a 500, never silently altered."""

import json

import pytest

from tests.conftest import Harness
from tests.factories import user

ROUND_TRIPPED = [
    "\u202eevil\u202c",  # right-to-left override
    "e\u0301\u0301\u0301",  # combining marks
    "Zoë 👩‍💻",  # astral plane and a ZWJ sequence
    "\u00a0non-breaking\u00a0",  # a non-ASCII space, kept inside the text
    "한국어",
]
REFUSED = ["nul\u0000", "\ud800", "x\udfff"]


@pytest.mark.parametrize("text", ROUND_TRIPPED)
async def test_unusual_text_round_trips(harness: Harness, text: str) -> None:
    account = await user(harness.client, harness.context)
    response = await harness.client.patch(
        "/api/v1/users/me", headers=account.headers, json={"last_name": text}
    )
    assert response.status_code == 200
    stored = (await harness.client.get(f"/api/v1/users/{account.uid}")).json()["last_name"]
    assert stored == text.strip()


@pytest.mark.parametrize("text", REFUSED)
async def test_unstorable_text_is_refused(harness: Harness, text: str) -> None:
    account = await user(harness.client, harness.context)
    body = json.dumps({"last_name": text})  # escapes lone surrogates as \\udXXX
    response = await harness.client.patch(
        "/api/v1/users/me",
        headers={**account.headers, "content-type": "application/json"},
        content=body.encode(),
    )
    assert response.status_code == 422
    me = (await harness.client.get("/api/v1/users/me", headers=account.headers)).json()
    assert me["last_name"] == "Reader"


async def test_usernames_refuse_lookalike_characters(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    # A Cyrillic "a", a zero-width space, a right-to-left override.
    for name in ("\u0430dmin", "ad\u200bmin", "admin\u202e"):
        response = await harness.client.patch(
            "/api/v1/users/me", headers=account.headers, json={"username": name}
        )
        assert response.status_code == 422, name
