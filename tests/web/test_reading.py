"""The reader's pages in a real browser: a whole visit (sign up to sign out, through adding,
reviewing, searching and paging), what another reader may not do, and every page type looked
at (screenshots at both widths, axe-core)."""

import re
import uuid

from playwright.async_api import Page, expect

from tests.factories import PASSWORD, Account, set_flags
from tests.web.conftest import LookAt, NewPage, Site, emailed_link, sign_in, sign_out

CATALOGUE_BOOKS = 55


async def _add_books(site: Site, owner: Account, count: int, author: str) -> list[str]:
    titles = [f"Paging volume {n:02d} {uuid.uuid4().hex[:6]}" for n in range(count)]
    for title in titles:
        made = await site.api.post(
            "/api/v1/books", json={"title": title, "author": author}, headers=owner.headers
        )
        assert made.status_code == 201, made.text
    return titles


async def _fill_book_form(page: Page, title: str) -> None:
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Author").fill("Octavia E. Butler")
    await page.get_by_label("Publisher").fill("Four Walls Eight Windows")
    await page.get_by_label("Publication date").fill("1993-10-01")
    await page.get_by_label("Language").fill("en")
    await page.get_by_label("Description").fill("A young woman's journey north, in a burning land.")
    await page.get_by_label("Tags").fill("Science Fiction, dystopia")


async def test_a_readers_visit(site: Site, new_page: NewPage, look_at: LookAt) -> None:
    owner = await site.api_login(await site.reader())
    author = f"Paging Author {uuid.uuid4().hex[:6]}"
    catalogue = await _add_books(site, owner, CATALOGUE_BOOKS, author)
    page = await new_page()

    # Sign up, and verify from the email.
    username = f"reader_{uuid.uuid4().hex[:8]}"
    address = f"{username}@example.com"
    await page.goto("/sign-up")
    for label, value in (
        ("Username", username),
        ("Email address", address),
        ("First name", "Lauren"),
        ("Last name", "Olamina"),
        ("Password", PASSWORD),
    ):
        await page.get_by_label(label).fill(value)
    await page.get_by_role("button", name="Create account").click()
    await page.goto(await emailed_link(site, address, "verify-email"))
    await expect(page.get_by_role("heading", name="Your email address is verified")).to_be_visible()
    reader = Account(uid=uuid.uuid4(), email=address, username=username, password=PASSWORD)
    await sign_in(page, reader)
    await look_at(page, "home-signed-in")

    # Add a book with tags: a mistake first, shown by its field, the typed values kept.
    await page.locator(".user-menu summary").click()
    await page.get_by_role("link", name="Add a book").click()
    await expect(page.get_by_role("heading", name="Add a book")).to_be_visible()
    await look_at(page, "add-book")
    title = f"Parable of the Sower {uuid.uuid4().hex[:6]}"
    await _fill_book_form(page, title)
    await page.get_by_label("Pages").fill("three hundred")
    await page.get_by_role("button", name="Add the book").click()
    await expect(page.get_by_label("Pages")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#f-page_count-error")).to_have_text(
        "Type a whole number, such as 320."
    )
    await expect(page.get_by_label("Title")).to_have_value(title)
    await expect(page.get_by_label("Tags")).to_have_value("Science Fiction, dystopia")
    await look_at(page, "add-book-errors")
    await page.get_by_label("Pages").fill("345")
    await page.get_by_role("button", name="Add the book").click()
    await expect(page.get_by_role("heading", name=title)).to_be_visible()
    await expect(page.get_by_role("status")).to_have_text("Your book is in the catalogue.")
    tags = page.get_by_role("list", name="Tags")
    await expect(tags.get_by_role("link")).to_have_text(["dystopia", "science fiction"])
    book_url = page.url.split("?")[0]

    # Review it, then edit the review.
    await page.get_by_label("4 stars").check()
    await page.get_by_label("Your review").fill("Hard to put down.")
    await page.get_by_role("button", name="Publish review").click()
    reviews = page.locator("#reviews")
    await expect(reviews.get_by_role("listitem")).to_contain_text(["Hard to put down."])
    await expect(page.locator("article .rating")).to_contain_text("4.0 out of 5, 1 review")
    await look_at(page, "book")
    await reviews.get_by_role("link", name="Edit your review").click()
    await expect(page.get_by_label("4 stars")).to_be_checked()
    await look_at(page, "edit-review")
    await page.get_by_label("5 stars").check()
    await page.get_by_label("Your review").fill("Hard to put down, and it stays with you.")
    await page.get_by_role("button", name="Save your review").click()
    await expect(reviews.get_by_role("listitem")).to_contain_text(["it stays with you"])
    await expect(page.locator("article .rating")).to_contain_text("5.0 out of 5, 1 review")

    # Edit the book (its owner may), and look at the tag's page and the profile.
    await page.get_by_role("link", name="Edit the book").click()
    await look_at(page, "edit-book")
    await page.get_by_label("Tags").fill("science fiction, dystopia, classics")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("status")).to_have_text("The book's changes are saved.")
    await tags.get_by_role("link", name="classics").click()
    await expect(page.get_by_role("heading", name="Books tagged “classics”")).to_be_visible()
    await expect(page.get_by_role("link", name=title)).to_be_visible()
    await look_at(page, "tag")
    await page.get_by_role("link", name="All tags").click()
    await expect(page.get_by_role("link", name=re.compile(r"^classics"))).to_be_visible()
    await look_at(page, "tags")
    await page.locator(".user-menu summary").click()
    await page.get_by_role("link", name="Your profile").click()
    await expect(page.get_by_role("heading", name=username, exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name=title)).to_have_count(2)  # added, reviewed
    await look_at(page, "profile")

    # Search from the header, and find it.
    await page.get_by_label("Search books").fill("parable sower")
    await page.get_by_label("Search books").press("Enter")
    await expect(page.get_by_role("heading", name="Books matching “parable sower”")).to_be_visible()
    await expect(page.locator(".book-list").get_by_role("link", name=title)).to_be_visible()
    await look_at(page, "search")

    # Page through the 55 books of one author, 20 at a time, by the keyset cursors.
    await page.goto(f"/?author={author.replace(' ', '+')}")
    seen: list[str] = []
    while True:
        seen += await page.locator(".book-list h3").all_inner_texts()
        following = page.get_by_role("link", name="Next page")
        if not await following.count():
            break
        await following.click()
        await expect(page.get_by_role("link", name="First page")).to_be_visible()
    assert sorted(seen) == sorted(catalogue)
    await look_at(page, "catalogue-last-page")

    await sign_out(page)
    await page.goto(book_url)
    await expect(page.get_by_role("link", name="Edit the book")).to_have_count(0)
    await look_at(page, "book-anonymous")


async def test_another_reader_may_not_change_what_is_not_theirs(
    site: Site, new_page: NewPage
) -> None:
    first = await site.api_login(await site.reader())
    made = await site.api.post(
        "/api/v1/books",
        json={"title": "Kindred", "author": "Octavia E. Butler"},
        headers=first.headers,
    )
    book_uid = made.json()["uid"]
    review = await site.api.post(
        f"/api/v1/books/{book_uid}/reviews",
        json={"rating": 5, "review_text": "Unforgettable."},
        headers=first.headers,
    )
    review_uid = review.json()["uid"]

    second = await site.reader()
    page = await new_page()
    await sign_in(page, second)
    await page.goto(f"/books/{book_uid}")
    await expect(page.get_by_text("Unforgettable.")).to_be_visible()
    for control in ("Edit the book", "Delete the book", "Edit your review"):
        await expect(page.get_by_role("link", name=control)).to_have_count(0)
    await expect(page.get_by_role("button", name=re.compile("Delete"))).to_have_count(0)

    # Forged POSTs, with this reader's own valid CSRF token: refused by the rules.
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    for path, form in (
        (f"/books/{book_uid}/edit", {"title": "Mine now", "author": "Me"}),
        (f"/books/{book_uid}/delete", {}),
        (f"/reviews/{review_uid}/edit", {"rating": "1", "review_text": "Bad."}),
        (f"/reviews/{review_uid}/delete", {}),
    ):
        refused = await page.request.post(path, form={"csrf_token": token, **form})
        assert refused.status == 403, path
        assert "text/html" in refused.headers["content-type"]
    for path in (f"/books/{book_uid}/edit", f"/reviews/{review_uid}/edit"):
        shown = await page.goto(path)
        assert shown is not None
        assert shown.status == 403
    kept = await site.api.get(f"/api/v1/books/{book_uid}")
    assert kept.json()["title"] == "Kindred"
    assert kept.json()["rating"] == {"average": 5.0, "count": 1}


async def test_an_unverified_reader_is_told_to_verify(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    reader = await site.reader(verified=False)
    page = await new_page()
    await sign_in(page, reader)
    shown = await page.goto("/books/new")
    assert shown is not None
    assert shown.status == 403
    await expect(page.get_by_text("Verify your email address first")).to_be_visible()
    await look_at(page, "error-403-unverified")


async def test_a_disabled_reader_is_signed_out_at_the_next_click(
    site: Site, new_page: NewPage
) -> None:
    reader = await site.reader()
    admin = await site.reader()
    await set_flags(site.context, admin, role="admin")
    await site.api_login(admin)
    page = await new_page()
    await sign_in(page, reader)
    disabled = await site.api.patch(
        f"/api/v1/users/{reader.uid}", json={"is_active": False}, headers=admin.headers
    )
    assert disabled.status_code == 200, disabled.text
    await page.get_by_role("link", name="Tags").click()
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    await page.goto("/books/new")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next="))


async def test_the_author_deletes_their_review_and_the_owner_the_book(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    owner = await site.api_login(await site.reader())
    made = await site.api.post(
        "/api/v1/books",
        json={"title": "Parable of the Talents", "author": "Octavia E. Butler"},
        headers=owner.headers,
    )
    book_uid = made.json()["uid"]
    reviewed = await site.api.post(
        f"/api/v1/books/{book_uid}/reviews",
        json={"rating": 4, "review_text": "Darker than the first."},
        headers=owner.headers,
    )
    assert reviewed.status_code == 201, reviewed.text
    page = await new_page()
    await sign_in(page, owner)
    await page.goto(f"/books/{book_uid}")

    await page.get_by_role("button", name="Delete your review").click()
    await expect(page.get_by_role("status")).to_contain_text("The review is deleted")
    await expect(page.get_by_text("Darker than the first.")).to_have_count(0)
    summary = (await site.api.get(f"/api/v1/books/{book_uid}")).json()["rating"]
    assert summary == {"average": None, "count": 0}

    await page.get_by_role("link", name="Delete the book").click()
    await expect(page.get_by_role("heading", name=re.compile("Delete"))).to_be_visible()
    await look_at(page, "book-delete")
    await page.get_by_role("button", name=re.compile("Delete")).click()
    await expect(page.get_by_role("status")).to_contain_text("The book is deleted")
    gone = await page.goto(f"/books/{book_uid}")
    assert gone is not None
    assert gone.status == 404
    assert (await site.api.get(f"/api/v1/books/{book_uid}")).status_code == 404
