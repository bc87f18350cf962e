"""Tags: the admin's list, and the tag sets of books."""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bookly.books import objects
from bookly.books.schemas import BookOut
from bookly.books.service import touch
from bookly.core.conflicts import unique_rules
from bookly.core.context import AppContext
from bookly.core.pagination import Page, PageParams
from bookly.core.reads import session_reader
from bookly.core.text import escape_like
from bookly.models import BookTag, Tag
from bookly.tags.errors import TagExists, TagNotFound, TooManyTags
from bookly.tags.schemas import TagOut, TagSort

MAX_TAGS_PER_BOOK = 20

_book_count = (
    select(func.count())
    .where(col(BookTag.tag_uid) == col(Tag.uid))
    .correlate(Tag)
    .scalar_subquery()
    .label("book_count")
)


async def replace_book_tags(
    context: AppContext, db: AsyncSession, book: BookOut, names: list[str]
) -> BookOut:
    tag_uids = await _ensure_tags(context, db, names)
    await db.execute(
        delete(BookTag).where(
            col(BookTag.book_uid) == book.uid, col(BookTag.tag_uid).not_in(tag_uids)
        )
    )
    await _link(db, book.uid, tag_uids)
    await touch(context, db, book.uid)
    return await objects.read_book(await session_reader(db), book.uid)


async def add_book_tags(
    context: AppContext, db: AsyncSession, book: BookOut, names: list[str]
) -> BookOut:
    await _link(db, book.uid, await _ensure_tags(context, db, names))
    count = await db.scalar(
        select(func.count()).select_from(BookTag).where(col(BookTag.book_uid) == book.uid)
    )
    if (count or 0) > MAX_TAGS_PER_BOOK:
        raise TooManyTags(f"A book carries at most {MAX_TAGS_PER_BOOK} tags.")
    await touch(context, db, book.uid)
    return await objects.read_book(await session_reader(db), book.uid)


async def remove_book_tag(context: AppContext, db: AsyncSession, book: BookOut, name: str) -> None:
    tag_uid = select(col(Tag.uid)).where(col(Tag.name) == name).scalar_subquery()
    removed = await db.execute(
        delete(BookTag).where(col(BookTag.book_uid) == book.uid, col(BookTag.tag_uid) == tag_uid)
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise TagNotFound(f"The book has no tag {name!r}.")
    await touch(context, db, book.uid)


async def _ensure_tags(
    context: AppContext, db: AsyncSession, names: Iterable[str]
) -> list[uuid.UUID]:
    """The uids of these tags, creating the missing ones (a concurrent creator is fine)."""
    wanted = sorted(set(names))
    if not wanted:
        return []
    await db.execute(
        _insert(db, Tag)
        .values(
            [{"uid": uuid.uuid4(), "name": name, "created_at": context.clock()} for name in wanted]
        )
        .on_conflict_do_nothing()
    )
    return list(await db.scalars(select(col(Tag.uid)).where(col(Tag.name).in_(wanted))))


async def _link(db: AsyncSession, book_uid: uuid.UUID, tag_uids: list[uuid.UUID]) -> None:
    if tag_uids:
        await db.execute(
            _insert(db, BookTag)
            .values([{"book_uid": book_uid, "tag_uid": tag_uid} for tag_uid in tag_uids])
            .on_conflict_do_nothing()
        )


def _insert(db: AsyncSession, model: type[Any]) -> Any:
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


async def get_tag(db: AsyncSession, tag_uid: uuid.UUID) -> TagOut:
    row = (await db.execute(select(Tag, _book_count).where(col(Tag.uid) == tag_uid))).first()
    if row is None:
        raise TagNotFound(f"No tag with uid {tag_uid}.")
    return _out(row.Tag, row.book_count)


async def create_tag(context: AppContext, db: AsyncSession, name: str) -> TagOut:
    tag = Tag(name=name, created_at=context.clock())
    db.add(tag)
    async with unique_rules({"name": TagExists(f"A tag named {name!r} already exists.")}):
        await db.flush()
    return _out(tag, 0)


async def rename_tag(db: AsyncSession, tag_uid: uuid.UUID, name: str) -> TagOut:
    tag = await db.get(Tag, tag_uid, with_for_update=True)
    if tag is None:
        raise TagNotFound(f"No tag with uid {tag_uid}.")
    tag.name = name
    db.add(tag)
    async with unique_rules({"name": TagExists(f"A tag named {name!r} already exists.")}):
        await db.flush()
    return await get_tag(db, tag_uid)


async def delete_tag(db: AsyncSession, tag_uid: uuid.UUID) -> None:
    # Its links to books go with it (ON DELETE CASCADE).
    deleted = await db.execute(delete(Tag).where(col(Tag.uid) == tag_uid))
    if not deleted.rowcount:  # type: ignore[attr-defined]
        raise TagNotFound(f"No tag with uid {tag_uid}.")


async def list_tags(
    context: AppContext, db: AsyncSession, page: PageParams, prefix: str | None, sort: TagSort
) -> Page[TagOut]:
    conditions: list[ColumnElement[bool]] = []
    if prefix:
        conditions.append(col(Tag.name).like(f"{escape_like(prefix)}%", escape="\\"))
    counted = select(Tag, _book_count).where(*conditions).subquery()
    tags = select(counted)
    scope = f"tags:{sort.value}"
    if sort is TagSort.NAME:
        order = [counted.c.name.asc()]
        if page.cursor:
            (name,) = context.cursors.decode(scope, page.cursor, (str,))
            tags = tags.where(counted.c.name > name)
    else:
        # Most used first, then by name (names are unique, so the order is total).
        order = [counted.c.book_count.desc(), counted.c.name.asc()]
        if page.cursor:
            count, name = context.cursors.decode(scope, page.cursor, (int, str))
            tags = tags.where(
                or_(
                    counted.c.book_count < count,
                    and_(counted.c.book_count == count, counted.c.name > name),
                )
            )
    rows = list((await db.execute(tags.order_by(*order).limit(page.limit + 1))).all())
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_cursor = None
    if has_more:
        last = rows[-1]
        key = [last.name] if sort is TagSort.NAME else [last.book_count, last.name]
        next_cursor = context.cursors.encode(scope, key)
    total = (
        await db.scalar(select(func.count()).select_from(Tag).where(*conditions))
        if page.include_total
        else None
    )
    items = [
        TagOut(uid=r.uid, name=r.name, book_count=r.book_count, created_at=r.created_at)
        for r in rows
    ]
    return Page(items=items, next_cursor=next_cursor, total=total)


def _out(tag: Tag, book_count: int) -> TagOut:
    return TagOut(uid=tag.uid, name=tag.name, book_count=book_count, created_at=tag.created_at)
