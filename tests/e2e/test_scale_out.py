"""Two `bookly serve` processes over one PostgreSQL database and one Redis: revocations and
login-failure counts are shared, so it does not matter which process a request reaches; and
the outbox is shared too, so no email goes twice."""

import time

import httpx

from tests.conftest import postgres_only
from tests.factories import PASSWORD, signup_body
from tests.support.live import LiveServers
from tests.support.mail import SmtpServer, smtp
from tests.support.servers import wait_until_healthy

API = "/api/v1"


@postgres_only
def test_two_processes_share_revocations_and_login_failures(live_servers: LiveServers) -> None:
    env = {"RATE_LIMIT_LOGIN_ACCOUNT": "4/15minutes"}
    first = live_servers.start(env=env, wait=False)
    second = live_servers.start(env=env, wait=False)
    wait_until_healthy(first)
    wait_until_healthy(second)

    with (
        httpx.Client(base_url=first.url, timeout=10) as a,
        httpx.Client(base_url=second.url, timeout=10) as b,
    ):
        body = signup_body()
        assert a.post(f"{API}/auth/signup", json=body).status_code == 201
        credentials = {"email": body["email"], "password": PASSWORD}
        tokens = b.post(f"{API}/auth/login", json=credentials).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert a.get(f"{API}/users/me", headers=bearer).status_code == 200

        # Signed out through the second process: refused at the first at once.
        assert b.post(f"{API}/auth/logout", headers=bearer).status_code == 204
        refused = a.get(f"{API}/users/me", headers=bearer)
        assert refused.status_code == 401
        assert refused.json()["error_code"] == "token_revoked"
        replay = a.post(f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert replay.json()["error_code"] == "token_revoked"

        # Two failures at each process reach the limit of four, counted once for both.
        wrong = {"email": body["email"], "password": "wrong-password"}
        for client in (a, b, a, b):
            assert client.post(f"{API}/auth/login", json=wrong).status_code == 401
        for client in (a, b):
            locked = client.post(f"{API}/auth/login", json=credentials)
            assert locked.status_code == 429
            assert locked.json()["error_code"] == "rate_limited"


@postgres_only
def test_each_process_drains_the_outbox_and_no_email_goes_twice(
    live_servers: LiveServers, smtp: SmtpServer
) -> None:
    """Every API process runs its own dispatcher over the one outbox (the embedded default):
    thirty signups spread over two processes give thirty emails, each delivered once."""
    env = {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
        "MAIL_STARTTLS": "false",
        "OUTBOX_DRAIN_IN_PROCESS": "true",
        "OUTBOX_POLL_SECONDS": "0.1",
        "RATE_LIMIT_SIGNUP_IP": "1000/minute",
    }
    servers = [live_servers.start(env=env, wait=False) for _ in range(2)]
    for server in servers:
        wait_until_healthy(server)

    emails = []
    with (
        httpx.Client(base_url=servers[0].url, timeout=10) as a,
        httpx.Client(base_url=servers[1].url, timeout=10) as b,
    ):
        for n in range(30):
            body = signup_body()
            assert (a if n % 2 else b).post(f"{API}/auth/signup", json=body).status_code == 201
            emails.append(body["email"].lower())

    deadline = time.monotonic() + 60
    while len(smtp.received()) < len(emails) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # time enough for a duplicate to arrive, were there one
    received = smtp.received()
    assert sorted(message["To"] for message in received) == sorted(emails)
    assert len({message["Message-ID"] for message in received}) == len(emails)


__all__ = ["smtp"]
