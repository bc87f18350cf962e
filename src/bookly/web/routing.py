"""`web_router()`: the router every part of the site is built on."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.responses import Response

from bookly.web.csrf import check_csrf
from bookly.web.rendering import finish
from bookly.web.visitor import resolve_visitor


class WebRoute(APIRoute):
    """A route of the site: before it runs, the visitor is known (every page's header shows who
    is signed in) and an unsafe method's CSRF token checked; its answers get the site's headers
    and cookies (`finish`), and its errors become HTML pages (errors.py recognises the route by
    this class).

    The visitor and the check run here rather than as the router's dependencies: FastAPI
    solves each declared dependency anew on every request, and these two cost the busiest
    pages ~10 % of their CPU (bench/README.md, "The site's pages"). Routes that need the
    visitor declare `Visitor` (visitor.py), which answers what was resolved here.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def finished(request: Request) -> Response:
            await check_csrf(request, await resolve_visitor(request))
            return finish(request, await handle(request))

        return finished


def web_router() -> APIRouter:
    return APIRouter(
        route_class=WebRoute,
        include_in_schema=False,
        default_response_class=HTMLResponse,
    )
