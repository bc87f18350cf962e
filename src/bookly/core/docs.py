"""The interactive docs, Swagger UI at `/docs` and ReDoc at `/redoc`, with their scripts, styles
and icons served by Bookly itself (from the `fastapi-standalone-docs` package, which ships
swagger-ui-dist and ReDoc's standalone bundle): the pages work where no CDN can be reached."""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

# The package's own layout: static/swagger, static/redoc (whose bundle asks for its logo next
# to the page: `/redoc/logo-mini.svg`) and static/fastapi (the favicon).
_ASSETS = Path(str(files("fastapi_standalone_docs"))) / "static"
SWAGGER_UI_PATH = "/docs"
REDOC_PATH = "/redoc"
_OAUTH2_REDIRECT_PATH = f"{SWAGGER_UI_PATH}/oauth2-redirect"
_FAVICON = f"{SWAGGER_UI_PATH}/fastapi/favicon.png"


def install_docs(app: FastAPI) -> None:
    """The two pages and their assets; call before mounting anything at `/`."""
    openapi_url = str(app.openapi_url)

    @app.get(SWAGGER_UI_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{SWAGGER_UI_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{SWAGGER_UI_PATH}/swagger-ui.css",
            swagger_favicon_url=root + _FAVICON,
            oauth2_redirect_url=root + _OAUTH2_REDIRECT_PATH,
        )

    @app.get(_OAUTH2_REDIRECT_PATH, include_in_schema=False)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{REDOC_PATH}/redoc.standalone.js",
            redoc_favicon_url=root + _FAVICON,
            with_google_fonts=False,
        )

    # Mounted after the pages: `/docs` itself is the page, `/docs/...` an asset.
    app.mount(f"{SWAGGER_UI_PATH}/fastapi", StaticFiles(directory=_ASSETS / "fastapi"))
    app.mount(SWAGGER_UI_PATH, StaticFiles(directory=_ASSETS / "swagger"))
    app.mount(REDOC_PATH, StaticFiles(directory=_ASSETS / "redoc"))


def _root_path(request: Request) -> str:
    """The prefix a proxy serves the app under (ASGI `root_path`), as FastAPI's own docs use."""
    return str(request.scope.get("root_path", "")).rstrip("/")
