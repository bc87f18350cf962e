"""The small pieces of HTML a page repeats for every book or review it lists, built in Python
and used as Jinja filters (`rendering.py` registers them): Jinja calls a filter directly, but
each macro call, or call of a method, from a template costs it several times as much, and a
page of 20 books made some 80 of them (bench/README.md, "The site's pages").

Every value is escaped (`escape`, C code; `Markup.format` parses its format string in Python
each call, and made the catalogue slower than its macros); the fragments carry their text
equivalent for screen readers, as the stars are hidden from them.
"""

from datetime import date, datetime
from urllib.parse import quote

from markupsafe import Markup, escape

from bookly.books.schemas import Rating


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


def day(value: date) -> str:
    """The calendar day of a date, or of a UTC datetime: 2026-12-04."""
    return (value.date() if isinstance(value, datetime) else value).isoformat()
