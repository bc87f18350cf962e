"""The transactional outbox: queued with the change, sent through real SMTP, retried, dead."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from sqlalchemy import delete, func, select

from bookly.core.config import Settings
from bookly.core.context import AppContext
from bookly.mail.messages import MailTemplate
from bookly.mail.outbox import Dispatcher, enqueue
from bookly.main import create_app
from bookly.models import OutboxMessage, OutboxStatus, User
from tests.conftest import Harness
from tests.factories import sign_up, signup_body
from tests.support.mail import (
    SmtpServer,
    drain,
    html_part,
    link_in,
    messages_to,
    outbox_rows,
    text_part,
)
from tests.support.servers import free_port


async def _count(context: AppContext) -> int:
    async with context.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_signup_queues_one_email_that_smtp_receives_with_its_message_id(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    account = await sign_up(harness.client, first_name="Zoë", last_name="O'Brien")
    [row] = await outbox_rows(harness.context)
    assert (row.template, row.recipient, row.status) == ("verify_email", account.email, "queued")
    assert smtp.received() == []  # nothing is sent in the request

    await drain(dispatcher)

    [message] = await smtp.wait_for(1)
    assert message["Message-ID"] == row.message_id
    assert message["To"] == account.email
    assert message["Subject"] == "Confirm your email address for Bookly"
    assert "Zoë" in text_part(message)
    assert link_in(message).startswith("https://bookly.example.org/verify-email?token=")
    assert link_in(message) in html_part(message)
    # Plain text first, HTML last: clients show the richest part they understand.
    types = [part.get_content_type() for part in message.walk()]
    assert types.index("text/plain") < types.index("text/html")
    [row] = await outbox_rows(harness.context)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None


async def test_links_come_from_public_base_url_never_from_the_host_header(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    response = await harness.client.post(
        "/api/v1/auth/signup",
        json=signup_body(),
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 201
    await drain(dispatcher)
    [message] = await smtp.wait_for(1)
    assert "evil.example" not in message.as_string()
    assert link_in(message).startswith("https://bookly.example.org/")


async def test_by_default_the_api_process_sends_its_own_emails(
    settings: Settings, smtp: SmtpServer
) -> None:
    app = create_app(
        settings.model_copy(update={"outbox_drain_in_process": True, "outbox_poll_seconds": 0.05})
    )
    async with app.router.lifespan_context(app):
        context: AppContext = app.state.context
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bookly.test") as c:
                body = signup_body()
                assert (await c.post("/api/v1/auth/signup", json=body)).status_code == 201
                [message] = await smtp.wait_for(1)
                assert message["To"] == body["email"].lower()
            # The dispatcher records the delivery just after the server has the message.
            for _ in range(200):
                [row] = await outbox_rows(context)
                if row.status == "sent":
                    break
                await asyncio.sleep(0.05)
            assert row.status == "sent"
        finally:
            async with context.engine.begin() as connection:
                await connection.execute(delete(OutboxMessage))
                await connection.execute(delete(User))


async def test_a_change_that_rolls_back_leaves_no_email_and_a_commit_always_has_one(
    harness: Harness,
) -> None:
    context = harness.context
    async with context.sessionmaker() as db:
        enqueue(context, db, MailTemplate.VERIFY_EMAIL, "a@example.com", {"link": "x"})
        await db.flush()  # the row reached the database inside the transaction...
        assert await db.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        await db.rollback()
    assert await _count(context) == 0  # ...and left with it

    async with context.sessionmaker.begin() as db:
        enqueue(context, db, MailTemplate.VERIFY_EMAIL, "a@example.com", {"link": "x"})
    assert await _count(context) == 1


async def test_signups_refused_by_the_database_queue_nothing(harness: Harness) -> None:
    # Racing signups for one username: the losers reach the unique index after queueing their
    # email, and roll back with it.
    bodies = [signup_body(username="same_name") for _ in range(5)]
    responses = await asyncio.gather(
        *(harness.client.post("/api/v1/auth/signup", json=body) for body in bodies)
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 409, 409, 409, 409]
    [row] = await outbox_rows(harness.context)
    [winner] = [r for r in responses if r.status_code == 201]
    assert row.recipient == winner.json()["email"]


async def test_smtp_down_signup_still_succeeds_and_the_email_arrives_once_it_is_back(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    smtp.stop()
    account = await sign_up(harness.client)  # 201: the request never talks to SMTP

    await drain(dispatcher)
    [row] = await outbox_rows(harness.context)
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error
    assert "ConnectionErrors" in row.last_error
    base = harness.context.settings.outbox_retry_base_seconds
    assert row.next_attempt_at == harness.clock() + timedelta(seconds=base)

    smtp.start()
    await drain(dispatcher)  # not due yet: backing off
    assert smtp.received() == []

    harness.clock.advance(seconds=base)
    await drain(dispatcher)
    [message] = await smtp.wait_for(1)
    assert message["To"] == account.email
    await drain(dispatcher)
    assert len(messages_to(smtp, account.email)) == 1
    [row] = await outbox_rows(harness.context)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_retries_back_off_exponentially_then_the_message_is_dead_with_its_error(
    harness: Harness, smtp: SmtpServer
) -> None:
    smtp.stop()
    context = harness.context
    context.settings = context.settings.model_copy(
        update={"outbox_max_attempts": 4, "outbox_retry_base_seconds": 10}
    )
    dispatcher = Dispatcher(context)
    await sign_up(harness.client)

    delays = []
    for _ in range(3):
        await drain(dispatcher)
        [row] = await outbox_rows(context)
        delay = (row.next_attempt_at - harness.clock()).total_seconds()
        delays.append(delay)
        harness.clock.advance(seconds=delay)
    assert delays == [10, 20, 40]

    await drain(dispatcher)  # the fourth and last attempt
    [row] = await outbox_rows(context)
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 4)
    assert row.last_error

    assert "connect call failed" in row.last_error.lower()

    smtp.start()
    harness.clock.advance(days=1)
    await drain(dispatcher)
    assert smtp.received() == []  # dead stays dead


async def test_a_stopping_dispatcher_gives_back_the_messages_it_did_not_try(
    harness: Harness, smtp: SmtpServer
) -> None:
    context = harness.context
    async with context.sessionmaker.begin() as db:
        for n in range(3):
            enqueue(context, db, MailTemplate.VERIFY_EMAIL, f"r{n}@example.com", _payload())
    stop = asyncio.Event()
    stop.set()
    assert await Dispatcher(context).dispatch_batch(stop) == 3
    rows = await outbox_rows(context)
    assert [(r.status, r.attempts) for r in rows] == [("queued", 0)] * 3
    assert all(r.next_attempt_at <= harness.clock() for r in rows)
    assert smtp.received() == []


class _DiesWhileSending:
    """Stands in for a dispatcher process that dies mid-send (SMTP is not what is replaced)."""

    @asynccontextmanager
    async def connect(self) -> AsyncIterator["_DiesWhileSending"]:
        yield self

    async def send(self, row: OutboxMessage) -> None:
        raise SystemExit("killed")


async def test_emails_claimed_by_a_dispatcher_that_died_are_sent_once_the_claim_expires(
    harness: Harness, smtp: SmtpServer
) -> None:
    context = harness.context
    account = await sign_up(harness.client)
    with pytest.raises(SystemExit):
        await drain(Dispatcher(context, sender=_DiesWhileSending()))
    survivor = Dispatcher(context)
    await drain(survivor)
    assert smtp.received() == []  # still claimed by the dead one

    settings = context.settings
    lease = settings.mail_timeout_seconds * 6 * settings.outbox_batch_size
    harness.clock.advance(seconds=lease)
    await drain(survivor)
    [message] = await smtp.wait_for(1)
    assert message["To"] == account.email
    [row] = await outbox_rows(context)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_without_mail_server_emails_are_written_as_eml_files_and_logged(
    harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    context = harness.context
    context.settings = context.settings.model_copy(
        update={"mail_server": None, "mail_dir": tmp_path / "mail"}
    )
    account = await sign_up(harness.client)
    with caplog.at_level(logging.INFO, logger="bookly.mail"):
        await drain(Dispatcher(context))

    [path] = (tmp_path / "mail").glob("*.eml")
    assert str(path) in caplog.text
    message = message_from_bytes(path.read_bytes())
    [row] = await outbox_rows(context)
    assert message["Message-ID"] == row.message_id
    assert message["To"] == account.email
    assert message["From"] == "Bookly <bookly@example.com>"
    assert link_in(message).startswith("https://bookly.example.org/verify-email?token=")
    assert row.status == "sent"


# The test server takes a password without TLS (it has no certificate); aiosmtpd warns.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_mail_from_and_credentials_are_honoured(harness: Harness) -> None:
    accepted = {"username": b"mailer", "password": b"s3cret-pass"}

    def authenticate(*args: Any) -> AuthResult:
        auth_data = args[-1]
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login,
            auth_data.password,
        ) == (accepted["username"], accepted["password"])
        return AuthResult(success=ok)

    server = SmtpServer(
        free_port(), authenticator=authenticate, auth_required=True, auth_require_tls=False
    )
    server.start()
    try:
        context = harness.context
        base = context.settings.model_copy(
            update={
                "mail_port": server.port,
                "mail_from": "accounts@books.example.net",
                "mail_from_name": "Bookly Accounts",
                "mail_timeout_seconds": 2,
            }
        )
        context.settings = base
        await sign_up(harness.client)

        context.settings = base.model_copy(
            update={"mail_username": "mailer", "mail_password": SecretStr("wrong")}
        )
        await drain(Dispatcher(context))
        [row] = await outbox_rows(context)
        assert row.status == "queued"
        assert row.last_error
        assert server.received() == []

        context.settings = base.model_copy(
            update={"mail_username": "mailer", "mail_password": SecretStr("s3cret-pass")}
        )
        harness.clock.advance(hours=1)
        await drain(Dispatcher(context))
        [message] = await server.wait_for(1)
        assert message["From"] == "Bookly Accounts <accounts@books.example.net>"
        assert message["Message-ID"].endswith("@books.example.net>")
        assert server.envelopes[0][0] == "accounts@books.example.net"
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("option", "expected"),
    [("mail_starttls", "STARTTLS"), ("mail_ssl_tls", "SSL")],
)
async def test_tls_settings_are_honoured(
    harness: Harness, smtp: SmtpServer, option: str, expected: str
) -> None:
    # The test server speaks neither STARTTLS nor implicit TLS: asking for either must fail
    # (proving the setting is used), where plain SMTP succeeds (the other tests).
    context = harness.context
    context.settings = context.settings.model_copy(
        update={"mail_starttls": False, "mail_ssl_tls": False, option: True}
    )
    await sign_up(harness.client)
    await drain(Dispatcher(context))
    [row] = await outbox_rows(context)
    assert row.status == "queued"
    assert row.last_error
    assert expected in row.last_error.upper()
    assert smtp.received() == []


def _payload() -> dict[str, str]:
    return {"first_name": "Ada", "link": "https://bookly.example.org/x", "valid_for": "1 hour"}


async def test_a_sent_email_keeps_no_link_in_the_database(
    harness: Harness, smtp: SmtpServer, dispatcher: Dispatcher
) -> None:
    await sign_up(harness.client)
    [queued] = await outbox_rows(harness.context)
    assert "link" in queued.payload
    await drain(dispatcher)
    [sent] = await outbox_rows(harness.context)
    assert sent.status == "sent"
    assert sent.payload == {}
    assert len(smtp.received()) == 1
