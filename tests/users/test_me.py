"""The caller's own account: read, edit the allowed fields, delete with the password."""

from tests.conftest import Harness
from tests.factories import PASSWORD, user
from tests.support.catalogue import new_book, new_review

ME = "/api/v1/users/me"


async def test_me_shows_the_whole_user_and_counts(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    body = (await harness.client.get(ME, headers=account.headers)).json()
    assert set(body) == {
        "uid", "username", "email", "first_name", "last_name", "role", "is_verified",
        "is_active", "created_at", "updated_at", "book_count", "review_count",
    }  # fmt: skip
    assert body["email"] == account.email
    assert body["book_count"] == body["review_count"] == 0


async def test_me_counts_only_the_callers_own_books_and_reviews(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    other = await user(harness.client, harness.context)
    mine = [await new_book(harness.client, account) for _ in range(2)]
    theirs = await new_book(harness.client, other)
    await new_review(harness.client, account, theirs["uid"])
    await new_review(harness.client, other, mine[0]["uid"])
    await new_review(harness.client, other, mine[1]["uid"])
    for who, books, reviews in ((account, 2, 1), (other, 1, 2)):
        body = (await harness.client.get(ME, headers=who.headers)).json()
        assert (body["book_count"], body["review_count"]) == (books, reviews)


async def test_patch_me_changes_names_and_username(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    response = await harness.client.patch(
        ME, headers=account.headers, json={"first_name": "  Grace ", "username": "grace.h"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["username"], body["last_name"]) == (
        "Grace",
        "grace.h",
        "Reader",
    )
    assert body["updated_at"] >= body["created_at"]


async def test_patch_me_refuses_other_fields(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    for change in ({"email": "x@example.com"}, {"role": "admin"}, {"is_verified": True}):
        response = await harness.client.patch(ME, headers=account.headers, json=change)
        assert response.status_code == 422, change
    body = (await harness.client.get(ME, headers=account.headers)).json()
    assert (body["email"], body["role"]) == (account.email, "user")


async def test_patch_me_to_a_taken_username(harness: Harness) -> None:
    first = await user(harness.client, harness.context)
    second = await user(harness.client, harness.context)
    response = await harness.client.patch(
        ME, headers=second.headers, json={"username": first.username.upper()}
    )
    assert response.status_code == 409
    assert response.json()["error_code"] == "username_taken"
    # Changing only the case of one's own username is fine.
    own = await harness.client.patch(
        ME, headers=first.headers, json={"username": first.username.upper()}
    )
    assert own.status_code == 200


async def test_delete_me_needs_the_password_then_everything_is_gone(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    wrong = await harness.client.request(
        "DELETE", ME, headers=account.headers, json={"password": "not-my-password"}
    )
    assert wrong.status_code == 401
    assert (await harness.client.get(ME, headers=account.headers)).status_code == 200

    response = await harness.client.request(
        "DELETE", ME, headers=account.headers, json={"password": PASSWORD}
    )
    assert response.status_code == 204
    assert (await harness.client.get(ME, headers=account.headers)).status_code == 401
    assert (await harness.client.get(f"/api/v1/users/{account.uid}")).status_code == 404
    login = await harness.client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert login.status_code == 401
    refresh = await harness.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert refresh.status_code == 401
