"""The browser pages the links open, driven over HTTP: results, form errors, headers."""

import base64
import hashlib
import re

import httpx

from bookly.mail.outbox import Dispatcher
from tests.conftest import Harness
from tests.factories import log_in, sign_up
from tests.support.mail import SmtpServer, drain, link_in, messages_to, token_in_link

NEW_PASSWORD = "a-brand-new-passphrase"


async def _link(smtp: SmtpServer, dispatcher: Dispatcher, recipient: str, page: str) -> str:
    await drain(dispatcher)
    links = [link_in(m) for m in messages_to(smtp, recipient) if f"/{page}?" in link_in(m)]
    return links[-1]


def _path(link: str) -> str:
    """The link's path and query, to open on the in-process app."""
    return link.removeprefix("https://bookly.example.org")


def _assert_page_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "form-action 'self'" in policy
    # The inline stylesheet is the only style the policy allows, by its hash.
    style = re.search(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert style
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "<script" not in response.text
    assert "http://" not in response.text
    assert "https://" not in response.text  # no third-party assets


async def test_verify_page_verifies_then_explains_a_used_link(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client)
    link = await _link(smtp, dispatcher, account.email, "verify-email")

    page = await client.get(_path(link))
    assert page.status_code == 200
    _assert_page_headers(page)
    assert "Your email address is verified" in page.text
    assert '<html lang="en">' in page.text
    me = await client.get("/api/v1/users/me", headers=(await log_in(client, account)).headers)
    assert me.json()["is_verified"] is True

    again = await client.get(_path(link))
    assert again.status_code == 400
    _assert_page_headers(again)
    assert "We could not verify your email address" in again.text
    assert "already been used" in again.text
    assert 'role="alert"' in again.text


async def test_verify_page_without_or_with_a_bad_token(harness: Harness) -> None:
    for path in ["/verify-email", "/verify-email?token=", "/verify-email?token=forged.value"]:
        page = await harness.client.get(path)
        assert page.status_code == 400
        _assert_page_headers(page)
        assert "This link is not valid" in page.text


async def test_reset_page_form_is_accessible_and_shows_errors_next_to_fields(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client)
    await client.post("/api/v1/auth/password-reset/request", json={"email": account.email})
    link = await _link(smtp, dispatcher, account.email, "reset-password")
    token = token_in_link(link)

    form = await client.get(_path(link))
    assert form.status_code == 200
    _assert_page_headers(form)
    assert account.email in form.text
    for field in ("new_password", "confirm_password"):
        assert f'<label for="{field}">' in form.text
        assert f'id="{field}" name="{field}"' in form.text
    assert 'method="post" action="/reset-password"' in form.text
    assert "autofocus" in form.text

    mismatch = await client.post(
        "/reset-password",
        data={"token": token, "new_password": NEW_PASSWORD, "confirm_password": "different-one"},
    )
    assert mismatch.status_code == 400
    _assert_page_headers(mismatch)
    error = '<p class="error" id="confirm_password-error">The two passwords do not match.</p>'
    assert error in mismatch.text
    assert 'aria-describedby="confirm_password-hint confirm_password-error"' in mismatch.text
    assert 'aria-invalid="true"' in mismatch.text

    weak = await client.post(
        "/reset-password",
        data={"token": token, "new_password": "short", "confirm_password": "short"},
    )
    assert weak.status_code == 422
    assert '<p class="error" id="new_password-error">Use at least 8 characters.</p>' in weak.text

    done = await client.post(
        "/reset-password",
        data={"token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert done.status_code == 200
    _assert_page_headers(done)
    assert "Your password has been changed" in done.text
    account.password = NEW_PASSWORD
    await log_in(client, account)

    used = await client.get(_path(link))
    assert used.status_code == 400
    assert "This reset link cannot be used" in used.text
    assert "already been used" in used.text
    replay = await client.post(
        "/reset-password",
        data={
            "token": token,
            "new_password": "another-password",
            "confirm_password": "another-password",
        },
    )
    assert replay.status_code == 400
    assert "already been used" in replay.text


async def test_reset_page_says_when_a_link_expired(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client)
    await client.post("/api/v1/auth/password-reset/request", json={"email": account.email})
    link = await _link(smtp, dispatcher, account.email, "reset-password")
    harness.clock.advance(hours=2)
    page = await client.get(_path(link))
    assert page.status_code == 400
    assert "This link has expired" in page.text


async def test_pages_escape_what_they_show(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client, email="o'brien+tag@example.com")
    await client.post("/api/v1/auth/password-reset/request", json={"email": account.email})
    link = await _link(smtp, dispatcher, account.email, "reset-password")
    form = await client.get(_path(link))
    assert "o&#39;brien+tag@example.com" in form.text


async def test_a_failed_verification_link_offers_a_new_one_and_sign_in(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client)
    first = await _link(smtp, dispatcher, account.email, "verify-email")
    page = await client.get("/verify-email?token=forged.value")
    assert 'action="/verify-email/resend"' in page.text
    assert 'href="/sign-in"' in page.text

    sent = await client.post("/verify-email/resend", data={"email": account.email.upper()})
    assert sent.status_code == 202
    _assert_page_headers(sent)
    assert "Check your email" in sent.text
    fresh = await _link(smtp, dispatcher, account.email, "verify-email")
    assert fresh != first
    assert (await client.get(_path(first))).status_code == 400  # the newer link replaced it
    assert (await client.get(_path(fresh))).status_code == 200

    # Verified, or no such account: the same page, and nothing is sent.
    before = len(messages_to(smtp, account.email))
    for email in (account.email, "nobody@example.com"):
        same = await client.post("/verify-email/resend", data={"email": email})
        assert (same.status_code, "Check your email" in same.text) == (202, True)
    await drain(dispatcher)
    assert len(messages_to(smtp, account.email)) == before
    assert messages_to(smtp, "nobody@example.com") == []


async def test_a_failed_reset_link_offers_a_new_one(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    client = harness.client
    account = await sign_up(client)
    page = await client.get("/reset-password?token=forged.value")
    assert page.status_code == 400
    assert 'action="/reset-password/request"' in page.text
    assert 'href="/sign-in"' in page.text

    sent = await client.post("/reset-password/request", data={"email": account.email})
    assert sent.status_code == 202
    _assert_page_headers(sent)
    link = await _link(smtp, dispatcher, account.email, "reset-password")
    assert (await client.get(_path(link))).status_code == 200
    blank = await client.post("/reset-password/request", data={"email": "  "})
    assert blank.status_code == 422
    assert "Type the email address" in blank.text


async def test_asking_for_new_links_is_rate_limited_like_the_api(harness: Harness) -> None:
    limit = int(harness.context.settings.rate_limit_email_target.split("/")[0])
    answers = [
        (await harness.client.post("/reset-password/request", data={"email": "x@example.com"}))
        for _ in range(limit + 1)
    ]
    assert [a.status_code for a in answers] == [202] * limit + [429]
    _assert_page_headers(answers[-1])
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert "Too many emails" in answers[-1].text
