"""The site's rules over HTTP, in process (no browser): every form of every page refuses a POST
without its token, and an outage is answered with the site's 503 page, not a problem document."""

import re
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import update

from bookly.core.config import Settings
from bookly.main import create_context
from bookly.models import User
from bookly.web.site import WEB_ROUTERS
from tests.conftest import _empty_everything
from tests.factories import sign_up
from tests.support.apps import app_client
from tests.support.servers import free_port

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _site_posts() -> Iterator[str]:
    """Every path of the site that takes a POST, its parameters filled in."""
    for router in WEB_ROUTERS:
        for route in router.routes:
            if "POST" in getattr(route, "methods", ()):
                yield re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), getattr(route, "path", ""))


@pytest.fixture
async def browser_like(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app over https (the cookies are Secure outside development)."""
    async with app_client(settings) as (app, client):
        client.base_url = httpx.URL("https://bookly.test")
        try:
            yield client
        finally:
            await _empty_everything(app.state.context)


async def _sign_in(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    form = await client.get("/sign-in")
    token = _TOKEN.search(form.text)
    assert token
    signed_in = await client.post(
        "/sign-in",
        data={"csrf_token": token[1], "email": account.email, "password": account.password},
    )
    assert signed_in.status_code == 303, signed_in.text
    assert "__Host-bookly_session" in client.cookies


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_every_form_refuses_a_post_without_its_token(
    browser_like: httpx.AsyncClient, signed_in: bool
) -> None:
    if signed_in:
        await _sign_in(browser_like)
    paths = list(_site_posts())
    assert {"/sign-in", "/sign-up", "/sign-out"} <= set(paths)
    for path in paths:
        for form in ({}, {"csrf_token": "forged"}):
            refused = await browser_like.post(path, data=form)
            assert refused.status_code == 403, (path, refused.text[:200])
            assert refused.headers["content-type"].startswith("text/html")
            assert "not sent from a page of this site" in refused.text


async def test_an_outage_is_the_sites_503_page(settings: Settings) -> None:
    # A Redis nobody answers on: rate limits cannot be counted, so sign-in fails closed.
    unreachable = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with app_client(unreachable) as (_, client):
        client.base_url = httpx.URL("https://bookly.test")
        form = await client.get("/sign-in")
        token = _TOKEN.search(form.text)
        assert token
        answer = await client.post(
            "/sign-in",
            data={"csrf_token": token[1], "email": "someone@example.com", "password": "x" * 12},
        )
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("text/html")
    assert int(answer.headers["retry-after"]) > 0
    assert "Bookly is busy right now" in answer.text


async def test_a_refused_write_is_shown_by_its_field(
    browser_like: httpx.AsyncClient, settings: Settings
) -> None:
    """A unique rule the database enforces (the ISBN) comes back as the field's error, the
    request's transaction rolled back, the typed values kept."""
    await _sign_in(browser_like)
    form = await browser_like.get("/books/new")
    assert form.status_code == 403  # not verified yet
    context = create_context(settings)
    try:
        async with context.sessionmaker.begin() as db:
            await db.execute(update(User).values(is_verified=True))
    finally:
        await context.engine.dispose()
    token = _TOKEN.search((await browser_like.get("/books/new")).text)
    assert token
    book = {"csrf_token": token[1], "title": "Dune", "author": "Frank Herbert"}
    first = await browser_like.post("/books/new", data={**book, "isbn": "978-0-441-17271-9"})
    assert first.status_code == 303
    again = await browser_like.post(
        "/books/new", data={**book, "title": "Dune again", "isbn": "0441172717"}
    )
    assert again.status_code == 409
    assert 'id="f-isbn-error"' in again.text
    assert "already exists" in again.text
    assert 'value="Dune again"' in again.text
    # The session is fine afterwards: the next write goes through.
    third = await browser_like.post("/books/new", data={**book, "title": "Children of Dune"})
    assert third.status_code == 303
