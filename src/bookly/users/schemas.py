import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from bookly.core.schemas import RequestBody
from bookly.core.text import StorableText
from bookly.models import Role

# The pattern admits only ASCII, so no NUL or surrogate can get through.
Username = Annotated[
    str, StringConstraints(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
]
PersonName = Annotated[
    StorableText, StringConstraints(min_length=1, max_length=50, strip_whitespace=True)
]


class UserOut(BaseModel):
    """The full user object, for its owner and for admins."""

    model_config = ConfigDict(from_attributes=True)

    uid: uuid.UUID
    username: str
    email: str
    first_name: str
    last_name: str
    role: Role
    is_verified: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime


class MeOut(UserOut):
    book_count: int
    review_count: int


class PublicProfile(BaseModel):
    uid: uuid.UUID
    username: str
    first_name: str
    last_name: str
    created_at: datetime
    book_count: int
    review_count: int


class UserRef(BaseModel):
    """How other objects name a user (a book's owner, a review's author)."""

    model_config = ConfigDict(from_attributes=True)

    uid: uuid.UUID
    username: str


class MeUpdate(RequestBody):
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    username: Username | None = None


class AdminUserUpdate(RequestBody):
    role: Role | None = None
    is_active: bool | None = None


class AccountDeletion(RequestBody):
    password: Annotated[StorableText, StringConstraints(min_length=1, max_length=128)]
