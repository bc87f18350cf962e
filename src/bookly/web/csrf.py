"""CSRF tokens: every form that changes something carries one, checked before its route runs.

A token is bound to what the visitor holds: a signed-in visitor's session id, or, for an
anonymous visitor (sign-in, sign-up), a random nonce in a cookie of its own (a signed double
submit). A page of another site can neither read the token nor make the browser send a matching
one; `SameSite=Lax` cookies are a second wall, not the only one.
"""

import hmac
import secrets

from fastapi import Request
from itsdangerous import BadData

from bookly.auth.caller import Caller
from bookly.core.context import app_context
from bookly.web.keys import WebKeys, web_keys
from bookly.web.refusals import CsrfRefused, SignInRequired
from bookly.web.state import visit_of

FIELD = "csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _binding(request: Request, keys: WebKeys, *, mint: bool) -> str | None:
    """What this visitor's tokens are bound to; `mint` starts an anonymous nonce if none."""
    visit = visit_of(request)
    if visit.caller is not None:
        return f"session:{visit.caller.sid}"
    nonce = visit.new_csrf_nonce or request.cookies.get(keys.csrf_cookie)
    if not nonce and mint:
        nonce = visit.new_csrf_nonce = secrets.token_urlsafe(32)
    return f"visitor:{nonce}" if nonce else None


def csrf_token(request: Request) -> str:
    """The token for a form on this page."""
    keys = web_keys(app_context(request).settings)
    binding = _binding(request, keys, mint=True)
    visit_of(request).has_form_token = True
    return keys.csrf.dumps(binding)


async def check_csrf(request: Request, visitor: Caller | None) -> None:
    """Every route of the site runs this first (routing.py), with the visitor; it lets only
    safe methods, and forms whose token matches the visitor, through."""
    if request.method in _SAFE_METHODS:
        return
    keys = web_keys(app_context(request).settings)
    sent = (await request.form()).get(FIELD)
    binding = _binding(request, keys, mint=False)
    if isinstance(sent, str) and binding is not None:
        try:
            if hmac.compare_digest(str(keys.csrf.loads(sent)), binding):
                return
        except BadData:
            pass
    if visitor is None and visit_of(request).forget_session:
        # The form was sent from a session that has since ended: sign in again.
        raise SignInRequired
    raise CsrfRefused(
        "This form was not sent from a page of this site, or it has expired. "
        "Go back, reload the page and try again."
    )
