"""Against a real `bookly serve`: client IP through trusted proxies, JSON logs with no secrets."""

import json

import httpx

from tests.factories import PASSWORD, signup_body
from tests.support.live import LiveServers
from tests.support.servers import wait_until_healthy

API = "/api/v1"


def _sign_up_and_log_in(
    client: httpx.Client, headers: dict[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    body = signup_body()
    assert client.post(f"{API}/auth/signup", json=body, headers=headers).status_code == 201
    login = client.post(
        f"{API}/auth/login", json={"email": body["email"], "password": PASSWORD}, headers=headers
    )
    assert login.status_code == 200, login.text
    return body, login.json()


def _session_ip(client: httpx.Client, access_token: str) -> str:
    sessions = client.get(
        f"{API}/auth/sessions", headers={"Authorization": f"Bearer {access_token}"}
    ).json()["items"]
    return str(sessions[0]["ip"])


def test_forwarded_for_is_read_only_from_trusted_proxies(live_servers: LiveServers) -> None:
    trusting = live_servers.start(env={"FORWARDED_ALLOW_IPS": "127.0.0.1"}, wait=False)
    distrusting = live_servers.start(env={"FORWARDED_ALLOW_IPS": "192.0.2.1"}, wait=False)
    wait_until_healthy(trusting)
    wait_until_healthy(distrusting)
    forwarded = {"X-Forwarded-For": "198.51.100.23"}

    with httpx.Client(base_url=trusting.url, timeout=10) as client:
        _, tokens = _sign_up_and_log_in(client, forwarded)
        assert _session_ip(client, tokens["access_token"]) == "198.51.100.23"
    with httpx.Client(base_url=distrusting.url, timeout=10) as client:
        _, tokens = _sign_up_and_log_in(client, forwarded)
        assert _session_ip(client, tokens["access_token"]) == "127.0.0.1"


def test_failed_logins_lock_the_forwarded_client_not_the_proxy(
    live_servers: LiveServers,
) -> None:
    server = live_servers.start(env={"RATE_LIMIT_LOGIN_IP": "3/15minutes"})
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for n in range(3):
            response = client.post(
                f"{API}/auth/login",
                json={"email": f"nobody{n}@example.com", "password": "wrong-password"},
                headers={"X-Forwarded-For": "198.51.100.1"},
            )
            assert response.status_code == 401
        locked = client.post(
            f"{API}/auth/login",
            json={"email": "nobody@example.com", "password": "wrong-password"},
            headers={"X-Forwarded-For": "198.51.100.1"},
        )
        other_client = client.post(
            f"{API}/auth/login",
            json={"email": "nobody@example.com", "password": "wrong-password"},
            headers={"X-Forwarded-For": "198.51.100.2"},
        )
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert other_client.status_code == 401


def test_logs_are_json_access_lines_without_secrets(live_servers: LiveServers) -> None:
    server = live_servers.start()
    link_token = "LinkTokenValue-0123456789"
    with httpx.Client(base_url=server.url, timeout=10) as client:
        body, tokens = _sign_up_and_log_in(client)
        refreshed = client.post(
            f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200
        wrong = client.post(
            f"{API}/auth/login", json={"email": body["email"], "password": "Wrong-Pass-Secret"}
        )
        assert wrong.status_code == 401
        client.get(f"/verify-email?token={link_token}", headers={"Cookie": "sid=CookieValue42"})
        me = client.get(
            f"{API}/users/me",
            headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
        )
        assert me.status_code == 200
    server.terminate()
    server.process.wait(timeout=15)

    log = server.log()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "bookly.access"]
    assert [line["route"] for line in access] == [
        "/healthz",
        f"{API}/auth/signup",
        f"{API}/auth/login",
        f"{API}/auth/refresh",
        f"{API}/auth/login",
        "/verify-email",
        f"{API}/users/me",
    ][-len(access) :]
    assert access[-1]["user_uid"] == me.json()["uid"]
    assert access[-1]["request_id"] == me.headers["x-request-id"]
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    for secret in (
        PASSWORD,
        "Wrong-Pass-Secret",
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed.json()["access_token"],
        refreshed.json()["refresh_token"],
        link_token,
        "CookieValue42",
    ):
        assert secret not in log
