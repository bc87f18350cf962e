"""The `bookly` command: serve, migrate, worker, create-admin, seed."""

import asyncio
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn
from alembic import command
from alembic.config import Config
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col

from bookly.auth.schemas import SignupIn
from bookly.core.config import get_settings
from bookly.core.logging import configure_logging, logging_config
from bookly.core.pooler import store_statement_timeout
from bookly.mail.worker import run_worker
from bookly.main import create_context
from bookly.models import Role, User
from bookly.seed import SEED_PASSWORD, Progress, SeedReport, seed_database

app = typer.Typer(help="Bookly, the book-review API.", no_args_is_help=True)

_ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(_ALEMBIC_INI))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    current: Annotated[
        bool, typer.Option("--current", help="Show the database's revision; change nothing.")
    ] = False,
    history: Annotated[
        bool, typer.Option("--history", help="List the migrations; change nothing.")
    ] = False,
) -> None:
    """Apply database migrations (to `DATABASE_URL`, default: SQLite under ./var/); with
    `DB_POOLER=transaction`, also store `DB_STATEMENT_TIMEOUT_MS` as the role's default there."""
    settings = get_settings()
    if settings.is_sqlite:
        Path("var").mkdir(exist_ok=True)
    config = alembic_config()
    if current:
        command.current(config, verbose=True)
    elif history:
        command.history(config, indicate_current=True)
    else:
        command.upgrade(config, revision)
        asyncio.run(store_statement_timeout(settings))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API (docs at /docs). Run `bookly migrate` first."""
    settings = get_settings()
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again "for the default
    # behaviour" (death by signal). A finished graceful shutdown is a clean exit: status 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "bookly.main:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
        log_level=settings.log_level.lower(),
        # JSON logs; Bookly writes its own access log (route templates, no query strings).
        log_config=logging_config(settings.log_level),
        access_log=False,
        # After SIGTERM: stop accepting, let in-flight requests finish (up to this), then the
        # lifespan closes the pool and Redis.
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
    )


@app.command()
def worker() -> None:
    """Send queued emails until stopped (SIGTERM or Ctrl-C). Where workers run, set
    OUTBOX_DRAIN_IN_PROCESS=false for the API processes."""
    settings = get_settings()
    configure_logging(settings.log_level)
    asyncio.run(run_worker(create_context(settings)))


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email address.")],
    username: Annotated[str, typer.Option(help="Used only when the account is new.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the new account's password from standard input (one line) instead of "
            "asking for it.",
        ),
    ] = False,
) -> None:
    """Create a verified admin account, or promote the existing account with this email.

    A new account's password is asked for on the terminal (hidden, twice), or read from standard
    input with `--password-stdin`; it never goes on the command line, where `ps` and shell
    history would show it."""
    typer.echo(asyncio.run(_create_admin(email, username, password_stdin)))


def _new_admin(email: str, username: str, password_stdin: bool) -> SignupIn:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise typer.BadParameter("no terminal to ask on: pipe the password with --password-stdin")
    try:
        return SignupIn(
            username=username,
            email=email,
            first_name="Admin",
            last_name=username,
            password=password,
        )
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise typer.BadParameter(problems) from error


async def _create_admin(email: str, username: str, password_stdin: bool) -> str:
    context = create_context(get_settings())
    try:
        async with context.sessionmaker.begin() as db:
            user = await db.scalar(select(User).where(col(User.email) == email.strip().lower()))
            if user is not None:
                user.role, user.is_verified = Role.ADMIN, True
                return f"Promoted {user.email} to admin."
            signup = _new_admin(email, username, password_stdin)
            now = context.clock()
            db.add(
                User(
                    username=signup.username,
                    email=signup.email.lower(),
                    first_name=signup.first_name,
                    last_name=signup.last_name,
                    password_hash=await context.passwords.hash(signup.password),
                    role=Role.ADMIN,
                    is_verified=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            return f"Created admin {signup.email.lower()}."
    finally:
        await context.engine.dispose()


@app.command()
def seed(
    users: Annotated[int, typer.Option(min=0, help="Accounts (verified) to create.")] = 100,
    books: Annotated[int, typer.Option(min=0, help="Books to create.")] = 1_000,
    reviews: Annotated[int, typer.Option(min=0, help="Reviews, spread over the books.")] = 5_000,
    random_seed: Annotated[int | None, typer.Option(help="Repeatable data.")] = None,
) -> None:
    """Fill the database with plausible users, books, tags and reviews (bulk loaded); shows a
    progress bar on a terminal, a line per step otherwise."""
    started = time.perf_counter()
    with _SeedProgress(books, started) as progress:
        try:
            report = asyncio.run(_seed(users, books, reviews, random_seed, progress))
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error
    typer.echo(
        f"Seeded {report.users} users, {report.books} books, {report.reviews} reviews "
        f"in {time.perf_counter() - started:.1f}s (connections closed, statistics included). "
        f"Seeded accounts' password: {SEED_PASSWORD}"
    )


class _SeedProgress:
    """The seed's steps as they finish: a bar over the books on a terminal, else a timed line."""

    def __init__(self, books: int, started: float):
        self._started = started
        self._bar = typer.progressbar(length=books, label="Books") if sys.stdout.isatty() else None
        self._shown = 0

    def __enter__(self) -> "_SeedProgress":
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)  # type: ignore[arg-type]

    def __call__(self, step: str, done: int, total: int) -> None:
        if self._bar is not None:
            if step == "books":
                self._bar.update(done - self._shown)
                self._shown = done
            return
        elapsed = time.perf_counter() - self._started
        typer.echo(f"{step}: {done}/{total} ({elapsed:.1f}s)")


async def _seed(
    users: int, books: int, reviews: int, random_seed: int | None, progress: Progress
) -> SeedReport:
    context = create_context(get_settings())
    try:
        return await seed_database(
            context,
            users=users,
            books=books,
            reviews=reviews,
            rng_seed=random_seed,
            progress=progress,
        )
    finally:
        await context.engine.dispose()
