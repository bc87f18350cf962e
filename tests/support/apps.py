"""An in-process app with its lifespan running, for tests that build their own settings."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from bookly.core.config import Settings
from bookly.main import create_app


@asynccontextmanager
async def app_client(
    settings: Settings, *, client_ip: str = "203.0.113.7"
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app with its lifespan running and a client for it (no table cleanup: use the
    `harness` fixture for tests that write)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bookly.test") as client:
            yield app, client
