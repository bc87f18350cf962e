import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from bookly.core.schemas import RequestBody
from bookly.core.text import StorableText


def normalise_tag(name: str) -> str:
    """Trimmed, lower-cased, inner whitespace collapsed: how names are stored and compared."""
    normal = " ".join(name.split()).lower()
    if not 1 <= len(normal) <= 40:
        raise ValueError("a tag name is 1-40 characters (after trimming)")
    return normal


TagName = Annotated[
    StorableText,
    StringConstraints(max_length=200),
    AfterValidator(normalise_tag),
    Field(examples=["science fiction"]),
]


class TagIn(RequestBody):
    name: TagName


class BookTagsIn(RequestBody):
    tags: Annotated[list[TagName], Field(max_length=20)]


class TagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uid: uuid.UUID
    name: str
    book_count: int
    created_at: datetime


class TagSort(StrEnum):
    NAME = "name"
    MOST_USED = "-book_count"
