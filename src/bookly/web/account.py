"""Signing in and out, signing up, and the unverified reader's "resend the email".

Sign-in goes through the API's own `authenticate` (so it is rate limited exactly like
`POST /auth/login`) and `start_session` (a `sessions` row, listed and revocable through
`/api/v1/auth/sessions`); the browser keeps only a signed reference to that session. The
session's tokens are never sent to the browser.
"""

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from bookly.auth import email_service
from bookly.auth import service as auth_service
from bookly.auth.dependencies import hashing_turn
from bookly.auth.errors import AccountDisabled, EmailTaken, InvalidCredentials, UsernameTaken
from bookly.auth.schemas import PASSWORD_MIN_LENGTH, LoginIn, SignupIn
from bookly.auth.tokens import TokenType, read_token
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep
from bookly.core.errors import RateLimited
from bookly.core.hashing_admission import PasswordWork
from bookly.users.service import get_user
from bookly.web import forms
from bookly.web.clients import client_info, client_ip
from bookly.web.rendering import came_from, page, redirect, safe_next, with_notice
from bookly.web.routing import web_router
from bookly.web.state import visit_of
from bookly.web.visitor import OptionalWebUser, WebCaller, WebUser, session_reference

router = web_router()
FormText = Annotated[str, Form()]
_SIGN_UP_FIELDS = ("username", "email", "first_name", "last_name")


def _sign_in_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    problem: str | None = None,
    errors: forms.Errors | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return page(
        request,
        "sign_in.html",
        title="Sign in",
        status=status,
        headers=headers,
        next_path=next_path,
        email=email,
        problem=problem,
        errors=errors or {},
    )


@router.get("/sign-in")
async def sign_in_form(request: Request, visitor: OptionalWebUser, next: str = "") -> Response:
    if visitor is not None:
        return redirect(safe_next(next))
    return _sign_in_page(request, next_path=safe_next(next, ""))


@router.post("/sign-in", dependencies=[hashing_turn(PasswordWork.SIGN_IN)])
async def sign_in(
    request: Request,
    context: ContextDep,
    db: SessionDep,
    email: FormText = "",
    password: FormText = "",
    next: FormText = "",
) -> Response:
    next_path = safe_next(next, "")
    errors: forms.Errors = {}
    login = forms.validated(LoginIn, {"email": email.strip(), "password": password}, errors)
    if login is None:
        return _sign_in_page(request, next_path=next_path, email=email, errors=errors, status=422)
    try:
        user = await auth_service.authenticate(
            context, db, login.email, login.password, client_ip(request)
        )
    except InvalidCredentials:
        problem = "The email address or the password is wrong."
        return _sign_in_page(request, next_path=next_path, email=email, problem=problem, status=400)
    except AccountDisabled:
        problem = "This account has been disabled."
        return _sign_in_page(request, next_path=next_path, email=email, problem=problem, status=403)
    except RateLimited as limited:
        problem = (
            "Too many failed attempts for this account or from this network. "
            f"Try again in {limited.headers['Retry-After']} seconds."
        )
        return _sign_in_page(
            request,
            next_path=next_path,
            email=email,
            problem=problem,
            status=429,
            headers=limited.headers,
        )
    pair = await auth_service.start_session(context, db, user, client_info(request))
    # Only the session's id leaves this function: the tokens are never sent anywhere.
    claims = read_token(context.settings, pair.access_token, TokenType.ACCESS, context.clock())
    visit_of(request).new_session = session_reference(request, claims.sid, claims.user_uid)
    return redirect(safe_next(next))


@router.post("/sign-out")
async def sign_out(
    request: Request, caller: WebCaller, context: ContextDep, db: SessionDep
) -> Response:
    await auth_service.revoke_session_of(context, db, caller.account.uid, caller.sid)
    visit_of(request).end_session()
    return _signed_out("signed-out")


def _signed_out(notice: str) -> Response:
    return redirect(with_notice("/", notice))


def _sign_up_page(
    request: Request,
    values: dict[str, str],
    errors: forms.Errors,
    *,
    problem: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return page(
        request,
        "sign_up.html",
        title="Create your account",
        status=status,
        headers=headers,
        values=values,
        errors=errors,
        problem=problem,
        min_length=PASSWORD_MIN_LENGTH,
    )


@router.get("/sign-up")
async def sign_up_form(request: Request, visitor: OptionalWebUser) -> Response:
    if visitor is not None:
        return redirect("/")
    return _sign_up_page(request, dict.fromkeys(_SIGN_UP_FIELDS, ""), {})


@router.post("/sign-up", dependencies=[hashing_turn(PasswordWork.SIGN_UP)])
async def sign_up(request: Request, context: ContextDep, db: SessionDep) -> Response:
    form = await request.form()
    values = {name: forms.text(form, name).strip() for name in _SIGN_UP_FIELDS}
    errors: forms.Errors = {}
    data = forms.validated(SignupIn, {**values, "password": forms.text(form, "password")}, errors)
    if data is None:
        return _sign_up_page(request, values, errors, status=422)
    try:
        await auth_service.signup(context, db, data, client_ip(request))
    except EmailTaken:
        errors["email"] = "An account with this email address already exists. Sign in instead?"
    except UsernameTaken:
        errors["username"] = "This username is taken; choose another."
    except RateLimited as limited:
        problem = "Too many accounts were created from here lately; try again later."
        return _sign_up_page(
            request, values, {}, problem=problem, status=429, headers=limited.headers
        )
    if errors:
        return _sign_up_page(request, values, errors, status=409)
    return redirect(with_notice("/sign-in", "signed-up"))


@router.post("/account/verification/resend")
async def resend_verification(
    request: Request, visitor: WebUser, context: ContextDep, db: SessionDep
) -> Response:
    user = await get_user(db, visitor.uid)
    sent = await email_service.resend_verification(context, db, user, client_ip(request))
    return redirect(
        with_notice(came_from(request), "verification-sent" if sent else "already-verified")
    )
