"""Schemathesis (examples, coverage, fuzzing and stateful phases, every check) against a live
`bookly serve` on PostgreSQL + Redis, in two runs: every operation but the admin-only ones signed
in as two verified readers (an operation one is refused is tried as the other), and the admin-only
ones (users, the review list, tags) signed in as an admin from their first request.
schemathesis.toml fails a run in which an operation answers nothing but 401/403, so an admin-only
operation missing from ADMIN_ONLY fails the readers' run.

Each run is bounded by a fixed seed and example count so it ends in a few minutes; the reports
(JUnit XML, and the output) stay under the test run's artifacts directory.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bookly.models import Role
from tests.conftest import BACKEND, Harness
from tests.factories import PASSWORD, set_flags, sign_up
from tests.support.live import LiveServers

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="runs in the PostgreSQL pass")

SCHEMATHESIS = str(Path(sys.executable).with_name("st"))
SEED = "20261129"
MAX_EXAMPLES = "25"
# Fuzzed logins and signups all come from 127.0.0.1: with the real limits the users' own
# sign-ins would soon be refused (429, documented and tested in tests/security).
LIMITS = ("LOGIN_ACCOUNT", "LOGIN_IP", "SIGNUP_IP", "EMAIL_TARGET", "EMAIL_IP")
GENEROUS_LIMITS = {f"RATE_LIMIT_{name}": "100000/minute" for name in LIMITS}
ADMIN_ONLY = (
    "GET /api/v1/users",
    "PATCH /api/v1/users/{uid}",
    "GET /api/v1/reviews",
    "POST /api/v1/tags",
    "PATCH /api/v1/tags/{uid}",
    "DELETE /api/v1/tags/{uid}",
)


@dataclass(frozen=True)
class Audience:
    """Who a run signs in as (in the order they are tried) and which operations it tests."""

    name: str
    identities: dict[str, Role]
    filter_option: str  # --include-name or --exclude-name, for each of ADMIN_ONLY


READERS = Audience("readers", {"reader1": Role.USER, "reader2": Role.USER}, "--exclude-name")
ADMIN = Audience("admin", {"admin": Role.ADMIN}, "--include-name")


def _wfc_auth_file(path: Path, emails: dict[str, str]) -> Path:
    """Web Fuzzing Commons auth: how to sign each user in (by name), in the order Schemathesis
    tries them on an operation that refuses one (403); it signs in again on 401 (a fuzzed logout
    or session deletion ends the session it was using)."""
    login = {
        "endpoint": "/api/v1/auth/login",
        "verb": "POST",
        "contentType": "application/json",
        "token": {
            "extractFrom": "body",
            "extractSelector": "/access_token",
            "sendIn": "header",
            "sendName": "Authorization",
            "sendTemplate": "Bearer {token}",
        },
    }
    document = {
        "auth": [
            {
                "name": name,
                "loginEndpointAuth": {
                    **login,
                    "payloadUserPwd": {
                        "username": email,
                        "usernameField": "email",
                        "password": PASSWORD,
                        "passwordField": "password",
                    },
                },
            }
            for name, email in emails.items()
        ]
    }
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize("audience", [READERS, ADMIN], ids=lambda audience: audience.name)
async def test_schemathesis_finds_nothing(
    audience: Audience,
    harness: Harness,
    live_servers: LiveServers,
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    emails = {}
    for name, role in audience.identities.items():
        account = await sign_up(harness.client)
        await set_flags(harness.context, account, is_verified=True, role=role)
        emails[name] = account.email
    bystander = await sign_up(harness.client)  # the account the admin's user changes change
    server = live_servers.start(env=GENEROUS_LIMITS)
    auth_file = _wfc_auth_file(tmp_path / "auth.json", emails)

    report_dir = artifacts_dir / "schemathesis" / audience.name
    environment = {**os.environ, "BOOKLY_BYSTANDER_UID": str(bystander.uid)}
    result = _run_schemathesis(server.url, audience, auth_file, report_dir, tmp_path, environment)
    (report_dir / "output.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-20000:]


def _run_schemathesis(
    url: str,
    audience: Audience,
    auth_file: Path,
    report_dir: Path,
    workdir: Path,
    env: dict[str, str],
) -> subprocess.CompletedProcess[str]:
    arguments = {
        "--phases": "examples,coverage,fuzzing,stateful",
        "--seed": SEED,
        "--max-examples": MAX_EXAMPLES,
        "--auth-wfc": str(auth_file),
        "--request-timeout": "20",
        "--report": "junit",
        "--report-dir": str(report_dir),
    }
    config = Path(__file__).with_name("schemathesis.toml")
    command = [SCHEMATHESIS, "--config-file", str(config), "run", f"{url}/api/v1/openapi.json"]
    command.append("--no-color")
    for option, value in arguments.items():
        command += [option, value]
    for operation in ADMIN_ONLY:
        command += [audience.filter_option, operation]
    report_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        command, capture_output=True, text=True, timeout=900, cwd=workdir, env=env, check=False
    )
