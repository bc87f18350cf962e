import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from bookly.auth.schemas import UserRef
from bookly.core.schemas import RequestBody, WholeNumber
from bookly.core.text import StorableText

Stars = Annotated[int, Field(ge=1, le=5, description="1 to 5 stars."), WholeNumber]
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
