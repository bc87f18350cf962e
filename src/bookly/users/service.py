"""Profiles and account administration."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bookly.auth.caller import Account
from bookly.auth.errors import InvalidCredentials, UsernameTaken
from bookly.auth.schemas import UserOut
from bookly.auth.service import account_conflicts, of_user, revoke_sessions
from bookly.core.conflicts import unique_rules
from bookly.core.context import AppContext
from bookly.core.pagination import Keyset, Page, PageParams, count_if_asked, count_of
from bookly.core.reads import Prepared, Reader, session_reader
from bookly.core.text import escape_like
from bookly.models import Book, Review, Role, User
from bookly.reviews.service import delete_reviews_of
from bookly.users.errors import UserNotFound
from bookly.users.schemas import AdminUserUpdate, MeOut, MeUpdate, PublicProfile


def _contributions_of(user_uid: Any) -> tuple[ColumnElement[int], ...]:
    """(books submitted, reviews written) by the user `user_uid` names."""
    return (
        select(func.count()).where(col(Book.owner_uid) == user_uid).scalar_subquery(),
        select(func.count()).where(col(Review.user_uid) == user_uid).scalar_subquery(),
    )


# For a statement that reads the user too (`GET /users/me`'s caller): counted in the same one.
CONTRIBUTIONS = _contributions_of(col(User.uid))
_CONTRIBUTION_COUNTS = Prepared(select(*_contributions_of(bindparam("uid"))))


async def contribution_counts(reader: Reader, user_uid: uuid.UUID) -> tuple[int, int]:
    """(books submitted, reviews written) by the user."""
    ((books, reviews),) = await reader.rows(_CONTRIBUTION_COUNTS, {"uid": user_uid})
    return books, reviews


async def get_user(db: AsyncSession, user_uid: uuid.UUID) -> User:
    user = await db.get(User, user_uid)
    if user is None:
        raise UserNotFound(f"No user with uid {user_uid}.")
    return user


async def me(reader: Reader, user: Account | User) -> MeOut:
    return me_out(user, *await contribution_counts(reader, user.uid))


def me_out(user: Account | User, book_count: int, review_count: int) -> MeOut:
    return MeOut(
        **UserOut.model_validate(user).model_dump(),
        book_count=book_count,
        review_count=review_count,
    )


async def public_profile(db: AsyncSession, user_uid: uuid.UUID) -> PublicProfile:
    user = await get_user(db, user_uid)
    book_count, review_count = await contribution_counts(await session_reader(db), user.uid)
    return PublicProfile(
        uid=user.uid,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        created_at=user.created_at,
        book_count=book_count,
        review_count=review_count,
    )


async def update_me(context: AppContext, db: AsyncSession, user: User, changes: MeUpdate) -> User:
    fields = changes.model_dump(exclude_unset=True, exclude_none=True)
    new_username = fields.get("username")
    if new_username and new_username.lower() != user.username.lower():
        taken = await db.scalar(
            select(col(User.uid)).where(func.lower(User.username) == new_username.lower())
        )
        if taken:
            raise UsernameTaken("That username is taken.")
    for name, value in fields.items():
        setattr(user, name, value)
    user.updated_at = context.clock()
    db.add(user)
    async with unique_rules(account_conflicts()):
        await db.flush()
    return user


async def delete_me(context: AppContext, db: AsyncSession, user: User, password: str) -> None:
    if not await context.passwords.verify(password, user.password_hash):
        raise InvalidCredentials("The password is wrong.")
    # Deny the tokens at once; the rows go with the user (ON DELETE CASCADE), and so would the
    # reviews, but their books' rating summaries must drop them first. Books stay, ownerless.
    await revoke_sessions(context, db, *of_user(user.uid))
    await delete_reviews_of(db, user.uid)
    await db.execute(delete(User).where(col(User.uid) == user.uid))


_NEWEST_USERS = Keyset.newest_first(User)


async def list_users(
    context: AppContext,
    db: AsyncSession,
    page: PageParams,
    *,
    query: str | None,
    role: Role | None,
    is_active: bool | None,
) -> Page[UserOut]:
    conditions: list[ColumnElement[bool]] = []
    if query:
        pattern = f"%{escape_like(query.lower())}%"
        conditions.append(
            func.lower(User.username).like(pattern, escape="\\")
            | col(User.email).like(pattern, escape="\\")
        )
    if role is not None:
        conditions.append(col(User.role) == role)
    if is_active is not None:
        conditions.append(col(User.is_active) == is_active)

    statement = _NEWEST_USERS.template(
        select(User).where(*conditions), after_cursor=page.after_cursor
    )
    found = await db.scalars(statement, _NEWEST_USERS.parameters(page, context.cursors))
    rows, next_cursor = _NEWEST_USERS.cut(
        list(found), page, context.cursors, lambda u: (u.created_at, u.uid)
    )
    return Page(
        items=[UserOut.model_validate(row) for row in rows],
        next_cursor=next_cursor,
        total=await count_if_asked(await session_reader(db), page, count_of(User, conditions)),
    )


async def administer(
    context: AppContext,
    db: AsyncSession,
    admin_sid: uuid.UUID,
    user_uid: uuid.UUID,
    changes: AdminUserUpdate,
) -> User:
    """Change a user's role or active flag; either change signs the user out everywhere (but
    never the admin's own current session)."""
    user = await get_user(db, user_uid)
    fields = changes.model_dump(exclude_unset=True, exclude_none=True)
    changed = {name: value for name, value in fields.items() if getattr(user, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(user, name, value)
        user.updated_at = context.clock()
        db.add(user)
        await revoke_sessions(context, db, *of_user(user.uid, except_sid=admin_sid))
    return user
