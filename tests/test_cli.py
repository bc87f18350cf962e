"""The `bookly` command, run as a real process against the test database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bookly.models import Role, User
from tests.conftest import Harness
from tests.factories import sign_up

BOOKLY = str(Path(sys.executable).with_name("bookly"))


def _bookly(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": ""}
    return subprocess.run(
        [BOOKLY, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


@pytest.mark.parametrize("command", ["serve", "migrate", "create-admin"])
def test_every_command_explains_itself(command: str) -> None:
    result = subprocess.run(
        [BOOKLY, command, "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0
    assert "Usage" in result.stdout
    assert len(result.stdout.splitlines()) > 4


async def _stored(harness: Harness, email: str) -> User | None:
    async with harness.context.sessionmaker() as db:
        return await db.scalar(select(User).where(User.email == email))  # type: ignore[arg-type]


async def test_create_admin_makes_a_verified_admin_who_can_log_in(
    harness: Harness, database_url: str
) -> None:
    result = _bookly(
        database_url, "create-admin", "--email", "Boss@Example.com", "--username", "boss",
        "--password-stdin", stdin="a-strong-admin-password\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    stored = await _stored(harness, "boss@example.com")
    assert stored is not None
    assert (stored.role, stored.is_verified) == (Role.ADMIN, True)
    login = await harness.client.post(
        "/api/v1/auth/login",
        json={"email": "boss@example.com", "password": "a-strong-admin-password"},
    )
    assert login.status_code == 200


async def test_create_admin_refuses_a_weak_password(harness: Harness, database_url: str) -> None:
    result = _bookly(
        database_url, "create-admin", "--email", "weak@example.com", "--username", "weak",
        "--password-stdin", stdin="short\n",
    )  # fmt: skip
    assert result.returncode != 0
    assert "password" in (result.stderr + result.stdout).lower()
    assert await _stored(harness, "weak@example.com") is None


async def test_create_admin_promotes_an_existing_account(
    harness: Harness, database_url: str
) -> None:
    account = await sign_up(harness.client)
    result = _bookly(
        database_url, "create-admin", "--email", account.email, "--username", "ignored",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Promoted" in result.stdout
    stored = await _stored(harness, account.email)
    assert stored is not None
    assert (stored.role, stored.username) == (Role.ADMIN, account.username)


async def test_create_admin_takes_no_password_on_the_command_line(
    harness: Harness, database_url: str
) -> None:
    on_the_line = _bookly(
        database_url, "create-admin", "--email", "a@example.com", "--username", "aa",
        "--password", "a-strong-admin-password",
    )  # fmt: skip
    assert on_the_line.returncode != 0
    assert "No such option" in on_the_line.stderr
    # Piped in without saying so: there is no terminal to ask on, so nothing is created.
    unasked = _bookly(
        database_url, "create-admin", "--email", "a@example.com", "--username", "aa",
        stdin="a-strong-admin-password\n",
    )  # fmt: skip
    assert unasked.returncode != 0
    assert "--password-stdin" in unasked.stderr
    assert await _stored(harness, "a@example.com") is None


def test_migrate_shows_the_current_revision_and_the_history(database_url: str) -> None:
    current = _bookly(database_url, "migrate", "--current")
    assert current.returncode == 0, current.stderr
    history = _bookly(database_url, "migrate", "--history")
    assert history.returncode == 0, history.stderr
    shown = current.stdout + current.stderr
    head = next(line for line in shown.splitlines() if line.startswith("Rev:"))
    assert "(head)" in head
    listed = history.stdout + history.stderr
    assert "(head)" in listed
    assert "(current)" in listed
    assert len([line for line in listed.splitlines() if " -> " in line]) >= 3


def test_make_run_installs_only_what_serving_needs() -> None:
    """`make run` syncs the runtime dependencies alone: no test or lint tool on a server."""
    root = Path(__file__).resolve().parents[1]
    planned = subprocess.run(
        ["make", "--always-make", "--dry-run", "run"],
        cwd=root, capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    syncs = [line for line in planned.splitlines() if " sync " in line]
    assert syncs, planned
    assert all("--no-dev" in line for line in syncs), syncs


def test_seed_reports_each_step_when_not_on_a_terminal(database_url: str) -> None:
    result = _bookly(database_url, "seed", "--users", "3", "--books", "7", "--reviews", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("users: 3/3 (")
    assert lines[1].startswith("books: 7/7 (")
    assert lines[-1].startswith("Seeded 3 users, 7 books, 5 reviews in ")
