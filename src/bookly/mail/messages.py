"""What each email says: a subject and Jinja2 plain-text and HTML parts per template."""

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from enum import StrEnum
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

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


def compose(settings: Settings, row: OutboxMessage) -> EmailMessage:
    """The MIME message for an outbox row: text and HTML alternatives, the row's Message-ID."""
    template = MailTemplate(row.template)
    variables: dict[str, Any] = {**row.payload, "subject": template.subject}
    message = EmailMessage()
    message["Subject"] = template.subject
    message["From"] = Address(settings.mail_from_name, addr_spec=settings.mail_from)
    message["To"] = row.recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = row.message_id
    # Plain text first, HTML last: mail clients show the last alternative they can.
    message.set_content(_jinja.get_template(f"{template}.txt").render(variables))
    message.add_alternative(
        _jinja.get_template(f"{template}.html").render(variables), subtype="html"
    )
    return message
