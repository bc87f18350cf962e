"""The base of every JSON request body, and the two field markers its strictness needs."""

from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict


class RequestBody(BaseModel):
    """Request bodies refuse unknown fields (`role` or `is_verified` are never taken from a
    client unless an admin route says so) and take each field only as the JSON type the OpenAPI
    document states: no `"321"` or `true` for an integer, no `0` or `"yes"` for a boolean, no
    number for a string. A subclass is strict without saying so.

    FastAPI validates the parsed body (Python objects), where strict mode wants an instance of
    an enum or a UUID; JSON can only carry those as strings, so such a field is declared
    `Annotated[Role, FromJsonString]`. A date or datetime needs its own string-only type
    (books/fields.py `IsoDate`): lax, pydantic would also read a number as a timestamp.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


# Lax validation of an enum or a UUID takes its string form (and its instance) and nothing else
# JSON can send, which is what pydantic's strict JSON mode would take.
FromJsonString = Strict(False)


def _integral_number(value: object) -> object:
    # JSON has one number type, and JSON Schema counts 4.0 an integer: it is the integer 4.
    # 3.5, strings and booleans stay refused by the strict validation that follows.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# For every integer in a body: `Annotated[int, ..., WholeNumber]`. Listed after the bounds, it
# runs first (a before-validator wraps what precedes it).
WholeNumber = BeforeValidator(_integral_number)
