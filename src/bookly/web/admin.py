"""The administrators' pages: users (search, change role, disable or enable), tags (rename,
delete) and reviews (all of them, newest first; delete).

Every route names `AdminWebUser`: another reader gets the 403 page, an anonymous visitor is sent
to sign in and back. Each change calls the service function of its API route (users/router.py,
tags/router.py, reviews/router.py), so the rules (a changed user is signed out everywhere, a
renamed tag must stay unique) are theirs.
"""

import uuid
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from bookly.core.context import ContextDep
from bookly.core.db import SessionDep, read_only
from bookly.core.errors import ValidationFailed
from bookly.core.pagination import PageParams
from bookly.models import Role
from bookly.reviews import service as reviews_service
from bookly.tags import service as tags_service
from bookly.tags.errors import TagExists
from bookly.tags.schemas import TagIn, TagOut, TagSort
from bookly.users import service as users_service
from bookly.users.schemas import AdminUserUpdate
from bookly.web import forms
from bookly.web.paging import page_params
from bookly.web.rendering import came_from, page, redirect, with_notice
from bookly.web.routing import web_router
from bookly.web.visitor import AdminWebUser, WebCaller

router = web_router()
PAGE_SIZE = 25


def _page_at(cursor: str) -> PageParams:
    return page_params(cursor, PAGE_SIZE)


@router.get("/admin/users")
@read_only
async def users(
    request: Request,
    _: AdminWebUser,
    context: ContextDep,
    db: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    cursor: str = "",
) -> Response:
    found = await users_service.list_users(
        context, db, _page_at(cursor), query=q.strip() or None, role=None, is_active=None
    )
    return page(request, "admin_users.html", title="Users", users=found, q=q, roles=list(Role))


@router.post("/admin/users/{uid}")
async def administer_user(
    uid: uuid.UUID,
    request: Request,
    _: AdminWebUser,
    caller: WebCaller,
    context: ContextDep,
    db: SessionDep,
) -> Response:
    form = await request.form()
    # A form sends text: the role as its name, the active flag as "true" or "false".
    values: dict[str, object] = {}
    if role := forms.optional_text(form, "role"):
        values["role"] = role
    if active := forms.optional_text(form, "is_active"):
        values["is_active"] = active == "true"
    errors: forms.Errors = {}
    changes = forms.validated(AdminUserUpdate, values, errors)
    if changes is None:  # not a form of these pages
        raise ValidationFailed("Choose a role, or enable or disable the account.")
    await users_service.administer(context, db, caller.sid, uid, changes)
    return redirect(with_notice(came_from(request), "user-saved"))


@router.get("/admin/tags")
@read_only
async def tags(
    request: Request, _: AdminWebUser, context: ContextDep, db: SessionDep, cursor: str = ""
) -> Response:
    found = await tags_service.list_tags(context, db, _page_at(cursor), None, TagSort.NAME)
    return page(request, "admin_tags.html", title="Tags", tags=found)


def _rename_page(
    request: Request, tag: TagOut, name: str, errors: forms.Errors, status: int = 200
) -> Response:
    return page(
        request,
        "admin_tag_rename.html",
        title=f"Rename the tag “{tag.name}”",
        status=status,
        tag=tag,
        name=name,
        errors=errors,
    )


@router.get("/admin/tags/{uid}/rename")
@read_only
async def rename_form(
    uid: uuid.UUID, request: Request, _: AdminWebUser, db: SessionDep
) -> Response:
    tag = await tags_service.get_tag(db, uid)
    return _rename_page(request, tag, tag.name, {})


@router.post("/admin/tags/{uid}/rename")
async def rename_tag(uid: uuid.UUID, request: Request, _: AdminWebUser, db: SessionDep) -> Response:
    name = forms.text(await request.form(), "name").strip()
    errors: forms.Errors = {}
    wanted = forms.validated(TagIn, {"name": name}, errors)
    if wanted is None:
        return _rename_page(request, await tags_service.get_tag(db, uid), name, errors, 422)
    try:
        await tags_service.rename_tag(db, uid, wanted.name)
    except TagExists:
        await db.rollback()  # the failed write ends the transaction; nothing is kept
        errors["name"] = "Another tag has this name already."
        return _rename_page(request, await tags_service.get_tag(db, uid), name, errors, 409)
    return redirect(with_notice("/admin/tags", "tag-renamed"))


@router.post("/admin/tags/{uid}/delete")
async def delete_tag(uid: uuid.UUID, _: AdminWebUser, db: SessionDep) -> Response:
    await tags_service.delete_tag(db, uid)
    return redirect(with_notice("/admin/tags", "tag-deleted"))


@router.get("/admin/reviews")
async def reviews(
    request: Request, _: AdminWebUser, context: ContextDep, cursor: str = ""
) -> Response:
    found = await reviews_service.list_reviews(context, _page_at(cursor))
    return page(request, "admin_reviews.html", title="Reviews", reviews=found)


@router.post("/admin/reviews/{uid}/delete")
async def delete_review(
    uid: uuid.UUID, request: Request, admin: AdminWebUser, db: SessionDep
) -> Response:
    await reviews_service.delete_review(db, admin, uid)
    return redirect(with_notice(came_from(request), "review-deleted"))
