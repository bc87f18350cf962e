"""Building blocks for tests: accounts made through the real API."""

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import update

from bookly.core.context import AppContext
from bookly.models import Role, User

PASSWORD = "a-long-enough-password"
_counter = itertools.count()


@dataclass
class Account:
    uid: uuid.UUID
    email: str
    username: str
    password: str
    access_token: str = ""
    refresh_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def signup_body(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    body = {
        "username": f"reader_{n}_{uuid.uuid4().hex[:6]}",
        "email": f"reader{n}.{uuid.uuid4().hex[:6]}@example.com",
        "first_name": "Ada",
        "last_name": "Reader",
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


async def sign_up(client: httpx.AsyncClient, **overrides: Any) -> Account:
    body = signup_body(**overrides)
    response = await client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 201, response.text
    return Account(
        uid=uuid.UUID(response.json()["uid"]),
        email=body["email"].lower(),
        username=body["username"],
        password=body["password"],
    )


async def log_in(client: httpx.AsyncClient, account: Account) -> Account:
    response = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    account.access_token = tokens["access_token"]
    account.refresh_token = tokens["refresh_token"]
    return account


async def set_flags(context: AppContext, account: Account, **values: Any) -> None:
    """Set `is_verified`/`role`/`is_active` directly (their own flows are tested elsewhere)."""
    async with context.sessionmaker.begin() as db:
        await db.execute(update(User).where(User.uid == account.uid).values(**values))  # type: ignore[arg-type]


async def user(client: httpx.AsyncClient, context: AppContext, *, verified: bool = True) -> Account:
    account = await sign_up(client)
    if verified:
        await set_flags(context, account, is_verified=True)
    return await log_in(client, account)


async def admin(client: httpx.AsyncClient, context: AppContext) -> Account:
    account = await sign_up(client)
    await set_flags(context, account, is_verified=True, role=Role.ADMIN)
    return await log_in(client, account)
