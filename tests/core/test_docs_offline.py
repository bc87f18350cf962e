"""`/docs` (Swagger UI) and `/redoc` (ReDoc) render in headless Chromium (Debian's `chromium`)
from a live `bookly serve` with the browser's network closed to everything but the server: their
scripts, styles and icons come from Bookly itself, never from a CDN."""

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Page, Request, Route, async_playwright, expect

from tests.support.live import LiveServers

CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (.ci/run installs it)", allow_module_level=True)


class OfflinePage:
    """A browser page that may reach only this machine: any other request is aborted, and kept
    here for the test to look at."""

    def __init__(self, page: Page):
        self.page = page
        self.refused: list[str] = []
        self.failed: list[str] = []
        self.console_errors: list[str] = []
        page.on("requestfailed", lambda request: self.failed.append(request.url))
        page.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text) if message.type == "error" else None
            ),
        )

    async def close_the_network(self) -> None:
        async def only_local(route: Route, request: Request) -> None:
            if urlsplit(request.url).hostname in LOCAL_HOSTS:
                await route.continue_()
            else:
                self.refused.append(request.url)
                await route.abort("internetdisconnected")

        await self.page.route("**/*", only_local)


@pytest.fixture
async def offline_page() -> AsyncIterator[OfflinePage]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = OfflinePage(await browser.new_page())
            await page.close_the_network()
            yield page
        finally:
            await browser.close()


@pytest.fixture
async def served(live_servers: LiveServers) -> tuple[str, list[dict[str, str]]]:
    """The server's URL and its operations: id, first tag and summary of each."""
    server = live_servers.start()
    async with httpx.AsyncClient(base_url=server.url) as client:
        schema = (await client.get("/api/v1/openapi.json")).json()
    operations = [
        {"id": op["operationId"], "tag": op["tags"][0], "summary": op["summary"]}
        for path, item in schema["paths"].items()
        for method, op in item.items()
    ]
    return server.url, operations


def _assert_served_locally(page: OfflinePage) -> None:
    assert page.refused == [], f"the page reached beyond the server: {page.refused}"
    assert page.failed == [], f"requests failed: {page.failed}"
    assert page.console_errors == [], page.console_errors


async def test_swagger_ui_renders_every_operation_offline(
    served: tuple[str, list[dict[str, str]]], offline_page: OfflinePage, artifacts_dir: Path
) -> None:
    url, operations = served
    page = offline_page.page
    response = await page.goto(f"{url}/docs")
    assert response is not None
    assert response.status == 200
    blocks = page.locator(".opblock")
    await expect(blocks.first).to_be_visible(timeout=30_000)
    await expect(blocks).to_have_count(len(operations))
    # Swagger UI names each operation's block by its tag and operationId.
    for operation in operations:
        block = page.locator(f"#operations-{operation['tag']}-{operation['id']}")
        await expect(block).to_contain_text(operation["summary"])
    await expect(page.get_by_role("button", name="Authorize", exact=True)).to_be_visible()
    await page.screenshot(path=artifacts_dir / "docs-swagger-ui.png", full_page=False)
    _assert_served_locally(offline_page)


async def test_redoc_renders_offline(
    served: tuple[str, list[dict[str, str]]], offline_page: OfflinePage, artifacts_dir: Path
) -> None:
    url, operations = served
    page = offline_page.page
    response = await page.goto(f"{url}/redoc")
    assert response is not None
    assert response.status == 200
    await expect(page.get_by_role("heading", name="Bookly (1.0.0)")).to_be_visible(timeout=30_000)
    # ReDoc gives each operation a section named by its operationId.
    sections = page.locator('[data-section-id^="operation/"]')
    await expect(sections).to_have_count(len(operations))
    for operation in operations:
        section = page.locator(f'[data-section-id="operation/{operation["id"]}"]')
        await expect(section).to_contain_text(operation["summary"])
    await page.screenshot(path=artifacts_dir / "docs-redoc.png", full_page=False)
    _assert_served_locally(offline_page)
