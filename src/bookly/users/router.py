import uuid
from typing import Annotated

from fastapi import Depends, Query, status

from bookly.auth.dependencies import (
    AdminUser,
    CallerAndColumns,
    CallerDep,
    CallerRecord,
    CallerWith,
    signed_in_hashing_turn,
)
from bookly.auth.errors import InvalidCredentials, UsernameTaken
from bookly.auth.responses import ADMIN, BEARER
from bookly.auth.schemas import UserOut
from bookly.books.listing import BookFilters, list_books
from bookly.books.schemas import BookOut, BookSort
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep, read_only
from bookly.core.errors import InvalidCursor
from bookly.core.hashing_admission import PasswordWork
from bookly.core.pagination import Page, PageQuery
from bookly.core.problems import problem_responses
from bookly.core.reads import session_reader
from bookly.core.routing import ApiRouter
from bookly.models import Role
from bookly.reviews.schemas import ReviewOut
from bookly.reviews.service import list_reviews
from bookly.users import service
from bookly.users.errors import UserNotFound
from bookly.users.schemas import (
    AccountDeletion,
    AdminUserUpdate,
    MeOut,
    MeUpdate,
    PublicProfile,
)

router = ApiRouter(prefix="/users", tags=["users"])

# The caller and their contribution counts in one statement, as `GET /users/me` answers both.
_ME = CallerWith(*service.CONTRIBUTIONS)


@router.get(
    "/me",
    response_model=MeOut,
    responses=problem_responses(*BEARER),
    summary="The signed-in account, with its contribution counts",
)
async def read_me(me: Annotated[CallerAndColumns, Depends(_ME)]) -> MeOut:
    """The caller's own user object (with `email`) and how many books and reviews the account
    contributed."""
    caller, (book_count, review_count) = me
    return service.me_out(caller.account, book_count, review_count)


@router.patch(
    "/me",
    response_model=MeOut,
    responses=problem_responses(*BEARER, UsernameTaken),
    summary="Change this account's names or username",
)
async def update_me(
    changes: MeUpdate, user: CallerRecord, context: ContextDep, db: SessionDep
) -> MeOut:
    """Changes `first_name`, `last_name` and `username`, and nothing else (other fields are refused
    with 422). Usernames are unique whatever their case: 409 `username_taken`."""
    updated = await service.update_me(context, db, user, changes)
    return await service.me(await session_reader(db), updated)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*BEARER, InvalidCredentials),
    summary="Delete this account (send the password); its reviews go, its books stay ownerless",
    dependencies=[signed_in_hashing_turn(PasswordWork.ACCOUNT_DELETION)],
)
async def delete_me(
    body: AccountDeletion, user: CallerRecord, context: ContextDep, db: SessionDep
) -> None:
    """Needs the account's password in the body (401 `invalid_credentials` when it is wrong). The
    account and its sessions are gone at once, its reviews are deleted (their books' rating
    summaries follow) and its books stay, with no owner. When the wait for password hashing
    would exceed about a second, 503 with `Retry-After`: "Too many account deletions at once"."""
    await service.delete_me(context, db, user, body.password)


@router.get(
    "",
    response_model=Page[UserOut],
    responses=problem_responses(*ADMIN, InvalidCursor),
    summary="All users (admins only); `q` matches username or email",
)
@read_only
async def list_users(
    _: AdminUser,
    context: ContextDep,
    db: SessionDep,
    page: PageQuery,
    q: Annotated[str | None, Query(max_length=100)] = None,
    role: Role | None = None,
    is_active: bool | None = None,
) -> Page[UserOut]:
    """Administrators only. Newest first, as a keyset page; `q` matches part of the username or the
    email, `role` and `is_active` filter."""
    return await service.list_users(context, db, page, query=q, role=role, is_active=is_active)


@router.get(
    "/{uid}",
    response_model=PublicProfile,
    responses=problem_responses(UserNotFound),
    summary="A user's public profile",
)
@read_only
async def read_profile(uid: uuid.UUID, db: SessionDep) -> PublicProfile:
    """Public: the username, names, and how many books and reviews the user contributed; never the
    email address."""
    return await service.public_profile(db, uid)


@router.get(
    "/{uid}/books",
    response_model=Page[BookOut],
    responses=problem_responses(UserNotFound, InvalidCursor),
    summary="Books submitted by the user, newest first",
)
@read_only
async def list_user_books(
    uid: uuid.UUID, context: ContextDep, db: SessionDep, page: PageQuery
) -> Page[BookOut]:
    """The books the user added, newest first, as a keyset page."""
    await service.get_user(db, uid)
    owned = BookFilters(owner=uid)
    return await list_books(context, page, owned, BookSort.NEWEST)


@router.get(
    "/{uid}/reviews",
    response_model=Page[ReviewOut],
    responses=problem_responses(UserNotFound, InvalidCursor),
    summary="Reviews written by the user, newest first",
)
@read_only
async def list_user_reviews(
    uid: uuid.UUID, context: ContextDep, db: SessionDep, page: PageQuery
) -> Page[ReviewOut]:
    """The reviews the user wrote, newest first, as a keyset page."""
    await service.get_user(db, uid)
    return await list_reviews(context, page, user_uid=uid)


@router.patch(
    "/{uid}",
    response_model=UserOut,
    responses=problem_responses(*ADMIN, UserNotFound),
    summary="Change a user's role or active flag (admins only); the user is signed out",
)
async def administer_user(
    uid: uuid.UUID,
    changes: AdminUserUpdate,
    admin: AdminUser,
    caller: CallerDep,
    context: ContextDep,
    db: SessionDep,
) -> UserOut:
    """Administrators only: sets `role` (`user` or `admin`) and `is_active`. Either change signs the
    user out of every session (the administrator's own current session excepted), so a disabled
    account is locked out at once."""
    user = await service.administer(context, db, caller.sid, uid, changes)
    return UserOut.model_validate(user)
