"""Accounts in the browser: sign up, verify from the email, sign in, sign out; the session is
the API's own; forms without their CSRF token are refused."""

import re
import uuid

import httpx
from playwright.async_api import expect

from tests.factories import PASSWORD, Account
from tests.web.conftest import LookAt, NewPage, Site, emailed_link, sign_in, sign_out


async def test_sign_up_verify_sign_in_and_out(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    page = await new_page()
    await page.goto("/")
    await page.get_by_role("link", name="Sign up").click()
    await expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    await look_at(page, "sign-up")

    username = f"reader_{uuid.uuid4().hex[:8]}"
    address = f"{username}@example.com"
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Email address").fill(address)
    await page.get_by_label("First name").fill("Ada")
    await page.get_by_label("Last name").fill("Reader")
    await page.get_by_label("Password").fill("short")
    await page.get_by_role("button", name="Create account").click()
    # The API's own rule, worded next to the field; the typed values stay.
    password = page.get_by_label("Password")
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#f-password-error")).to_contain_text("at least 8 characters")
    await expect(page.get_by_label("Username")).to_have_value(username)
    await look_at(page, "sign-up-errors")

    await password.fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("we have sent you an email")
    await look_at(page, "sign-in")

    # Signed in before verifying: the banner offers a new email.
    await sign_in(page, _account(address))
    banner = page.get_by_role("complementary", name="Email verification")
    await expect(banner).to_contain_text("not verified")
    await look_at(page, "unverified-banner")
    await banner.get_by_role("button", name="Resend the email").click()
    await expect(page.get_by_role("status")).to_contain_text("new verification email")

    # The newest link verifies (the resend replaced the first one).
    link = await emailed_link(site, address, "verify-email", count=2)
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Your email address is verified")).to_be_visible()
    await look_at(page, "email-verified")
    await page.goto("/")
    await expect(page.get_by_role("complementary", name="Email verification")).to_have_count(0)

    await sign_out(page)
    await expect(page.get_by_role("status")).to_contain_text("You are signed out")
    await look_at(page, "signed-out-home")


def _account(address: str) -> Account:
    return Account(
        uid=uuid.uuid4(), email=address, username=address.split("@")[0], password=PASSWORD
    )


async def test_a_site_session_is_an_api_session(site: Site, new_page: NewPage) -> None:
    reader = await site.api_login(await site.reader())
    page = await new_page()
    await sign_in(page, reader)
    sessions = (await site.api.get("/api/v1/auth/sessions", headers=reader.headers)).json()["items"]
    browser_session = next(s for s in sessions if not s["current"])
    assert "Chrome" in browser_session["user_agent"]

    # Cookies: the session reference only, HttpOnly, SameSite=Lax, Secure, host-only.
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session_cookie = cookies["__Host-bookly_session"]
    assert session_cookie["httpOnly"]
    assert session_cookie["secure"]
    assert session_cookie["sameSite"] == "Lax"
    assert session_cookie["path"] == "/"
    assert not session_cookie["domain"].startswith(".")
    assert not re.search(r"eyJ[\w-]+\.eyJ", session_cookie["value"])  # never a JWT

    # Revoked through the API: the browser is signed out at its next click.
    revoked = await site.api.delete(
        f"/api/v1/auth/sessions/{browser_session['sid']}", headers=reader.headers
    )
    assert revoked.status_code == 204
    await page.reload()
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert "__Host-bookly_session" not in {c["name"] for c in await page.context.cookies()}


async def test_a_form_without_its_csrf_token_is_refused(site: Site, new_page: NewPage) -> None:
    reader = await site.reader()
    page = await new_page()
    await sign_in(page, reader)
    # The browser's own cookies, a form without the token (as another site's page would send).
    cookie_header = "; ".join(f"{c['name']}={c['value']}" for c in await page.context.cookies())
    for path in ("/sign-out", "/account/verification/resend"):
        refused = await site.api.post(path, headers={"Cookie": cookie_header}, data={})
        assert refused.status_code == 403, path
        assert refused.headers["content-type"].startswith("text/html")
        assert "not sent from a page of this site" in refused.text
        forged = await site.api.post(
            path, headers={"Cookie": cookie_header}, data={"csrf_token": "forged"}
        )
        assert forged.status_code == 403
    # Still signed in: nothing happened.
    await page.reload()
    await expect(page.locator(".user-menu summary")).to_contain_text(reader.username)
    # Anonymous forms too: a sign-in without the token (a login CSRF) is refused.
    anonymous = await site.api.post(
        "/sign-in", data={"email": reader.email, "password": reader.password}
    )
    assert anonymous.status_code == 403
    assert "set-cookie" not in anonymous.headers


async def test_error_pages_are_pages(site: Site, new_page: NewPage, look_at: LookAt) -> None:
    page = await new_page()
    missing = await page.goto("/no/such/page")
    assert missing is not None
    assert missing.status == 404
    assert missing.headers["content-type"].startswith("text/html")
    await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    await look_at(page, "error-404")
    # The API keeps answering problem documents.
    api = await site.api.get("/api/v1/books/not-a-uuid")
    assert api.headers["content-type"] == "application/problem+json"
    # Web pages carry the site's headers.
    home = await site.api.get("/")
    assert "unsafe-inline" not in home.headers["content-security-policy"]
    assert home.headers["x-frame-options"] == "DENY"
    assert home.headers["referrer-policy"] == "same-origin"


async def test_a_signed_in_page_sends_visitors_to_sign_in_and_back(
    site: Site, new_page: NewPage
) -> None:
    reader = await site.reader()
    page = await new_page()
    await page.goto("/books/new")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next=/books/new$"))
    await page.get_by_label("Email address").fill(reader.email)
    await page.get_by_label("Password").fill(reader.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/books/new$"))
    # A `next` off the site is ignored.
    async with httpx.AsyncClient(base_url=site.url) as client:
        for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
            shown = await client.get("/sign-in", params={"next": target})
            assert "evil.example" not in shown.text


async def test_site_sign_in_is_rate_limited_like_the_api_login(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    reader = await site.reader()
    page = await new_page()
    await page.goto("/sign-in")
    # The account's limit (5 failures in 15 minutes) counts the site's attempts...
    for _ in range(5):
        await page.get_by_label("Email address").fill(reader.email)
        await page.get_by_label("Password").fill("not-the-password")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_contain_text("wrong")
    await page.get_by_label("Email address").fill(reader.email)
    await page.get_by_label("Password").fill(reader.password)
    async with page.expect_response("**/sign-in") as answer:
        await page.get_by_role("button", name="Sign in").click()
    limited = await answer.value
    assert limited.status == 429
    assert int(limited.headers["retry-after"]) > 0
    await expect(page.get_by_role("alert")).to_contain_text("Too many failed attempts")
    await look_at(page, "sign-in-429")
    # ...and the API's login, which shares it, refuses the right password too.
    api = await site.api.post(
        "/api/v1/auth/login", json={"email": reader.email, "password": reader.password}
    )
    assert api.status_code == 429
