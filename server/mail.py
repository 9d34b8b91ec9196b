"""Email through an SMTP relay (STARTTLS and login when set): plain text and HTML in Vietnamese.

The HTML part is built from escaped text only (`html.escape`), never from user text pasted raw. Sending
uses smtplib in a worker thread, one connection for a batch, and is never called inside a transaction.
"""

from __future__ import annotations

import asyncio
import base64
import html
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from .config import Settings


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    lines: list[str]  # paragraphs of plain text
    link: str = ""
    link_label: str = ""


def build_message(settings: Settings, mail: Mail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((settings.mail_from_name, settings.mail_from))
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or "eiso.local")
    text = "\n\n".join(mail.lines)
    if mail.link:
        text += f"\n\n{mail.link_label}: {mail.link}"
    msg.set_content(text + "\n")
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in mail.lines)
    link = f'<p><a href="{html.escape(mail.link)}">{html.escape(mail.link_label)}</a></p>' if mail.link else ""
    msg.add_alternative(
        f'<!doctype html><html lang="vi"><meta charset="utf-8"><body>{paragraphs}{link}</body></html>\n',
        subtype="html",
    )
    return msg


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib encodes credentials as ASCII: a password with Vietnamese letters would raise. AUTH PLAIN
    is UTF-8 (RFC 4616), so such credentials are sent that way."""
    if (user + password).isascii():
        conn.login(user, password)
        return
    conn.ehlo_or_helo_if_needed()
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    code, reply = conn.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _send_batch(settings: Settings, messages: list[EmailMessage]) -> list[str]:
    """Errors by message ("" when sent); one connection, reopened once after a dropped one."""
    errors: list[str] = []
    smtp: smtplib.SMTP | None = None

    def connect() -> smtplib.SMTP:
        conn = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
        if settings.smtp_starttls:
            conn.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            _login(conn, settings.smtp_user, settings.smtp_password)
        return conn

    for msg in messages:
        for attempt in (1, 2):
            try:
                smtp = smtp or connect()
                smtp.send_message(msg)
                errors.append("")
                break
            except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                smtp = None
                if attempt == 2:
                    errors.append(f"{exc.__class__.__name__}: {exc}"[:250])
            except Exception as exc:  # noqa: BLE001 - any failure is this email's failure, retried later
                smtp = None
                errors.append(f"{exc.__class__.__name__}: {exc}"[:250])
                break
    if smtp is not None:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
    return errors


async def send_batch(settings: Settings, mails: list[Mail]) -> list[str]:
    """Send each mail; the answer lists an error per mail ("" when it was accepted by the relay)."""
    if not mails:
        return []
    messages = [build_message(settings, m) for m in mails]
    return await asyncio.to_thread(_send_batch, settings, messages)
