"""Form text to the typed values the API's request models take, and their errors by field.

A browser sends every field as text. The request models are strict about JSON types (a page
count is a number, not "321"), so a page converts each field itself — an empty optional field
is absent, a number field is parsed as one — and then validates through the API's very model,
whose rules are the only ones. Errors come back worded for people, one per field.
"""

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Errors = dict[str, str]
ModelT = TypeVar("ModelT", bound=BaseModel)


def text(form: Mapping[str, Any], name: str) -> str:
    """A field as typed ("" when absent or not text)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def optional_text(form: Mapping[str, Any], name: str) -> str | None:
    """A field's text, None when it was left blank."""
    value = text(form, name).strip()
    return value or None


def whole_number(form: Mapping[str, Any], name: str, errors: Errors) -> int | None:
    """A field that holds a whole number, None when blank; other text is an error."""
    value = optional_text(form, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        errors[name] = "Type a whole number, such as 320."
        return None


def names(form: Mapping[str, Any], name: str) -> list[str]:
    """A comma-separated list (tags): each name trimmed, blanks dropped."""
    return [part.strip() for part in text(form, name).split(",") if part.strip()]


def _message(issue: Mapping[str, Any]) -> str:
    kind, limits = str(issue["type"]), issue.get("ctx") or {}
    if kind == "missing" or (kind.endswith("too_short") and limits.get("min_length") == 1):
        return "This field is required."
    if kind.endswith("too_short"):  # text is checked by its length, whatever the type says
        return f"Use at least {limits['min_length']} characters."
    if kind.endswith("too_long"):
        return f"Use at most {limits['max_length']} characters."
    message = str(issue["msg"]).removeprefix("Value error, ")
    return message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")


def field_errors(error: ValidationError, rename: Mapping[str, str] | None = None) -> Errors:
    """The first problem of each field, keyed by the form field's name (`rename` maps a model
    field to a differently named input)."""
    errors: Errors = {}
    for issue in error.errors():
        field = str(issue["loc"][0]) if issue["loc"] else "form"
        field = (rename or {}).get(field, field)
        errors.setdefault(field, _message(issue))
    return errors


def validated(model: type[ModelT], values: Mapping[str, Any], errors: Errors) -> ModelT | None:
    """`model` built from `values`, or None with its problems added to `errors`."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        for field, message in field_errors(error).items():
            errors.setdefault(field, message)
        return None
