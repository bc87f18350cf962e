"""`web_router()`: the router every part of the site is built on."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.responses import Response

from bookly.web.csrf import check_csrf
from bookly.web.rendering import finish


class WebRoute(APIRoute):
    """A route of the site: its answers get the site's headers and cookies (`finish`), and its
    errors become HTML pages (errors.py recognises the route by this class)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def finished(request: Request) -> Response:
            return finish(request, await handle(request))

        return finished


def web_router() -> APIRouter:
    return APIRouter(
        route_class=WebRoute,
        include_in_schema=False,
        default_response_class=HTMLResponse,
        # Before the route's own: the visitor (every page's header shows who is signed in),
        # which the CSRF check of an unsafe method depends on, then that check. One dependency
        # for both: FastAPI solves each declared one on every request.
        dependencies=[Depends(check_csrf)],
    )
