"""The small pieces of HTML a page repeats for every book or review it lists, built in Python
and used as Jinja filters (`rendering.py` registers them): Jinja calls a filter directly, but
each macro call, or call of a method, from a template costs it several times as much, and a
page of 20 books made some 80 of them (bench/README.md, "The site's pages").

Every value is escaped (`escape`, C code; `Markup.format` parses its format string in Python
each call, and made the catalogue slower than its macros); the fragments carry their text
equivalent for screen readers, as the stars are hidden from them.
"""

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Literal
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

from bookly.books.schemas import BookOut, Rating
from bookly.reviews.schemas import ReviewOut
from bookly.web.csrf import FIELD as CSRF_FIELD


def stars(average: float | None) -> str:
    """Five stars, filled to the nearest whole one (the text beside them gives the exact value)."""
    filled = round(average or 0)
    return "★" * filled + "☆" * (5 - filled)


def review_stars(rating: int) -> Markup:
    """A review's rating: stars for the eye, the same in words for everyone."""
    # Only stars and a number go in: nothing to escape (as in `book_rating`).
    return Markup(  # noqa: S704
        f'<span class="rating"><span class="stars" aria-hidden="true">{stars(rating)}</span> '
        f"<span>{int(rating)} out of 5</span></span>"
    )


def book_rating(summary: Rating) -> Markup:
    """A book's rating summary, in stars and in words."""
    if not summary.count or summary.average is None:
        return Markup('<span class="rating">No reviews yet</span>')
    reviews = "review" if summary.count == 1 else "reviews"
    return Markup(  # noqa: S704
        f'<span class="rating"><span class="stars" aria-hidden="true">{stars(summary.average)}'
        f"</span>\n<span>{summary.average:.1f} out of 5, {int(summary.count)} {reviews}"
        "</span></span>"
    )


def tag_links(names: list[str], label: str) -> Markup:
    """A list of links to the tags' pages, named `label` for screen readers; nothing if none."""
    if not names:
        return Markup("")
    items = "".join(
        f'<li><a href="/tags/{escape(quote(name, safe="/"))}">{escape(name)}</a></li>'
        for name in names
    )
    # The names and the label are escaped above and here.
    return Markup(f'<ul class="tags" aria-label="{escape(label)}">\n  {items}\n</ul>')  # noqa: S704


def book_cards(books: list[BookOut], heading: Literal["h2", "h3"] = "h2") -> Markup:
    """The items of a list of books: each one's title (a link to its page, as a heading of
    `heading`), author and year, rating summary and tags."""
    items = []
    for book in books:
        year = f", {book.published_date.year}" if book.published_date else ""
        items.append(
            f'<li>\n  <{heading}><a href="/books/{book.uid}">{escape(book.title)}</a></{heading}>\n'
            f'  <p class="byline">by {escape(book.author)}{year}</p>\n'
            f"  {book_rating(book.rating)}\n"
            f"  {tag_links(book.tags, 'Tags of ' + book.title)}\n"
            "</li>\n"
        )
    # Titles and authors are escaped above, the rating and tags in their own fragments.
    return Markup("".join(items))  # noqa: S704


def pager(
    next_page: dict[str, str] | None, first_page: dict[str, str] | None, base: str, label: str
) -> Markup:
    """A list's links to its first page (unless it is on it: `first_page` None) and its next
    one (if any), each `base` with the page's query; nothing for a list of one page."""
    if not next_page and first_page is None:
        return Markup("")
    first = (
        f'<a href="{escape(base)}?{escape(urlencode(first_page))}">First page</a>'
        if first_page is not None
        else "<span></span>"
    )
    following = (
        f'<a href="{escape(base)}?{escape(urlencode(next_page))}" rel="next">Next page</a>'
        if next_page
        else ""
    )
    # `base`, the queries and the label are escaped above.
    return Markup(  # noqa: S704
        f'<nav class="pager" aria-label="{escape(label)}">\n{first}{following}</nav>\n'
    )


def day(value: date) -> str:
    """The calendar day of a date, or of a UTC datetime: 2026-12-04."""
    return (value.date() if isinstance(value, datetime) else value).isoformat()


# What the visitor may do to each review they may change: (edit, delete), by the review's uid.
ReviewRights = dict[uuid.UUID, tuple[bool, bool]]


def review_items(
    reviews: list[ReviewOut],
    own_review: ReviewOut | None,
    rights: ReviewRights,
    csrf_token: Callable[[], str],
) -> Markup:
    """A book's reviews as the items of its page's list: stars, author, day, text, and the
    edit and delete buttons where the visitor may use them (`csrf_token` is asked only for a
    page that carries a delete form)."""
    own_uid = own_review.uid if own_review else None
    token = csrf_token() if any(may_delete for _, may_delete in rights.values()) else ""
    items = []
    for review in reviews:
        marker = ' id="your-review"' if review.uid == own_uid else ""
        edited = " (edited)" if review.updated_at != review.created_at else ""
        author = review.user
        items.append(
            f"<li{marker}>\n"
            f'  <p>{review_stars(review.rating)} <span class="meta">by '
            f'<a href="/users/{author.uid}">{escape(author.username)}</a>, '
            f"{day(review.created_at)}{edited}</span></p>\n"
            f"  <blockquote>{escape(review.review_text)}</blockquote>\n"
            f"{_review_actions(review.uid, rights.get(review.uid), token)}"
            "</li>\n"
        )
    # Every value that is text of a reader's is escaped above; uids and days are not text.
    return Markup("".join(items))  # noqa: S704


def _review_actions(uid: uuid.UUID, rights: tuple[bool, bool] | None, csrf_token: str) -> str:
    if rights is None:
        return ""
    may_edit, may_delete = rights
    edit = (
        f'    <a class="button button--light" href="/reviews/{uid}/edit">Edit your review</a>\n'
        if may_edit
        else ""
    )
    delete = (
        f'    <form action="/reviews/{uid}/delete" method="post">\n'
        f'      <input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token)}">\n'
        '      <button type="submit" class="button--danger">'
        f"Delete {'your' if may_edit else 'this'} review</button>\n"
        "    </form>\n"
        if may_delete
        else ""
    )
    return f'  <div class="actions">\n{edit}{delete}  </div>\n'
