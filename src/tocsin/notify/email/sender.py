"""Email pages over our own SMTP connection (smtplib)."""

from __future__ import annotations

import email.policy
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from tocsin.notify.contract import Outgoing, PermanentError, TemporaryError
from tocsin.settings import Settings

# A long List-Unsubscribe URL would otherwise be folded into RFC 2047 encoded words, which
# mail clients do not decode in that header (998 is RFC 5322's line limit).
_LONG_LINES = email.policy.default.clone(max_line_length=998)


def build(out: Outgoing, settings: Settings) -> EmailMessage:
    msg = EmailMessage(policy=_LONG_LINES) if out.headers else EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = out.address
    msg["Subject"] = out.subject
    msg["Message-ID"] = make_msgid(domain="tocsin")
    ack_url = out.data.get("ack_url")
    if settings.reply_domain and ack_url:  # replying "ack" acknowledges (respond/phone.py)
        msg["Reply-To"] = f"ack+{str(ack_url).rsplit('/', 1)[-1]}@{settings.reply_domain}"
    if "idempotency_key" in out.data:
        # Lets a mail system (or a person) spot the rare duplicate after a crash.
        msg["X-Tocsin-Message"] = str(out.data["idempotency_key"])
    for name, value in out.headers.items():  # e.g. List-Unsubscribe (RFC 2369, 8058)
        msg[name] = value
    msg.set_content(out.text)
    if out.html:
        msg.add_alternative(out.html, subtype="html")
    return msg


def send(out: Outgoing, settings: Settings) -> None:
    msg = build(out, settings)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=settings.smtp_timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() \
                    if settings.smtp_password else ""
                smtp.login(settings.smtp_username, password)
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(500 <= c < 600 for c in codes):
            raise PermanentError(f"recipient refused: {exc.recipients}") from exc
        raise TemporaryError(f"recipient deferred: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        err = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
        if 500 <= exc.smtp_code < 600 and exc.smtp_code not in (530, 535):
            raise PermanentError(err) from exc
        raise TemporaryError(err) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise TemporaryError(f"cannot reach SMTP server {settings.smtp_host}:"
                             f"{settings.smtp_port}: {exc}") from exc
