"""Error pages: what a browser sees instead of a problem document.

The API's handlers (core/problems.py) stay the one place that decides each error's status and
message; for a request to the site (a route of `web_router()`, or an unknown path asked for as
HTML) the handler's answer is shown as a page in the site's style, with its status and
`Retry-After`. Never a JSON document or a stack trace in the browser.
"""

import inspect
import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from fastapi import FastAPI, Request
from starlette.responses import Response

from bookly.web.refusals import SignInRequired
from bookly.web.rendering import came_from, finish, here, page, redirect, safe_next, sign_in_then
from bookly.web.routing import WebRoute

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]

# Titles and advice by status; the error's own message is shown below the title.
_PAGES: dict[int, tuple[str, str]] = {
    400: ("This request could not be understood", "Go back and try again."),
    403: ("You can't do that here", "If you think you should be able to, sign in again."),
    404: ("Page not found", "The address may be mistyped, or what it showed has been deleted."),
    405: ("This page can't do that", "Go back to the page you came from."),
    409: ("That clashes with something already here", "Go back and change it."),
    413: ("That is too much at once", "Go back and send less."),
    429: ("Too many attempts", "Wait a little, then try again."),
    500: ("Something went wrong on our side", "Try again in a moment."),
    503: ("Bookly is busy right now", "Try again in a few seconds."),
}
# Messages that name the API's ways (tokens, headers) are not shown to readers.
_GENERIC_DETAIL = {404, 405, 500}


def is_site_request(request: Request) -> bool:
    """A route of the site, or any other path a browser asked for as a page (the API answers
    its own paths, and clients that do not ask for HTML, with problem documents)."""
    if isinstance(request.scope.get("route"), WebRoute):
        return True
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(
    request: Request, status: int, detail: str | None, headers: dict[str, str] | None = None
) -> Response:
    if status == 422:  # a malformed path or query of a page: nothing is there
        status, detail = 404, None
    title, advice = _PAGES.get(status, (HTTPStatus(status).phrase, "Go back and try again."))
    response = page(
        request,
        "error.html",
        title=title,
        status=status,
        headers=headers,
        detail=None if status in _GENERIC_DETAIL else detail,
        advice=advice,
    )
    return finish(request, response)


def sign_in_url(request: Request) -> str:
    """The sign-in page, with the way back: this page (a GET), or the page a form was on."""
    back = here(request) if request.method == "GET" else came_from(request)
    return sign_in_then(safe_next(back))


def _sign_in(request: Request, _: Exception) -> Response:
    return finish(request, redirect(sign_in_url(request)))


def _html_for_site(original: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        response = original(request, exc)
        if inspect.isawaitable(response):
            response = await response
        if not is_site_request(request):
            return response
        if response.status_code == 401:
            return finish(request, redirect(sign_in_url(request)))
        try:
            detail = json.loads(bytes(response.body)).get("detail")
        except ValueError:
            detail = None
        retry_after = response.headers.get("retry-after")
        return error_page(
            request,
            response.status_code,
            detail if isinstance(detail, str) else None,
            {"Retry-After": retry_after} if retry_after else None,
        )

    return handler


def install_error_pages(app: FastAPI) -> None:
    """Wrap every installed problem handler (call after `install_problem_handlers`)."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _html_for_site(handler)
    app.add_exception_handler(SignInRequired, _sign_in)
