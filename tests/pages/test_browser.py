"""The email link pages in a real browser (headless Chromium from Debian's `chromium`), against
a real `bookly serve` process that sends its own emails to the test's SMTP server."""

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.conftest import Harness
from tests.factories import signup_body
from tests.support.mail import SmtpServer, link_in, messages_to
from tests.support.processes import Process, process_env
from tests.support.servers import free_port

CHROMIUM = "/usr/bin/chromium"
NEW_PASSWORD = "a-brand-new-passphrase"

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (.ci/run installs it)", allow_module_level=True)


@pytest.fixture
async def live_server(
    harness: Harness, smtp: SmtpServer, database_url: str, tmp_path: Path
) -> AsyncIterator[str]:
    """`bookly serve` on the test database; it drains the outbox itself (the default)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = process_env(database_url, smtp.port, PUBLIC_BASE_URL=base_url)
    server = await Process.start(["serve", "--port", str(port)], env, tmp_path, "serve")
    try:
        await server.wait_for_output("Application startup complete")
        yield base_url
    finally:
        # Uvicorn shuts down gracefully, then re-raises SIGTERM: the status says so.
        assert await server.terminate() in (0, -15), server.output()
        assert "Application shutdown complete" in server.output()


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
            ],
        )
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


async def _emailed_link(smtp: SmtpServer, recipient: str, path: str) -> str:
    for _ in range(200):
        links = [link_in(m) for m in messages_to(smtp, recipient) if f"/{path}?" in link_in(m)]
        if links:
            return links[-1]
        await smtp.wait_for(len(smtp.received()) + 1)
    raise AssertionError(f"no {path} email for {recipient}")


async def test_verify_and_reset_in_a_real_browser(
    live_server: str, smtp: SmtpServer, page: Page, artifacts_dir: Path
) -> None:
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    body = signup_body()
    async with httpx.AsyncClient(base_url=live_server) as api:
        assert (await api.post("/api/v1/auth/signup", json=body)).status_code == 201
        email = body["email"].lower()

        # Verify: open the link from the email the server sent.
        link = await _emailed_link(smtp, email, "verify-email")
        assert link.startswith(f"{live_server}/verify-email?token=")
        response = await page.goto(link)
        assert response is not None
        assert response.status == 200
        assert response.headers["x-frame-options"] == "DENY"
        await expect(
            page.get_by_role("heading", name="Your email address is verified")
        ).to_be_visible()
        # The inline stylesheet applied: the CSP allows it by hash.
        header = page.locator("header")
        await expect(header).to_have_css("background-color", "rgb(107, 62, 38)")
        await page.screenshot(path=artifacts_dir / "verify-email.png", full_page=True)

        # Reset: ask for it through the API, open the emailed link, fill and send the form.
        response_202 = await api.post("/api/v1/auth/password-reset/request", json={"email": email})
        assert response_202.status_code == 202
        link = await _emailed_link(smtp, email, "reset-password")
        await page.goto(link)
        new_password = page.get_by_label("New password", exact=True)
        confirm = page.get_by_label("Confirm new password")
        await expect(new_password).to_be_focused()
        await new_password.fill(NEW_PASSWORD)
        await confirm.fill(NEW_PASSWORD + "-typo")
        await page.screenshot(path=artifacts_dir / "reset-password-form.png", full_page=True)
        await page.get_by_role("button", name="Set new password").click()

        await expect(page.get_by_text("The two passwords do not match.")).to_be_visible()
        await expect(confirm).to_have_attribute("aria-invalid", "true")
        await expect(confirm).to_be_focused()
        await page.screenshot(path=artifacts_dir / "reset-password-mismatch.png", full_page=True)

        await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        await confirm.fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Set new password").click()
        await expect(
            page.get_by_role("heading", name="Your password has been changed")
        ).to_be_visible()
        await page.screenshot(path=artifacts_dir / "reset-password-done.png", full_page=True)

        # The new password signs in through the API; the old one no longer does.
        login = await api.post(
            "/api/v1/auth/login", json={"email": email, "password": NEW_PASSWORD}
        )
        assert login.status_code == 200, login.text
        assert login.json()["user"]["is_verified"] is True
        old = await api.post(
            "/api/v1/auth/login", json={"email": email, "password": body["password"]}
        )
        assert old.status_code == 401
    # Nothing on the pages was refused by their Content-Security-Policy.
    assert not [line for line in console if "Content Security Policy" in line], console
