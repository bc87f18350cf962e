"""Every statement Bookly sends to PostgreSQL has parameters and columns of types asyncpg decodes
without asking the server.

For any other type (a `varchar[]`, say) asyncpg looks the type up on each new connection with
three statements: it turns the session's `jit` off, reads the catalogue, and turns `jit` back on.
Behind a transaction pooler (core/pooler.py) those may run on three server connections: the
setting is left on another client's connection, and the catalogue read runs with JIT on, which
took seconds on a loaded CI machine, past the statement timeout (503s through PgBouncer). A
statement of only built-in types costs no look-up, on any connection.
"""

from typing import Any

import asyncpg
import pytest

from tests.conftest import Harness, postgres_only
from tests.factories import admin, user
from tests.support.catalogue import new_book, new_review

pytestmark = postgres_only

API = "/api/v1"


@pytest.fixture
def type_lookups(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The type OIDs asyncpg asks the server about, on any connection, while the test runs.
    Requested before `harness`, so that no connection of the app has looked anything up yet."""
    looked_up: list[Any] = []
    introspect = asyncpg.Connection._introspect_types  # type: ignore[attr-defined]

    async def recording(self: asyncpg.Connection, typeoids: Any, *rest: Any) -> Any:
        looked_up.extend(typeoids)
        return await introspect(self, typeoids, *rest)

    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", recording)
    return looked_up


async def test_what_readers_and_writers_do_needs_no_type_look_up(
    type_lookups: list[Any], harness: Harness
) -> None:
    client = harness.client
    owner = await user(client, harness.context)
    book = await new_book(client, owner, title="The Secret Garden")
    tagged = await client.put(
        f"{API}/books/{book['uid']}/tags", json={"tags": ["classic"]}, headers=owner.headers
    )
    assert tagged.status_code == 200, tagged.text
    await new_review(client, await user(client, harness.context), book["uid"])
    uid = book["uid"]
    boss = await admin(client, harness.context)

    answers = [
        await client.get(f"{API}/books/{uid}"),
        await client.get(f"{API}/books", params={"limit": 5}),
        await client.get(f"{API}/books", params={"tag": "classic", "sort": "rating"}),
        await client.get(f"{API}/books", params={"q": "secrte gard"}),
        await client.get(f"{API}/books/suggest", params={"q": "gard"}),
        await client.get(f"{API}/books/{uid}/reviews"),
        await client.get(f"{API}/tags"),
        await client.get(f"{API}/users/{owner.uid}"),
        await client.get(f"{API}/users/me", headers=owner.headers),
        await client.get(f"{API}/auth/sessions", headers=owner.headers),
        await client.get(f"{API}/users", headers=boss.headers),
        await client.patch(f"{API}/books/{uid}", json={"page_count": 300}, headers=owner.headers),
        await client.get("/"),
        await client.get(f"/books/{uid}"),
    ]
    assert [answer.status_code for answer in answers] == [200] * len(answers), [
        answer.text[:200] for answer in answers if answer.status_code != 200
    ]
    assert type_lookups == []
