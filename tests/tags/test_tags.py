"""Tags: normalisation, book tag sets (owner or admin), the admin list, filtering books by tags."""

from tests.conftest import Harness
from tests.factories import admin, user
from tests.support.catalogue import all_pages, new_book


async def test_put_replaces_and_post_adds_normalised_tags(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    url = f"/api/v1/books/{book['uid']}/tags"
    put = await harness.client.put(
        url,
        json={"tags": ["  Science   Fiction ", "classic", "CLASSIC", "space\topera"]},
        headers=owner.headers,
    )
    assert put.status_code == 200, put.text
    assert put.json()["tags"] == ["classic", "science fiction", "space opera"]
    added = await harness.client.post(url, json={"tags": ["Award Winner"]}, headers=owner.headers)
    assert added.json()["tags"] == ["award winner", "classic", "science fiction", "space opera"]
    cleared = await harness.client.put(url, json={"tags": []}, headers=owner.headers)
    assert cleared.json()["tags"] == []
    replaced = await harness.client.put(url, json={"tags": ["classic"]}, headers=owner.headers)
    assert replaced.json()["tags"] == ["classic"]
    removed = await harness.client.delete(f"{url}/CLASSIC", headers=owner.headers)
    assert removed.status_code == 204
    assert (await harness.client.get(f"/api/v1/books/{book['uid']}")).json()["tags"] == []
    again = await harness.client.delete(f"{url}/classic", headers=owner.headers)
    assert again.status_code == 404
    assert again.json()["error_code"] == "tag_not_found"


async def test_tag_bodies_are_bounded(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    url = f"/api/v1/books/{book['uid']}/tags"
    for tags in (["x" * 41], ["   "], [f"t{n}" for n in range(21)], "fantasy", [1]):
        response = await harness.client.put(url, json={"tags": tags}, headers=owner.headers)
        assert response.status_code == 422, tags
    full = await harness.client.put(
        url, json={"tags": [f"t{n}" for n in range(20)]}, headers=owner.headers
    )
    assert full.status_code == 200
    over = await harness.client.post(url, json={"tags": ["one more"]}, headers=owner.headers)
    assert over.status_code == 422
    assert len((await harness.client.get(f"/api/v1/books/{book['uid']}")).json()["tags"]) == 20


async def test_only_owner_or_admin_changes_a_books_tags(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    intruder = await user(harness.client, harness.context)
    unverified = await user(harness.client, harness.context, verified=False)
    moderator = await admin(harness.client, harness.context)
    book = await new_book(harness.client, owner)
    url = f"/api/v1/books/{book['uid']}/tags"
    await harness.client.put(url, json={"tags": ["keep"]}, headers=owner.headers)
    attempts = [
        await harness.client.put(url, json={"tags": ["spam"]}, headers=intruder.headers),
        await harness.client.post(url, json={"tags": ["spam"]}, headers=intruder.headers),
        await harness.client.delete(f"{url}/keep", headers=intruder.headers),
    ]
    assert [a.status_code for a in attempts] == [403, 403, 403]
    denied = await harness.client.put(url, json={"tags": ["spam"]}, headers=unverified.headers)
    assert denied.json()["error_code"] == "account_not_verified"
    assert (await harness.client.get(f"/api/v1/books/{book['uid']}")).json()["tags"] == ["keep"]
    by_admin = await harness.client.post(url, json={"tags": ["curated"]}, headers=moderator.headers)
    assert by_admin.json()["tags"] == ["curated", "keep"]


async def test_admin_creates_renames_and_deletes_tags(harness: Harness) -> None:
    client = harness.client
    moderator = await admin(client, harness.context)
    owner = await user(client, harness.context)
    created = await client.post(
        "/api/v1/tags/", json={"name": " Hard  SF "}, headers=moderator.headers
    )
    assert created.status_code == 201
    tag = created.json()
    assert tag["name"] == "hard sf"
    assert tag["book_count"] == 0
    assert (await client.get(created.headers["location"])).json() == tag
    duplicate = await client.post(
        "/api/v1/tags/", json={"name": "HARD SF"}, headers=moderator.headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error_code"] == "tag_exists"
    refused = await client.post("/api/v1/tags/", json={"name": "mine"}, headers=owner.headers)
    assert refused.status_code == 403

    book = await new_book(client, owner)
    await client.put(
        f"/api/v1/books/{book['uid']}/tags",
        json={"tags": ["hard sf", "other"]},
        headers=owner.headers,
    )
    renamed = await client.patch(
        f"/api/v1/tags/{tag['uid']}",
        json={"name": "Hard Science Fiction"},
        headers=moderator.headers,
    )
    assert renamed.json()["name"] == "hard science fiction"
    assert renamed.json()["book_count"] == 1
    clash = await client.patch(
        f"/api/v1/tags/{tag['uid']}", json={"name": "other"}, headers=moderator.headers
    )
    assert clash.status_code == 409
    not_admin = await client.patch(
        f"/api/v1/tags/{tag['uid']}", json={"name": "x"}, headers=owner.headers
    )
    assert not_admin.status_code == 403
    assert (await client.get(f"/api/v1/books/{book['uid']}")).json()["tags"] == [
        "hard science fiction",
        "other",
    ]
    deleted = await client.delete(f"/api/v1/tags/{tag['uid']}", headers=moderator.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/books/{book['uid']}")).json()["tags"] == ["other"]
    gone = await client.delete(f"/api/v1/tags/{tag['uid']}", headers=moderator.headers)
    assert gone.json()["error_code"] == "tag_not_found"


async def test_tag_list_counts_sorts_filters_and_pages(harness: Harness) -> None:
    client = harness.client
    owner = await user(client, harness.context)
    for tags in (["fantasy", "fable"], ["fantasy", "history"], ["fantasy", "history", "art"]):
        book = await new_book(client, owner)
        await client.put(
            f"/api/v1/books/{book['uid']}/tags", json={"tags": tags}, headers=owner.headers
        )
    by_name = await all_pages(client, "/api/v1/tags/", limit=2)
    assert [t["name"] for t in by_name] == ["art", "fable", "fantasy", "history"]
    popular = await all_pages(client, "/api/v1/tags/", limit=1, sort="-book_count")
    assert [(t["name"], t["book_count"]) for t in popular] == [
        ("fantasy", 3),
        ("history", 2),
        ("art", 1),
        ("fable", 1),
    ]
    prefixed = await client.get("/api/v1/tags/", params={"q": "FA", "include_total": "true"})
    assert [t["name"] for t in prefixed.json()["items"]] == ["fable", "fantasy"]
    assert prefixed.json()["total"] == 2
    wildcard = await client.get("/api/v1/tags/", params={"q": "%"})
    assert wildcard.json()["items"] == []
    assert (await client.get("/api/v1/tags/", params={"sort": "book_count"})).status_code == 422

    both = await all_pages(client, "/api/v1/books/", tag=["Fantasy", "history"])
    assert len(both) == 2
    assert all({"fantasy", "history"} <= set(b["tags"]) for b in both)
    assert await all_pages(client, "/api/v1/books/", tag=["fable", "history"]) == []
