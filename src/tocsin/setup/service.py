"""Gathers the checklist's facts for one person from the database, and stores dismissal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tocsin.alerts import manage
from tocsin.alerts.models import Alert, Integration
from tocsin.catalog.models import Service
from tocsin.escalation import policy as pol
from tocsin.escalation import reach, reachability
from tocsin.escalation.models import EscalationPolicy, ServicePolicy
from tocsin.notify.models import ContactMethod, Message, MessageStatus
from tocsin.setup import checklist
from tocsin.setup.models import SetupDismissal


@dataclass(frozen=True)
class Sender:
    """The first integration and the exact snippets to point its sender at it."""

    integration_id: int
    name: str
    kind: str
    snippets: dict[str, str]


@dataclass(frozen=True)
class State:
    steps: list[checklist.Step]
    dismissed: bool
    sender: Sender | None


def _any(session: Session, query: Select[Any]) -> bool:
    return bool(session.scalar(select(query.exists())))


def _pages_someone(session: Session, now: datetime) -> bool:
    rows = list(session.scalars(select(EscalationPolicy).join(
        ServicePolicy, ServicePolicy.policy_id == EscalationPolicy.id).distinct()))
    if not rows:
        return False
    firsts = [policy.levels[0].targets for row in rows
              if (policy := pol.from_snapshot({"repeat": row.repeat, "levels": row.levels}))
              .levels]
    # The dashboard asks every few seconds: work out on-call only for the schedules named.
    people = reachability.load_people(session, now=now, schedule_ids={
        t.id for targets in firsts for t in targets if t.kind is pol.TargetKind.SCHEDULE})
    return any(reach.target_reach(t, people).reachable for targets in firsts for t in targets)


def facts_for(session: Session, *, user_id: int, now: datetime) -> checklist.Facts:
    mine = select(ContactMethod.id).where(ContactMethod.user_id == user_id)
    tests = select(Message.id).where(Message.kind == "test",
                                     Message.contact_method_id.in_(mine))
    from_alerts = select(Alert.incident_id).where(Alert.integration_id.is_not(None),
                                                  Alert.incident_id.is_not(None))
    return checklist.Facts(
        verified_method=_any(session, mine.where(ContactMethod.verified_at.is_not(None))),
        test_delivered=_any(session, tests.where(Message.status == MessageStatus.SENT.value)),
        test_pending=_any(session, tests.where(Message.status.in_(
            [MessageStatus.PENDING.value, MessageStatus.SENDING.value]))),
        service=session.scalar(select(Service.name).order_by(Service.id).limit(1)),
        integration=session.scalar(select(Integration.name).order_by(Integration.id).limit(1)),
        pages_someone=_pages_someone(session, now),
        alert_received=_any(session, select(Alert.id).where(Alert.integration_id.is_not(None))),
        page_delivered=_any(session, select(Message.id).where(
            Message.kind == "page", Message.status == MessageStatus.SENT.value,
            Message.incident_id.in_(from_alerts))))


def first_integration(session: Session) -> Integration | None:
    return session.scalars(select(Integration).where(Integration.enabled.is_(True))
                           .order_by(Integration.id).limit(1)).first()


def state_for(session: Session, *, user_id: int, now: datetime, base_url: str) -> State:
    integration = first_integration(session)
    sender = Sender(integration.id, integration.name, integration.kind,
                    manage.examples(integration, base_url)) if integration else None
    return State(steps=checklist.steps(facts_for(session, user_id=user_id, now=now)),
                 dismissed=session.get(SetupDismissal, user_id) is not None, sender=sender)


def dismiss(session: Session, *, user_id: int, now: datetime) -> None:
    if session.get(SetupDismissal, user_id) is None:
        session.add(SetupDismissal(user_id=user_id, dismissed_at=now))
        session.flush()


def restore(session: Session, *, user_id: int) -> None:
    row = session.get(SetupDismissal, user_id)
    if row is not None:
        session.delete(row)
        session.flush()
