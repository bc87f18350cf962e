"""OWASP API2:2023 Broken Authentication; ASVS v5 V6.4 (authentication factor lifecycle and
recovery): the email links through the API — verify, resend, password reset; purpose, expiry,
single use, concurrency, and no account enumeration. Messages go through a real SMTP server."""

import asyncio
from dataclasses import replace

import httpx

from bookly.mail.outbox import Dispatcher
from tests.conftest import Harness
from tests.factories import Account, log_in, sign_up
from tests.support.mail import (  # the fixtures: an SMTP server and settings that send to it
    SmtpServer,
    dispatcher,
    drain,
    link_in,
    messages_to,
    outbox_rows,
    settings,
    smtp,
    token_in_link,
)

RESET = "reset-password"
NEW_PASSWORD = "a-brand-new-passphrase"


async def _latest_token(
    smtp: SmtpServer, dispatcher: Dispatcher, recipient: str, page: str = "verify-email"
) -> str:
    """The token of the newest link to `page` sent to `recipient`."""
    await drain(dispatcher)
    links = [link_in(m) for m in messages_to(smtp, recipient) if f"/{page}?" in link_in(m)]
    return token_in_link(links[-1])


async def _verify(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/verify", json={"token": token})


async def _request_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/v1/auth/password-reset/request", json={"email": email})


async def _confirm(
    client: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": password}
    )


async def _is_verified(client: httpx.AsyncClient, account: Account) -> bool:
    response = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["user"]["is_verified"])


def _assert_invalid_link(response: httpx.Response, says: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error_code"] == "invalid_link"
    assert says in response.json()["detail"]


async def test_verification_link_verifies_once(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client)
    token = await _latest_token(smtp, dispatcher, account.email)
    assert not await _is_verified(client, account)

    response = await _verify(client, token)
    assert response.status_code == 200
    assert response.json() == {"message": "Your email address is verified."}
    assert await _is_verified(client, account)

    _assert_invalid_link(await _verify(client, token), "already been used")


async def test_resend_makes_older_links_invalid(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await log_in(client, await sign_up(client))
    first = await _latest_token(smtp, dispatcher, account.email)

    response = await client.post("/api/v1/auth/verify/resend", headers=account.headers)
    assert response.status_code == 202
    second = await _latest_token(smtp, dispatcher, account.email)
    assert second != first

    _assert_invalid_link(await _verify(client, first), "newer one has been sent")
    assert (await _verify(client, second)).status_code == 200


async def test_resend_needs_a_session_and_sends_nothing_once_verified(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    assert (await client.post("/api/v1/auth/verify/resend")).status_code == 401
    account = await log_in(client, await sign_up(client))
    await _verify(client, await _latest_token(smtp, dispatcher, account.email))

    response = await client.post("/api/v1/auth/verify/resend", headers=account.headers)
    assert response.status_code == 202
    assert response.json() == {"message": "Your email address is already verified."}
    assert len(await outbox_rows(harness.context)) == 1  # only the signup email


async def test_links_expire_by_the_clock(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    late, in_time = await sign_up(client), await sign_up(client)
    late_token = await _latest_token(smtp, dispatcher, late.email)
    in_time_token = await _latest_token(smtp, dispatcher, in_time.email)
    harness.clock.advance(hours=47, minutes=59)
    assert (await _verify(client, in_time_token)).status_code == 200
    harness.clock.advance(minutes=2)
    _assert_invalid_link(await _verify(client, late_token), "expired")

    await _request_reset(client, in_time.email)
    reset_token = await _latest_token(smtp, dispatcher, in_time.email, RESET)
    harness.clock.advance(hours=1, seconds=1)
    _assert_invalid_link(await _confirm(client, reset_token), "expired")


async def test_a_link_signed_in_the_future_is_refused(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    """A link dated past every process's clock (beyond a minute's skew) was not issued honestly."""
    client = harness.client
    harness.clock.advance(minutes=2)
    ahead = await sign_up(client)
    ahead_token = await _latest_token(smtp, dispatcher, ahead.email)
    harness.clock.advance(minutes=-2)
    _assert_invalid_link(await _verify(client, ahead_token), "not valid")

    harness.clock.advance(seconds=50)
    within_skew = await sign_up(client)
    skewed_token = await _latest_token(smtp, dispatcher, within_skew.email)
    harness.clock.advance(seconds=-50)
    assert (await _verify(client, skewed_token)).status_code == 200


async def test_a_link_only_works_for_its_purpose(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client)
    verification = await _latest_token(smtp, dispatcher, account.email)
    await _request_reset(client, account.email)
    reset = await _latest_token(smtp, dispatcher, account.email, RESET)

    _assert_invalid_link(await _confirm(client, verification), "not valid")
    _assert_invalid_link(await _verify(client, reset), "not valid")
    # Both still work for what they are.
    assert (await _verify(client, verification)).status_code == 200
    assert (await _confirm(client, reset)).status_code == 200


async def test_forged_and_malformed_tokens_are_invalid_links(harness: Harness) -> None:
    client = harness.client
    for token in ["x", "eyJzdWIiOiJ4In0.forged", "a" * 1024, "..."]:
        _assert_invalid_link(await _verify(client, token), "not valid")
        _assert_invalid_link(await _confirm(client, token), "not valid")
    assert (await _verify(client, "a" * 1025)).status_code == 422
    assert (await _verify(client, "")).status_code == 422


async def test_reset_sets_the_password_revokes_every_session_and_works_once(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await log_in(client, await sign_up(client))
    other_device = await log_in(client, replace(account))

    response = await _request_reset(client, account.email)
    assert response.status_code == 202
    [reset_email] = [m for m in messages_to(smtp, account.email) if "Reset" in m["Subject"]] or [
        None
    ]
    assert reset_email is None  # queued, not sent in the request
    token = await _latest_token(smtp, dispatcher, account.email, RESET)

    response = await _confirm(client, token)
    assert response.status_code == 200
    for session in (account, other_device):
        me = await client.get("/api/v1/users/me", headers=session.headers)
        assert me.status_code == 401
        assert me.json()["error_code"] == "token_revoked"
    old = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert old.status_code == 401
    account.password = NEW_PASSWORD
    await log_in(client, account)

    _assert_invalid_link(await _confirm(client, token, "yet-another-password"), "already been used")


async def test_a_password_change_kills_outstanding_reset_links(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await log_in(client, await sign_up(client))
    await _request_reset(client, account.email)
    token = await _latest_token(smtp, dispatcher, account.email, RESET)
    response = await client.post(
        "/api/v1/auth/password/change",
        headers=account.headers,
        json={"current_password": account.password, "new_password": "changed-by-the-owner"},
    )
    assert response.status_code == 200
    _assert_invalid_link(await _confirm(client, token), "password was changed")


async def test_a_weak_password_is_refused_and_the_link_still_works(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client)
    await _request_reset(client, account.email)
    token = await _latest_token(smtp, dispatcher, account.email, RESET)
    response = await _confirm(client, token, "short")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "new_password"]
    assert (await _confirm(client, token)).status_code == 200


async def test_eight_concurrent_confirms_of_one_link_one_wins(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client)
    await _request_reset(client, account.email)
    token = await _latest_token(smtp, dispatcher, account.email, RESET)

    passwords = [f"{NEW_PASSWORD}-{n}" for n in range(8)]
    responses = await asyncio.gather(*(_confirm(client, token, p) for p in passwords))
    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [200] + [400] * 7
    for response in responses:
        if response.status_code == 400:
            assert response.json()["error_code"] == "invalid_link"
    # The winner's password is the one that took.
    account.password = passwords[statuses.index(200)]
    await log_in(client, account)


async def test_reset_request_does_not_tell_whether_the_account_exists(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client)
    await drain(dispatcher)  # the signup email, out of the way

    known = await _request_reset(client, account.email.upper())
    unknown = await _request_reset(client, "nobody-here@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert {k for k in known.headers if k != "x-request-id"} == {
        k for k in unknown.headers if k != "x-request-id"
    }
    rows = await outbox_rows(harness.context)
    assert [row.recipient for row in rows if row.template == "reset_password"] == [account.email]
    assert len(smtp.received()) == 1  # no SMTP work in either request

    await drain(dispatcher)
    assert [m["To"] for m in smtp.received()] == [account.email, account.email]


__all__ = ["dispatcher", "settings", "smtp"]
