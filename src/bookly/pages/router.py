"""`GET /verify-email` and `GET|POST /reset-password`: the pages email links open, and the
forms their error pages offer to send a new link (`POST /verify-email/resend`,
`POST /reset-password/request`).

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
from sqlalchemy.ext.asyncio import AsyncSession

from bookly.auth import email_service
from bookly.auth.dependencies import hashing_turn
from bookly.auth.errors import InvalidLink
from bookly.auth.schemas import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, Password
from bookly.core.context import AppContext, ContextDep
from bookly.core.db import SessionDep
from bookly.core.errors import RateLimited
from bookly.core.hashing_admission import PasswordWork

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
# The readers' site signs people in here; the link pages point to it as the next step.
SIGN_IN_PATH = "/sign-in"


@dataclass(frozen=True)
class _Field:
    name: str
    label: str
    hint: str


_FIELDS = (
    _Field("new_password", "New password", f"At least {PASSWORD_MIN_LENGTH} characters."),
    _Field("confirm_password", "Confirm new password", "Type the same password again."),
)


def _page(
    request: Request,
    template: str,
    status: int,
    *,
    headers: dict[str, str] | None = None,
    **variables: Any,
) -> HTMLResponse:
    return _templates.TemplateResponse(
        request,
        template,
        {"css": _CSS, "sign_in": SIGN_IN_PATH, **variables},
        status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})},
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


@router.post("/reset-password", dependencies=[hashing_turn(PasswordWork.PASSWORD_RESET)])
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


@router.post("/verify-email/resend")
async def resend_verification_page(
    request: Request, context: ContextDep, db: SessionDep, email: FormField = ""
) -> HTMLResponse:
    return await _send_new_link(request, "verify_email.html", email, context, db)


@router.post("/reset-password/request")
async def request_reset_page(
    request: Request, context: ContextDep, db: SessionDep, email: FormField = ""
) -> HTMLResponse:
    return await _send_new_link(request, "reset_password.html", email, context, db)


_SENDERS = {
    "verify_email.html": email_service.resend_verification_to,
    "reset_password.html": email_service.request_password_reset,
}


async def _send_new_link(
    request: Request, template: str, email: str, context: AppContext, db: AsyncSession
) -> HTMLResponse:
    """Queue a new link of the page's kind where an account fits, and answer the same either
    way, so the page tells nobody whether an address has an account."""
    address = email.strip()[:320]
    if not address:
        problem = "Type the email address of your Bookly account."
        return _page(request, template, 422, title="Email address needed", problem=problem)
    client_ip = request.client.host if request.client else ""
    try:
        await _SENDERS[template](context, db, address, client_ip)
    except RateLimited as limited:
        problem = "Too many emails were asked for from here or for this address; try again later."
        return _page(
            request,
            template,
            429,
            title="Too many emails",
            problem=problem,
            headers=limited.headers,
        )
    return _page(request, template, 202, title="Check your email", sent=True)
