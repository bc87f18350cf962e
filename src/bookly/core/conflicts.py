"""A write that breaks a unique rule, answered as that rule's 409.

The database decides uniqueness (a check before the write would lose races), so the write itself
is wrapped: a unique violation becomes the `Conflict` of the rule it broke, never a 500. Both
backends name the column or index in the error (PostgreSQL: `unique constraint "ix_tags_name"`,
SQLite: `UNIQUE constraint failed: tags.name`), which is how the rule is told apart.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError

from bookly.core.errors import Conflict


@asynccontextmanager
async def unique_rules(rules: Mapping[str, Conflict]) -> AsyncIterator[None]:
    """Run the write in the block; a unique violation whose message names a key of `rules` (a
    column, say `isbn13`) raises that conflict, any other unique violation a generic 409.
    Integrity errors of other kinds (a foreign key) pass through for the caller to name."""
    try:
        yield
    except IntegrityError as error:
        message = str(error.orig).lower()
        if "unique" not in message:
            raise
        conflict = next(
            (conflict for name, conflict in rules.items() if name in message),
            Conflict("The change conflicts with existing data."),
        )
        raise conflict from error
