"""A browser session's last use (in process, the clock injected): written at most once a minute
(`auth.service.touch_session`), seen by the API's `GET /auth/sessions`, and each write signs the
session cookie again, so the site's session slides; signing out removes the cookie."""

import re
from datetime import datetime, timedelta

import httpx

from tests.conftest import Harness
from tests.factories import Account, log_in, sign_up

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
COOKIE = "__Host-bookly_session"


async def _form_token(client: httpx.AsyncClient, path: str) -> str:
    form = await client.get(path)
    token = _TOKEN.search(form.text)
    assert token, form.text[:300]
    return token[1]


async def _browser_last_used(harness: Harness, account: Account) -> datetime:
    """The browser session's `last_used_at`, as the account's API session lists it."""
    listed = await harness.client.get("/api/v1/auth/sessions", headers=account.headers)
    assert listed.status_code == 200, listed.text
    (browser,) = [item for item in listed.json()["items"] if not item["current"]]
    return datetime.fromisoformat(browser["last_used_at"])


async def test_last_use_is_written_once_a_minute_and_renews_the_cookie(harness: Harness) -> None:
    site = harness.client
    site.base_url = httpx.URL("https://bookly.test")  # the cookies are Secure outside development
    account = await sign_up(site)
    signed_in_at = harness.clock()
    token = await _form_token(site, "/sign-in")
    signed_in = await site.post(
        "/sign-in", data={"csrf_token": token, "email": account.email, "password": account.password}
    )
    assert signed_in.status_code == 303, signed_in.text
    # The API's own session, to look at the browser's through `GET /auth/sessions`.
    api = await log_in(site, account)

    harness.clock.advance(seconds=30)
    quiet = await site.get("/")
    assert quiet.status_code == 200
    assert COOKIE not in quiet.headers.get("set-cookie", "")
    assert await _browser_last_used(harness, api) == signed_in_at

    harness.clock.advance(seconds=31)  # more than a minute since the last write
    used = await site.get("/tags")
    assert used.status_code == 200
    # Signed again (its signature's time is the wall clock's, to the second) and sent with a
    # full lifetime from now.
    renewed = used.headers["set-cookie"]
    assert renewed.startswith(f"{COOKIE}=")
    assert f"Max-Age={harness.context.settings.refresh_token_ttl_seconds}" in renewed
    assert await _browser_last_used(harness, api) == signed_in_at + timedelta(seconds=61)

    harness.clock.advance(seconds=20)
    assert COOKIE not in (await site.get("/")).headers.get("set-cookie", "")
    assert await _browser_last_used(harness, api) == signed_in_at + timedelta(seconds=61)

    # A sign-out that also falls due for a write removes the cookie, and renews nothing.
    harness.clock.advance(seconds=61)
    token = await _form_token(site, "/")
    harness.clock.advance(seconds=61)
    signed_out = await site.post("/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 303
    assert COOKIE not in site.cookies
