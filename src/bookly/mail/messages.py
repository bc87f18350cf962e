"""What each email says: a subject and a Jinja2 HTML part and plain-text part per template."""

from email.message import Message
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from fastapi_mail import ConnectionConfig, FastMail, MessageSchema, MessageType
from fastapi_mail.schemas import MultipartSubtypeEnum
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import NameEmail

from bookly.core.config import Settings
from bookly.models import OutboxMessage

_TEMPLATES = Path(__file__).parent / "templates"
# HTML parts are escaped; plain-text parts must not be (a name like O'Brien stays as written).
_jinja = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)


class MailTemplate(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a template name)

    @property
    def subject(self) -> str:
        return _SUBJECTS[self]


_SUBJECTS = {
    MailTemplate.VERIFY_EMAIL: "Confirm your email address for Bookly",
    MailTemplate.RESET_PASSWORD: "Reset your Bookly password",
}


def connection_config(settings: Settings) -> ConnectionConfig:
    """fastapi-mail's settings, from Bookly's (given in full, so the environment adds nothing)."""
    return ConnectionConfig(
        MAIL_SERVER=settings.mail_server or "localhost",
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


async def compose(config: ConnectionConfig, row: OutboxMessage) -> Message:
    """The MIME message for an outbox row: text and HTML alternatives, the row's Message-ID."""
    template = MailTemplate(row.template)
    variables: dict[str, Any] = {**row.payload, "subject": template.subject}
    schema = MessageSchema(
        # As a bare address (fastapi-mail would show the local part as a display name).
        recipients=[NameEmail(name=row.recipient, email=row.recipient)],
        subject=template.subject,
        # Plain text first, HTML last: mail clients show the last alternative they can.
        body=_jinja.get_template(f"{template}.txt").render(variables),
        alternative_body=_jinja.get_template(f"{template}.html").render(variables),
        subtype=MessageType.plain,
        multipart_subtype=MultipartSubtypeEnum.alternative,
    )
    # One schema in, one message out.
    message = cast(Message, await FastMail(config).get_message(schema))
    del message["Message-ID"]
    message["Message-ID"] = row.message_id
    return message
