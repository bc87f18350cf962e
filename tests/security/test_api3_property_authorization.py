"""OWASP API3:2023 Broken Object Property Level Authorization (mass assignment, over-exposure);
ASVS v5 V15.3.3 (no mass assignment)."""

import pytest

from tests.conftest import Harness
from tests.factories import admin, signup_body, user
from tests.support.catalogue import book_body, new_book, new_review

PRIVILEGED = {
    "role": "admin",
    "is_verified": True,
    "is_active": True,
    "uid": "00000000-0000-0000-0000-000000000000",
    "created_at": "2020-01-01T00:00:00Z",
    "password_hash": "x",
    "email": "taken-over@example.com",
}


@pytest.mark.parametrize("field", sorted(set(PRIVILEGED) - {"email"}))  # email: a signup field
async def test_signup_takes_no_privileged_field(harness: Harness, field: str) -> None:
    body = signup_body()
    response = await harness.client.post(
        "/api/v1/auth/signup", json={**body, field: PRIVILEGED[field]}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("field", sorted(PRIVILEGED))
async def test_profile_edit_takes_no_privileged_field(harness: Harness, field: str) -> None:
    account = await user(harness.client, harness.context)
    response = await harness.client.patch(
        "/api/v1/users/me", headers=account.headers, json={field: PRIVILEGED[field]}
    )
    assert response.status_code == 422
    me = (await harness.client.get("/api/v1/users/me", headers=account.headers)).json()
    assert (me["role"], me["email"]) == ("user", account.email)


@pytest.mark.parametrize("field", ["is_verified", "email", "password_hash", "username", "uid"])
async def test_admin_edit_takes_only_role_and_active(harness: Harness, field: str) -> None:
    boss = await admin(harness.client, harness.context)
    target = await user(harness.client, harness.context)
    response = await harness.client.patch(
        f"/api/v1/users/{target.uid}",
        headers=boss.headers,
        json={field: PRIVILEGED.get(field, "x")},
    )
    assert response.status_code == 422


async def test_no_response_exposes_a_password_hash(harness: Harness) -> None:
    boss = await admin(harness.client, harness.context)
    account = await user(harness.client, harness.context)
    for path, headers in (
        ("/api/v1/users/me", account.headers),
        (f"/api/v1/users/{account.uid}", {}),
        ("/api/v1/users/", boss.headers),
    ):
        response = await harness.client.get(path, headers=headers)
        assert response.status_code == 200
        assert "password" not in response.text
        assert "$argon2" not in response.text


async def test_public_profiles_never_carry_emails(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    response = await harness.client.get(f"/api/v1/users/{account.uid}")
    assert "email" not in response.json()


BOOK_PRIVILEGED = [
    "uid",
    "owner",
    "owner_uid",
    "rating",
    "rating_avg",
    "rating_count",
    "created_at",
]


@pytest.mark.parametrize("field", BOOK_PRIVILEGED)
async def test_book_writes_take_no_server_owned_field(harness: Harness, field: str) -> None:
    account = await user(harness.client, harness.context)
    sneaky = {field: PRIVILEGED.get(field, "00000000-0000-0000-0000-000000000000")}
    created = await harness.client.post(
        "/api/v1/books/", json={**book_body(), **sneaky}, headers=account.headers
    )
    assert created.status_code == 422
    book = await new_book(harness.client, account)
    patched = await harness.client.patch(
        f"/api/v1/books/{book['uid']}", json=sneaky, headers=account.headers
    )
    assert patched.status_code == 422
    after = (await harness.client.get(f"/api/v1/books/{book['uid']}")).json()
    assert after == book


@pytest.mark.parametrize("field", ["uid", "user", "user_uid", "book_uid", "created_at"])
async def test_review_writes_take_no_server_owned_field(harness: Harness, field: str) -> None:
    owner = await user(harness.client, harness.context)
    reviewer = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    sneaky = {field: "00000000-0000-0000-0000-000000000000"}
    created = await harness.client.post(
        f"/api/v1/books/{book['uid']}/reviews",
        json={"rating": 5, "review_text": "Great.", **sneaky},
        headers=reviewer.headers,
    )
    assert created.status_code == 422
    review = await new_review(harness.client, reviewer, book["uid"])
    patched = await harness.client.patch(
        f"/api/v1/reviews/{review['uid']}", json=sneaky, headers=reviewer.headers
    )
    assert patched.status_code == 422
