"""`GET /books/suggest?q=`: up to 8 books for what a reader is typing, misspelt or unfinished,
public, and described in the OpenAPI schema."""

from tests.conftest import Harness
from tests.factories import user
from tests.support.catalogue import new_book

SUGGEST = "/api/v1/books/suggest"


async def test_suggestions_finish_the_last_word_and_forgive_misspellings(
    harness: Harness,
) -> None:
    owner = await user(harness.client, harness.context)
    wanted = await new_book(harness.client, owner, title="The Hitchhiker's Guide", author="Adams")
    await new_book(harness.client, owner, title="The Guide to Nothing", author="Somebody")
    await new_book(harness.client, owner, title="Unrelated", author="Nobody")

    for q in ("hitchhiker's gui", "hitchiker's gu", "HITCHHIKER"):
        response = await harness.client.get(SUGGEST, params={"q": q})  # no sign-in needed
        assert response.status_code == 200, response.text
        assert response.json() == {
            "items": [{"uid": wanted["uid"], "title": wanted["title"], "author": "Adams"}]
        }, q


async def test_at_most_eight_suggestions_best_first(harness: Harness) -> None:
    owner = await user(harness.client, harness.context)
    for n in range(10):
        harness.clock.advance(seconds=1)
        await new_book(harness.client, owner, title=f"Dragon Tale Volume {n}", author="Anon")
    await new_book(harness.client, owner, title="Dragon", author="Anon")
    items = (await harness.client.get(SUGGEST, params={"q": "drag"})).json()["items"]
    assert len(items) == 8
    assert items[0]["title"] == "Dragon"


async def test_text_without_words_suggests_nothing_and_no_text_is_refused(
    harness: Harness,
) -> None:
    assert (await harness.client.get(SUGGEST, params={"q": " !? "})).json() == {"items": []}
    missing = await harness.client.get(SUGGEST)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["query", "q"]
    too_long = await harness.client.get(SUGGEST, params={"q": "x" * 201})
    assert too_long.status_code == 422


async def test_suggestions_are_in_the_openapi_schema(harness: Harness) -> None:
    schema = (await harness.client.get("/api/v1/openapi.json")).json()
    operation = schema["paths"]["/api/v1/books/suggest"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["q"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/BookSuggestions"}
    item = schema["components"]["schemas"]["BookSuggestion"]
    assert set(item["properties"]) == {"uid", "title", "author"}


async def test_suggest_is_no_book_to_change(harness: Harness) -> None:
    # `/books/{uid}` serves PATCH and DELETE, but `suggest` is not a book's uid.
    for method in ("PATCH", "DELETE"):
        response = await harness.client.request(method, SUGGEST)
        assert response.status_code == 405, response.text
        assert response.headers["allow"] == "GET"
    malformed = await harness.client.get("/api/v1/books/suggestion")
    assert malformed.status_code == 422
