"""The add-a-book and edit-a-book form: its fields, and the API's models built from them."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bookly.books.schemas import BookCreate, BookOut, BookUpdate
from bookly.tags.schemas import BookTagsIn
from bookly.web import forms

FIELDS = (
    "title",
    "author",
    "publisher",
    "published_date",
    "page_count",
    "language",
    "isbn",
    "description",
    "tags",
)


@dataclass
class BookForm:
    values: dict[str, str]  # as typed, shown again with the errors
    errors: forms.Errors
    fields: dict[str, Any]  # the book's fields, typed; blank ones are None
    tags: list[str]


def read(form: Mapping[str, Any]) -> BookForm:
    values = {name: forms.text(form, name) for name in FIELDS}
    errors: forms.Errors = {}
    fields: dict[str, Any] = {
        name: forms.optional_text(form, name)
        for name in FIELDS
        if name not in {"page_count", "tags"}
    }
    fields["page_count"] = forms.whole_number(form, "page_count", errors)
    tags_in = forms.validated(BookTagsIn, {"tags": forms.names(form, "tags")}, errors)
    return BookForm(values, errors, fields, tags_in.tags if tags_in else [])


def to_create(book_form: BookForm) -> BookCreate | None:
    """A new book: blank optional fields left out."""
    given = {name: value for name, value in book_form.fields.items() if value is not None}
    return forms.validated(BookCreate, given, book_form.errors)


def to_update(book_form: BookForm) -> BookUpdate | None:
    """Every field as the form shows it: a field emptied clears it (title and author cannot
    be cleared: the model says so)."""
    return forms.validated(BookUpdate, book_form.fields, book_form.errors)


def values_of(book: BookOut) -> dict[str, str]:
    """The form's text for a book as it is."""
    shown = {
        name: "" if getattr(book, name) is None else str(getattr(book, name))
        for name in FIELDS
        if name != "tags"
    }
    return {**shown, "tags": ", ".join(book.tags)}
