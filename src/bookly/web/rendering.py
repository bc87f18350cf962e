"""Pages and redirects of the site, with its headers and cookies.

Every answer of a site route (and every error page) passes through `finish`: the security
headers (a Content-Security-Policy that allows only Bookly's own stylesheet and images, and no
script at all), `Cache-Control` (a page that shows a signed-in visitor or carries a form token
is stored nowhere), and the cookies the request decided on (a new session, a removed one, an
anonymous CSRF nonce).
"""

import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response

from bookly.core.context import app_context
from bookly.web import fields, fragments
from bookly.web.csrf import FIELD as CSRF_FIELD
from bookly.web.csrf import csrf_token
from bookly.web.keys import WebKeys, web_keys
from bookly.web.navigation import menu_for
from bookly.web.state import visit_of

_HERE = Path(__file__).parent
STATIC_DIR = _HERE / "static"
STATIC_PATH = "/static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

# The messages a redirect can ask the next page to show (`?notice=key`): fixed texts only, so a
# link can never make the site say something of its own.
NOTICES = {
    "signed-in": "Welcome back. You are signed in.",
    "signed-out": "You are signed out.",
    "signed-up": (
        "Your account is ready, and we have sent you an email: open its link to verify your "
        "address. Meanwhile you can sign in and read."
    ),
    "session-ended": "Your session has ended. Sign in again to carry on.",
    "verification-sent": "A new verification email is on its way. Open its link to verify.",
    "already-verified": "Your email address is already verified.",
    "book-added": "Your book is in the catalogue.",
    "book-saved": "The book's changes are saved.",
    "book-deleted": "The book is deleted, with its reviews.",
    "review-added": "Your review is published.",
    "review-saved": "Your review's changes are saved.",
    "review-deleted": "The review is deleted.",
    "session-revoked": "That session is signed out.",
    "signed-out-everywhere": "You are signed out everywhere: in every browser and app.",
    "password-changed": "Your password is changed, and your other sessions are signed out.",
    "reset-requested": (
        "If an account uses that address, a link to choose a new password is on its way."
    ),
    "account-deleted": "Your account is deleted. Thank you for reading with us.",
    "user-saved": "The user's account is changed, and they are signed out everywhere.",
    "tag-renamed": "The tag is renamed, on every book that carries it.",
    "tag-deleted": "The tag is deleted, and left every book that carried it.",
}


def _asset_versions() -> dict[str, str]:
    """Each static file's URL, with a digest of its content: a changed file is a new URL."""
    return {
        path.name: f"{STATIC_PATH}/{path.name}?v={_digest(path.read_bytes())}"
        for path in STATIC_DIR.iterdir()
        if path.is_file()
    }


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:12]


_ASSETS = _asset_versions()


_environment = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
_environment.globals.update(
    static=_ASSETS.__getitem__,
    CSRF_FIELD=CSRF_FIELD,
    pager=fragments.pager,
    field=fields.field,
    error_summary=fields.error_summary,
    problem_box=fields.problem_box,
)
_environment.filters.update(
    stars=fragments.stars,
    review_stars=fragments.review_stars,
    book_rating=fragments.book_rating,
    tag_links=fragments.tag_links,
    review_items=fragments.review_items,
    book_cards=fragments.book_cards,
    day=fragments.day,
    query=urlencode,
)


def page(
    request: Request,
    template: str,
    *,
    title: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **variables: Any,
) -> HTMLResponse:
    visitor = visit_of(request).caller
    account = visitor.account if visitor else None
    current = here(request)
    html = _environment.get_template(template).render(
        title=title,
        visitor=account,
        menu=menu_for(account) if account else [],
        csrf_token=lambda: csrf_token(request),
        notice=NOTICES.get(request.query_params.get("notice", "")),
        here=current,
        sign_in_link=sign_in_link(current),
        search_text=request.query_params.get("q", "") if request.scope["path"] == "/" else "",
        **variables,
    )
    return HTMLResponse(html, status, headers=headers)


def redirect(url: str) -> Response:
    """303 See Other: after a form, the browser GETs `url` (a same-site path)."""
    return RedirectResponse(url, status_code=303)


def sign_in_link(here: str) -> str:
    """The header's "Sign in": back to this page (`here`) afterwards, but not to the account
    forms."""
    if here.split("?", 1)[0] in {"/sign-in", "/sign-up"}:
        return "/sign-in"
    return sign_in_then(here)


def sign_in_then(back: str) -> str:
    """The sign-in page, which sends the visitor to `back` (a path of this site) afterwards."""
    # As `urlencode` would write it, but a `/` stays itself (it may in a query): a plain path
    # then takes `quote_plus`'s fast path, where `urlencode` escaped it character by character.
    return "/sign-in?next=" + quote_plus(back, safe="/")


def here(request: Request) -> str:
    """This page's path and query: where sign-in sends the visitor back to. (From the ASGI
    scope: `request.url` would build and parse a whole URL, on every page.)"""
    path: str = request.scope["path"]
    query = request.scope["query_string"].decode("latin-1")
    return path + (f"?{query}" if query else "")


def came_from(request: Request) -> str:
    """The page of this site a form was sent from (its `Referer`), else the home page."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc:
        return "/"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


def with_notice(path: str, notice: str) -> str:
    """`path` asking its page to show one of `NOTICES` (replacing any notice it had)."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "notice"] + [("notice", notice)]
    return f"{parts.path}?{urlencode(query)}"


_UNSAFE_PATH = re.compile(r"[\\\x00-\x1f\x7f]")


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` if it is a path of this site, else `default`: a `next` parameter never sends
    anyone to another host (`//evil.example`, `https://…`, `/\\evil.example`)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if _UNSAFE_PATH.search(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def finish(request: Request, response: Response) -> Response:
    """The site's headers and cookies on an answer (routing.py and errors.py call it once)."""
    keys = web_keys(app_context(request).settings)
    visit = visit_of(request)
    if visit.new_session is not None:
        _set_cookie(response, keys, keys.session_cookie, visit.new_session, keys.session_max_age)
    elif visit.forget_session:
        response.delete_cookie(
            keys.session_cookie, path="/", secure=keys.secure, httponly=True, samesite="lax"
        )
    if visit.new_csrf_nonce is not None:
        _set_cookie(response, keys, keys.csrf_cookie, visit.new_csrf_nonce, None)
    private = visit.caller is not None or visit.new_session is not None or visit.has_form_token
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-store" if private else "no-cache"
    response.headers.add_vary_header("Cookie")
    return response


def _set_cookie(
    response: Response, keys: WebKeys, name: str, value: str, max_age: int | None
) -> None:
    """Host-only (no Domain), on every path, never readable by scripts, not sent along with
    another site's requests, and Secure outside development."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=keys.secure, httponly=True, samesite="lax"
    )
