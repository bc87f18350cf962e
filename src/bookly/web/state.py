"""What one web request learns about its visitor, kept in `request.state` for the answer."""

from dataclasses import dataclass

from fastapi import Request

from bookly.auth.caller import Caller


@dataclass
class Visit:
    caller: Caller | None = None
    # A session cookie came with the request but names no live session: the answer removes it.
    forget_session: bool = False
    # A sign-in: the answer sets this signed session reference as the cookie.
    new_session: str | None = None
    # A form was rendered for an anonymous visitor who had no CSRF cookie yet: the answer sets it.
    new_csrf_nonce: str | None = None
    # The page carries a CSRF token: no cache may keep it (it is this visitor's).
    has_form_token: bool = False

    def end_session(self) -> None:
        """The visitor's session has just ended (signed out, account deleted): the answer
        removes its cookie, and renews nothing."""
        self.new_session = None
        self.forget_session = True


def visit_of(request: Request) -> Visit:
    visit: Visit | None = getattr(request.state, "web_visit", None)
    if visit is None:
        visit = request.state.web_visit = Visit()
    return visit
