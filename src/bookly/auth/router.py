import uuid
from typing import Annotated

from fastapi import Depends, Form, Request, Response, status

from bookly.auth import email_service, service
from bookly.auth.dependencies import (
    CallerDep,
    CallerRecord,
    hashing_turn,
    signed_in_hashing_turn,
)
from bookly.auth.errors import (
    AccountDisabled,
    EmailTaken,
    InvalidCredentials,
    InvalidLink,
    InvalidToken,
    SessionNotFound,
    TokenReused,
    TokenRevoked,
    UsernameTaken,
)
from bookly.auth.responses import BEARER
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
from bookly.core.errors import RateLimited, ServiceUnavailable
from bookly.core.hashing_admission import PasswordWork
from bookly.core.pagination import Page, PageQuery
from bookly.core.problems import problem_responses
from bookly.core.responses import json_response
from bookly.core.routing import ApiRouter
from bookly.idempotency.keys import IdempotencyKeyDep
from bookly.idempotency.responses import KEYED


async def _not_stored(response: Response) -> None:
    """Every auth answer is about credentials (tokens, sessions, links): no cache keeps one, even
    those that were asked for without an `Authorization` header (core/middleware.py does those)."""
    response.headers["Cache-Control"] = "no-store"


router = ApiRouter(prefix="/auth", tags=["auth"], dependencies=[Depends(_not_stored)])

_AUTHENTICATED = problem_responses(*BEARER)


def _client(request: Request) -> service.ClientInfo:
    return service.ClientInfo(
        user_agent=request.headers.get("user-agent", ""),
        ip=request.client.host if request.client else "",
    )


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=problem_responses(EmailTaken, UsernameTaken, *KEYED, RateLimited, ServiceUnavailable),
    summary="Create an account; a verification email is queued",
    dependencies=[hashing_turn(PasswordWork.SIGN_UP)],
)
async def signup(
    body: SignupIn,
    request: Request,
    context: ContextDep,
    db: SessionDep,
    idempotency: IdempotencyKeyDep,
) -> Response:
    """Creates an unverified account and queues its verification email in the same transaction: the
    link in it is valid for 48 hours (by default) and `POST /auth/verify/resend` sends a fresh
    one. Answers the user object, with its path in `Location`.

    The email address is stored lower-cased; fields other than the listed ones (`role`,
    `is_verified`) are refused with 422. Rate limited per client IP and per email address: 429
    with `Retry-After`. Waits its turn when other passwords are being hashed; when that wait
    would exceed about a second (`PASSWORD_HASH_WAIT_BUDGET_SECONDS`), 503 with `Retry-After`:
    "Too many signups at once". Send an `Idempotency-Key` to make a retry safe."""
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
    responses=problem_responses(
        InvalidCredentials, AccountDisabled, RateLimited, ServiceUnavailable
    ),
    summary="Sign in with email and password; starts a session",
    dependencies=[hashing_turn(PasswordWork.SIGN_IN)],
)
async def login(body: LoginIn, request: Request, context: ContextDep, db: SessionDep) -> LoginOut:
    """Starts a session: an access token (valid `expires_in` seconds, 15 minutes by default) to send
    as `Authorization: Bearer <token>`, a refresh token (14 days) for `POST /auth/refresh`, and
    the user object. Unverified accounts may sign in and read; writes need a verified email
    address.

    A wrong email or password answers the same 401 `invalid_credentials` either way. Rate
    limited: after 5 failed sign-ins for one account, or 30 from one client IP, within 15 minutes
    (the defaults), sign-ins are refused with 429 and `Retry-After`, a correct password too,
    until the window has passed. Waits its turn when other passwords are being checked; when
    that wait would exceed about a second (`PASSWORD_HASH_WAIT_BUDGET_SECONDS`), 503 with
    `Retry-After`: "Too many sign-ins at once"."""
    user = await service.authenticate(context, db, body.email, body.password, _client(request).ip)
    pair = await service.start_session(context, db, user, _client(request))
    return LoginOut(**pair.model_dump(), user=UserOut.model_validate(user))


@router.post(
    "/token",
    response_model=TokenPair,
    responses=problem_responses(
        InvalidCredentials, AccountDisabled, RateLimited, ServiceUnavailable
    ),
    summary="OAuth2 password flow (the docs' Authorize button); `username` is the email",
    dependencies=[hashing_turn(PasswordWork.SIGN_IN)],
)
async def token(
    form: Annotated[PasswordGrantForm, Form()],
    request: Request,
    context: ContextDep,
    db: SessionDep,
) -> TokenPair:
    """The OAuth2 password grant, which the interactive docs' *Authorize* button uses: a form whose
    `username` is the email address. Answers what `POST /auth/login` does, without `user`, with
    the same checks and rate limits."""
    user = await service.authenticate(
        context, db, form.username, form.password, _client(request).ip
    )
    return await service.start_session(context, db, user, _client(request))


@router.post(
    "/refresh",
    response_model=TokenPair,
    responses=problem_responses(
        InvalidToken, TokenRevoked, TokenReused, AccountDisabled, ServiceUnavailable
    ),
    summary="Swap a refresh token for a new pair; the old refresh token is spent",
)
async def refresh(body: RefreshIn, context: ContextDep, db: SessionDep) -> TokenPair:
    """Rotates the session's tokens: answers a new access token and a new refresh token, and the
    refresh token sent is spent. Keep only the newest one.

    Presenting a spent refresh token again is taken for theft: the whole session is revoked
    (every token of it stops working) and the answer is 401 `token_reused`. A signed-out session
    answers `token_revoked`; an access token, or an expired or forged token, `invalid_token`."""
    return await service.refresh(context, db, body.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_AUTHENTICATED,
    summary="Sign out this session (its access and refresh tokens stop working)",
)
async def logout(caller: CallerDep, context: ContextDep, db: SessionDep) -> None:
    """Revokes this session: its access token and its refresh token stop working at once, on every
    server (401 `token_revoked`)."""
    await service.revoke_session_of(context, db, caller.account.uid, caller.sid)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_AUTHENTICATED,
    summary="Sign out every session of this account",
)
async def logout_all(caller: CallerDep, context: ContextDep, db: SessionDep) -> None:
    """Revokes every session of the account, this one included."""
    await service.revoke_sessions(context, db, *service.of_user(caller.account.uid))


@router.get(
    "/sessions",
    response_model=Page[SessionOut],
    responses=_AUTHENTICATED,
    summary="This account's live sessions, newest first (keyset pages)",
)
@read_only
async def list_sessions(
    caller: CallerDep, context: ContextDep, db: SessionDep, page: PageQuery
) -> Page[SessionOut]:
    """The account's sessions that are neither signed out nor expired, newest first, as a keyset
    page; `current` marks the session of the token sent."""
    return await service.live_sessions(context, db, page, caller.account.uid, caller.sid)


@router.delete(
    "/sessions/{sid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*BEARER, SessionNotFound),
    summary="Sign out one of this account's sessions",
)
async def delete_session(
    sid: uuid.UUID, caller: CallerDep, context: ContextDep, db: SessionDep
) -> None:
    """Revokes one of the account's sessions (a `sid` from `GET /auth/sessions`): 404
    `session_not_found` when it is not one of them or has ended."""
    await service.revoke_session_of(context, db, caller.account.uid, sid)


@router.post(
    "/password/change",
    response_model=MessageOut,
    responses=problem_responses(*BEARER, InvalidCredentials),
    summary="Change the password; every other session is signed out",
    dependencies=[signed_in_hashing_turn(PasswordWork.PASSWORD_CHANGE)],
)
async def change_password(
    body: PasswordChangeIn,
    caller: CallerDep,
    user: CallerRecord,
    context: ContextDep,
    db: SessionDep,
) -> MessageOut:
    """Needs the current password (401 `invalid_credentials` when it is wrong). Every other session
    of the account is signed out; this one stays. When the wait for password hashing would
    exceed about a second, 503 with `Retry-After`: "Too many password changes at once"."""
    await service.change_password(
        context, db, user, caller.sid, body.current_password, body.new_password
    )
    return MessageOut(message="Password changed. Other sessions have been signed out.")


@router.post(
    "/verify",
    response_model=MessageOut,
    responses=problem_responses(InvalidLink, ServiceUnavailable),
    summary="Verify the email address with the token from a verification link",
)
async def verify(body: VerifyIn, context: ContextDep, db: SessionDep) -> MessageOut:
    """Marks the email address verified, with the `token` of the link in the verification email. A
    link works once, expires (48 hours by default) and stops working when a newer one is sent:
    400 `invalid_link`."""
    await email_service.verify_email(context, db, body.token)
    return MessageOut(message="Your email address is verified.")


@router.post(
    "/verify/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    responses=problem_responses(*BEARER, RateLimited),
    summary="Send a fresh verification link; older links stop working",
)
async def resend_verification(
    user: CallerRecord, request: Request, context: ContextDep, db: SessionDep
) -> MessageOut:
    """Queues a new verification email; earlier links stop working. Nothing is sent when the address
    is already verified (the message says so). Rate limited per client IP and per address: 429
    with `Retry-After`."""
    if await email_service.resend_verification(context, db, user, _client(request).ip):
        return MessageOut(message="A new verification link is on its way.")
    return MessageOut(message="Your email address is already verified.")


@router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    responses=problem_responses(*KEYED, RateLimited, ServiceUnavailable),
    summary="Email a password-reset link; the answer is the same whether or not the account exists",
)
async def request_password_reset(
    body: PasswordResetRequestIn,
    request: Request,
    context: ContextDep,
    db: SessionDep,
    idempotency: IdempotencyKeyDep,
) -> Response:
    """Queues an email with a reset link (valid for 1 hour by default) when an account uses the
    address. The answer is the same 202 whether or not one does, so it tells nobody which
    addresses have accounts. Rate limited per client IP and per address: 429 with `Retry-After`.
    Send an `Idempotency-Key` to make a retry safe."""
    if replayed := await idempotency.replay_or_reserve():
        return replayed
    await email_service.request_password_reset(context, db, body.email, _client(request).ip)
    message = "If an account uses that address, a link to reset its password is on its way."
    return await idempotency.keep(json_response(MessageOut(message=message), 202))


@router.post(
    "/password-reset/confirm",
    response_model=MessageOut,
    responses=problem_responses(InvalidLink, ServiceUnavailable),
    summary="Set a new password with the token from a reset link; every session is signed out",
    dependencies=[hashing_turn(PasswordWork.PASSWORD_RESET)],
)
async def confirm_password_reset(
    body: PasswordResetConfirmIn, context: ContextDep, db: SessionDep
) -> MessageOut:
    """Sets a new password with the `token` of the reset link. A link works once, and dies when the
    password changes another way: 400 `invalid_link` (of two concurrent uses, exactly one
    succeeds). Every session of the account is signed out. When the wait for password hashing
    would exceed about a second, 503 with `Retry-After`: "Too many password resets at once"."""
    await email_service.reset_password(context, db, body.token, body.new_password)
    return MessageOut(message="Your password has been changed. Sign in with the new one.")
