"""Notices by e-mail through the district's SMTP server: one message with a plain-text and an HTML part, UTF-8
(Thai subjects are RFC 2047 encoded words, bodies quoted-printable or base64 as the e-mail package chooses), and the
link that opens the tool through the person's LMS course. Sending returns an outcome instead of raising."""

from __future__ import annotations

import enum
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from html import escape

from lti_tool.settings import SmtpSettings


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PARKED = "parked"  # the server refused the address or the message for good (5xx)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str = ""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    link: str
    link_label: str
    footer: str


def compose(settings: SmtpSettings, mail: Mail, message_key: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = formataddr((settings.sender_name, settings.sender))
    message["To"] = mail.to
    message["Message-ID"] = make_msgid(idstring=message_key, domain=settings.sender.split("@", 1)[1])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a notice
    plain = f"{mail.text}\n\n{mail.link_label}\n{mail.link}\n\n-- \n{mail.footer}\n"
    message.set_content(plain, charset="utf-8")
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in mail.text.splitlines() if line.strip())
    html = (
        '<!doctype html><html lang="th"><head><meta charset="utf-8"></head><body>'
        f'<h1 style="font-size:1.2em">{escape(mail.subject)}</h1>{paragraphs}'
        f'<p>{escape(mail.link_label)}<br><a href="{escape(mail.link, quote=True)}">{escape(mail.link)}</a></p>'
        f'<hr><p style="color:#555;font-size:.9em">{escape(mail.footer)}</p></body></html>'
    )
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")


def without_addresses(text: str) -> str:
    """A server's answer with the e-mail addresses in it left out: reasons are stored and logged, addresses not."""
    return _ADDRESS.sub("(the address)", text)


def send(settings: SmtpSettings, message: EmailMessage) -> Result:
    try:
        context = ssl.create_default_context(cafile=settings.ca_file)
        connection = (
            smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_seconds, context=context)
            if settings.implicit_tls
            else smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        )
        with connection as smtp:
            if settings.starttls and not settings.implicit_tls:
                smtp.starttls(context=context)
            if settings.user:
                smtp.login(settings.user, settings.password.get_secret_value())
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [f"{code} {text.decode(errors='replace')}" for code, text in exc.recipients.values()]
        permanent = all(code >= 500 for code, _text in exc.recipients.values())
        return Result(Outcome.PARKED if permanent else Outcome.RETRY, without_addresses("; ".join(codes)))
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        reason = f"{exc.smtp_code} {text}"
        return Result(Outcome.PARKED if exc.smtp_code >= 500 else Outcome.RETRY, without_addresses(reason))
    except (smtplib.SMTPException, OSError) as exc:
        reason = f"the SMTP server did not take it ({type(exc).__name__}: {exc})"
        return Result(Outcome.RETRY, without_addresses(reason))
    if refused:
        answers = "; ".join(f"{code} {text.decode(errors='replace')}" for code, text in refused.values())
        return Result(Outcome.PARKED, without_addresses(answers))
    return Result(Outcome.DELIVERED)
