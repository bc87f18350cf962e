"""Every field of every JSON request body takes only the JSON type the OpenAPI document gives it
(issue 18): no `"321"` or `true` for an integer, no `0` or `"yes"` for a boolean, no number for a
string, and no `null` where the schema offers none. Each refusal is a 422 naming the field.

The fields come from the live app's OpenAPI document, so a field added later is checked without
editing this file. What cannot be derived from a schema is a request the API accepts: each
operation has one below (`VALID`), naming every field of its body, and an operation without one
fails the test. That request is sent as it is (2xx: the right types are taken, the string forms of
dates and enums included) and with each integer written as `4.0` (JSON has one number type, and
JSON Schema counts 4.0 an integer), then with one field at a time given each wrong type.
"""

import itertools
import random
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from bookly.books.fields import isbn13_check_digit
from bookly.mail.messages import MailTemplate
from tests.conftest import Harness
from tests.factories import PASSWORD, Account, admin, signup_body, user
from tests.support.catalogue import book_body, new_book, new_review
from tests.support.mail import outbox_rows, token_in_link

API = "/api/v1"
NEW_PASSWORD = "another-long-enough-password"

# Values of every other JSON type, the ones lax parsing would have turned into this type first.
WRONG: dict[str, list[Any]] = {
    "integer": ["4", "4.0", True, 3.5, [4], {"value": 4}],
    "boolean": [0, 1, "true", "yes", [True], {"value": True}],
    "string": [4, 4.5, True, ["text"], {"value": "text"}],
}

_names = itertools.count()


@dataclass
class Request:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class BodyField:
    """A place in a body that holds one JSON type: a property, or the items of an array one."""

    loc: tuple[str | int, ...]
    json_type: str
    nullable: bool

    @property
    def name(self) -> str:
        return str(self.loc[0])

    def get(self, body: dict[str, Any]) -> Any:
        value = body[self.name]
        return value if len(self.loc) == 1 else value[0]

    def put(self, body: dict[str, Any], value: Any) -> dict[str, Any]:
        return {**body, self.name: value if len(self.loc) == 1 else [value]}


def _fresh(prefix: str) -> str:
    return f"{prefix}{next(_names)}{uuid.uuid4().hex[:6]}"


def _fresh_isbn() -> str:
    body = "978" + "".join(random.choices("0123456789", k=9))
    return body + isbn13_check_digit(body)


def _complete_book(**overrides: Any) -> dict[str, Any]:
    return book_body(isbn=_fresh_isbn(), **overrides)


async def _link_token(harness: Harness, template: MailTemplate, recipient: str) -> str:
    rows = [
        row
        for row in await outbox_rows(harness.context)
        if row.template == template and row.recipient == recipient
    ]
    assert rows, f"no {template} email to {recipient}"
    return token_in_link(rows[-1].payload["link"])


# One request per operation that the API accepts, built afresh each time it is asked for.
Builder = Callable[[Harness], Awaitable[Request]]


async def _create_book(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    return Request("POST", f"{API}/books", _complete_book(), reader.headers)


async def _change_book(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    book = await new_book(h.client, reader)
    return Request("PATCH", f"{API}/books/{book['uid']}", _complete_book(), reader.headers)


async def _review_book(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    book = await new_book(h.client, reader)
    body = {"rating": 4, "review_text": "Worth reading."}
    return Request("POST", f"{API}/books/{book['uid']}/reviews", body, reader.headers)


async def _change_review(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    book = await new_book(h.client, reader)
    review = await new_review(h.client, reader, book["uid"])
    body = {"rating": 2, "review_text": "Less good the second time."}
    return Request("PATCH", f"{API}/reviews/{review['uid']}", body, reader.headers)


async def _book_tags(method: str, h: Harness) -> Request:
    reader = await user(h.client, h.context)
    book = await new_book(h.client, reader)
    body = {"tags": ["science fiction", _fresh("tag")]}
    return Request(method, f"{API}/books/{book['uid']}/tags", body, reader.headers)


async def _create_tag(h: Harness) -> Request:
    moderator = await admin(h.client, h.context)
    return Request("POST", f"{API}/tags", {"name": _fresh("tag")}, moderator.headers)


async def _rename_tag(h: Harness) -> Request:
    moderator = await admin(h.client, h.context)
    created = await h.client.post(
        f"{API}/tags", json={"name": _fresh("tag")}, headers=moderator.headers
    )
    assert created.status_code == 201, created.text
    path = f"{API}/tags/{created.json()['uid']}"
    return Request("PATCH", path, {"name": _fresh("tag")}, moderator.headers)


async def _change_me(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    body = {"first_name": "Grace", "last_name": "Hopper", "username": _fresh("grace_")}
    return Request("PATCH", f"{API}/users/me", body, reader.headers)


async def _delete_me(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    return Request("DELETE", f"{API}/users/me", {"password": PASSWORD}, reader.headers)


async def _administer_user(h: Harness) -> Request:
    moderator = await admin(h.client, h.context)
    target = await user(h.client, h.context)
    body = {"role": "admin", "is_active": False}
    return Request("PATCH", f"{API}/users/{target.uid}", body, moderator.headers)


async def _sign_up(h: Harness) -> Request:
    return Request("POST", f"{API}/auth/signup", signup_body())


async def _log_in(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    return Request("POST", f"{API}/auth/login", _credentials(reader))


def _credentials(account: Account) -> dict[str, str]:
    return {"email": account.email, "password": account.password}


async def _refresh(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    return Request("POST", f"{API}/auth/refresh", {"refresh_token": reader.refresh_token})


async def _change_password(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    return Request("POST", f"{API}/auth/password/change", body, reader.headers)


async def _verify(h: Harness) -> Request:
    reader = await user(h.client, h.context, verified=False)
    token = await _link_token(h, MailTemplate.VERIFY_EMAIL, reader.email)
    return Request("POST", f"{API}/auth/verify", {"token": token})


async def _request_reset(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    return Request("POST", f"{API}/auth/password-reset/request", {"email": reader.email})


async def _confirm_reset(h: Harness) -> Request:
    reader = await user(h.client, h.context)
    asked = await h.client.post(f"{API}/auth/password-reset/request", json={"email": reader.email})
    assert asked.status_code == 202, asked.text
    token = await _link_token(h, MailTemplate.RESET_PASSWORD, reader.email)
    body = {"token": token, "new_password": NEW_PASSWORD}
    return Request("POST", f"{API}/auth/password-reset/confirm", body)


async def _put_book_tags(h: Harness) -> Request:
    return await _book_tags("PUT", h)


async def _add_book_tags(h: Harness) -> Request:
    return await _book_tags("POST", h)


VALID: dict[str, Builder] = {
    "POST /api/v1/books": _create_book,
    "PATCH /api/v1/books/{uid}": _change_book,
    "POST /api/v1/books/{uid}/reviews": _review_book,
    "PATCH /api/v1/reviews/{uid}": _change_review,
    "PUT /api/v1/books/{uid}/tags": _put_book_tags,
    "POST /api/v1/books/{uid}/tags": _add_book_tags,
    "POST /api/v1/tags": _create_tag,
    "PATCH /api/v1/tags/{uid}": _rename_tag,
    "PATCH /api/v1/users/me": _change_me,
    "DELETE /api/v1/users/me": _delete_me,
    "PATCH /api/v1/users/{uid}": _administer_user,
    "POST /api/v1/auth/signup": _sign_up,
    "POST /api/v1/auth/login": _log_in,
    "POST /api/v1/auth/refresh": _refresh,
    "POST /api/v1/auth/password/change": _change_password,
    "POST /api/v1/auth/verify": _verify,
    "POST /api/v1/auth/password-reset/request": _request_reset,
    "POST /api/v1/auth/password-reset/confirm": _confirm_reset,
}


class Document:
    """The parts of the OpenAPI document this test reads."""

    def __init__(self, openapi: dict[str, Any]) -> None:
        self.openapi = openapi

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            *_, name = schema["$ref"].split("/")
            schema = self.openapi["components"]["schemas"][name]
        return schema

    def json_bodies(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each operation that reads a JSON body, and the body's (resolved) schema."""
        for path, operations in self.openapi["paths"].items():
            for method, operation in operations.items():
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    schema = self.resolve(content["application/json"]["schema"])
                    yield f"{method.upper()} {path}", schema

    def fields(self, body: dict[str, Any]) -> list[BodyField]:
        assert body.get("type") == "object", body
        return [
            self._field(name, self.resolve(schema)) for name, schema in body["properties"].items()
        ]

    def _field(self, name: str, schema: dict[str, Any]) -> BodyField:
        alternatives = [self.resolve(s) for s in schema.get("anyOf", [schema])]
        typed = [s for s in alternatives if s.get("type") != "null"]
        nullable = len(typed) < len(alternatives)
        # A field this test cannot yet read fails loudly rather than going unchecked.
        assert len(typed) == 1, f"{name}: teach this test to check {schema}"
        [only] = typed
        if only.get("type") == "array":
            items = self.resolve(only["items"])
            assert items.get("type") in WRONG, f"{name}: teach this test to check {schema}"
            return BodyField((name, 0), items["type"], nullable=False)
        assert only.get("type") in WRONG, f"{name}: teach this test to check {schema}"
        return BodyField((name,), only["type"], nullable)


@pytest.fixture
async def document(harness: Harness) -> Document:
    response = await harness.client.get(f"{API}/openapi.json")
    assert response.status_code == 200, response.text
    return Document(response.json())


async def _send(harness: Harness, request: Request) -> httpx.Response:
    return await harness.client.request(
        request.method, request.path, json=request.body, headers=request.headers
    )


def _refused_at(response: httpx.Response, place: BodyField) -> bool:
    """A 422 validation problem whose every error is at the field's location (the rest of the
    body is valid)."""
    if response.status_code != 422:
        return False
    problem = response.json()
    locs = {tuple(error["loc"]) for error in problem["errors"]}
    return problem["error_code"] == "validation_error" and locs == {("body", *place.loc)}


async def test_every_json_body_has_a_request_the_api_accepts(
    harness: Harness, document: Document
) -> None:
    operations = dict(document.json_bodies())
    assert set(operations) == set(VALID), (
        "every operation with a JSON body needs a valid request in VALID (and only those): "
        f"missing {sorted(set(operations) - set(VALID))}, "
        f"stale {sorted(set(VALID) - set(operations))}"
    )
    for operation, schema in operations.items():
        request = await VALID[operation](harness)
        assert set(request.body) == set(schema["properties"]), (
            f"{operation}: the valid request must give every field of the body its right type"
        )
        response = await _send(harness, request)
        assert response.is_success, f"{operation} {request.body}: {response.text}"


async def test_an_integer_may_be_written_with_a_zero_fraction(
    harness: Harness, document: Document
) -> None:
    checked = []
    for operation, schema in document.json_bodies():
        integers = [f for f in document.fields(schema) if f.json_type == "integer"]
        if not integers:
            continue
        request = await VALID[operation](harness)
        body = request.body
        for place in integers:
            body = place.put(body, float(place.get(request.body)))
        response = await _send(harness, replace(request, body=body))
        assert response.is_success, f"{operation} {body}: {response.text}"
        checked.append(operation)
    assert "POST /api/v1/books/{uid}/reviews" in checked  # the walk found the integers


async def test_every_field_refuses_every_other_json_type(
    harness: Harness, document: Document
) -> None:
    misanswered: list[str] = []
    checked = 0
    for operation, schema in document.json_bodies():
        request = await VALID[operation](harness)
        for place in document.fields(schema):
            wrong = WRONG[place.json_type] + ([] if place.nullable else [None])
            for value in wrong:
                body = place.put(request.body, value)
                response = await _send(harness, replace(request, body=body))
                checked += 1
                if not _refused_at(response, place):
                    misanswered.append(f"{operation} {place.loc}={value!r}: {response.text}")
    assert not misanswered, "\n".join(misanswered)
    assert checked > 100  # the walk found the fields
