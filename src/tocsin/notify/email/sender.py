"""Email pages over our own SMTP connections (smtplib), reused between messages (pool.py).

One message is one SMTP transaction: MAIL, RCPT, then — reported to the pipeline as the
start of the handover — DATA and the message but its final dot; reported as committed, the
dot; then the server's reply to it. The pipeline records the start (a page) or the commit
(a bulletin) durably before the send goes on (notify/guarantee.py). SMTP has no
idempotency: if the connection is lost after the dot and before that reply, nobody can tell
whether the server kept it (UnknownOutcome). Each message carries a
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
# Header values the email package writes as they are (printable ASCII, no spaces at either
# end), and addresses it does not quote or rewrite.
_PLAIN_VALUE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?\Z")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\Z")
_ADDRESS_FIELDS = frozenset({"From", "To", "Reply-To"})
_PLAIN_TAIL = ('Content-Type: text/plain; charset="utf-8"\r\n'
               "Content-Transfer-Encoding: 7bit\r\nMIME-Version: 1.0\r\n\r\n")
# Replies to the first command on a reused connection that mean "this connection is over",
# not "this message": the message is tried again on a new connection.
_CLOSING = (421,)
_DOT = b".\r\n"  # after the message's last CRLF: <CRLF>.<CRLF> ends DATA


def message_id(key: str, settings: Settings) -> str:
    """The Message-ID of the message with this idempotency key, the same on every attempt."""
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "tocsin"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def _header_fields(out: Outgoing, settings: Settings) -> list[tuple[str, str]]:
    key = out.data.get("idempotency_key")
    fields = [("From", settings.smtp_from), ("To", out.address), ("Subject", out.subject),
              ("Message-ID", message_id(str(key), settings) if key
               else make_msgid(domain="tocsin"))]
    ack_url = out.data.get("ack_url")
    if settings.reply_domain and ack_url:  # replying "ack" acknowledges (respond/phone.py)
        fields.append(("Reply-To",
                       f"ack+{str(ack_url).rsplit('/', 1)[-1]}@{settings.reply_domain}"))
    if key:
        # Lets a mail system (or a person) spot the rare duplicate after a crash.
        fields.append(("X-Tocsin-Message", str(key)))
    fields += out.headers.items()  # e.g. List-Unsubscribe (RFC 2369, 8058)
    return fields


def build(out: Outgoing, settings: Settings) -> EmailMessage:
    msg = EmailMessage(policy=_LONG_LINES) if out.headers else EmailMessage()
    for name, value in _header_fields(out, settings):
        msg[name] = value
    msg.set_content(out.text)
    if out.html:
        msg.add_alternative(out.html, subtype="html")
    return msg


def compose(out: Outgoing, settings: Settings) -> bytes:
    """The message as it goes on the wire (CRLF line ends, before dot-stuffing): `build`,
    flattened. A plain text message whose header fields are all short printable ASCII (a
    status page update) is written directly, byte for byte what the email package writes
    for it (tests/notify/test_email_connections.py compares them) at a tenth of the cost:
    its header parsing and folding cost about 1 ms per message, most of a bulk send."""
    fields = _header_fields(out, settings)
    limit = _LONG_LINES.max_line_length if out.headers else \
        email.policy.default.max_line_length
    plain = None if out.html else _plain(fields, out.text, limit or 78)
    if plain is not None:
        return plain
    msg = build(out, settings)
    return _flatten(msg, international=not (settings.smtp_from + out.address).isascii())


def _plain(fields: list[tuple[str, str]], text: str, limit: int) -> bytes | None:
    """`fields` and `text` as the email package writes them, or None when it would do more
    than copy them (fold, quote, encode)."""
    for name, value in fields:
        if not _PLAIN_VALUE.match(value) or "=?" in value or "  " in value \
                or len(name) + 2 + len(value) > limit:
            return None
        if name in _ADDRESS_FIELDS and not _PLAIN_ADDRESS.match(value):
            return None
    if not text.isascii():
        return None
    lines = text.encode("ascii").splitlines()
    if any(len(line) > limit for line in lines):
        return None
    head = "".join(f"{name}: {value}\r\n" for name, value in fields)
    body = b"".join(line + b"\r\n" for line in lines) or b"\r\n"
    return (head + _PLAIN_TAIL).encode("ascii") + body


def send(out: Outgoing, settings: Settings, handover: Handover = NO_HANDOVER) -> None:
    international = not (settings.smtp_from + out.address).isascii()
    body = compose(out, settings)
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
            smtp, _ = pool.take(fresh=True)
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
    """RCPT, then the handover: DATA, the message but its final dot, the dot, and the
    server's reply to it. Until the dot the server holds an unterminated message, which it
    drops if the connection ends (a crash, or an abandoned handover: closed here); once the
    dot is written the kernel delivers it even if this process is killed at once."""
    code, reply = smtp.rcpt(address)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({address: (code, reply)})
    handover.begin()
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    data = _LEADING_DOT.sub(b"..", body)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    ended = False

    def write_dot() -> None:
        nonlocal ended
        # A failed write raises (SMTPServerDisconnected, the connection closed): the dot did
        # not go, the server drops the message, and it is tried again.
        smtp.send(_DOT)
        ended = True

    try:
        smtp.send(data)
        handover.commit(write_dot)
    except BaseException as exc:
        if ended:  # the dot went out: the server keeps the message, its reply is unknown
            smtp.close()
            raise UnknownOutcome(f"no reply read after the end of the message: {exc}") \
                from exc
        smtp.close()  # in the middle of DATA there is no other way out (RSET would be data)
        raise
    if not ended:  # a Handover that broke its contract: leave nothing half sent
        smtp.close()
        raise RuntimeError("the handover did not finish the message")
    try:
        code, reply = smtp.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise UnknownOutcome(f"no reply to the end of the message from the SMTP server "
                             f"(it may have kept it): {exc}") from exc
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    handover.accepted()


def _after_error(pool: SmtpPool, smtp: smtplib.SMTP, exc: BaseException) -> None:
    """Close the connection after a network error, a timeout, a lost reply, a "closing"
    reply (its state is unknown) or a handover abandoned in the middle of DATA (closed
    already); otherwise (a reply that refused the message, a handover that must not begin)
    RSET it and give it back."""
    if smtp.sock is None or isinstance(exc, smtplib.SMTPServerDisconnected | OSError
                                       | UnknownOutcome) or (
            isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code in _CLOSING):
        pool.discard(smtp)
    else:
        pool.give_back(smtp, reset=True)
