import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from bookly.auth.schemas import PersonName, Username, UserOut
from bookly.core.schemas import FromJsonString, RequestBody
from bookly.core.text import StorableText
from bookly.models import Role


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


class MeUpdate(RequestBody):
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    username: Username | None = None


class AdminUserUpdate(RequestBody):
    role: Annotated[Role, FromJsonString] | None = None
    is_active: bool | None = None


class AccountDeletion(RequestBody):
    password: Annotated[StorableText, StringConstraints(min_length=1, max_length=128)]
