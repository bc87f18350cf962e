from bookly.models import Role
from tests.conftest import Harness
from tests.factories import PASSWORD, log_in, set_flags, sign_up


async def test_login_returns_a_token_pair_and_the_user(harness: Harness) -> None:
    account = await sign_up(harness.client)
    response = await harness.client.post(
        "/api/v1/auth/login", json={"email": account.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["user"]["uid"] == str(account.uid)
    me = await harness.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200


async def test_wrong_password_and_unknown_email_look_the_same(harness: Harness) -> None:
    account = await sign_up(harness.client)
    wrong_password = await harness.client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": "not-the-password"}
    )
    unknown_email = await harness.client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "not-the-password"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.json()["error_code"] == "invalid_credentials"
    assert wrong_password.headers["www-authenticate"] == unknown_email.headers["www-authenticate"]


async def test_oauth2_form_login_for_the_docs_authorize_button(harness: Harness) -> None:
    account = await sign_up(harness.client)
    response = await harness.client.post(
        "/api/v1/auth/token", data={"username": account.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    bad = await harness.client.post(
        "/api/v1/auth/token", data={"username": account.email, "password": "wrong-password"}
    )
    assert bad.status_code == 401
    assert bad.json()["error_code"] == "invalid_credentials"


async def test_the_token_route_documents_the_password_flow(harness: Harness) -> None:
    schema = (await harness.client.get("/api/v1/openapi.json")).json()
    body = schema["paths"]["/api/v1/auth/token"]["post"]["requestBody"]
    assert "application/x-www-form-urlencoded" in body["content"]


async def test_a_disabled_account_cannot_log_in(harness: Harness) -> None:
    account = await sign_up(harness.client)
    await set_flags(harness.context, account, is_active=False)
    response = await harness.client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert response.json()["error_code"] == "account_disabled"


async def test_login_body_is_validated(harness: Harness) -> None:
    for body in ({"email": "x@example.com"}, {"email": "", "password": "x"}, {}):
        response = await harness.client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 422
        assert response.json()["error_code"] == "validation_error"
    # Any other string is just an account that does not exist.
    odd = await harness.client.post("/api/v1/auth/login", json={"email": "nope", "password": "x"})
    assert odd.status_code == 401
    assert odd.json()["error_code"] == "invalid_credentials"


async def test_token_role_claim_follows_the_account(harness: Harness) -> None:
    account = await sign_up(harness.client)
    await set_flags(harness.context, account, role=Role.ADMIN)
    await log_in(harness.client, account)
    me = await harness.client.get("/api/v1/users/me", headers=account.headers)
    assert me.json()["role"] == "admin"


async def test_the_token_form_refuses_other_grants_and_empty_fields(harness: Harness) -> None:
    account = await sign_up(harness.client)
    for form in (
        {"username": account.email, "password": PASSWORD, "grant_type": "client_credentials"},
        {"username": "", "password": PASSWORD},
        {"username": account.email, "password": ""},
    ):
        response = await harness.client.post("/api/v1/auth/token", data=form)
        assert response.status_code == 422, form
        assert response.json()["error_code"] == "validation_error"
