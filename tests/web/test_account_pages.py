"""The account pages in the browser: sessions (revoke one, sign out everywhere), change
password, forgot password, delete the account; each through the API's own services."""

import httpx
from playwright.async_api import Page, expect

from tests.factories import Account
from tests.web.conftest import LookAt, NewPage, Site, emailed_link, sign_in, sign_out

NEW_PASSWORD = "a-new-passphrase-42"


async def _signed_in(site: Site, new_page: NewPage, reader: Account | None = None) -> Page:
    page = await new_page()
    await sign_in(page, reader or await site.reader())
    return page


async def _is_signed_out(page: Page) -> None:
    await page.reload()
    await expect(page.locator(".user-menu")).to_have_count(0)
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()


async def _api_session_lives(site: Site, account: Account) -> bool:
    response = await site.api.get("/api/v1/auth/sessions", headers=account.headers)
    assert response.status_code in {200, 401}, response.text
    return response.status_code == 200


async def test_change_password_then_sign_in_with_the_new_one(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    reader = await site.api_login(await site.reader())
    page = await _signed_in(site, new_page, reader)
    await page.locator(".user-menu summary").click()
    await page.get_by_role("link", name="Change password").click()
    await expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    await look_at(page, "account-password")

    # A wrong current password and a short new one: each said next to its field.
    await page.get_by_label("Current password").fill("not-my-password")
    await page.get_by_label("New password").fill("short")
    await page.get_by_role("button", name="Change password").click()
    await expect(page.locator("#f-new_password-error")).to_contain_text("at least 8 characters")
    await page.get_by_label("Current password").fill("not-my-password")
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect(page.locator("#f-current_password-error")).to_contain_text("wrong")
    await expect(page.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")
    await look_at(page, "account-password-errors")

    await page.get_by_label("Current password").fill(reader.password)
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    # The other sessions (the API's) are signed out; this browser's stays.
    assert not await _api_session_lives(site, reader)

    await page.goto("/")
    await sign_out(page)
    reader.password = NEW_PASSWORD
    await sign_in(page, reader)


async def test_revoke_a_session_from_my_sessions(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    reader = await site.reader()
    here = await _signed_in(site, new_page, reader)
    elsewhere = await _signed_in(site, new_page, reader)
    await here.goto("/account/sessions")
    await expect(here.get_by_role("heading", name="Your sessions")).to_be_visible()
    sessions = here.locator(".account-sessions > li")
    await expect(sessions).to_have_count(2)
    await expect(sessions.filter(has_text="(this browser)")).to_have_count(1)
    await expect(sessions.first).to_contain_text("Chrome")
    await expect(sessions.first).to_contain_text("127.0.0.1")
    await look_at(here, "account-sessions")

    # Newest first: the other browser's session is the first one.
    await sessions.first.get_by_role("button", name="Sign out this session").click()
    await expect(here.get_by_role("status")).to_contain_text("That session is signed out")
    await expect(sessions).to_have_count(1)
    await _is_signed_out(elsewhere)
    await here.reload()
    await expect(here.locator(".user-menu summary")).to_contain_text(reader.username)


async def test_sign_out_everywhere(site: Site, new_page: NewPage) -> None:
    reader = await site.api_login(await site.reader())
    page = await _signed_in(site, new_page, reader)
    await page.goto("/account/sessions")
    await page.get_by_role("button", name="Sign out everywhere").click()
    await expect(page.get_by_role("status")).to_contain_text("signed out everywhere")
    await _is_signed_out(page)
    assert not await _api_session_lives(site, reader)


async def test_forgot_password_answers_alike_and_emails_the_reset_link(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    reader = await site.reader()
    page = await new_page()
    await page.goto("/sign-in")
    await page.get_by_role("link", name="Forgot your password?").click()
    await expect(page).to_have_url(f"{site.url}/forgot-password")
    await expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    await look_at(page, "account-forgot")
    answers = []
    for address in ("nobody-here@example.com", reader.email):
        await page.goto("/forgot-password")
        await page.get_by_label("Email address").fill(address)
        await page.get_by_role("button", name="Send the link").click()
        await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        answers.append(await page.get_by_role("status").inner_text())
    assert answers[0] == answers[1]
    assert "If an account uses that address" in answers[0]

    link = await emailed_link(site, reader.email, "reset-password")
    await page.goto(link)
    await look_at(page, "email-reset-password")
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Set new password").click()
    await expect(page.get_by_role("heading", name="Your password has been changed")).to_be_visible()
    # The reset page's next step is the site's own sign-in page (pages/router.py SIGN_IN_PATH).
    await page.get_by_role("link", name="Sign in to Bookly").click()
    await expect(page).to_have_url(f"{site.url}/sign-in")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    reader.password = NEW_PASSWORD
    await sign_in(page, reader)


async def test_delete_the_account_with_its_password(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    reader = await site.reader()
    page = await _signed_in(site, new_page, reader)
    await page.goto("/account/sessions")
    await page.get_by_role("link", name="Delete your account").click()
    await expect(page.get_by_role("heading", name="Delete your account")).to_be_visible()
    await look_at(page, "account-delete")
    await page.get_by_label("Your password").fill("not-my-password")
    await page.get_by_role("button", name="Delete my account").click()
    await expect(page.locator("#f-password-error")).to_contain_text("The password is wrong")
    await look_at(page, "account-delete-errors")

    await page.get_by_label("Your password").fill(reader.password)
    await page.get_by_role("button", name="Delete my account").click()
    await expect(page.get_by_role("status")).to_contain_text("Your account is deleted")
    await _is_signed_out(page)
    login = await site.api.post(
        "/api/v1/auth/login", json={"email": reader.email, "password": reader.password}
    )
    assert login.status_code == 401


async def test_account_forms_without_their_csrf_token_are_refused(
    site: Site, new_page: NewPage
) -> None:
    reader = await site.reader()
    page = await _signed_in(site, new_page, reader)
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in await page.context.cookies())
    forms = {
        "/account/sign-out-everywhere": {},
        "/account/password": {"current_password": reader.password, "new_password": NEW_PASSWORD},
        "/account/delete": {"password": reader.password},
    }
    async with httpx.AsyncClient(base_url=site.url) as client:
        for path, form in forms.items():
            refused = await client.post(path, headers={"Cookie": cookies}, data=form)
            assert refused.status_code == 403, path
            assert refused.headers["content-type"].startswith("text/html")
    # Nothing happened: still signed in, with the same password.
    await page.reload()
    await expect(page.locator(".user-menu summary")).to_contain_text(reader.username)
    login = await site.api.post(
        "/api/v1/auth/login", json={"email": reader.email, "password": reader.password}
    )
    assert login.status_code == 200
