"""The readers' site in a real browser: one live `bookly serve` per test module (on the suite's
backend: SQLite, or PostgreSQL + Redis), headless Chromium from Debian's `chromium` driven by
Playwright's Python API, and the helpers the browser tests share.

- `site`: the server's URL, an API client for it, an `AppContext` on the same database (for what
  the tests set up directly), and the folder where it writes its emails (`.eml` files: the
  file backend, as `make run` uses).
- `browser`: one Chromium per module; `new_page()` gives a fresh context (its own cookies).
- `look_at(page, name)`: screenshots at phone (375 px) and desktop width into
  `var/test-artifacts/web/`, and an axe-core check that fails on serious or critical violations.
- `emailed_link(site, address, path, count=1)`: the newest link to `path` in the emails sent
  to `address`, once `count` such emails were written.
"""

import asyncio
import email
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from bookly.core.config import Settings
from bookly.core.context import AppContext
from bookly.main import create_context
from tests.conftest import BACKEND, REDIS_URL, _empty_everything
from tests.factories import PASSWORD, Account, set_flags, signup_body
from tests.support.mail import link_in
from tests.support.servers import BOOKLY, LiveServer, free_port, wait_until_healthy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
PHONE, DESKTOP = {"width": 375, "height": 812}, {"width": 1280, "height": 900}
# axe's impacts that fail a page; "moderate" and "minor" ones are reported, not failed.
FAILING_IMPACTS = {"serious", "critical"}

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (.ci/run installs it)", allow_module_level=True)


@dataclass
class Site:
    url: str
    api: httpx.AsyncClient
    context: AppContext
    mail_dir: Path
    server: LiveServer

    async def reader(self, *, verified: bool = True) -> Account:
        """An account made through the API (verified directly unless asked not to)."""
        body = signup_body()
        response = await self.api.post("/api/v1/auth/signup", json=body)
        assert response.status_code == 201, response.text
        account = Account(
            uid=uuid.UUID(response.json()["uid"]),
            email=body["email"].lower(),
            username=body["username"],
            password=PASSWORD,
        )
        if verified:
            await set_flags(self.context, account, is_verified=True)
        return account

    async def api_login(self, account: Account) -> Account:
        response = await self.api.post(
            "/api/v1/auth/login", json={"email": account.email, "password": account.password}
        )
        assert response.status_code == 200, response.text
        account.access_token = response.json()["access_token"]
        return account


def _settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=database_url,
        redis_url=REDIS_URL if BACKEND == "postgres" else None,
        jwt_secret="test-secret-" + "w" * 52,
        # The browser tests sign many readers up from one address.
        rate_limit_signup_ip="1000/minute",
    )


def _server_env(settings: Settings, port: int, mail_dir: Path) -> dict[str, str]:
    keep = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env = {
        **keep,
        # Not development: the cookies are Secure and `__Host-` named, as in production
        # (Chromium keeps Secure cookies of http://127.0.0.1, a potentially trustworthy origin).
        "ENVIRONMENT": settings.environment,
        "DATABASE_URL": settings.database_url,
        "JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "MAIL_DIR": str(mail_dir),
        "OUTBOX_POLL_SECONDS": "0.2",
        "RATE_LIMIT_SIGNUP_IP": settings.rate_limit_signup_ip,
        "LOG_LEVEL": "INFO",
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


@pytest.fixture(scope="module")
def live_site_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Settings, Path]]:
    settings = _settings(database_url)
    workdir = tmp_path_factory.mktemp("web")
    mail_dir = workdir / "mail"
    port = free_port()
    server = LiveServer.start(
        "serve-web",
        [str(BOOKLY), "serve", "--port", str(port)],
        port=port,
        env=_server_env(settings, port, mail_dir),
        cwd=workdir,
    )
    try:
        wait_until_healthy(server)
        yield server, settings, mail_dir
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def site(live_site_server: tuple[LiveServer, Settings, Path]) -> AsyncIterator[Site]:
    server, settings, mail_dir = live_site_server
    context = create_context(settings)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
            yield Site(server.url, api, context, mail_dir, server)
    finally:
        await _empty_everything(context)
        if context.redis is not None:
            await context.redis.aclose()
        await context.engine.dispose()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


NewPage = Callable[[], Awaitable[Page]]


@pytest.fixture
async def new_page(browser: Browser, site: Site) -> AsyncIterator[NewPage]:
    """Pages in fresh browser contexts (each its own cookies), closed after the test. Every
    page's console is watched: a Content-Security-Policy refusal fails the test."""
    contexts: list[BrowserContext] = []
    console: list[str] = []

    async def make() -> Page:
        context = await browser.new_context(base_url=site.url, viewport=DESKTOP)
        contexts.append(context)
        made = await context.new_page()
        made.on("console", lambda message: console.append(message.text))
        return made

    try:
        yield make
    finally:
        for context in contexts:
            await context.close()
    assert not [line for line in console if "Content Security Policy" in line], console


@pytest.fixture(scope="session")
def web_artifacts(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "web"
    path.mkdir(parents=True, exist_ok=True)
    return path


_axe = Axe()
LookAt = Callable[[Page, str], Awaitable[None]]


@pytest.fixture
def look_at(web_artifacts: Path) -> LookAt:
    """Screenshot the page at both widths (`name-phone.png`, `name-desktop.png`) and fail on
    any serious or critical axe-core violation, naming the rule and the elements."""

    async def look(page: Page, name: str) -> None:
        results = await _axe.run(page)
        failing = [
            violation
            for violation in results.response["violations"]
            if violation["impact"] in FAILING_IMPACTS
        ]
        report = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in failing
        ]
        assert not failing, f"{name}: " + "; ".join(report)
        original = page.viewport_size or DESKTOP
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            await page.set_viewport_size(size)
            await page.screenshot(path=web_artifacts / f"{name}-{label}.png", full_page=True)
        await page.set_viewport_size(original)

    return look


async def emailed_link(
    site: Site, address: str, path: str, *, count: int = 1, seconds: float = 20
) -> str:
    """The newest `path` link in the emails the server wrote for `address`, once there are
    `count` of them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        links = [
            link_in(message)
            for message in _emails(site.mail_dir)
            if message["To"] == address and f"/{path}?" in link_in(message)
        ]
        if len(links) >= count:
            return links[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {path} email for {address} in {site.mail_dir}")


def _emails(mail_dir: Path) -> list[email.message.Message]:
    files = sorted(mail_dir.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [email.message_from_bytes(path.read_bytes()) for path in files]


async def sign_in(page: Page, account: Account, *, next_path: str = "") -> None:
    """Sign in through the site's form, and wait for the signed-in header."""
    await page.goto("/sign-in" + (f"?next={next_path}" if next_path else ""))
    await page.get_by_label("Email address").fill(account.email)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator(".user-menu summary")).to_contain_text(account.username)


async def sign_out(page: Page) -> None:
    await page.locator(".user-menu summary").click()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()
