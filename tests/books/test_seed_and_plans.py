"""`bookly seed` loads consistent data; deep keyset pages are index scans, not sorts."""

import pytest
from sqlalchemy import func, select, text

from bookly.models import Book, Review, User
from bookly.seed import SEED_PASSWORD, seed_database
from tests.conftest import BACKEND, Harness
from tests.factories import Account, log_in
from tests.support.catalogue import all_pages
from tests.support.reads import RecordingReader, plan_nodes


async def test_seed_loads_consistent_summaries_and_searchable_books(harness: Harness) -> None:
    for _ in range(2):  # a second run must not collide with the first (names, ISBNs)
        report = await seed_database(harness.context, users=6, books=40, reviews=150, rng_seed=5)
        assert (report.users, report.books, report.reviews) == (6, 40, 150)
    async with harness.context.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Book)) == 80
        assert await db.scalar(select(func.count()).select_from(Review)) == 300
        per_book = (
            select(
                Review.book_uid,
                func.count().label("count"),
                func.sum(Review.rating).label("total"),
            )
            .group_by(Review.book_uid)
            .subquery()
        )
        books = (
            await db.execute(
                select(Book, per_book.c.count, per_book.c.total).outerjoin(
                    per_book, per_book.c.book_uid == Book.uid
                )
            )
        ).all()
        for book, count, total in books:
            assert (book.rating_count, book.rating_sum) == (count or 0, total or 0)
            expected = total / count if count else 0.0
            assert book.rating_avg == pytest.approx(expected)
        some_user = await db.scalar(select(User).limit(1))
    assert some_user is not None
    await log_in(
        harness.client,
        Account(uid=some_user.uid, email=some_user.email, username="", password=SEED_PASSWORD),
    )

    seeded = books[0][0]
    word = max(seeded.title.split(), key=len)
    found = await all_pages(harness.client, "/api/v1/books/", q=word, limit=100)
    assert str(seeded.uid) in {b["uid"] for b in found}
    shown = (await harness.client.get(f"/api/v1/books/{seeded.uid}")).json()
    assert shown["rating"]["count"] == seeded.rating_count
    assert 1 <= len(shown["tags"]) <= 3


async def test_seeded_books_are_stored_in_the_order_they_were_created(harness: Harness) -> None:
    # As in a catalogue that grew: walking the creation-time index reads the table in order.
    await seed_database(harness.context, users=3, books=200, reviews=0, rng_seed=4)
    async with harness.context.engine.connect() as connection:
        if BACKEND == "postgres":  # COPY fills pages almost, not exactly, in order
            correlation = (
                await connection.execute(
                    text(
                        "SELECT correlation FROM pg_stats"
                        " WHERE tablename = 'books' AND attname = 'created_at'"
                    )
                )
            ).scalar_one()
            assert correlation > 0.99
        else:
            created = (
                (await connection.execute(text("SELECT created_at FROM books ORDER BY rowid")))
                .scalars()
                .all()
            )
            assert len(created) == 200
            assert created == sorted(created)


async def test_seed_refuses_impossible_review_counts(harness: Harness) -> None:
    with pytest.raises(ValueError, match="at most one per user and book"):
        await seed_database(harness.context, users=2, books=3, reviews=7)


@pytest.mark.skipif(BACKEND != "postgres", reason="query plans are checked on PostgreSQL")
@pytest.mark.parametrize(
    ("sort", "key"),
    [("-created_at", "created_at"), ("created_at", "created_at"), ("title", "title"),
     ("-rating", "rating_avg"), ("published_date", "published_date"),
     ("-published_date", "published_date")],
)  # fmt: skip
async def test_a_deep_page_is_an_index_scan_without_a_sort(
    harness: Harness, sort: str, key: str
) -> None:
    await seed_database(harness.context, users=20, books=6000, reviews=0, rng_seed=9)
    async with harness.context.engine.begin() as connection:
        await connection.execute(text("ANALYZE books"))
        deep = (
            await connection.execute(
                text(f"SELECT {key}, uid FROM books ORDER BY {key}, uid OFFSET 3000 LIMIT 1")  # noqa: S608
            )
        ).one()
    cursor = harness.context.cursors.encode(f"books:{sort}", [deep[0], deep[1]])

    recorder = RecordingReader(harness.context.reader)
    harness.context.reader = recorder
    page = await harness.client.get("/api/v1/books/", params={"sort": sort, "cursor": cursor})
    assert page.status_code == 200
    assert len(page.json()["items"]) == 20

    (query, parameters), *_ = recorder.reads
    settings, dialect = harness.context.settings, harness.context.engine.dialect
    nodes = await plan_nodes(settings.database_url, dialect, query, parameters)
    node_types = [node["Node Type"] for node in nodes]
    assert "Sort" not in node_types, node_types
    assert any(
        node["Node Type"].startswith("Index") and node.get("Index Name", "").startswith("ix_books_")
        for node in nodes
    ), node_types
