"""Email pages over our own SMTP connections (smtplib), reused between messages (pool.py).

One message is one SMTP transaction: MAIL, RCPT, then — reported to the pipeline as the
start of the handover — DATA and the message, then the server's reply to its end. SMTP has
no idempotency: if the connection is lost after the whole message went out and before that
reply, nobody can tell whether the server kept it (UnknownOutcome). Each message carries a
Message-ID made from its idempotency key, the same on every attempt, so a copy sent again
can at least be recognised by a person or a mail system that cares.
"""

from __future__ import annotations

import email.policy
import hashlib
import io
import re
import smtplib
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import make_msgid, parseaddr
from typing import cast

from tocsin.notify.contract import (
    NO_HANDOVER,
    Handover,
    Outgoing,
    PermanentError,
    TemporaryError,
    UnknownOutcome,
)
from tocsin.notify.email.pool import SmtpPool, pool_for
from tocsin.settings import Settings

# A long List-Unsubscribe URL would otherwise be folded into RFC 2047 encoded words, which
# mail clients do not decode in that header (998 is RFC 5322's line limit).
_LONG_LINES = email.policy.default.clone(max_line_length=998)
_LEADING_DOT = re.compile(rb"(?m)^\.")
# Replies to the first command on a reused connection that mean "this connection is over",
# not "this message": the message is tried again on a new connection.
_CLOSING = (421,)


def message_id(key: str, settings: Settings) -> str:
    """The Message-ID of the message with this idempotency key, the same on every attempt."""
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "tocsin"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def build(out: Outgoing, settings: Settings) -> EmailMessage:
    msg = EmailMessage(policy=_LONG_LINES) if out.headers else EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = out.address
    msg["Subject"] = out.subject
    key = out.data.get("idempotency_key")
    msg["Message-ID"] = message_id(str(key), settings) if key else make_msgid(domain="tocsin")
    ack_url = out.data.get("ack_url")
    if settings.reply_domain and ack_url:  # replying "ack" acknowledges (respond/phone.py)
        msg["Reply-To"] = f"ack+{str(ack_url).rsplit('/', 1)[-1]}@{settings.reply_domain}"
    if key:
        # Lets a mail system (or a person) spot the rare duplicate after a crash.
        msg["X-Tocsin-Message"] = str(key)
    for name, value in out.headers.items():  # e.g. List-Unsubscribe (RFC 2369, 8058)
        msg[name] = value
    msg.set_content(out.text)
    if out.html:
        msg.add_alternative(out.html, subtype="html")
    return msg


def send(out: Outgoing, settings: Settings, handover: Handover = NO_HANDOVER) -> None:
    msg = build(out, settings)
    international = not (settings.smtp_from + out.address).isascii()
    body = _flatten(msg, international)
    pool = pool_for(settings)
    try:
        smtp, reused = pool.take()
        try:
            _mail_from(smtp, settings.smtp_from, international)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
            if not reused or (isinstance(exc, smtplib.SMTPResponseException)
                              and exc.smtp_code not in _CLOSING):
                _after_error(pool, smtp, exc)
                raise
            # Closed by the server while idle: the others idle since are likely gone too.
            pool.discard(smtp)
            pool.close_idle()
            smtp, _ = pool.take()
            try:
                _mail_from(smtp, settings.smtp_from, international)
            except BaseException as again:
                _after_error(pool, smtp, again)
                raise
        try:
            _transaction(smtp, out.address, body, handover)
        except BaseException as exc:
            _after_error(pool, smtp, exc)
            raise
        pool.give_back(smtp)
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


def _flatten(msg: EmailMessage, international: bool) -> bytes:
    with io.BytesIO() as buffer:
        policy = cast(EmailPolicy, msg.policy).clone(utf8=True) if international else None
        BytesGenerator(buffer, policy=policy).flatten(msg, linesep="\r\n")
        return buffer.getvalue()


def _mail_from(smtp: smtplib.SMTP, sender: str, international: bool) -> None:
    options: list[str] = []
    if international:
        if not smtp.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError(
                "an address is not ASCII and the server does not support SMTPUTF8")
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    code, reply = smtp.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)


def _transaction(smtp: smtplib.SMTP, address: str, body: bytes, handover: Handover) -> None:
    """RCPT, then the handover: DATA, the message, and the server's reply to its end."""
    code, reply = smtp.rcpt(address)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({address: (code, reply)})
    handover.begin()
    code, reply = smtp.docmd("data")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    data = _LEADING_DOT.sub(b"..", body)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    smtp.send(data + b".\r\n")
    try:
        code, reply = smtp.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise UnknownOutcome(f"no reply to the end of the message from the SMTP server "
                             f"(it may have kept it): {exc}") from exc
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    handover.accepted()


def _after_error(pool: SmtpPool, smtp: smtplib.SMTP, exc: BaseException) -> None:
    """Close the connection after a network error, a timeout, a lost reply or a "closing"
    reply (its state is unknown); otherwise (a reply that refused the message, a handover
    that must not happen) RSET it and give it back."""
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError | UnknownOutcome) or (
            isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code in _CLOSING):
        pool.discard(smtp)
    else:
        pool.give_back(smtp, reset=True)
