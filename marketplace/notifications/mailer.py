"""Sending an email: by SMTP when SMTP_URL is set, else written to the log (development)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from marketplace.events.dispatch import Mailer, OutgoingEmail

log = logging.getLogger("marketplace.notifications")
SMTP_TIMEOUT = 15


@dataclass(frozen=True)
class SmtpMailer:
    """`smtp://user:password@host:587` (STARTTLS when the server offers it), `smtps://` for TLS
    from the start; without a port 25 or 465. A batch of emails shares one connection."""

    url: str
    sender: str

    def send(self, emails: Sequence[OutgoingEmail]) -> list[str | None]:
        errors: list[str | None] = []
        try:
            with self._connect() as client:
                for email in emails:
                    try:
                        client.send_message(self._message(email))
                        errors.append(None)
                    except smtplib.SMTPRecipientsRefused as exc:  # this one; the next may go
                        errors.append(_error(exc))
        except OSError as exc:  # smtplib's errors are OSErrors too: the rest of the batch failed
            errors += [_error(exc)] * (len(emails) - len(errors))
        return errors

    def _connect(self) -> smtplib.SMTP:
        parts = urlsplit(self.url)
        host = parts.hostname or "127.0.0.1"
        client: smtplib.SMTP
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(host, parts.port or 465, timeout=SMTP_TIMEOUT)
        else:
            client = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT)
        try:
            client.ehlo()
            if parts.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls()
                client.ehlo()
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
        except BaseException:
            client.close()
            raise
        return client

    def _message(self, email: OutgoingEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.recipient
        message["Subject"] = email.subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(email.text)
        return message


def _error(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class LogMailer:
    """Development: the email is printed to the log instead of sent."""

    def send(self, emails: Sequence[OutgoingEmail]) -> list[str | None]:
        for email in emails:
            log.info("email to %s: %s\n%s", email.recipient, email.subject, email.text)
        return [None] * len(emails)


def build_mailer(smtp_url: str, sender: str) -> Mailer:
    return SmtpMailer(smtp_url, sender) if smtp_url else LogMailer()
