"""Contact methods, notification rules, and writing pages into the outbox.

Writing a message never sends it: the row is the promise, committed with the decision that
made it; the delivery job (pipeline.py) keeps it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from tocsin.accounts.models import User
from tocsin.db import config_cache, rows
from tocsin.db.config_cache import config_cached
from tocsin.db.wakeup import wake_after_commit as wake_after_commit  # web/ calls it here
from tocsin.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from tocsin.incidents import lifecycle as lc
from tocsin.incidents.models import Incident, IncidentMember
from tocsin.notify.channels import address_problem
from tocsin.notify.contract import ChannelKind
from tocsin.notify.links import password_stamp
from tocsin.notify.models import (
    ContactMethod,
    Message,
    MessageStatus,
    NotificationRule,
    UsedAckLink,
    VerificationFailure,
)
from tocsin.notify.schemas import ContactMethodIn, RulesIn
from tocsin.notify.verification import Attempt, Limits, VerifyOutcome, code_expired, wait_before_next
from tocsin.outbound import OutboundPolicy
from tocsin.principal import Principal

# In a page's idempotency key: sent although the incident is no longer triggered — asked
# for by a person (lateral page), or the severity of an acknowledged incident was raised.
MANUAL_MARK = ":manual"
OWNED_MARK = ":owned"
DEFAULT_LIMITS = Limits()
log = logging.getLogger("tocsin.notify")


def _enqueue(session: Session, *, key: str, kind: str, user_id: int, method_id: int,
             incident_id: int | None, due_at: datetime, payload: dict[str, Any],
             now: datetime) -> bool:
    """Write one message (a plain row, db/rows.py: the dedup look-up and cancel_pages later
    in the transaction find it) unless a message with this idempotency key exists."""
    if _may_exist(session, incident_id, key) and session.scalars(
            select(Message.id).where(Message.idempotency_key == key)).first():
        return False
    rows.add(session, Message, idempotency_key=key, kind=kind,
             status=MessageStatus.PENDING.value, incident_id=incident_id, user_id=user_id,
             contact_method_id=method_id, due_at=due_at, attempts=0, payload=payload,
             created_at=now)
    wake_after_commit(session)
    return True


def enqueue_bulletins(session: Session, *, items: list[tuple[str, str, str, dict[str, Any]]],
                      due_at: datetime, now: datetime) -> int:
    """Write messages to addresses outside the users (status page subscribers), each item
    (idempotency key, channel kind, address, payload of a `bulletin`: subject, text, html,
    headers, data). They go through the same outbox as pages: durable, one send per key,
    rate limited per address. Keys already written are skipped; returns how many were
    written."""
    keys = [key for key, *_ in items]
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        existing.update(session.scalars(select(Message.idempotency_key).where(
            Message.idempotency_key.in_(keys[start:start + 500]))))
    written = 0
    for key, channel, address, payload in items:
        if key in existing:
            continue
        existing.add(key)
        rows.add(session, Message, idempotency_key=key, kind="bulletin",
                 status=MessageStatus.PENDING.value, incident_id=None, user_id=None,
                 contact_method_id=None, channel=ChannelKind(channel).value, address=address,
                 due_at=due_at, attempts=0, payload=payload, created_at=now)
        written += 1
    if written:
        wake_after_commit(session)
    return written


def _may_exist(session: Session, incident_id: int | None, key: str) -> bool:
    """Whether a message with this key may exist. Not when it names an incident created in
    this transaction and none was added with it (known without a query)."""
    return incident_id is None or not rows.created_here(session, Incident, id=incident_id) \
        or rows.created_here(session, Message, idempotency_key=key)


def _may_have_messages(session: Session, incident_id: int) -> bool:
    """Whether the incident may have messages: not when it was created in this transaction
    and none was added for it (known without a query)."""
    return not rows.created_here(session, Incident, id=incident_id) \
        or rows.created_here(session, Message, incident_id=incident_id)


# ---- contact methods ---------------------------------------------------------------------------

def _owner_check(actor: Principal, user_id: int) -> None:
    if actor.user_id != user_id and not actor.is_admin:
        raise Forbidden("you may manage only your own contact methods and rules")


def add_contact_method(session: Session, *, actor: Principal, user_id: int,
                       data: ContactMethodIn, now: datetime,
                       outbound: OutboundPolicy,
                       limits: Limits = DEFAULT_LIMITS) -> ContactMethod:
    """Store the method unverified and send it a verification code. `outbound`: the
    internal targets the admin allows (settings.outbound_policy); a URL reaching any
    other internal address is refused."""
    _owner_check(actor, user_id)
    if session.get(User, user_id) is None:
        raise NotFound(f"no user with id {user_id}")
    problem = address_problem(data.kind, data.address, outbound)
    if problem:
        raise Invalid(f"address: {problem}")
    method = ContactMethod(user_id=user_id, kind=data.kind.value, address=data.address,
                           label=data.label, created_at=now)
    session.add(method)
    session.flush()
    config_cache.touched(session)
    _send_code(session, method, now=now, limits=limits)
    return method


def _send_code(session: Session, method: ContactMethod, *, now: datetime,
               limits: Limits) -> None:
    method.verify_code = f"{secrets.randbelow(10**6):06d}"
    method.verify_code_expires_at = now + limits.code_lifetime
    _enqueue(session, key=f"verify:{method.id}:{method.verify_code}:{int(now.timestamp())}",
             kind="verify", user_id=method.user_id, method_id=method.id, incident_id=None,
             due_at=now, payload={"code": method.verify_code}, now=now)


def resend_code(session: Session, *, method: ContactMethod, now: datetime,
                limits: Limits = DEFAULT_LIMITS) -> None:
    """A new code (the old one stops working), sent to the unverified method."""
    if method.verified_at is not None:
        raise Conflict("this contact method is already verified")
    _send_code(session, method, now=now, limits=limits)


def get_contact_method(session: Session, *, actor: Principal, method_id: int) -> ContactMethod:
    method = session.get(ContactMethod, method_id)
    if method is None or (method.user_id != actor.user_id and not actor.is_admin):
        raise NotFound(f"no contact method with id {method_id}")
    return method


def verify(session: Session, *, method: ContactMethod, code: str, now: datetime,
           limits: Limits = DEFAULT_LIMITS, actor: Principal | None = None,
           client_address: str | None = None) -> Attempt:
    """Check a verification code, within the attempt limits. A failure is recorded in this
    session: the caller commits whatever the outcome, then `raise_unless_verified`."""
    if method.verified_at is not None:
        return Attempt(VerifyOutcome.ALREADY)
    # Serialise attempts on the user's methods (PostgreSQL; SQLite writers already take
    # turns), so concurrent guesses from several processes cannot all pass the count.
    session.execute(select(User.id).where(User.id == method.user_id).with_for_update())
    waits = [w for w in (
        _wait(session, VerificationFailure.contact_method_id == method.id, limits.per_method,
              limits, now),
        _wait(session, VerificationFailure.user_id == method.user_id, limits.per_user, limits,
              now)) if w is not None]
    if waits:
        # Not recorded: a guesser hammering a locked method adds no rows (nor log lines
        # above INFO); the metric counts these.
        log.info("verification attempt on contact method %s (user %s) refused: too many "
                 "failures", method.id, method.user_id)
        return Attempt(VerifyOutcome.THROTTLED, retry_after=max(waits))
    if method.verify_code is None or code_expired(
            expires_at=method.verify_code_expires_at, created_at=method.created_at, now=now,
            lifetime=limits.code_lifetime):
        outcome = VerifyOutcome.EXPIRED
    elif secrets.compare_digest(method.verify_code.encode(), code.strip().encode()):
        method.verified_at, method.verify_code, method.verify_code_expires_at = now, None, None
        config_cache.touched(session)
        return Attempt(VerifyOutcome.VERIFIED)
    else:
        outcome = VerifyOutcome.WRONG
    session.add(VerificationFailure(
        contact_method_id=method.id, user_id=method.user_id,
        actor_user_id=actor.user_id if actor else None,
        api_key_id=actor.api_key_id if actor else None, reason=outcome.value,
        client_address=client_address[:64] if client_address else None, attempted_at=now))
    log.warning("%s verification code for contact method %s (user %s) by user %s from %s",
                outcome.value, method.id, method.user_id, actor.user_id if actor else "-",
                client_address or "-")
    return Attempt(outcome)


def _wait(session: Session, which: ColumnElement[bool], limit: int, limits: Limits,
          now: datetime) -> timedelta | None:
    times = list(session.scalars(
        select(VerificationFailure.attempted_at)
        .where(which, VerificationFailure.attempted_at > now - limits.window)
        .order_by(VerificationFailure.attempted_at.desc()).limit(limit)))
    return wait_before_next(times, limit, limits.window, now)


def raise_unless_verified(attempt: Attempt) -> None:
    if attempt.outcome is VerifyOutcome.THROTTLED:
        seconds = max(1, math.ceil((attempt.retry_after or timedelta(0)).total_seconds()))
        raise TooManyRequests(
            f"too many wrong verification codes; try again in {seconds} s", retry_after=seconds)
    if attempt.outcome is VerifyOutcome.EXPIRED:
        raise Invalid("code: this verification code has expired; send a new one")
    if attempt.outcome is VerifyOutcome.WRONG:
        raise Invalid("code: wrong verification code")


def verification_failures(session: Session, *, user_id: int | None, after_id: int | None,
                          limit: int) -> list[VerificationFailure]:
    query = select(VerificationFailure).order_by(VerificationFailure.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(VerificationFailure.user_id == user_id)
    if after_id is not None:
        query = query.where(VerificationFailure.id < after_id)
    return list(session.scalars(query))


def send_test(session: Session, *, method: ContactMethod, now: datetime) -> None:
    _enqueue(session, key=f"test:{method.id}:{int(now.timestamp() * 1000)}", kind="test",
             user_id=method.user_id, method_id=method.id, incident_id=None, due_at=now,
             payload={}, now=now)


def invite(session: Session, *, user: User, now: datetime, hours: int) -> ContactMethod:
    """Email the user a single-use sign-in link, through the outbox like any message (so it
    is retried, and survives a restart). It goes to an email contact method for the user's
    own address, made unverified if there is none: following the link proves the address
    (see `confirm_invited_address`)."""
    method = _email_method(session, user.id, user.email)
    if method is None:
        method = ContactMethod(user_id=user.id, kind="email", address=user.email,
                               label="invitation", verify_code=None, created_at=now)
        session.add(method)
        session.flush()
        config_cache.touched(session)
    expires = int((now + timedelta(hours=hours)).timestamp())
    _enqueue(session, key=f"invite:{user.id}:{int(now.timestamp() * 1000)}", kind="invite",
             user_id=user.id, method_id=method.id, incident_id=None, due_at=now,
             payload={"name": user.name, "expires": expires,
                      "stamp": password_stamp(user.password_hash)}, now=now)
    return method


def confirm_invited_address(session: Session, *, user: User, now: datetime) -> None:
    """The invitation link was followed: its email address works, so its method is
    verified (a code sent to it would prove no more)."""
    method = _email_method(session, user.id, user.email)
    if method is not None and method.verified_at is None:
        method.verified_at, method.verify_code = now, None
        config_cache.touched(session)


def _email_method(session: Session, user_id: int, address: str) -> ContactMethod | None:
    return next((m for m in contact_methods_of(session, user_id)
                 if m.kind == "email" and m.address.lower() == address.lower()), None)


def verification_errors(session: Session, method_ids: list[int]) -> dict[int, str]:
    """The last error of each method's failed verification message."""
    rows = session.execute(select(Message.contact_method_id, Message.last_error).where(
        Message.contact_method_id.in_(method_ids), Message.kind.in_(("verify", "invite")),
        Message.status == MessageStatus.FAILED.value)).all()
    return {mid: err or "verification message could not be delivered" for mid, err in rows
            if mid is not None}


def contact_methods_of(session: Session, user_id: int) -> list[ContactMethod]:
    return list(session.scalars(select(ContactMethod).where(ContactMethod.user_id == user_id)
                                .order_by(ContactMethod.id)))


def delete_contact_method(session: Session, method: ContactMethod) -> None:
    session.delete(method)
    config_cache.touched(session)


# ---- rules --------------------------------------------------------------------------------------

def set_rules(session: Session, *, actor: Principal, user_id: int,
              data: RulesIn) -> list[NotificationRule]:
    _owner_check(actor, user_id)
    mine = {m.id: m for m in contact_methods_of(session, user_id)}
    for r in data.rules:
        if r.contact_method_id not in mine:
            raise Invalid(f"rules: contact method {r.contact_method_id} is not user "
                          f"{user_id}'s")
    session.query(NotificationRule).filter(NotificationRule.user_id == user_id).delete()
    for r in data.rules:
        session.add(NotificationRule(user_id=user_id, urgency=r.urgency,
                                     delay_minutes=r.delay_minutes,
                                     contact_method_id=r.contact_method_id))
    session.flush()
    config_cache.touched(session)
    return rules_of(session, user_id)


def rules_of(session: Session, user_id: int) -> list[NotificationRule]:
    return list(session.scalars(select(NotificationRule).where(
        NotificationRule.user_id == user_id).order_by(NotificationRule.urgency,
                                                      NotificationRule.delay_minutes,
                                                      NotificationRule.id)))


def plan(session: Session, *, user_id: int, high_urgency: bool) -> list[tuple[int, int]]:
    """(delay minutes, contact method id) to page this user with, verified methods only.
    Without rules for the urgency, every verified method is used at once. Configuration:
    read once per process until methods or rules change (see tocsin.db.config_cache)."""
    return list(config_cached(session, ("notify_plan", user_id, high_urgency),
                              lambda: _plan(session, user_id, high_urgency)))



def _plan(session: Session, user_id: int, high_urgency: bool) -> list[tuple[int, int]]:
    verified = {m.id for m in contact_methods_of(session, user_id) if m.verified_at}
    urgency = "high" if high_urgency else "low"
    rules = [r for r in rules_of(session, user_id) if r.urgency == urgency]
    if rules:
        return [(r.delay_minutes, r.contact_method_id) for r in rules
                if r.contact_method_id in verified]
    return [(0, mid) for mid in sorted(verified)]


# ---- pages ---------------------------------------------------------------------------------------

def page_user(session: Session, *, user_id: int, incident: Incident, now: datetime, key: str,
              payload: dict[str, Any]) -> int:
    """Write the user's pages for this incident per their rules; returns how many (0: this
    user cannot be reached)."""
    if incident.drill and user_id not in _drill_members(session, incident.id):
        return 0  # a drill never pages anyone outside it, whoever asks
    high = lc.Severity(incident.severity).is_high_urgency()
    made = 0
    body = {"title": incident.title, "severity": incident.severity, **payload}
    if incident.bridge_url:
        body["bridge_url"] = incident.bridge_url
    for delay, method_id in plan(session, user_id=user_id, high_urgency=high):
        _enqueue(session, key=f"{key}:u{user_id}:m{method_id}:d{delay}", kind="page",
                 user_id=user_id, method_id=method_id, incident_id=incident.id,
                 due_at=now + timedelta(minutes=delay), payload=body, now=now)
        made += 1
    return made


def _drill_members(session: Session, incident_id: int) -> set[int]:
    return set(session.scalars(select(IncidentMember.user_id)
                               .where(IncidentMember.incident_id == incident_id)))


def send_briefing(session: Session, *, user_id: int, now: datetime, subject: str, text: str,
                  key: str, kinds: frozenset[str] | None = None) -> int:
    """A non-incident message (handoff briefing, metrics digest) to every verified method of
    the user (of `kinds` only, when given)."""
    made = 0
    for method in contact_methods_of(session, user_id):
        if kinds is not None and method.kind not in kinds:
            continue
        if method.verified_at is not None and _enqueue(
                session, key=f"{key}:m{method.id}", kind="briefing", user_id=user_id,
                method_id=method.id, incident_id=None, due_at=now,
                payload={"subject": subject, "text": text}, now=now):
            made += 1
    return made


def cancel_pages(session: Session, *, incident_id: int, now: datetime,
                 escalation_only: bool = True) -> int:
    """Cancel the incident's pages not yet sent (those of escalation steps, or all)."""
    if not _may_have_messages(session, incident_id):
        return 0
    query = update(Message).where(Message.incident_id == incident_id,
                                  Message.status == MessageStatus.PENDING.value)
    if escalation_only:
        # Pages asked for by a person (lateral escalation) still go out after an ack.
        query = query.where(~Message.idempotency_key.like(f"%{MANUAL_MARK}%"))
    result = session.execute(query.values(status=MessageStatus.CANCELLED.value,
                                          last_error=f"cancelled at {now.isoformat()}"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def messages_of_incident(session: Session, incident_id: int) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.incident_id == incident_id)
                                .order_by(Message.id)))


def use_ack_link(session: Session, *, token: str, incident_id: int, now: datetime) -> None:
    """An acknowledge link (or call, or reply) works once: the same token again (replayed,
    forwarded, a second tap) is refused with Conflict. Recorded in the acknowledging
    transaction, so a refused acknowledgement leaves the link usable."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    if session.get(UsedAckLink, digest) is not None:
        raise Conflict("this acknowledge link was already used")
    rows.add_object(session, UsedAckLink, digest=digest, incident_id=incident_id, used_at=now)
