"""Who is browsing: the account behind the session cookie, checked on every request.

The cookie holds only a signed (sid, uid) reference to one of the API's sessions. Each request
checks it exactly as the bearer path checks a token (auth/dependencies.py): the Redis denylist
first when configured (an outage fails closed), then one read of the account through its
session row (auth/caller.py). So a sign-out or a revocation anywhere, or an admin disabling the
account, ends the browser session at its next request.
"""

import uuid
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadData
from sqlalchemy import Table

from bookly.auth.caller import Account, Caller, caller_query, load_caller
from bookly.auth.errors import AccountDisabled, AccountNotVerified
from bookly.auth.service import touch_session
from bookly.core.context import app_context
from bookly.core.errors import Forbidden, Unauthorized
from bookly.models import AuthSession, Role
from bookly.web.keys import web_keys
from bookly.web.refusals import SignInRequired
from bookly.web.state import visit_of

# The session's last use comes with the caller: most requests need not write it.
_SESSIONS: Table = AuthSession.__table__  # type: ignore[attr-defined]
_CALLER = caller_query(_SESSIONS.c.last_used_at)


def session_reference(request: Request, sid: uuid.UUID, user_uid: uuid.UUID) -> str:
    """The signed cookie value naming a session (never a token)."""
    keys = web_keys(app_context(request).settings)
    return keys.session.dumps([str(sid), str(user_uid)])


def _read_reference(request: Request, value: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    keys = web_keys(app_context(request).settings)
    try:
        sid, user_uid = keys.session.loads(value, max_age=keys.session_max_age)
        return uuid.UUID(sid), uuid.UUID(user_uid)
    except (BadData, ValueError, TypeError):
        return None


async def resolve_visitor(request: Request) -> Caller | None:
    """The signed-in caller, or None; a cookie that names no live session is to be removed.
    Run once per request of the site, before its route (routing.py)."""
    context = app_context(request)
    visit = visit_of(request)
    value = request.cookies.get(web_keys(context.settings).session_cookie)
    if not value:
        return None
    reference = _read_reference(request, value)
    if reference is None:
        visit.forget_session = True
        return None
    sid, user_uid = reference
    try:
        if context.denylist is not None:
            await context.denylist.ensure_live(context.reader, sid, context.clock())
        caller, (last_used_at,) = await load_caller(context.reader, _CALLER, sid, user_uid)
    except (Unauthorized, AccountDisabled):
        visit.forget_session = True
        return None
    visit.caller = caller
    if await touch_session(context, sid, last_used_at):
        # Signed again with this time: the site's session slides, ending only after
        # `session_max_age` without a visit (keys.py), as an API session whose refresh
        # token is not used in time.
        visit.new_session = session_reference(request, sid, user_uid)
    request.state.user_uid = str(user_uid)  # for the access log
    return caller


async def _visitor(request: Request) -> Caller | None:
    return visit_of(request).caller


# The visitor as routing.py resolved it before the route's dependencies were solved.
Visitor = Annotated[Caller | None, Depends(_visitor)]


def signed_in_account(request: Request) -> Account | None:
    """The visitor's account, for the busiest pages, which declare no parameter they can do
    without: FastAPI solves each one again on every request (bench/README.md, "The site's
    pages")."""
    caller = visit_of(request).caller
    return caller.account if caller else None


# Each checks the visitor directly (no chain), as auth/dependencies.py does.
async def _optional_user(visitor: Visitor) -> Account | None:
    return visitor.account if visitor else None


async def _web_caller(visitor: Visitor) -> Caller:
    if visitor is None:
        raise SignInRequired
    return visitor


async def _web_user(visitor: Visitor) -> Account:
    if visitor is None:
        raise SignInRequired
    return visitor.account


async def _verified_web_user(visitor: Visitor) -> Account:
    if visitor is None:
        raise SignInRequired
    if not visitor.account.is_verified:
        raise AccountNotVerified(
            "Verify your email address first: open the link in the email we sent you."
        )
    return visitor.account


async def _admin_web_user(visitor: Visitor) -> Account:
    if visitor is None:
        raise SignInRequired
    if visitor.account.role != Role.ADMIN:
        raise Forbidden("Only administrators may open this page.")
    return visitor.account


OptionalWebUser = Annotated[Account | None, Depends(_optional_user)]
WebCaller = Annotated[Caller, Depends(_web_caller)]
WebUser = Annotated[Account, Depends(_web_user)]
VerifiedWebUser = Annotated[Account, Depends(_verified_web_user)]
AdminWebUser = Annotated[Account, Depends(_admin_web_user)]
