"""The baseline (bench/baseline.py) answers with the same JSON as Bookly from its own SQL (but for
search, S3, which runs Bookly's compiled statements), so it keeps copies of Bookly's field lists:
importing them would tie a minimal Starlette + asyncpg app to Bookly's machinery. These tests fail
as soon as a copy and its original differ."""

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from bookly.auth.schemas import UserOut
from bookly.books import objects
from bookly.books.schemas import BookOut

BASELINE = Path(__file__).resolve().parents[2] / "bench" / "baseline.py"


@pytest.fixture
def baseline(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # It reads its secret at import, as the server it is; nothing else is needed to load it.
    monkeypatch.setenv("JWT_SECRET", "baseline-fields-test")
    spec = importlib.util.spec_from_file_location("bench_baseline", BASELINE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def book_columns(baseline: ModuleType) -> list[str]:
    """The books table's columns the baseline's book statement selects, in order (those before
    the owner's)."""
    books_part = baseline.BOOK_COLUMNS.split("o.uid")[0]
    return re.findall(r"\bb\.(\w+)", books_part)


def test_the_baseline_selects_bookly_s_book_columns_in_order(baseline: ModuleType) -> None:
    assert book_columns(baseline) == list(objects._BOOK_FIELDS)


def test_the_baseline_builds_the_book_object_bookly_answers(baseline: ModuleType) -> None:
    # A row with every column the baseline's statement selects, and nothing else.
    aliases = re.findall(r"\bAS (\w+)", baseline.BOOK_COLUMNS)
    row = dict.fromkeys([*book_columns(baseline), *aliases])
    row.update(rating_sum=0, rating_count=0)
    assert list(baseline.book_body(row, [])) == list(BookOut.model_fields)


def test_the_baseline_s_user_fields_are_bookly_s(baseline: ModuleType) -> None:
    assert list(baseline.USER_FIELDS) == list(UserOut.model_fields)
