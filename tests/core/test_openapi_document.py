"""The OpenAPI document as a generated client and a reader need it: short stable operation ids,
one named component per shared enum, a description on every operation, tags with theirs, error
responses that are problem documents listing their codes with examples, and the headers clients
rely on."""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Harness

PROBLEM = "application/problem+json"

# What clients were generated against: an operation keeps its id (new ones may come).
STABLE_IDS = {
    ("post", "/api/v1/auth/signup"): "signup",
    ("post", "/api/v1/auth/login"): "login",
    ("post", "/api/v1/auth/token"): "token",
    ("post", "/api/v1/auth/refresh"): "refresh",
    ("post", "/api/v1/auth/logout"): "logout",
    ("post", "/api/v1/auth/logout-all"): "logout_all",
    ("get", "/api/v1/auth/sessions"): "list_sessions",
    ("delete", "/api/v1/auth/sessions/{sid}"): "delete_session",
    ("post", "/api/v1/auth/password/change"): "change_password",
    ("post", "/api/v1/auth/verify"): "verify",
    ("post", "/api/v1/auth/verify/resend"): "resend_verification",
    ("post", "/api/v1/auth/password-reset/request"): "request_password_reset",
    ("post", "/api/v1/auth/password-reset/confirm"): "confirm_password_reset",
    ("get", "/api/v1/users/me"): "read_me",
    ("patch", "/api/v1/users/me"): "update_me",
    ("delete", "/api/v1/users/me"): "delete_me",
    ("get", "/api/v1/users"): "list_users",
    ("get", "/api/v1/users/{uid}"): "read_profile",
    ("patch", "/api/v1/users/{uid}"): "administer_user",
    ("get", "/api/v1/users/{uid}/books"): "list_user_books",
    ("get", "/api/v1/users/{uid}/reviews"): "list_user_reviews",
    ("get", "/api/v1/books"): "list_books",
    ("post", "/api/v1/books"): "create_book",
    ("get", "/api/v1/books/{uid}"): "read_book",
    ("patch", "/api/v1/books/{uid}"): "update_book",
    ("delete", "/api/v1/books/{uid}"): "delete_book",
    ("get", "/api/v1/books/{uid}/reviews"): "list_book_reviews",
    ("post", "/api/v1/books/{uid}/reviews"): "create_review",
    ("put", "/api/v1/books/{uid}/tags"): "replace_book_tags",
    ("post", "/api/v1/books/{uid}/tags"): "add_book_tags",
    ("delete", "/api/v1/books/{uid}/tags/{name}"): "remove_book_tag",
    ("get", "/api/v1/reviews"): "list_reviews",
    ("get", "/api/v1/reviews/{uid}"): "read_review",
    ("patch", "/api/v1/reviews/{uid}"): "update_review",
    ("delete", "/api/v1/reviews/{uid}"): "delete_review",
    ("get", "/api/v1/tags"): "list_tags",
    ("post", "/api/v1/tags"): "create_tag",
    ("get", "/api/v1/tags/{uid}"): "read_tag",
    ("patch", "/api/v1/tags/{uid}"): "rename_tag",
    ("delete", "/api/v1/tags/{uid}"): "delete_tag",
    ("get", "/healthz"): "healthz",
    ("get", "/readyz"): "readyz",
    ("get", "/metrics"): "metrics",
}


@pytest.fixture
async def schema(harness: Harness) -> dict[str, Any]:
    response = await harness.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def error_responses(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(operation id, status, response) of every 4xx and 5xx response."""
    for _, _, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                yield operation["operationId"], status, response


def test_operation_ids_are_short_stable_and_unique(schema: dict[str, Any]) -> None:
    ids = {(method, path): op["operationId"] for method, path, op in operations(schema)}
    assert {key: ids.get(key) for key in STABLE_IDS} == STABLE_IDS
    assert len(set(ids.values())) == len(ids)
    for operation_id in ids.values():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", operation_id), operation_id
        assert len(operation_id) <= 32, operation_id


def _nodes(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _nodes(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, f"{where}/{index}")


@pytest.mark.parametrize(
    ("name", "some_values", "uses"),
    [
        (
            "Language",
            {"en", "fr", "zu"},
            [
                "/components/schemas/BookCreate/properties/language",
                "/components/schemas/BookUpdate/properties/language",
                "/paths/~1api~1v1~1books/get/parameters/language",
            ],
        ),
        ("BookSort", {"-created_at", "relevance"}, ["/paths/~1api~1v1~1books/get/parameters/sort"]),
        ("TagSort", {"name", "-book_count"}, ["/paths/~1api~1v1~1tags/get/parameters/sort"]),
        (
            "Role",
            {"user", "admin"},
            [
                "/components/schemas/UserOut/properties/role",
                "/components/schemas/AdminUserUpdate/properties/role",
                "/paths/~1api~1v1~1users/get/parameters/role",
            ],
        ),
    ],
)
def test_a_shared_enum_is_one_named_component(
    schema: dict[str, Any], name: str, some_values: set[str], uses: list[str]
) -> None:
    component = schema["components"]["schemas"][name]
    assert some_values <= set(component["enum"])
    assert component["description"]
    copies = [
        where
        for where, node in _nodes(schema)
        if isinstance(node.get("enum"), list) and set(node["enum"]) == set(component["enum"])
    ]
    assert copies == [f"/components/schemas/{name}"], "the values are spelled out elsewhere too"
    reference = f"#/components/schemas/{name}"
    for use in uses:
        assert reference in str(_resolve(schema, use)), f"{use} does not refer to {name}"


def _resolve(schema: dict[str, Any], pointer: str) -> Any:
    """A JSON pointer, where `parameters/<name>` picks the parameter by name."""
    node: Any = schema
    for part in pointer.strip("/").split("/"):
        part = part.replace("~1", "/")
        if isinstance(node, list):
            node = next(item for item in node if item.get("name") == part)
        else:
            node = node[part]
    return node


def test_every_operation_says_what_a_client_must_know(schema: dict[str, Any]) -> None:
    for method, path, operation in operations(schema):
        assert operation.get("summary"), (method, path)
        description = operation.get("description", "")
        assert len(description) >= 40, (method, path, description)
        assert description != operation["summary"], (method, path)
    by_id = {
        op["operationId"]: " ".join(op["description"].split()) for _, _, op in operations(schema)
    }
    # The behaviour clients trip over, said where it applies.
    assert "spent" in by_id["refresh"]
    assert "token_reused" in by_id["refresh"]
    assert "500" in by_id["list_books"]
    assert "SEARCH_RANK_WINDOW" in by_id["list_books"]
    assert "If-None-Match" in by_id["read_book"]
    assert "If-Match" in by_id["update_book"]
    for rate_limited in ("signup", "login", "resend_verification", "request_password_reset"):
        assert "Rate limited" in by_id[rate_limited], rate_limited


def test_tags_are_listed_with_descriptions(schema: dict[str, Any]) -> None:
    listed = {tag["name"]: tag.get("description", "") for tag in schema["tags"]}
    used = {tag for _, _, op in operations(schema) for tag in op.get("tags", [])}
    assert used == set(listed)
    assert all(len(description) >= 20 for description in listed.values()), listed
    for _, _, operation in operations(schema):
        assert len(operation["tags"]) == 1, operation["operationId"]


def test_errors_are_problem_documents_with_their_codes_and_an_example_each(
    schema: dict[str, Any],
) -> None:
    for operation_id, status, response in error_responses(schema):
        where = f"{operation_id} {status}"
        assert set(response["content"]) == {PROBLEM}, where
        media = response["content"][PROBLEM]
        assert media["schema"] == {"$ref": "#/components/schemas/Problem"}, where
        examples = media["examples"]
        assert examples, where
        for code, example in examples.items():
            body = example["value"]
            assert body["error_code"] == code, where
            assert str(body["status"]) == status, where
            assert {"type", "title", "status", "detail", "error_code"} <= set(body), where
            assert f"`{code}`" in response["description"], where
            if status == "422":
                assert body["errors"], where
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"title", "status", "detail", "error_code"}
    # FastAPI's own validation body is never sent, so it is not described.
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_each_operation_lists_the_codes_it_can_meet(schema: dict[str, Any]) -> None:
    codes = {
        (operation_id, status): set(response["content"][PROBLEM]["examples"])
        for operation_id, status, response in error_responses(schema)
    }
    assert codes["login", "401"] == {"invalid_credentials"}
    assert codes["login", "429"] == {"rate_limited"}
    assert codes["refresh", "401"] == {"invalid_token", "token_revoked", "token_reused"}
    assert codes["create_book", "403"] == {"account_not_verified", "account_disabled"}
    assert codes["create_book", "401"] == {"not_authenticated", "invalid_token", "token_revoked"}
    assert codes["update_book", "403"] == {"account_not_verified", "account_disabled", "forbidden"}
    assert codes["update_book", "412"] == {"precondition_failed"}
    assert codes["create_review", "409"] == {"review_exists", "idempotency_key_in_use"}
    assert codes["create_review", "404"] == {"book_not_found"}
    assert codes["verify", "400"] == {"invalid_link", "bad_request"}
    assert codes["list_users", "403"] == {"account_disabled", "forbidden"}
    assert codes["read_book", "404"] == {"book_not_found"}
    # The framework's, where they apply: bodies, parameters, the database, anything.
    assert codes["signup", "409"] == {"email_taken", "username_taken", "idempotency_key_in_use"}
    assert "idempotency_key_reused" in codes["create_book", "422"]
    assert codes["signup", "413"] == {"payload_too_large"}
    assert codes["signup", "415"] == {"unsupported_media_type"}
    assert codes["list_books", "422"] == {"validation_error"}
    assert codes["read_book", "503"] == {"service_unavailable"}
    assert codes["healthz", "500"] == {"internal_error"}
    assert ("healthz", "503") not in codes


def _header_names(response: dict[str, Any]) -> set[str]:
    return set(response.get("headers", {}))


def test_response_headers_are_documented(schema: dict[str, Any]) -> None:
    headers = schema["components"]["headers"]
    for name in ("X-Request-ID", "Location", "ETag", "Retry-After", "WWW-Authenticate"):
        assert headers[name]["description"], name
        assert headers[name]["schema"], name
    by_id = {op["operationId"]: op["responses"] for _, _, op in operations(schema)}
    for operation_id, responses in by_id.items():
        for status, response in responses.items():
            names = _header_names(response)
            assert "X-Request-ID" in names, (operation_id, status)
            if status == "201":
                assert "Location" in names, operation_id
            if status in ("429", "503"):
                assert "Retry-After" in names, (operation_id, status)
            if status == "401":
                assert "WWW-Authenticate" in names, operation_id
    for operation_id, status in [
        ("read_book", "200"),
        ("read_book", "304"),
        ("create_book", "201"),
        ("update_book", "200"),
    ]:
        assert "ETag" in _header_names(by_id[operation_id][status]), (operation_id, status)
    reference = {"$ref": "#/components/headers/ETag"}
    assert by_id["read_book"]["200"]["headers"]["ETag"] == reference
    # A create that takes an Idempotency-Key says how its replay is told apart.
    for operation_id in ("signup", "create_book", "create_review", "create_tag"):
        assert "Idempotent-Replayed" in _header_names(by_id[operation_id]["201"]), operation_id
    assert "Idempotent-Replayed" in _header_names(by_id["request_password_reset"]["202"])
    assert "Idempotent-Replayed" not in _header_names(by_id["login"]["200"])


async def test_the_documented_headers_are_sent(harness: Harness) -> None:
    """What the document promises of a few answers, checked on the answers themselves."""
    missing = await harness.client.get("/api/v1/books/3f0c0b8e-2b4a-4a8e-9d7e-0c1f2a3b4c5d")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.headers["x-request-id"]
    anonymous = await harness.client.get("/api/v1/users/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
