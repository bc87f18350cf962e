"""Public profiles, and what only admins may do: list users, change roles, disable accounts."""

import uuid

from tests.conftest import Harness
from tests.factories import PASSWORD, admin, user

USERS = "/api/v1/users/"


async def test_public_profile_hides_the_email(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    response = await harness.client.get(f"/api/v1/users/{account.uid}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "uid", "username", "first_name", "last_name", "created_at", "book_count", "review_count",
    }  # fmt: skip
    assert account.email not in response.text


async def test_unknown_user(harness: Harness) -> None:
    response = await harness.client.get(f"/api/v1/users/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["error_code"] == "user_not_found"


async def test_admin_routes_refuse_everyone_else(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    target = await user(harness.client, harness.context)
    anonymous = await harness.client.get(USERS)
    assert anonymous.status_code == 401
    listing = await harness.client.get(USERS, headers=account.headers)
    assert (listing.status_code, listing.json()["error_code"]) == (403, "forbidden")
    promote = await harness.client.patch(
        f"/api/v1/users/{target.uid}", headers=account.headers, json={"role": "admin"}
    )
    assert promote.status_code == 403
    me = await harness.client.get("/api/v1/users/me", headers=target.headers)
    assert me.json()["role"] == "user"


async def test_admin_lists_filters_and_pages_users(harness: Harness) -> None:
    boss = await admin(harness.client, harness.context)
    readers = [await user(harness.client, harness.context) for _ in range(4)]
    everyone = {str(boss.uid), *(str(r.uid) for r in readers)}

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "include_total": "true"} | ({"cursor": cursor} if cursor else {})
        page = (await harness.client.get(USERS, headers=boss.headers, params=params)).json()
        assert page["total"] == 5
        assert "email" in page["items"][0]
        seen += [item["uid"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == everyone

    admins = (
        await harness.client.get(USERS, headers=boss.headers, params={"role": "admin"})
    ).json()
    assert [item["uid"] for item in admins["items"]] == [str(boss.uid)]
    assert "total" not in admins

    by_name = await harness.client.get(
        USERS, headers=boss.headers, params={"q": readers[2].username.upper()}
    )
    assert [item["uid"] for item in by_name.json()["items"]] == [str(readers[2].uid)]


async def test_list_search_treats_wildcards_literally(harness: Harness) -> None:
    boss = await admin(harness.client, harness.context)
    # "e_d" would match every "reader" if `_` were a wildcard.
    for query in ("%", "e_d", "\\", "' OR 1=1 --"):
        response = await harness.client.get(USERS, headers=boss.headers, params={"q": query})
        assert response.status_code == 200
        assert response.json()["items"] == []


async def test_forged_or_foreign_cursors_are_refused(harness: Harness) -> None:
    boss = await admin(harness.client, harness.context)
    for cursor in ("garbage", "eyJhIjoxfQ.forged", "x" * 300):
        response = await harness.client.get(USERS, headers=boss.headers, params={"cursor": cursor})
        assert response.status_code == 422
        assert response.json()["error_code"] == "validation_error"
        assert response.json()["errors"][0]["loc"] == ["query", "cursor"]
    foreign = harness.context.cursors.encode("books:-created_at", ["2026-01-01T00:00:00Z", "x"])
    response = await harness.client.get(USERS, headers=boss.headers, params={"cursor": foreign})
    assert response.status_code == 422


async def test_role_change_signs_the_user_out(harness: Harness) -> None:
    boss = await admin(harness.client, harness.context)
    target = await user(harness.client, harness.context)
    response = await harness.client.patch(
        f"/api/v1/users/{target.uid}", headers=boss.headers, json={"role": "admin"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    me = await harness.client.get("/api/v1/users/me", headers=target.headers)
    assert (me.status_code, me.json()["error_code"]) == (401, "token_revoked")
    # The admin's own session is untouched.
    assert (await harness.client.get("/api/v1/users/me", headers=boss.headers)).status_code == 200


async def test_disabling_signs_out_and_blocks_login(harness: Harness) -> None:
    boss = await admin(harness.client, harness.context)
    target = await user(harness.client, harness.context)
    response = await harness.client.patch(
        f"/api/v1/users/{target.uid}", headers=boss.headers, json={"is_active": False}
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    me = await harness.client.get("/api/v1/users/me", headers=target.headers)
    assert me.status_code == 401
    login = await harness.client.post(
        "/api/v1/auth/login", json={"email": target.email, "password": PASSWORD}
    )
    assert (login.status_code, login.json()["error_code"]) == (403, "account_disabled")

    await harness.client.patch(
        f"/api/v1/users/{target.uid}", headers=boss.headers, json={"is_active": True}
    )
    again = await harness.client.post(
        "/api/v1/auth/login", json={"email": target.email, "password": PASSWORD}
    )
    assert again.status_code == 200


async def test_admin_patch_validates(harness: Harness) -> None:
    boss = await admin(harness.client, harness.context)
    target = await user(harness.client, harness.context)
    for change in ({"role": "superuser"}, {"email": "x@example.com"}, {"is_verified": True}):
        response = await harness.client.patch(
            f"/api/v1/users/{target.uid}", headers=boss.headers, json=change
        )
        assert response.status_code == 422, change
    missing = await harness.client.patch(
        f"/api/v1/users/{uuid.uuid4()}", headers=boss.headers, json={"role": "admin"}
    )
    assert missing.status_code == 404
