"""`ApiRouter`: the router of every part of the API, which the app serves under `API_PREFIX`.

FastAPI 0.165 finds a request's route by trying every route in turn, each try costing several
microseconds of scope bookkeeping besides its pattern; the site's pages come after the API's
routes (web/site.py), so a page would try every API route first (~40: a fifth of a book page's
CPU, bench/README.md). An `ApiRouter` answers "no match" at once for a path outside the API.
"""

from fastapi import APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

API_PREFIX = "/api/v1"
_INSIDE_API = API_PREFIX + "/"


class ApiRouter(APIRouter):
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not get_route_path(scope).startswith(_INSIDE_API):
            return Match.NONE, {}
        return super().matches(scope)
