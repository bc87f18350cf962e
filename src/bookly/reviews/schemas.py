import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from bookly.auth.schemas import UserRef
from bookly.core.schemas import RequestBody
from bookly.core.text import StorableText


def _whole_number(value: object) -> object:
    # JSON has one number type: 4.0 is the integer 4. Strings and booleans stay refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The before-validator is listed last so that it runs first, outside the strict bounds.
Stars = Annotated[
    int,
    Field(strict=True, ge=1, le=5, description="1 to 5 stars."),
    BeforeValidator(_whole_number),
]
ReviewText = Annotated[
    StorableText, StringConstraints(min_length=1, max_length=5000, strip_whitespace=True)
]


class ReviewCreate(RequestBody):
    rating: Stars
    review_text: ReviewText


class ReviewUpdate(RequestBody):
    rating: Stars | None = None
    review_text: ReviewText | None = None


class ReviewOut(BaseModel):
    uid: uuid.UUID
    rating: int
    review_text: str
    book_uid: uuid.UUID
    user: UserRef
    created_at: datetime
    updated_at: datetime
