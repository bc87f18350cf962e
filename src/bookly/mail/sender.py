"""Where composed emails go: an SMTP server (fastapi-mail), or `.eml` files for development."""

import logging
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import anyio
from aiosmtplib import SMTP
from fastapi_mail import ConnectionConfig
from fastapi_mail.connection import Connection

from bookly.core.config import Settings
from bookly.mail.messages import compose
from bookly.models import OutboxMessage

logger = logging.getLogger("bookly.mail")


class Delivery(Protocol):
    async def send(self, row: OutboxMessage) -> None:
        """Deliver the row's email or raise; the caller records the failure and retries."""


class Sender(Protocol):
    def connect(self) -> AbstractAsyncContextManager[Delivery]:
        """One connection for a batch of emails (SMTP login and TLS once, not per email)."""


def _connection_config(settings: Settings, server: str) -> ConnectionConfig:
    """fastapi-mail's settings, from Bookly's (given in full, so the environment adds nothing)."""
    return ConnectionConfig(
        MAIL_SERVER=server,
        MAIL_PORT=settings.mail_port,
        MAIL_USERNAME=settings.mail_username,
        MAIL_PASSWORD=settings.mail_password,
        MAIL_FROM=settings.mail_from,
        MAIL_FROM_NAME=settings.mail_from_name,
        MAIL_STARTTLS=settings.mail_starttls,
        MAIL_SSL_TLS=settings.mail_ssl_tls,
        USE_CREDENTIALS=bool(settings.mail_username),
        VALIDATE_CERTS=True,
        SUPPRESS_SEND=0,
        TIMEOUT=settings.mail_timeout_seconds,
        TEMPLATE_FOLDER=None,
    )


class SmtpSender:
    """Sends through MAIL_SERVER with fastapi-mail (STARTTLS/SSL and login as configured)."""

    def __init__(self, settings: Settings, server: str):
        self._settings = settings
        self._config = _connection_config(settings, server)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Delivery]:
        async with Connection(self._config) as connection:
            yield _SmtpDelivery(self._settings, connection.session)


class _SmtpDelivery:
    def __init__(self, settings: Settings, smtp: SMTP):
        self._settings = settings
        self._smtp = smtp

    async def send(self, row: OutboxMessage) -> None:
        await self._smtp.send_message(compose(self._settings, row))


class FileSender:
    """The embedded default: each email becomes an `.eml` file under MAIL_DIR, and a log line
    names it, so a developer can open the links without any mail server."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._directory = settings.mail_dir

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Delivery]:
        yield self

    async def send(self, row: OutboxMessage) -> None:
        message = compose(self._settings, row)
        path = await anyio.to_thread.run_sync(self._write, row, message)
        logger.info("Email %r to %s written to %s", message["Subject"], row.recipient, path)

    def _write(self, row: OutboxMessage, message: EmailMessage) -> Path:
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self._directory / f"{row.created_at:%Y%m%dT%H%M%S}-{row.template}-{row.id}.eml"
        # Write then rename: a reader never sees half a file, a retry simply replaces it.
        descriptor, partial = tempfile.mkstemp(dir=self._directory, suffix=".part")
        with os.fdopen(descriptor, "wb") as file:
            file.write(message.as_bytes())
        Path(partial).replace(path)
        return path.resolve()


def create_sender(settings: Settings) -> Sender:
    if settings.mail_server:
        return SmtpSender(settings, settings.mail_server)
    return FileSender(settings)
