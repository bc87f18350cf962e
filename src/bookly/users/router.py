import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from bookly.auth.dependencies import (
    AdminUser,
    CallerAndColumns,
    CallerDep,
    CallerRecord,
    CallerWith,
)
from bookly.auth.schemas import UserOut
from bookly.books.listing import BookFilters, list_books
from bookly.books.schemas import BookOut, BookSort
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep, read_only
from bookly.core.pagination import Page, PageQuery
from bookly.core.problems import problem_responses
from bookly.core.reads import session_reader
from bookly.models import Role
from bookly.reviews.schemas import ReviewOut
from bookly.reviews.service import list_reviews
from bookly.users import service
from bookly.users.schemas import (
    AccountDeletion,
    AdminUserUpdate,
    MeOut,
    MeUpdate,
    PublicProfile,
)

router = APIRouter(prefix="/users", tags=["users"])

# The caller and their contribution counts in one statement, as `GET /users/me` answers both.
_ME = CallerWith(*service.CONTRIBUTIONS)


@router.get("/me", response_model=MeOut, responses=problem_responses(401, 503))
async def read_me(me: Annotated[CallerAndColumns, Depends(_ME)]) -> MeOut:
    caller, (book_count, review_count) = me
    return service.me_out(caller.account, book_count, review_count)


@router.patch("/me", response_model=MeOut, responses=problem_responses(401, 409, 422, 503))
async def update_me(
    changes: MeUpdate, user: CallerRecord, context: ContextDep, db: SessionDep
) -> MeOut:
    updated = await service.update_me(context, db, user, changes)
    return await service.me(await session_reader(db), updated)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 422, 503),
    summary="Delete this account (send the password); its reviews go, its books stay ownerless",
)
async def delete_me(
    body: AccountDeletion, user: CallerRecord, context: ContextDep, db: SessionDep
) -> None:
    await service.delete_me(context, db, user, body.password)


@router.get(
    "",
    response_model=Page[UserOut],
    responses=problem_responses(401, 403, 422, 503),
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
    return await service.list_users(context, db, page, query=q, role=role, is_active=is_active)


@router.get("/{uid}", response_model=PublicProfile, responses=problem_responses(404, 422))
@read_only
async def read_profile(uid: uuid.UUID, db: SessionDep) -> PublicProfile:
    return await service.public_profile(db, uid)


@router.get(
    "/{uid}/books",
    response_model=Page[BookOut],
    responses=problem_responses(404, 422, 503),
    summary="Books submitted by the user, newest first",
)
@read_only
async def list_user_books(
    uid: uuid.UUID, context: ContextDep, db: SessionDep, page: PageQuery
) -> Page[BookOut]:
    await service.get_user(db, uid)
    owned = BookFilters(owner=uid)
    return await list_books(context, page, owned, BookSort.NEWEST)


@router.get(
    "/{uid}/reviews",
    response_model=Page[ReviewOut],
    responses=problem_responses(404, 422, 503),
    summary="Reviews written by the user, newest first",
)
@read_only
async def list_user_reviews(
    uid: uuid.UUID, context: ContextDep, db: SessionDep, page: PageQuery
) -> Page[ReviewOut]:
    await service.get_user(db, uid)
    return await list_reviews(context, db, page, user_uid=uid)


@router.patch(
    "/{uid}",
    response_model=UserOut,
    responses=problem_responses(401, 403, 404, 422, 503),
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
    user = await service.administer(context, db, caller.sid, uid, changes)
    return UserOut.model_validate(user)
