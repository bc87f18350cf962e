"""String types for request bodies: text that every database and encoder can store."""

from typing import Annotated

from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


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
class _NoNulPattern:
    """Tells the schema what `_storable` enforces, as far as a pattern can (a lone surrogate
    cannot be written in one); a type with a pattern of its own keeps that."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.setdefault("pattern", r"^[^\u0000]*$")
        return schema


# For a type with a pattern of its own (which must then exclude NUL itself).
Storable = AfterValidator(_storable)
StorableText = Annotated[str, Storable, _NoNulPattern()]


def escape_like(text: str) -> str:
    """Make `%`, `_` and `\\` match literally in a LIKE pattern (used with `escape="\\"`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
