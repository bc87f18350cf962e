"""What the OpenAPI document says beyond its routes: the API's description, the tags with theirs,
and the enums several operations share (named once, so a generated client has one type each)."""

from bookly.books.fields import Language
from bookly.books.schemas import BookSort
from bookly.core.openapi import DocumentParts, SharedEnum
from bookly.models import Role
from bookly.tags.schemas import TagSort

_DESCRIPTION = """\
Errors are RFC 9457 problem documents (`application/problem+json`) whose `error_code` is
stable: branch on it, never on `title` or `detail`. Each operation lists the codes each of its
error responses can carry. Every response carries `X-Request-ID`.

Sign in with `POST /api/v1/auth/login` (or the *Authorize* button, which uses
`/api/v1/auth/token`) and send the access token as `Authorization: Bearer <token>`.
Lists are keyset pages: `{"items": [...], "next_cursor": ...}`; pass `next_cursor` back as
`cursor` for the next page.

The API guide (a first-five-minutes walkthrough and every error code) is `docs/api-guide.md`
in Bookly's repository.
"""

API_DOCUMENT = DocumentParts(
    description=_DESCRIPTION,
    tags=(
        {
            "name": "auth",
            "description": "Accounts and sessions: sign up, verify the email address, sign in "
            "(a session: an access token and a refresh token that rotates), sign out, change "
            "or reset the password. Sign-in, signup and the email-sending routes are rate "
            "limited (429 with `Retry-After`).",
        },
        {
            "name": "users",
            "description": "The signed-in account (`/users/me`), public profiles with what "
            "each user contributed, and the administrators' user list and changes.",
        },
        {
            "name": "books",
            "description": "The catalogue: search and filter, read (with `ETag`), add (verified "
            "accounts), change with `If-Match` and delete (the owner or an administrator).",
        },
        {
            "name": "reviews",
            "description": "One review per reader and book, rated 1-5; each book's rating "
            "summary follows its reviews.",
        },
        {
            "name": "tags",
            "description": "Tag names (normalised: trimmed, lower-cased, inner spaces collapsed) "
            "and the tags on each book.",
        },
        {
            "name": "operations",
            "description": "Probes for load balancers and orchestrators, and Prometheus metrics "
            "(outside `/api/v1`).",
        },
    ),
    shared_enums=(
        SharedEnum("Language", Language, "An ISO 639-1 language code, lower case."),
        SharedEnum(
            "BookSort",
            BookSort,
            "The order of a book list; a leading `-` sorts descending. `relevance` needs `q`.",
        ),
        SharedEnum("TagSort", TagSort, "The order of the tag list: by name, or most used first."),
        SharedEnum("Role", Role, "An account's role: administrators may moderate."),
    ),
)
