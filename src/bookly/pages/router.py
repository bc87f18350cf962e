"""`GET /verify-email` and `GET|POST /reset-password`: the pages email links open.

Plain HTML forms (no JavaScript, no third-party assets); the stylesheet is inlined and allowed
by its hash, so the Content-Security-Policy can refuse everything else. The token travels in
the URL, hence `Referrer-Policy: no-referrer` and `Cache-Control: no-store`.
"""

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import TypeAdapter, ValidationError

from bookly.auth import email_service
from bookly.auth.errors import InvalidLink
from bookly.auth.schemas import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, Password
from bookly.core.context import ContextDep
from bookly.core.db import SessionDep

_TEMPLATES = Path(__file__).parent / "templates"
_templates = Jinja2Templates(directory=_TEMPLATES)
_CSS = (_TEMPLATES / "pages.css").read_text()
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_password = TypeAdapter(Password)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

Token = Annotated[str, Query(description="The token from the email link.")]
FormField = Annotated[str, Form()]


@dataclass(frozen=True)
class _Field:
    name: str
    label: str
    hint: str


_FIELDS = (
    _Field("new_password", "New password", f"At least {PASSWORD_MIN_LENGTH} characters."),
    _Field("confirm_password", "Confirm new password", "Type the same password again."),
)


def _page(request: Request, template: str, status: int, **variables: Any) -> HTMLResponse:
    return _templates.TemplateResponse(
        request,
        template,
        {"css": _CSS, **variables},
        status_code=status,
        headers=SECURITY_HEADERS,
    )


def _reset_form(
    request: Request, email: str, token: str, errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    return _page(
        request,
        "reset_password.html",
        status,
        title="Choose a new password",
        email=email,
        token=token,
        fields=_FIELDS,
        errors=errors,
        focus=next(iter(errors), "new_password"),
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
    )


def _password_errors(new_password: str, confirm_password: str) -> dict[str, str]:
    """Errors by field, worded for people; the rule itself is the API's `Password` type."""
    try:
        _password.validate_python(new_password)
    except ValidationError as error:
        issue = error.errors()[0]
        limits = issue.get("ctx", {})
        if issue["type"].endswith("too_short"):
            return {"new_password": f"Use at least {limits['min_length']} characters."}
        if issue["type"].endswith("too_long"):
            return {"new_password": f"Use at most {limits['max_length']} characters."}
        return {"new_password": f"This password cannot be used: {issue['msg']}."}
    if new_password != confirm_password:
        return {"confirm_password": "The two passwords do not match."}
    return {}


@router.get("/verify-email")
async def verify_email_page(
    request: Request, context: ContextDep, db: SessionDep, token: Token = ""
) -> HTMLResponse:
    try:
        await email_service.verify_email(context, db, token)
    except InvalidLink as problem:
        return _page(
            request, "verify_email.html", 400, title="Email not verified", problem=problem.detail
        )
    return _page(request, "verify_email.html", 200, title="Email verified", verified=True)


@router.get("/reset-password")
async def reset_password_page(
    request: Request, context: ContextDep, db: SessionDep, token: Token = ""
) -> HTMLResponse:
    try:
        user = await email_service.check_reset_link(context, db, token)
    except InvalidLink as problem:
        return _page(
            request, "reset_password.html", 400, title="Link not valid", problem=problem.detail
        )
    return _reset_form(request, user.email, token, errors={})


@router.post("/reset-password")
async def reset_password_submit(
    request: Request,
    context: ContextDep,
    db: SessionDep,
    token: FormField = "",
    new_password: FormField = "",
    confirm_password: FormField = "",
) -> HTMLResponse:
    try:
        user = await email_service.check_reset_link(context, db, token)
        if errors := _password_errors(new_password, confirm_password):
            status = 422 if "new_password" in errors else 400
            return _reset_form(request, user.email, token, errors, status)
        await email_service.reset_password(context, db, token, new_password)
    except InvalidLink as problem:
        return _page(
            request, "reset_password.html", 400, title="Link not valid", problem=problem.detail
        )
    return _page(request, "reset_password.html", 200, title="Password changed", done=True)
