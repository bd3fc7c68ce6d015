"""Runbook operations: write from files (all or nothing), find an incident's runbooks,
remind owners of stale ones."""

from __future__ import annotations

import posixpath
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tocsin.accounts.models import User
from tocsin.alerts.models import Alert
from tocsin.catalog.models import Service
from tocsin.db import rows
from tocsin.engine import timers
from tocsin.errors import Invalid, NotFound
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.notify import service as notify
from tocsin.principal import Principal
from tocsin.runbooks import document
from tocsin.runbooks.models import Runbook, RunbookService
from tocsin.runbooks.schemas import RunbookFile

TIMER_REVIEW = "runbook.review"
REVIEW_REMINDER_EVERY = timedelta(days=7)


def _slug(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path.replace("\\", "/")))[0].lower()


def write_files(session: Session, *, files: list[RunbookFile], now: datetime
                ) -> tuple[list[str], list[str]]:
    """Create or update a runbook per file. Every file is checked first; if any fails,
    Invalid lists each file's problems and nothing is written."""
    errors: list[dict[str, object]] = []
    parsed: list[tuple[RunbookFile, document.Parsed, int | None, list[int]]] = []
    seen: set[str] = set()
    for f in files:
        slug = _slug(f.path)
        problems: list[str] = []
        if slug in seen:
            problems.append(f"another file is also named {slug}.md")
        seen.add(slug)
        try:
            doc = document.parse(slug, f.text)
        except document.Unparsable as exc:
            errors.append({"path": f.path, "problems": problems + exc.problems})
            continue
        owner_id = None
        if doc.owner_email:
            owner_id = session.scalars(select(User.id).where(
                func.lower(User.email) == doc.owner_email.lower())).first()
            if owner_id is None:
                problems.append(f"owner: no user with email {doc.owner_email}")
        service_ids = []
        for name in doc.services:
            sid = session.scalars(select(Service.id).where(Service.name == name)).first()
            if sid is None:
                problems.append(f"services: no service named {name!r}")
            else:
                service_ids.append(sid)
        if problems:
            errors.append({"path": f.path, "problems": problems})
        else:
            parsed.append((f, doc, owner_id, service_ids))
    if errors:
        raise Invalid(f"{len(errors)} of {len(files)} runbook file(s) did not parse; "
                      "nothing was written", extra={"files": errors})
    created, updated = [], []
    for f, doc, owner_id, service_ids in parsed:
        rb = session.scalars(select(Runbook).where(Runbook.slug == doc.slug)).first()
        if rb is None:
            rb = rows.add_object(session, Runbook, need_id=True, slug=doc.slug, title=doc.title,
                                 body=doc.body, owner_id=owner_id, review_at=doc.review_at,
                                 matchers=doc.matchers, source_path=f.path, created_at=now,
                                 updated_at=now)
            created.append(doc.slug)
        else:
            rb.title, rb.body, rb.owner_id, rb.review_at = (doc.title, doc.body, owner_id,
                                                            doc.review_at)
            rb.matchers, rb.source_path, rb.updated_at = doc.matchers, f.path, now
            session.execute(delete(RunbookService).where(RunbookService.runbook_id == rb.id))
            updated.append(doc.slug)
        for sid in sorted(set(service_ids)):
            rows.add_object(session, RunbookService, runbook_id=rb.id, service_id=sid)
        timers.schedule(session, kind=TIMER_REVIEW, key=f"runbook:{rb.id}:review",
                        due_at=max(rb.review_at, now), now=now, owner=rb,
                        payload={"runbook_id": rb.id})
    return created, updated


def get(session: Session, slug_or_id: str) -> Runbook:
    query = select(Runbook).where(Runbook.slug == slug_or_id.lower())
    if slug_or_id.isdigit():
        query = select(Runbook).where(Runbook.id == int(slug_or_id))
    rb = session.scalars(query).first()
    if rb is None:
        raise NotFound(f"runbook {slug_or_id} does not exist")
    return rb


def list_runbooks(session: Session, *, after_id: int | None, limit: int,
                  stale_at: datetime | None = None) -> list[Runbook]:
    query = select(Runbook).order_by(Runbook.id).limit(limit)
    if after_id is not None:
        query = query.where(Runbook.id > after_id)
    if stale_at is not None:
        query = query.where(Runbook.review_at <= stale_at)
    return list(session.scalars(query))


def service_ids(session: Session, runbook_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in runbook_ids}
    for rid, sid in session.execute(select(RunbookService.runbook_id, RunbookService.service_id)
                                    .where(RunbookService.runbook_id.in_(runbook_ids))
                                    .order_by(RunbookService.service_id)):
        out[rid].append(sid)
    return out


def for_incident(session: Session, *, incident_id: int, viewer: Principal) -> list[Runbook]:
    """Runbooks of the incident's services, and those whose matchers hold on the labels of
    one of its alerts."""
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=viewer)
    return for_incident_unchecked(session, incident)


def for_incident_unchecked(session: Session, incident: Incident) -> list[Runbook]:
    services = incidents.service_ids_of(session, [incident.id])[incident.id]
    found = {rb.id: rb for rb in session.scalars(
        select(Runbook).join(RunbookService, RunbookService.runbook_id == Runbook.id)
        .where(RunbookService.service_id.in_(services)))} if services else {}
    label_sets = [labels or {} for labels in session.scalars(
        select(Alert.labels).where(Alert.incident_id == incident.id).limit(100))]
    if label_sets:
        for rb in session.scalars(select(Runbook).where(Runbook.id.not_in(list(found)))
                                  .limit(5000)):
            if any(document.matchers_hold(rb.matchers, labels) for labels in label_sets):
                found[rb.id] = rb
    return [found[i] for i in sorted(found)]


def on_review_due(session: Session, *, runbook_id: int, now: datetime) -> None:
    """A stale runbook: remind its owner weekly until the review date moves on."""
    rb = session.get(Runbook, runbook_id)
    if rb is None or rb.review_at > now:
        return
    if rb.owner_id is not None:
        notify.send_briefing(
            session, user_id=rb.owner_id, now=now, subject=f"Runbook needs review: {rb.title}",
            text=f"The runbook '{rb.title}' ({rb.slug}) was due for review on "
                 f"{rb.review_at:%Y-%m-%d}. Check it still works and move its review_date.",
            key=f"runbook:{rb.id}:review:{int(now.timestamp())}")
    timers.schedule(session, kind=TIMER_REVIEW, key=f"runbook:{rb.id}:review",
                    due_at=now + REVIEW_REMINDER_EVERY, now=now, owner=rb,
                    payload={"runbook_id": rb.id})
