"""The signed-in reader's account: their sessions (revoke one, or all), their password, and
deleting the account; and "forgot password" for a reader who cannot sign in.

Each form calls the service function its API route calls (auth/router.py, users/router.py), so
a session revoked here is gone from `GET /auth/sessions`, and the reset email is the API's.
"""

import uuid

from fastapi import Request
from starlette.responses import Response

from bookly.auth import email_service
from bookly.auth import service as auth_service
from bookly.auth.dependencies import hashing_turn
from bookly.auth.errors import InvalidCredentials
from bookly.auth.schemas import PASSWORD_MIN_LENGTH, PasswordChangeIn, PasswordResetRequestIn
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep, read_only
from bookly.core.errors import RateLimited
from bookly.core.hashing_admission import PasswordWork
from bookly.core.pagination import DEFAULT_PAGE_SIZE
from bookly.users import service as users_service
from bookly.web import forms
from bookly.web.clients import client_ip
from bookly.web.paging import page_params
from bookly.web.rendering import page, redirect, with_notice
from bookly.web.routing import web_router
from bookly.web.state import visit_of
from bookly.web.visitor import OptionalWebUser, WebCaller

router = web_router()


@router.get("/account/sessions")
@read_only
async def my_sessions(
    request: Request, caller: WebCaller, context: ContextDep, db: SessionDep, cursor: str = ""
) -> Response:
    sessions = await auth_service.live_sessions(
        context, db, page_params(cursor, DEFAULT_PAGE_SIZE), caller.account.uid, caller.sid
    )
    return page(request, "account_sessions.html", title="Your sessions", sessions=sessions)


@router.post("/account/sessions/{sid}/revoke")
async def revoke_session(
    sid: uuid.UUID, request: Request, caller: WebCaller, context: ContextDep, db: SessionDep
) -> Response:
    await auth_service.revoke_session_of(context, db, caller.account.uid, sid)
    if sid == caller.sid:
        visit_of(request).end_session()
        return redirect(with_notice("/", "signed-out"))
    return redirect(with_notice("/account/sessions", "session-revoked"))


@router.post("/account/sign-out-everywhere")
async def sign_out_everywhere(
    request: Request, caller: WebCaller, context: ContextDep, db: SessionDep
) -> Response:
    await auth_service.revoke_sessions(context, db, *auth_service.of_user(caller.account.uid))
    visit_of(request).end_session()
    return redirect(with_notice("/", "signed-out-everywhere"))


def _password_page(request: Request, errors: forms.Errors, status: int = 200) -> Response:
    return page(
        request,
        "account_password.html",
        title="Change your password",
        status=status,
        errors=errors,
        min_length=PASSWORD_MIN_LENGTH,
    )


@router.get("/account/password")
async def password_form(request: Request, _: WebCaller) -> Response:
    return _password_page(request, {})


@router.post("/account/password", dependencies=[hashing_turn(PasswordWork.PASSWORD_CHANGE)])
async def change_password(
    request: Request, caller: WebCaller, context: ContextDep, db: SessionDep
) -> Response:
    form = await request.form()
    errors: forms.Errors = {}
    fields = {name: forms.text(form, name) for name in ("current_password", "new_password")}
    change = forms.validated(PasswordChangeIn, fields, errors)
    if change is None:
        return _password_page(request, errors, 422)
    user = await users_service.get_user(db, caller.account.uid)
    try:
        await auth_service.change_password(
            context, db, user, caller.sid, change.current_password, change.new_password
        )
    except InvalidCredentials:
        return _password_page(request, {"current_password": "The current password is wrong."}, 400)
    return redirect(with_notice("/account/sessions", "password-changed"))


def _forgot_page(
    request: Request,
    email: str,
    errors: forms.Errors,
    *,
    problem: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return page(
        request,
        "account_forgot.html",
        title="Forgot your password?",
        status=status,
        headers=headers,
        email=email,
        errors=errors,
        problem=problem,
    )


@router.get("/forgot-password")
async def forgot_form(request: Request, visitor: OptionalWebUser) -> Response:
    return _forgot_page(request, visitor.email if visitor else "", {})


@router.post("/forgot-password")
async def forgot_password(request: Request, context: ContextDep, db: SessionDep) -> Response:
    form = await request.form()
    email = forms.text(form, "email").strip()
    errors: forms.Errors = {}
    wanted = forms.validated(PasswordResetRequestIn, {"email": email}, errors)
    if wanted is None:
        return _forgot_page(request, email, errors, status=422)
    try:
        await email_service.request_password_reset(context, db, wanted.email, client_ip(request))
    except RateLimited as limited:
        problem = "Too many reset emails were asked for lately; try again later."
        return _forgot_page(
            request, email, {}, problem=problem, status=429, headers=limited.headers
        )
    # The same answer whether or not an account uses the address.
    return redirect(with_notice("/sign-in", "reset-requested"))


def _delete_page(request: Request, errors: forms.Errors, status: int = 200) -> Response:
    return page(
        request, "account_delete.html", title="Delete your account", status=status, errors=errors
    )


@router.get("/account/delete")
async def delete_form(request: Request, _: WebCaller) -> Response:
    return _delete_page(request, {})


@router.post("/account/delete", dependencies=[hashing_turn(PasswordWork.ACCOUNT_DELETION)])
async def delete_account(
    request: Request, caller: WebCaller, context: ContextDep, db: SessionDep
) -> Response:
    password = forms.text(await request.form(), "password")
    if not password:
        return _delete_page(request, {"password": "This field is required."}, 422)
    user = await users_service.get_user(db, caller.account.uid)
    try:
        await users_service.delete_me(context, db, user, password)
    except InvalidCredentials:
        return _delete_page(request, {"password": "The password is wrong."}, 400)
    visit_of(request).end_session()
    return redirect(with_notice("/", "account-deleted"))
