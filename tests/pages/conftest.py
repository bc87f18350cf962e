"""Every test here sends through a real SMTP server in the test process."""

from tests.support.mail import dispatcher, settings, smtp

__all__ = ["dispatcher", "settings", "smtp"]
