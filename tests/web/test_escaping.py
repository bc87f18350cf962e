"""What readers write reaches the site's pages as text, never as markup: the lists and fields
built in Python (web/fragments.py, web/fields.py) escape every value, as Jinja does for the rest."""

from tests.conftest import Harness
from tests.factories import user
from tests.support.catalogue import new_book

HOSTILE = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


async def test_titles_authors_tags_and_reviews_are_escaped_on_every_page(
    harness: Harness,
) -> None:
    client = harness.client
    owner = await user(client, harness.context)
    book = await new_book(client, owner, title=f"Title {HOSTILE}", author=f"Author {HOSTILE}")
    tagged = await client.put(
        f"/api/v1/books/{book['uid']}/tags",
        json={"tags": [f"tag {HOSTILE}"]},
        headers=owner.headers,
    )
    assert tagged.status_code == 200, tagged.text
    reviewed = await client.post(
        f"/api/v1/books/{book['uid']}/reviews",
        json={"rating": 5, "review_text": f"Review {HOSTILE}"},
        headers=(await user(client, harness.context)).headers,
    )
    assert reviewed.status_code == 201, reviewed.text

    for path in (f"/books/{book['uid']}", "/", f"/users/{owner.uid}", f"/?q={HOSTILE}"):
        page = await client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert "<script" not in page.text, path
        assert ESCAPED in page.text, path
