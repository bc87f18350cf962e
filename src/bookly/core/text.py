"""String types for request bodies: text that every database and encoder can store."""

from typing import Annotated

from pydantic import AfterValidator


def _storable(value: str) -> str:
    # JSON lets both through, but PostgreSQL refuses NUL and UTF-8 cannot encode a lone surrogate.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


# Give every string in a body its own length bounds too:
# `Annotated[StorableText, StringConstraints(max_length=...)]`.
StorableText = Annotated[str, AfterValidator(_storable)]


def escape_like(text: str) -> str:
    """Make `%`, `_` and `\\` match literally in a LIKE pattern (used with `escape="\\"`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
