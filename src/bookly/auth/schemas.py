import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

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


class UserRef(BaseModel):
    """How other objects name a user (a book's owner, a review's author)."""

    model_config = ConfigDict(from_attributes=True)

    uid: uuid.UUID
    username: str


PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH = 8, 128
Password = Annotated[
    StorableText,
    StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH),
]
# Only for checking a password someone already has: no strength rule applies.
PasswordAttempt = Annotated[StorableText, StringConstraints(min_length=1, max_length=128)]


class SignupIn(RequestBody):
    username: Username
    email: EmailStr = Field(
        max_length=320,
        description="An address mail can reach: special-use domains such as `.test`, "
        "`.invalid` or `.localhost` are refused (422).",
    )
    first_name: PersonName
    last_name: PersonName
    password: Password


class LoginIn(RequestBody):
    # Not validated as an address: any string is just an unknown account (401, as for all).
    email: Annotated[StorableText, StringConstraints(min_length=1, max_length=320)]
    password: PasswordAttempt


class PasswordGrantForm(BaseModel):
    """The OAuth2 password grant as the docs' Authorize button sends it; `username` is the email.
    Unknown form fields are ignored, as OAuth2 clients may send their own."""

    grant_type: Literal["password"] | None = None
    username: Annotated[StorableText, StringConstraints(min_length=1, max_length=320)] = Field(
        description="The account's email address."
    )
    password: PasswordAttempt
    scope: Annotated[StorableText, StringConstraints(max_length=1000)] = ""
    client_id: Annotated[StorableText, StringConstraints(max_length=255)] | None = None
    client_secret: Annotated[StorableText, StringConstraints(max_length=255)] | None = None


class RefreshIn(RequestBody):
    refresh_token: Annotated[StorableText, StringConstraints(min_length=1, max_length=4096)]


class PasswordChangeIn(RequestBody):
    current_password: PasswordAttempt
    new_password: Password


EmailLinkToken = Annotated[StorableText, StringConstraints(min_length=1, max_length=1024)]


class VerifyIn(RequestBody):
    token: EmailLinkToken


class PasswordResetRequestIn(RequestBody):
    # Any string: an address no account has is answered like every other (202, no email).
    email: Annotated[StorableText, StringConstraints(min_length=1, max_length=320)]


class PasswordResetConfirmIn(RequestBody):
    token: EmailLinkToken
    new_password: Password


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires.")


class LoginOut(TokenPair):
    user: UserOut


class SessionOut(BaseModel):
    sid: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    user_agent: str
    ip: str
    current: bool = Field(description="True for the session making this request.")


class MessageOut(BaseModel):
    message: str
