from tests.conftest import Harness
from tests.factories import user


async def test_signup_login_me(harness: Harness) -> None:
    account = await user(harness.client, harness.context)
    response = await harness.client.get("/api/v1/users/me", headers=account.headers)
    assert response.status_code == 200
    assert response.json()["email"] == account.email
