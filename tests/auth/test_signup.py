import asyncio

from sqlalchemy import func, select

from bookly.models import User
from tests.conftest import Harness
from tests.factories import sign_up, signup_body


async def _user_count(harness: Harness) -> int:
    async with harness.context.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(User)) or 0)


async def test_signup_creates_an_unverified_user_and_says_where(harness: Harness) -> None:
    body = signup_body(email="Mixed.Case@Example.COM")
    response = await harness.client.post("/api/v1/auth/signup", json=body)

    assert response.status_code == 201
    user = response.json()
    assert response.headers["location"] == f"/api/v1/users/{user['uid']}"
    assert user["email"] == "mixed.case@example.com"
    assert user["role"] == "user"
    assert user["is_verified"] is False
    assert user["is_active"] is True
    assert "password" not in response.text
    assert "password_hash" not in user
    assert user["created_at"].endswith(("Z", "+00:00"))


async def test_email_is_unique_whatever_its_case(harness: Harness) -> None:
    await sign_up(harness.client, email="reader@example.com")
    response = await harness.client.post(
        "/api/v1/auth/signup", json=signup_body(email="READER@example.com")
    )
    assert response.status_code == 409
    assert response.json()["error_code"] == "email_taken"


async def test_username_is_unique_whatever_its_case(harness: Harness) -> None:
    await sign_up(harness.client, username="BookWorm")
    response = await harness.client.post(
        "/api/v1/auth/signup", json=signup_body(username="bookworm")
    )
    assert response.status_code == 409
    assert response.json()["error_code"] == "username_taken"


async def test_mass_assignment_is_refused_and_nothing_is_stored(harness: Harness) -> None:
    for extra in ({"role": "admin"}, {"is_verified": True}, {"is_active": False}, {"uid": "x"}):
        response = await harness.client.post("/api/v1/auth/signup", json=signup_body(**extra))
        assert response.status_code == 422, extra
        assert response.json()["error_code"] == "validation_error"
        assert response.json()["errors"][0]["type"] == "extra_forbidden"
    assert await _user_count(harness) == 0


async def test_field_rules(harness: Harness) -> None:
    bad_bodies = [
        signup_body(username="ab"),
        signup_body(username="has space"),
        signup_body(username="x" * 33),
        signup_body(email="not-an-email"),
        signup_body(password="short"),
        signup_body(password="p" * 129),
        signup_body(first_name=""),
        signup_body(last_name="l" * 51),
    ]
    for body in bad_bodies:
        response = await harness.client.post("/api/v1/auth/signup", json=body)
        assert response.status_code == 422, body
    assert await _user_count(harness) == 0


async def test_two_concurrent_signups_with_one_email_give_one_account(harness: Harness) -> None:
    bodies = [signup_body(email="race@example.com"), signup_body(email="race@example.com")]
    responses = await asyncio.gather(
        *(harness.client.post("/api/v1/auth/signup", json=body) for body in bodies)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["error_code"] == "email_taken"
    assert await _user_count(harness) == 1


async def test_addresses_no_mail_can_reach_are_refused(harness: Harness) -> None:
    for email in ("reader@mail.test", "reader@host.invalid", "reader@localhost"):
        response = await harness.client.post("/api/v1/auth/signup", json=signup_body(email=email))
        assert response.status_code == 422, email
        assert response.json()["errors"][0]["loc"] == ["body", "email"]
    assert await _user_count(harness) == 0
