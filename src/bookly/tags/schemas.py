import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from bookly.books.fields import TagName
from bookly.core.schemas import RequestBody


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
