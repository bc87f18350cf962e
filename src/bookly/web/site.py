"""The site as the app mounts it: its routers, its static files and its error pages."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bookly.web import account, account_pages, admin, books, catalogue, reviews, tags, users
from bookly.web.errors import install_error_pages
from bookly.web.rendering import STATIC_DIR, STATIC_PATH

# Mounted after the API's routers: FastAPI tries routes in order, and the API's come first.
WEB_ROUTERS = (
    catalogue.router,
    books.router,
    reviews.router,
    tags.router,
    users.router,
    account.router,
    account_pages.router,
    admin.router,
)


def install_web(app: FastAPI) -> None:
    """Mount the site at `/` (call after the API's routers and `install_problem_handlers`)."""
    for router in WEB_ROUTERS:
        app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
    install_error_pages(app)
