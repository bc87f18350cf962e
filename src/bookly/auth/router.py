import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, status

from bookly.auth import email_service, service
from bookly.auth.dependencies import CallerDep, CallerRecord, HashingRoom
from bookly.auth.schemas import (
    LoginIn,
    LoginOut,
    MessageOut,
    PasswordChangeIn,
    PasswordGrantForm,
    PasswordResetConfirmIn,
    PasswordResetRequestIn,
    RefreshIn,
    SessionOut,
    SignupIn,
    TokenPair,
    UserOut,
    VerifyIn,
)
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep, read_only
from bookly.core.pagination import Page, PageQuery
from bookly.core.problems import problem_responses
from bookly.core.responses import json_response
from bookly.idempotency.keys import IdempotencyKeyDep


async def _not_stored(response: Response) -> None:
    """Every auth answer is about credentials (tokens, sessions, links): no cache keeps one, even
    those that were asked for without an `Authorization` header (core/middleware.py does those)."""
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[Depends(_not_stored)])

_AUTHENTICATED = problem_responses(401, 503)


def _client(request: Request) -> service.ClientInfo:
    return service.ClientInfo(
        user_agent=request.headers.get("user-agent", ""),
        ip=request.client.host if request.client else "",
    )


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=problem_responses(409, 422, 429, 503),
    summary="Create an account; a verification email is queued",
)
async def signup(
    body: SignupIn,
    request: Request,
    context: ContextDep,
    db: SessionDep,
    idempotency: IdempotencyKeyDep,
) -> Response:
    if replayed := await idempotency.replay_or_reserve():
        return replayed
    user = await service.signup(context, db, body, _client(request).ip)
    created = json_response(
        UserOut.model_validate(user), status.HTTP_201_CREATED, Location=f"/api/v1/users/{user.uid}"
    )
    return await idempotency.keep(created)


@router.post(
    "/login",
    response_model=LoginOut,
    responses=problem_responses(401, 403, 422, 429, 503),
    summary="Sign in with email and password; starts a session",
    dependencies=[HashingRoom],
)
async def login(body: LoginIn, request: Request, context: ContextDep, db: SessionDep) -> LoginOut:
    user = await service.authenticate(context, db, body.email, body.password, _client(request).ip)
    pair = await service.start_session(context, db, user, _client(request))
    return LoginOut(**pair.model_dump(), user=UserOut.model_validate(user))


@router.post(
    "/token",
    response_model=TokenPair,
    responses=problem_responses(401, 403, 422, 429, 503),
    summary="OAuth2 password flow (the docs' Authorize button); `username` is the email",
    dependencies=[HashingRoom],
)
async def token(
    form: Annotated[PasswordGrantForm, Form()],
    request: Request,
    context: ContextDep,
    db: SessionDep,
) -> TokenPair:
    user = await service.authenticate(
        context, db, form.username, form.password, _client(request).ip
    )
    return await service.start_session(context, db, user, _client(request))


@router.post(
    "/refresh",
    response_model=TokenPair,
    responses=problem_responses(401, 422, 503),
    summary="Swap a refresh token for a new pair; the old refresh token is spent",
)
async def refresh(body: RefreshIn, context: ContextDep, db: SessionDep) -> TokenPair:
    return await service.refresh(context, db, body.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_AUTHENTICATED,
    summary="Sign out this session (its access and refresh tokens stop working)",
)
async def logout(caller: CallerDep, context: ContextDep, db: SessionDep) -> None:
    await service.revoke_session_of(context, db, caller.account.uid, caller.sid)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_AUTHENTICATED,
    summary="Sign out every session of this account",
)
async def logout_all(caller: CallerDep, context: ContextDep, db: SessionDep) -> None:
    await service.revoke_sessions(context, db, *service.of_user(caller.account.uid))


@router.get(
    "/sessions",
    response_model=Page[SessionOut],
    responses=problem_responses(401, 422, 503),
    summary="This account's live sessions, newest first (keyset pages)",
)
@read_only
async def list_sessions(
    caller: CallerDep, context: ContextDep, db: SessionDep, page: PageQuery
) -> Page[SessionOut]:
    return await service.live_sessions(context, db, page, caller.account.uid, caller.sid)


@router.delete(
    "/sessions/{sid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 404, 422, 503),
    summary="Sign out one of this account's sessions",
)
async def delete_session(
    sid: uuid.UUID, caller: CallerDep, context: ContextDep, db: SessionDep
) -> None:
    await service.revoke_session_of(context, db, caller.account.uid, sid)


@router.post(
    "/password/change",
    response_model=MessageOut,
    responses=problem_responses(401, 422, 503),
    summary="Change the password; every other session is signed out",
)
async def change_password(
    body: PasswordChangeIn,
    caller: CallerDep,
    user: CallerRecord,
    context: ContextDep,
    db: SessionDep,
) -> MessageOut:
    await service.change_password(
        context, db, user, caller.sid, body.current_password, body.new_password
    )
    return MessageOut(message="Password changed. Other sessions have been signed out.")


@router.post(
    "/verify",
    response_model=MessageOut,
    responses=problem_responses(400, 422),
    summary="Verify the email address with the token from a verification link",
)
async def verify(body: VerifyIn, context: ContextDep, db: SessionDep) -> MessageOut:
    await email_service.verify_email(context, db, body.token)
    return MessageOut(message="Your email address is verified.")


@router.post(
    "/verify/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    responses=problem_responses(401, 429, 503),
    summary="Send a fresh verification link; older links stop working",
)
async def resend_verification(
    user: CallerRecord, request: Request, context: ContextDep, db: SessionDep
) -> MessageOut:
    if await email_service.resend_verification(context, db, user, _client(request).ip):
        return MessageOut(message="A new verification link is on its way.")
    return MessageOut(message="Your email address is already verified.")


@router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    responses=problem_responses(422, 429, 503),
    summary="Email a password-reset link; the answer is the same whether or not the account exists",
)
async def request_password_reset(
    body: PasswordResetRequestIn,
    request: Request,
    context: ContextDep,
    db: SessionDep,
    idempotency: IdempotencyKeyDep,
) -> Response:
    if replayed := await idempotency.replay_or_reserve():
        return replayed
    await email_service.request_password_reset(context, db, body.email, _client(request).ip)
    message = "If an account uses that address, a link to reset its password is on its way."
    return await idempotency.keep(json_response(MessageOut(message=message), 202))


@router.post(
    "/password-reset/confirm",
    response_model=MessageOut,
    responses=problem_responses(400, 422, 503),
    summary="Set a new password with the token from a reset link; every session is signed out",
)
async def confirm_password_reset(
    body: PasswordResetConfirmIn, context: ContextDep, db: SessionDep
) -> MessageOut:
    await email_service.reset_password(context, db, body.token, body.new_password)
    return MessageOut(message="Your password has been changed. Sign in with the new one.")
