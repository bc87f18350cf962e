"""OWASP API5:2023 Broken Function Level Authorization; ASVS v5 V8.2.1.

The admin routes are found from the application itself (every route that depends on
`AdminUser`), so a new admin route is covered the day it is added.
"""

import uuid

from fastapi.routing import APIRoute

from bookly.auth.dependencies import AdminUser
from bookly.main import API_PREFIX, API_ROUTERS
from tests.conftest import Harness
from tests.factories import user

_ADMIN_CHECK = AdminUser.__metadata__[0].dependency


def _depends_on_admin(dependant: object) -> bool:
    return any(
        sub.call is _ADMIN_CHECK or _depends_on_admin(sub)
        for sub in getattr(dependant, "dependencies", [])
    )


def _admin_routes() -> list[tuple[str, str]]:
    return sorted(
        (method, API_PREFIX + route.path)
        for router in API_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and _depends_on_admin(route.dependant)
        for method in route.methods
    )


def _concrete(path: str) -> str:
    return path.replace("{uid}", str(uuid.uuid4())).replace("{name}", "fantasy")


def test_admin_routes_are_found() -> None:
    routes = _admin_routes()
    assert ("GET", "/api/v1/users") in routes
    assert ("PATCH", "/api/v1/users/{uid}") in routes


async def test_every_admin_route_refuses_users_and_strangers(harness: Harness) -> None:
    reader = await user(harness.client, harness.context)
    for method, path in _admin_routes():
        url = _concrete(path)
        anonymous = await harness.client.request(method, url, json={})
        assert anonymous.status_code == 401, (method, path)
        as_user = await harness.client.request(method, url, headers=reader.headers, json={})
        assert as_user.status_code == 403, (method, path)
        assert as_user.json()["error_code"] == "forbidden"
