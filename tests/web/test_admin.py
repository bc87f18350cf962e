"""The administrators' pages in the browser: users (search, role, disable and enable), tags
(rename, delete) and reviews (delete); refused to other readers and to anonymous visitors."""

import uuid

import httpx
from playwright.async_api import Page, expect

from bookly.models import Role
from tests.factories import Account, set_flags
from tests.support.catalogue import new_book, new_review
from tests.web.conftest import LookAt, NewPage, Site, sign_in

ADMIN_PAGES = ("/admin/users", "/admin/tags", "/admin/reviews")


async def _admin(site: Site) -> Account:
    account = await site.reader()
    await set_flags(site.context, account, role=Role.ADMIN)
    return account


async def _admin_page(site: Site, new_page: NewPage) -> Page:
    page = await new_page()
    await sign_in(page, await _admin(site))
    return page


async def test_an_admin_disables_a_reader_whose_browser_is_signed_out_at_the_next_click(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    reader = await site.reader()
    readers_page = await new_page()
    await sign_in(readers_page, reader)

    page = await _admin_page(site, new_page)
    await page.locator(".user-menu summary").click()
    await page.get_by_role("link", name="Administration").click()
    await expect(page.get_by_role("heading", name="Users")).to_be_visible()
    await page.get_by_label("Username or email contains").fill(reader.username)
    await page.get_by_role("button", name="Find").click()
    found = page.locator(".admin-list > li")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text(reader.email)
    await look_at(page, "admin-users")

    await page.get_by_role("button", name=f"Disable {reader.username}").click()
    await expect(page.get_by_role("status")).to_contain_text("signed out everywhere")
    await expect(found).to_contain_text("disabled")

    # The reader's next click finds them signed out, and signing in again is refused.
    await readers_page.get_by_role("link", name="Books", exact=True).click()
    await expect(readers_page.get_by_role("link", name="Sign in")).to_be_visible()
    await expect(readers_page.locator(".user-menu")).to_have_count(0)
    refused = await site.api.post(
        "/api/v1/auth/login", json={"email": reader.email, "password": reader.password}
    )
    assert refused.status_code == 403

    await page.get_by_role("button", name=f"Enable {reader.username}").click()
    await expect(found).to_contain_text("active")
    await page.get_by_label(f"Role of {reader.username}").select_option("admin")
    await page.get_by_role("button", name=f"Change role of {reader.username}").click()
    await expect(found).to_contain_text("admin")
    await sign_in(readers_page, reader)
    await readers_page.goto("/admin/users")
    await expect(readers_page.get_by_role("heading", name="Users")).to_be_visible()


async def test_admin_pages_refuse_readers_and_send_visitors_to_sign_in(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    page = await new_page()
    await sign_in(page, await site.reader())
    await expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    for path in ADMIN_PAGES:
        refused = await page.goto(path)
        assert refused is not None
        assert refused.status == 403, path
        await expect(page.get_by_role("heading", name="You can't do that here")).to_be_visible()
    await look_at(page, "admin-forbidden")

    visitor = await new_page()
    await visitor.goto("/admin/tags")
    await expect(visitor.get_by_role("heading", name="Sign in")).to_be_visible()
    admin = await _admin(site)
    await visitor.get_by_label("Email address").fill(admin.email)
    await visitor.get_by_label("Password").fill(admin.password)
    await visitor.get_by_role("button", name="Sign in").click()
    await expect(visitor.get_by_role("heading", name="Tags")).to_be_visible()
    assert visitor.url.endswith("/admin/tags")


async def test_an_admin_renames_and_deletes_tags_and_deletes_reviews(
    site: Site, new_page: NewPage, look_at: LookAt
) -> None:
    owner = await site.api_login(await site.reader())
    book = await new_book(site.api, owner)
    old, kept = f"old-{uuid.uuid4().hex[:6]}", f"kept-{uuid.uuid4().hex[:6]}"
    tagged = await site.api.put(
        f"/api/v1/books/{book['uid']}/tags", json={"tags": [old, kept]}, headers=owner.headers
    )
    assert tagged.status_code == 200, tagged.text
    await new_review(site.api, owner, book["uid"])

    page = await _admin_page(site, new_page)
    await page.goto("/admin/tags")
    await look_at(page, "admin-tags")
    await page.get_by_role("link", name=f"Rename {old}").click()
    await look_at(page, "admin-tag-rename")
    # A name another tag has is said next to the field.
    await page.get_by_label("New name").fill(kept)
    await page.get_by_role("button", name="Rename").click()
    await expect(page.locator("#f-name-error")).to_contain_text("Another tag has this name")
    new = f"new-{uuid.uuid4().hex[:6]}"
    await page.get_by_label("New name").fill(new)
    await page.get_by_role("button", name="Rename").click()
    await expect(page.get_by_role("status")).to_contain_text("The tag is renamed")
    await page.get_by_role("button", name=f"Delete {kept}").click()
    await expect(page.get_by_role("status")).to_contain_text("The tag is deleted")
    shown = await site.api.get(f"/api/v1/books/{book['uid']}")
    assert shown.json()["tags"] == [new]

    await page.get_by_role("link", name="Reviews", exact=True).click()
    await expect(page.get_by_role("heading", name="Reviews")).to_be_visible()
    await look_at(page, "admin-reviews")
    await page.get_by_role("button", name=f"Delete the review by {owner.username}").click()
    await expect(page.get_by_role("status")).to_contain_text("The review is deleted")
    reviews = await site.api.get(f"/api/v1/books/{book['uid']}/reviews")
    assert reviews.json()["items"] == []


async def test_admin_forms_without_their_csrf_token_are_refused(
    site: Site, new_page: NewPage
) -> None:
    reader = await site.reader()
    page = await _admin_page(site, new_page)
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in await page.context.cookies())
    async with httpx.AsyncClient(base_url=site.url) as client:
        refused = await client.post(
            f"/admin/users/{reader.uid}", headers={"Cookie": cookies}, data={"is_active": "false"}
        )
    assert refused.status_code == 403
    login = await site.api.post(
        "/api/v1/auth/login", json={"email": reader.email, "password": reader.password}
    )
    assert login.status_code == 200
