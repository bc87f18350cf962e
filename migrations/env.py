"""Alembic environment: async engines, the URL from Bookly's settings, batch mode for SQLite."""

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import bookly.models  # noqa: F401  (registers every table on the metadata)
from bookly.core.config import get_settings
from bookly.core.db import UTCDateTime, create_engine
from bookly.models.book import SQLITE_SEARCH_TABLE

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _render_plain_types(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write migrations with SQLAlchemy's own types, not Bookly's or SQLModel's wrappers."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})"
    return False


def _skips_postgresql_only(connection: Connection) -> Any:
    """Objects marked `info={"postgresql_only": True}` (full-text search) exist only there;
    SQLite's FTS5 search table (and the tables it keeps itself) only there, made by hand."""

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, _: Any) -> bool:
        if connection.dialect.name == "postgresql":
            return True
        if reflected and type_ == "table" and (name or "").startswith(SQLITE_SEARCH_TABLE):
            return False
        return not getattr(obj, "info", {}).get("postgresql_only", False)

    return include_object


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_plain_types,
        include_object=_skips_postgresql_only(connection),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = config.attributes.get("database_url") or get_settings().database_url
    engine = create_engine(get_settings().model_copy(update={"database_url": url}))
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Bookly's migrations run online only: `bookly migrate`.")
asyncio.run(_run_online())
