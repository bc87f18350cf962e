"""Sessions: refresh rotation and reuse detection, sign-out, the sessions list, password change."""

import asyncio
import uuid

import httpx

from tests.conftest import Harness
from tests.factories import PASSWORD, Account, log_in, user

ME = "/api/v1/users/me"


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def _status_and_code(client: httpx.AsyncClient, account: Account) -> tuple[int, str | None]:
    response = await client.get(ME, headers=account.headers)
    return response.status_code, response.json().get("error_code")


async def test_refresh_rotates_the_pair(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    response = await _refresh(harness.client, account.refresh_token)
    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["refresh_token"] != account.refresh_token
    me = await harness.client.get(ME, headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    again = await _refresh(harness.client, pair["refresh_token"])
    assert again.status_code == 200


async def test_a_spent_refresh_token_revokes_the_whole_session(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    stolen = account.refresh_token
    rotated = (await _refresh(harness.client, stolen)).json()

    replay = await _refresh(harness.client, stolen)
    assert replay.status_code == 401
    assert replay.json()["error_code"] == "token_reused"

    # Every token of the session is dead, the legitimate new ones included.
    newest = await _refresh(harness.client, rotated["refresh_token"])
    assert newest.json()["error_code"] == "token_revoked"
    me = await harness.client.get(
        ME, headers={"Authorization": f"Bearer {rotated['access_token']}"}
    )
    assert (me.status_code, me.json()["error_code"]) == (401, "token_revoked")


async def test_concurrent_refreshes_of_one_token_let_at_most_one_win(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    responses = await asyncio.gather(
        *(_refresh(harness.client, account.refresh_token) for _ in range(4))
    )
    assert sum(r.status_code == 200 for r in responses) <= 1
    assert all(r.status_code in (200, 401) for r in responses)


async def test_logout_stops_both_tokens_at_once(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    response = await harness.client.post("/api/v1/auth/logout", headers=account.headers)
    assert response.status_code == 204
    assert await _status_and_code(harness.client, account) == (401, "token_revoked")
    refresh = await _refresh(harness.client, account.refresh_token)
    assert (refresh.status_code, refresh.json()["error_code"]) == (401, "token_revoked")


async def test_logout_all_ends_every_session(harness: Harness) -> None:
    first = await user(harness.client, harness.context)
    second = await log_in(harness.client, Account(**{**vars(first), "access_token": ""}))
    response = await harness.client.post("/api/v1/auth/logout-all", headers=second.headers)
    assert response.status_code == 204
    assert await _status_and_code(harness.client, first) == (401, "token_revoked")
    assert await _status_and_code(harness.client, second) == (401, "token_revoked")


async def test_sessions_list_marks_the_current_one(harness: Harness) -> None:
    first = await user(harness.client, harness.context)
    second = await log_in(harness.client, Account(**{**vars(first), "access_token": ""}))
    response = await harness.client.get(
        "/api/v1/auth/sessions", headers={**second.headers, "User-Agent": "test-agent"}
    )
    assert response.status_code == 200
    sessions = response.json()["items"]
    assert response.json()["next_cursor"] is None
    assert len(sessions) == 2
    assert sum(s["current"] for s in sessions) == 1
    assert {s["ip"] for s in sessions} == {"203.0.113.7"}
    assert all(
        set(s) == {"sid", "created_at", "last_used_at", "user_agent", "ip", "current"}
        for s in sessions
    )


async def test_deleting_another_session_signs_it_out(harness: Harness) -> None:
    first = await user(harness.client, harness.context)
    second = await log_in(harness.client, Account(**{**vars(first), "access_token": ""}))
    sessions = (await harness.client.get("/api/v1/auth/sessions", headers=second.headers)).json()[
        "items"
    ]
    other = next(s["sid"] for s in sessions if not s["current"])

    response = await harness.client.delete(f"/api/v1/auth/sessions/{other}", headers=second.headers)
    assert response.status_code == 204
    assert await _status_and_code(harness.client, first) == (401, "token_revoked")
    assert await _status_and_code(harness.client, second) == (200, None)
    listed = (await harness.client.get("/api/v1/auth/sessions", headers=second.headers)).json()[
        "items"
    ]
    assert [s["sid"] for s in listed] == [s["sid"] for s in sessions if s["current"]]


async def test_someone_elses_session_is_not_found(harness: Harness) -> None:
    mine = await user(harness.client, harness.context)
    theirs = await user(harness.client, harness.context)
    theirs_listed = await harness.client.get("/api/v1/auth/sessions", headers=theirs.headers)
    their_sid = theirs_listed.json()["items"][0]["sid"]
    response = await harness.client.delete(
        f"/api/v1/auth/sessions/{their_sid}", headers=mine.headers
    )
    assert response.status_code == 404
    assert await _status_and_code(harness.client, theirs) == (200, None)
    missing = await harness.client.delete(
        f"/api/v1/auth/sessions/{uuid.uuid4()}", headers=mine.headers
    )
    assert missing.status_code == 404


async def test_password_change_signs_out_the_other_sessions(harness: Harness) -> None:
    first = await user(harness.client, harness.context)
    second = await log_in(harness.client, Account(**{**vars(first), "access_token": ""}))
    response = await harness.client.post(
        "/api/v1/auth/password/change",
        headers=second.headers,
        json={"current_password": PASSWORD, "new_password": "a-brand-new-password"},
    )
    assert response.status_code == 200
    assert await _status_and_code(harness.client, first) == (401, "token_revoked")
    assert await _status_and_code(harness.client, second) == (200, None)

    old = await harness.client.post(
        "/api/v1/auth/login", json={"email": first.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await harness.client.post(
        "/api/v1/auth/login", json={"email": first.email, "password": "a-brand-new-password"}
    )
    assert new.status_code == 200


async def test_password_change_needs_the_current_password(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    response = await harness.client.post(
        "/api/v1/auth/password/change",
        headers=account.headers,
        json={"current_password": "wrong-password", "new_password": "a-brand-new-password"},
    )
    assert response.status_code == 401
    assert response.json()["error_code"] == "invalid_credentials"
    weak = await harness.client.post(
        "/api/v1/auth/password/change",
        headers=account.headers,
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    assert weak.status_code == 422
    still = await harness.client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert still.status_code == 200


async def test_sessions_are_listed_in_keyset_pages(harness: Harness) -> None:
    """The list is a page like every list (api.md §7): newest first, `next_cursor`, `total`."""
    first = await user(harness.client, harness.context)
    for _ in range(2):
        harness.clock.advance(seconds=1)
        latest = await log_in(harness.client, Account(**{**vars(first), "access_token": ""}))
    seen: list[dict[str, object]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", "include_total": "true", **({"cursor": cursor} if cursor else {})}
        response = await harness.client.get(
            "/api/v1/auth/sessions", params=params, headers=latest.headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == 3
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len({s["sid"] for s in seen}) == len(seen) == 3
    assert [s["current"] for s in seen] == [True, False, False]  # the newest is this one
    assert [s["created_at"] for s in seen] == sorted((s["created_at"] for s in seen), reverse=True)
