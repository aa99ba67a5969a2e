"""Sending an email: by SMTP when SMTP_URL is set, else written to the log (development)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from marketplace.events.dispatch import Mailer

log = logging.getLogger("marketplace.notifications")
SMTP_TIMEOUT = 15


@dataclass(frozen=True)
class SmtpMailer:
    """`smtp://user:password@host:587` (STARTTLS when the server offers it), `smtps://` for TLS
    from the start; without a port 25 or 465."""

    url: str
    sender: str

    def send(self, recipient: str, subject: str, text: str) -> None:
        parts = urlsplit(self.url)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(text)
        host = parts.hostname or "127.0.0.1"
        client: smtplib.SMTP
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(host, parts.port or 465, timeout=SMTP_TIMEOUT)
        else:
            client = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT)
        with client:
            client.ehlo()
            if parts.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls()
                client.ehlo()
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)


@dataclass(frozen=True)
class LogMailer:
    """Development: the email is printed to the log instead of sent."""

    def send(self, recipient: str, subject: str, text: str) -> None:
        log.info("email to %s: %s\n%s", recipient, subject, text)


def build_mailer(smtp_url: str, sender: str) -> Mailer:
    return SmtpMailer(smtp_url, sender) if smtp_url else LogMailer()
