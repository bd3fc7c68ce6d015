"""Stakeholder updates inside the company: templates filled from the incident, sent to the
distribution lists its severity and services match (through the notify outbox), and the
promised next update kept: the comms role is reminded before it is due, and a promise not
kept is counted and written on the incident's timeline.

Timers (engine): `stakeholders.remind` fires `reminder_lead` before the promise,
`stakeholders.missed` at it; each carries the promise it was set for, so an update sent
meanwhile makes them do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.catalog.models import Service
from tocsin.engine import timers
from tocsin.errors import Conflict, Forbidden, Invalid, NotFound
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident, IncidentService
from tocsin.incidents.visibility import visible_incident
from tocsin.notify import service as notify
from tocsin.principal import Principal
from tocsin.settings import Settings
from tocsin.stakeholders import templates as tpl
from tocsin.stakeholders.models import (
    DistributionList,
    StakeholderCadence,
    StakeholderTemplate,
    StakeholderUpdate,
)
from tocsin.stakeholders.schemas import ListIn, TemplateIn, UpdateIn

TIMER_REMIND = "stakeholders.remind"
TIMER_MISSED = "stakeholders.missed"


# ---- templates and lists --------------------------------------------------------------------

def template(session: Session, kind: str) -> tuple[str, str, bool]:
    """(subject, body, is the default) of a kind."""
    if kind not in tpl.KINDS:
        raise NotFound(f"no template '{kind}'; kinds: {', '.join(tpl.KINDS)}")
    row = session.get(StakeholderTemplate, kind)
    if row is None:
        return (*tpl.DEFAULTS[kind], True)
    return row.subject, row.body, False


def save_template(session: Session, *, kind: str, data: TemplateIn,
                  now: datetime) -> StakeholderTemplate:
    template(session, kind)
    tpl.check(data.subject)
    tpl.check(data.body)
    row = session.get(StakeholderTemplate, kind)
    if row is None:
        row = StakeholderTemplate(kind=kind, subject=data.subject, body=data.body,
                                  updated_at=now)
        session.add(row)
    else:
        row.subject, row.body, row.updated_at = data.subject, data.body, now
    return row


def create_list(session: Session, *, data: ListIn, now: datetime) -> DistributionList:
    bad = sorted(set(data.severities) - {s.value for s in lc.Severity})
    if bad:
        raise Invalid(f"severities: unknown {', '.join(bad)}")
    known = set(session.scalars(select(Service.id).where(Service.id.in_(data.service_ids))))
    if set(data.service_ids) - known:
        raise Invalid(f"service_ids: no service {sorted(set(data.service_ids) - known)}")
    if session.scalars(select(DistributionList.id).where(
            DistributionList.name == data.name)).first():
        raise Conflict(f"a distribution list named '{data.name}' exists")
    for t in data.targets:
        if t.kind == "email" and ("@" not in t.address or "." not in t.address.split("@")[-1]):
            raise Invalid(f"targets: '{t.address}' is not an email address")
    row = DistributionList(name=data.name, severities=sorted(data.severities),
                           service_ids=sorted(data.service_ids), executive=data.executive,
                           targets=[t.model_dump() for t in data.targets], created_at=now)
    session.add(row)
    session.flush()
    return row


def list_lists(session: Session) -> list[DistributionList]:
    return list(session.scalars(select(DistributionList).order_by(DistributionList.id)))


def delete_list(session: Session, *, list_id: int) -> None:
    row = session.get(DistributionList, list_id)
    if row is None:
        raise NotFound(f"no distribution list with id {list_id}")
    session.delete(row)


# ---- updates --------------------------------------------------------------------------------

def _incident(session: Session, viewer: Principal, incident_id: int) -> Incident:
    found = session.scalars(select(Incident).where(
        Incident.id == incident_id, visible_incident(viewer))).first()
    if found is None:
        raise NotFound(f"no incident with id {incident_id}")
    return found


def _service_ids(session: Session, incident: Incident) -> list[int]:
    return list(session.scalars(select(IncidentService.service_id).where(
        IncidentService.incident_id == incident.id)))


def fields_of(session: Session, incident: Incident, *, now: datetime,
              next_update: datetime | None) -> dict[str, str]:
    names = list(session.scalars(select(Service.name).join(
        IncidentService, IncidentService.service_id == Service.id).where(
        IncidentService.incident_id == incident.id).order_by(Service.name)))
    start = incident.impact_started_at or incident.detected_at
    high = incident.severity in ("SEV1", "SEV2")
    return {
        "number": incident.number, "title": incident.title,
        "service": ", ".join(names) or incident.title,
        "impact": incident.description.strip() or f"{incident.impact} impact",
        "severity": incident.severity, "status": incident.status,
        "next_update": next_update.strftime("%H:%M UTC") if next_update else "",
        "duration": tpl.duration(start, incident.resolved_at or now),
        "fix": incident.resolution_summary or "",
        "postmortem_within": "48 hours" if high else "one week",
        "apology": "We apologise for the disruption." if high else "",
    }


@dataclass(frozen=True)
class Composed:
    """An update as it would be written now: its text filled from the incident, the
    promise it makes, and the distribution lists it would go to."""

    incident: Incident
    kind: str
    subject: str
    body: str
    next_update_at: datetime | None
    lists: list[DistributionList]


def compose(session: Session, *, incident_id: int, actor: Principal, data: UpdateIn,
            now: datetime, settings: Settings) -> Composed:
    """Fill the template (or the author's own text) from the incident, writing nothing: what
    `write_update` stores and what an editor previews. Raises Invalid for a text that is not
    a template or says nothing."""
    incident = _incident(session, actor, incident_id)
    promise = tpl.next_update_at(incident.severity, now, settings.stakeholder_cadence_minutes,
                                 data.next_update_minutes)
    if data.kind == "resolution":
        promise = None
    fields = {**fields_of(session, incident, now=now, next_update=promise), **data.fields}
    subject, body, _ = template(session, data.kind)
    for text in (data.subject, data.body):
        if text is not None:
            tpl.check(text)
    filled = tpl.fill(data.body or body, fields)
    if not filled.strip():
        raise Invalid("body: an update must say something")
    return Composed(incident=incident, kind=data.kind,
                    subject=tpl.fill(data.subject or subject, fields)[:300], body=filled,
                    next_update_at=promise, lists=lists_for(session, incident))


def editable(session: Session, *, incident_id: int, viewer: Principal, kind: str,
             now: datetime) -> tuple[str, str]:
    """(subject, body) of the kind's template filled from the incident for an author to
    edit: `{next_update}` stays a placeholder (the promise is fixed when it is sent), fields
    the incident cannot supply show as `[cause]`, and braces in the incident's own text are
    doubled so the edited text is still a template."""
    incident = _incident(session, viewer, incident_id)
    subject, body, _ = template(session, kind)
    fields = {k: v.replace("{", "{{").replace("}", "}}")
              for k, v in fields_of(session, incident, now=now, next_update=None).items()}
    fields["next_update"] = "{next_update}"
    return tpl.fill(subject, fields), tpl.fill(body, fields)


def lists_for(session: Session, incident: Incident) -> list[DistributionList]:
    """The distribution lists an update about this incident goes to: its severity and one
    of its services match (an empty choice matches all)."""
    services = set(_service_ids(session, incident))
    return [dl for dl in list_lists(session)
            if (not dl.severities or incident.severity in dl.severities)
            and (not dl.service_ids or services & set(dl.service_ids))]


def write_update(session: Session, *, incident_id: int, actor: Principal, data: UpdateIn,
                 now: datetime, settings: Settings) -> StakeholderUpdate:
    """Fill the template (or the author's own text), then keep it as a draft or send it."""
    made = compose(session, incident_id=incident_id, actor=actor, data=data, now=now,
                   settings=settings)
    update = StakeholderUpdate(
        incident_id=made.incident.id, kind=made.kind, author_id=actor.user_id,
        subject=made.subject, body=made.body, next_update_at=made.next_update_at,
        created_at=now)
    session.add(update)
    session.flush()
    if not data.draft:
        send(session, update=update, actor=actor, now=now, settings=settings)
    return update


def may_send(incident: Incident, actor: Principal) -> bool:
    """One voice: the communications lead, the commander or an admin sends updates."""
    return actor.is_admin or actor.user_id in (incident.comms_lead_id, incident.commander_id)


def _may_send(incident: Incident, actor: Principal) -> None:
    if may_send(incident, actor):
        return
    raise Forbidden("stakeholder updates are sent by the incident's communications lead, "
                    "its commander or an admin; save a draft for them")


def send(session: Session, *, update: StakeholderUpdate, actor: Principal, now: datetime,
         settings: Settings) -> int:
    """Send a draft (or a new update) to every matching list; keep the promise it makes."""
    if update.sent_at is not None:
        raise Conflict("this update was already sent")
    incident = _incident(session, actor, update.incident_id)
    _may_send(incident, actor)
    items: list[tuple[str, str, str, dict[str, Any]]] = []
    executive: tuple[str, str] | None = None
    if incident.severity == "SEV1":
        fields = fields_of(session, incident, now=now, next_update=update.next_update_at)
        executive = (tpl.fill(tpl.EXECUTIVE[0], fields), tpl.fill(tpl.EXECUTIVE[1], fields))
    for dl in lists_for(session, incident):
        subject, text = executive if dl.executive and executive else (update.subject,
                                                                       update.body)
        for n, target in enumerate(dl.targets):
            items.append((f"stk:{update.id}:l{dl.id}:t{n}", target["kind"], target["address"],
                          {"subject": subject, "text": text, "data": {
                              "event": "stakeholder.update", "incident": incident.number,
                              "kind": update.kind, "severity": incident.severity,
                              "next_update_at": update.next_update_at.isoformat()
                              if update.next_update_at else None}}))
    update.recipients = notify.enqueue_bulletins(session, items=items, due_at=now, now=now)
    update.sent_at = now
    _keep_promise(session, incident=incident, promise=update.next_update_at, now=now,
                  settings=settings)
    incidents.append_event(session, incident, kind=lc.EventKind.NOTE, now=now, actor=actor,
                           body=f"stakeholder update ({update.kind}) sent to "
                                f"{update.recipients} recipient(s)"
                                + (f"; next update promised by "
                                   f"{update.next_update_at:%H:%M} UTC"
                                   if update.next_update_at else ""),
                           data={"stakeholder_update_id": update.id})
    return update.recipients


def _keep_promise(session: Session, *, incident: Incident, promise: datetime | None,
                  now: datetime, settings: Settings) -> None:
    cadence = session.get(StakeholderCadence, incident.id)
    if cadence is None:
        cadence = StakeholderCadence(incident_id=incident.id, missed=0)
        session.add(cadence)
    cadence.next_update_at, cadence.last_sent_at = promise, now
    key = f"incident:{incident.id}:stakeholders"
    if promise is None:
        timers.cancel(session, f"{key}:remind")
        timers.cancel(session, f"{key}:missed")
        return
    payload = {"incident_id": incident.id, "promise": promise.isoformat()}
    lead = timedelta(minutes=settings.stakeholder_reminder_lead_minutes)
    timers.schedule(session, kind=TIMER_REMIND, key=f"{key}:remind", now=now,
                    due_at=max(now, promise - lead), payload=payload)
    timers.schedule(session, kind=TIMER_MISSED, key=f"{key}:missed", now=now, due_at=promise,
                    payload=payload)


def _current(session: Session, incident_id: int, promise: str) -> tuple[Incident,
                                                                          StakeholderCadence] | None:
    """The incident and its cadence when `promise` is still the one standing."""
    cadence = session.get(StakeholderCadence, incident_id)
    incident = session.get(Incident, incident_id)
    if cadence is None or incident is None or cadence.next_update_at is None:
        return None
    if cadence.next_update_at.isoformat() != promise:
        return None
    if lc.Status(incident.status) not in lc.OPEN_STATUSES:
        return None
    return incident, cadence


def on_remind(session: Session, *, incident_id: int, promise: str, now: datetime) -> None:
    found = _current(session, incident_id, promise)
    if found is None:
        return
    incident, cadence = found
    who = incident.comms_lead_id or incident.commander_id
    assert cadence.next_update_at is not None
    due = cadence.next_update_at
    text = (f"The next stakeholder update about {incident.number} ({incident.title}) is "
            f"promised by {due:%H:%M} UTC. Send it with `tocsin stakeholders update "
            f"{incident.id} --kind progress`.")
    if who is not None:
        notify.send_briefing(session, user_id=who, now=now, text=text,
                             subject=f"{incident.number}: stakeholder update due at "
                                     f"{due:%H:%M} UTC",
                             key=f"stk-remind:{incident.id}:{int(due.timestamp())}")
    incidents.append_event(session, incident, kind=lc.EventKind.NOTE, now=now, actor=None,
                           body=f"stakeholder update due by {due:%H:%M} UTC"
                                + ("" if who else " (no communications lead to remind)"),
                           data={"stakeholder_reminder_to": who})


def on_missed(session: Session, *, incident_id: int, promise: str, now: datetime) -> None:
    found = _current(session, incident_id, promise)
    if found is None:
        return
    incident, cadence = found
    cadence.missed += 1
    incidents.append_event(session, incident, kind=lc.EventKind.NOTE, now=now, actor=None,
                           body=f"STAKEHOLDER UPDATE MISSED: promised by "
                                f"{promise[11:16]} UTC ({cadence.missed} missed so far)",
                           data={"stakeholder_update_missed": cadence.missed})
    cadence.next_update_at = None


def updates_of(session: Session, *, incident_id: int, viewer: Principal,
               ) -> tuple[StakeholderCadence | None, list[StakeholderUpdate]]:
    _incident(session, viewer, incident_id)
    return session.get(StakeholderCadence, incident_id), list(session.scalars(
        select(StakeholderUpdate).where(StakeholderUpdate.incident_id == incident_id)
        .order_by(StakeholderUpdate.id)))


def get_update(session: Session, *, incident_id: int, update_id: int,
               viewer: Principal) -> StakeholderUpdate:
    _incident(session, viewer, incident_id)
    row = session.get(StakeholderUpdate, update_id)
    if row is None or row.incident_id != incident_id:
        raise NotFound(f"no stakeholder update {update_id} on incident {incident_id}")
    return row
