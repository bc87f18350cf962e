"""What a site route refuses with, besides the domains' own errors."""

from bookly.core.errors import Forbidden


class SignInRequired(Exception):
    """The page is for signed-in readers: the visitor is sent to sign in, then back."""


class CsrfRefused(Forbidden):
    error_code = "csrf_refused"
    title = "Form refused"
