"""Every `error_code` Bookly can answer is documented twice: in the API guide (docs/api-guide.md)
and in the OpenAPI document. The codes are collected from the code itself: each `AppError`
subclass anywhere in `bookly`, and each code the framework layer writes by hand (problems.py's
statuses, and every literal code passed to `problem_response`)."""

import ast
import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import bookly
from bookly.core import problems
from bookly.core.errors import AppError
from tests.conftest import Harness

SOURCE = Path(bookly.__file__).parent
GUIDE = Path(__file__).parents[2] / "docs" / "api-guide.md"
# The web site's own refusals answer its HTML pages, not the API.
NOT_THE_API = ("bookly.web",)


def _error_classes() -> set[type[AppError]]:
    for module in pkgutil.walk_packages(bookly.__path__, "bookly."):
        importlib.import_module(module.name)
    found: set[type[AppError]] = set()
    pending = [AppError]
    while pending:
        error = pending.pop()
        found.add(error)
        pending.extend(error.__subclasses__())
    return {error for error in found if not error.__module__.startswith(NOT_THE_API)}


def _literal_codes() -> set[str]:
    """Codes written as literals in `problem_response(status, "code", ...)` calls."""
    codes = set()
    for path in SOURCE.rglob("*.py"):
        if path.relative_to(SOURCE).parts[0] in {name.split(".")[1] for name in NOT_THE_API}:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "problem_response"
                and len(node.args) >= 2
            ):
                codes |= {
                    constant.value
                    for constant in ast.walk(node.args[1])
                    if isinstance(constant, ast.Constant) and isinstance(constant.value, str)
                }
    return codes


def raisable_codes() -> set[str]:
    return (
        {error.error_code for error in _error_classes()}
        | set(problems._CODES_BY_STATUS.values())
        | _literal_codes()
    )


def test_the_collection_finds_the_codes_of_every_layer() -> None:
    codes = raisable_codes()
    # A domain error, a core base, a framework status, and a middleware's own literal.
    assert {"book_not_found", "not_authenticated", "method_not_allowed", "bad_request"} <= codes
    assert "internal_error" in codes
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", code) for code in codes), codes


def test_every_code_is_in_the_guide() -> None:
    guide = GUIDE.read_text()
    listed = set(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", guide, flags=re.MULTILINE))
    missing = raisable_codes() - {code for code, _ in listed}
    assert not missing, f"docs/api-guide.md does not list {sorted(missing)}"
    statuses = {error.error_code: str(error.status_code) for error in _error_classes()}
    for code, status in listed:
        if code in statuses:
            assert statuses[code] == status, f"the guide gives {code} status {status}"


@pytest.fixture
async def schema(harness: Harness) -> dict[str, Any]:
    document: dict[str, Any] = (await harness.client.get("/api/v1/openapi.json")).json()
    return document


def _documented_codes(schema: dict[str, Any]) -> set[str]:
    """The codes of the error responses' examples, and those the `Problem` schema names as
    answers any request may get."""
    codes = set()
    for item in schema["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                media = response.get("content", {}).get("application/problem+json", {})
                codes |= set(media.get("examples", {}))
    described = schema["components"]["schemas"]["Problem"]["properties"]["error_code"]
    return codes | set(re.findall(r"`([a-z_]+)`", described["description"]))


async def test_every_code_is_in_the_openapi_document(schema: dict[str, Any]) -> None:
    missing = raisable_codes() - _documented_codes(schema)
    assert not missing, f"the OpenAPI document names no response carrying {sorted(missing)}"


async def test_the_document_names_no_code_that_does_not_exist(schema: dict[str, Any]) -> None:
    assert _documented_codes(schema) <= raisable_codes()
