"""A real SMTP server (aiosmtpd) in the test process, and helpers to read what it received.

The fixtures (`smtp`, `settings` that send through it, `dispatcher`) are imported by the conftest of
each folder whose tests send mail (tests/mail, tests/pages), or by a test module that needs them.
"""

import asyncio
import email
import re
import threading
from collections.abc import Iterator
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bookly.core.config import Settings
from bookly.core.context import AppContext
from bookly.mail.outbox import Dispatcher
from bookly.models import OutboxMessage
from tests.conftest import Harness
from tests.support.servers import free_port

_LINK = re.compile(r"(https?://\S+\?token=[A-Za-z0-9._\-%]+)")


class SmtpServer:
    """Collects every message it accepts; can be stopped and started again on the same port."""

    def __init__(self, port: int, **server_options: Any):
        self.port = port
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._options = server_options
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.original_content))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **self._options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self) -> list[Message]:
        with self._lock:
            return list(self.messages)

    async def wait_for(self, count: int, seconds: float = 20) -> list[Message]:
        """Wait until at least `count` messages arrived."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while len(self.received()) < count:
            if loop.time() > deadline:
                raise AssertionError(f"{len(self.received())} of {count} emails arrived")
            await asyncio.sleep(0.05)
        return self.received()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, smtp: SmtpServer) -> Settings:
    """The suite's settings, sending through the test's SMTP server."""
    return settings.model_copy(
        update={
            "mail_server": "127.0.0.1",
            "mail_port": smtp.port,
            "mail_starttls": False,
            "mail_timeout_seconds": 5,
            "public_base_url": "https://bookly.example.org",
        }
    )


@pytest.fixture
def dispatcher(harness: Harness) -> Dispatcher:
    return Dispatcher(harness.context)


async def drain(dispatcher: Dispatcher) -> None:
    """Dispatch until no message is due."""
    while await dispatcher.dispatch_batch():
        pass


def text_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")


def html_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/html part")


def link_in(message: Message) -> str:
    match = _LINK.search(text_part(message))
    assert match, text_part(message)
    return match.group(1)


def token_in_link(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def messages_to(smtp: SmtpServer, recipient: str) -> list[Message]:
    return [m for m in smtp.received() if m["To"] == recipient]


async def outbox_rows(context: AppContext) -> list[OutboxMessage]:
    async with context.sessionmaker() as db:
        rows = await db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))  # type: ignore[arg-type]
        return list(rows.all())
