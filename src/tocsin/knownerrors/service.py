"""Known errors and similar incidents: problems, links, and suggestions when an incident
opens (full-text search through search.py, ranking through similarity.py)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.catalog.models import Service
from tocsin.db import rows
from tocsin.engine import timers
from tocsin.errors import Invalid, NotFound
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident, IncidentService, not_drill
from tocsin.incidents.visibility import visible_incident
from tocsin.knownerrors import search, similarity
from tocsin.knownerrors.models import FixStatus, Problem, ProblemIncident, Suggestion
from tocsin.knownerrors.schemas import ProblemIn, ProblemUpdate
from tocsin.principal import Principal

TIMER_SUGGEST = "knownerrors.suggest"
TIMER_REINDEX = "knownerrors.reindex"
SUGGEST_PROBLEMS, SUGGEST_INCIDENTS, CANDIDATES = 3, 3, 50
# What an incident's first page lists (notify.ports.PageSuggestions).
PAGE_KNOWN_ERRORS, PAGE_SUGGESTIONS = 2, 3


# ---- problems -----------------------------------------------------------------------------

def _problem_text(p: Problem) -> str:
    return f"{p.title}\n{p.symptoms}\n{' '.join(p.labels.values())}"


def create_problem(session: Session, *, data: ProblemIn, now: datetime) -> Problem:
    if data.service_id is not None and session.get(Service, data.service_id) is None:
        raise Invalid(f"service_id: no service with id {data.service_id}")
    p = rows.add_object(session, Problem, need_id=True, title=data.title,
                        symptoms=data.symptoms, workaround=data.workaround,
                        fix_status=data.fix_status.value, service_id=data.service_id,
                        labels=dict(data.labels), created_at=now, updated_at=now)
    search.put(session, "problems", p.id, _problem_text(p))
    return p


def get_problem(session: Session, problem_id: int) -> Problem:
    p = session.get(Problem, problem_id)
    if p is None:
        raise NotFound(f"problem {problem_id} does not exist")
    return p


def update_problem(session: Session, *, problem: Problem, data: ProblemUpdate,
                   now: datetime) -> None:
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(problem, name, value.value if isinstance(value, FixStatus) else value)
    problem.updated_at = now
    search.put(session, "problems", problem.id, _problem_text(problem))


def list_problems(session: Session, *, after_id: int | None, limit: int) -> list[Problem]:
    query = select(Problem).order_by(Problem.id).limit(limit)
    if after_id is not None:
        query = query.where(Problem.id > after_id)
    return list(session.scalars(query))


def search_problems(session: Session, *, query: str, limit: int) -> list[Problem]:
    """Known errors whose title, symptoms or labels share words with `query`, best first."""
    ids = [i for i, _ in search.find(session, "problems", query, limit=limit)]
    found = {p.id: p for p in session.scalars(select(Problem).where(Problem.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def incident_ids_of(session: Session, problem_id: int, viewer: Principal) -> list[int]:
    return list(session.scalars(
        select(ProblemIncident.incident_id)
        .join(Incident, Incident.id == ProblemIncident.incident_id)
        .where(ProblemIncident.problem_id == problem_id, visible_incident(viewer))
        .order_by(ProblemIncident.incident_id)))


def link(session: Session, *, problem: Problem, incident_id: int, viewer: Principal,
         now: datetime) -> None:
    """Record the incident as an occurrence of the problem (idempotent)."""
    incidents.get_visible(session, incident_id=incident_id, viewer=viewer)
    if session.get(ProblemIncident, (problem.id, incident_id)) is None:
        rows.add_object(session, ProblemIncident, problem_id=problem.id,
                        incident_id=incident_id, linked_at=now)


def unlink(session: Session, *, problem: Problem, incident_id: int) -> None:
    session.execute(delete(ProblemIncident).where(ProblemIncident.problem_id == problem.id,
                                                  ProblemIncident.incident_id == incident_id))


# ---- suggestions when an incident opens ---------------------------------------------------

def on_incident_event(session: Session, *, incident: Incident, kind: str,
                      data: dict[str, Any], now: datetime) -> None:
    """IncidentHook. Searching is left to the engine (a timer in this transaction), so
    declaring an incident — triage's hot path — only writes one more row."""
    if incident.drill:
        return
    if kind == "created":
        timers.schedule(session, kind=TIMER_SUGGEST, key=f"knownerrors:{incident.id}:suggest",
                        due_at=now, now=now, owner=incident, payload={"incident_id": incident.id})
    elif kind == "resolved":  # the resolution summary is worth finding next time
        timers.schedule(session, kind=TIMER_REINDEX, key=f"knownerrors:{incident.id}:reindex",
                        due_at=now, now=now, owner=incident, payload={"incident_id": incident.id})


def _context(session: Session, incident: Incident) -> tuple[str, frozenset[int],
                                                             dict[str, str]]:
    alerts = session.execute(select(Alert.summary, Alert.labels)
                             .where(Alert.incident_id == incident.id).limit(50)).all()
    labels: dict[str, str] = {}
    for _summary, alert_labels in alerts:
        labels.update(alert_labels or {})
    document = "\n".join([incident.title, incident.description,
                          incident.resolution_summary or "", *(s for s, _ in alerts),
                          *labels.values()])
    services = frozenset(incidents.service_ids_of(session, [incident.id])[incident.id])
    return document, services, labels


def reindex(session: Session, *, incident_id: int) -> None:
    incident = session.get(Incident, incident_id)
    if incident is not None and not incident.drill:
        search.put(session, "incidents", incident.id, _context(session, incident)[0])


def _matches(session: Session, incident: Incident, document: str, services: frozenset[int],
             labels: dict[str, str]) -> list[tuple[str, similarity.Match]]:
    """("problem" | "incident", match), known errors first, each kind best first."""
    return [*(("problem", m) for m in _problem_matches(session, document, services, labels)),
            *(("incident", m) for m in _incident_matches(session, incident, document,
                                                         services, labels))]


@dataclass(frozen=True)
class WorkedOut:
    """What `work_out` found for one incident: its search document and its matches."""

    incident_id: int
    document: str
    found: list[tuple[str, similarity.Match]]


def work_out(session: Session, *, incident_id: int) -> WorkedOut | None:
    """The searching part of `suggest`, reading only: run it on a read-only session, so
    the search never holds the write lock (on SQLite, paging's claims wait behind it)."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.drill:
        return None
    document, services, labels = _context(session, incident)
    return WorkedOut(incident.id, document,
                     _matches(session, incident, document, services, labels))


def record(session: Session, *, worked: WorkedOut, now: datetime) -> int:
    """The writing part of `suggest`: index the incident and record its suggestions (plain
    rows, written together: db/rows.py); returns how many."""
    session.execute(delete(Suggestion).where(Suggestion.incident_id == worked.incident_id))
    ranks: dict[str, int] = {}
    for kind, m in worked.found:
        ranks[kind] = ranks.get(kind, 0) + 1
        rows.add(session, Suggestion, incident_id=worked.incident_id, kind=kind,
                 target_id=m.id, rank=ranks[kind], score=m.score, reasons=list(m.reasons),
                 used=False, used_at=None, created_at=now)
    search.put(session, "incidents", worked.incident_id, worked.document)
    return len(worked.found)


def suggest(session: Session, *, incident_id: int, now: datetime) -> int:
    """Index the new incident and record the known errors and past incidents that look like
    it (the same service and labels, similar title and alert text); returns how many.
    The engine runs the two halves apart (knownerrors/jobs.py)."""
    worked = work_out(session, incident_id=incident_id)
    return 0 if worked is None else record(session, worked=worked, now=now)


@dataclass(frozen=True)
class Preview:
    """A suggestion as a message shows it: what it points at, and a known error's
    workaround."""

    kind: str  # "problem" or "incident"
    target_id: int
    title: str
    workaround: str | None


def preview(session: Session, *, incident_id: int) -> list[Preview]:
    """The suggestions `suggest` would record for the incident, computed read-only (nothing
    indexed or written): what the first page shows when it leaves before the
    `knownerrors.suggest` timer has run."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.drill:
        return []
    document, services, labels = _context(session, incident)
    return _previews(session, [(k, m.id) for k, m in _matches(session, incident, document,
                                                               services, labels)])


def page_suggestions(session: Session, incident_ids: Sequence[int], *, budget: float
                     ) -> dict[int, list[dict[str, str]]]:
    """notify.ports.PageSuggestions: what each incident's first page lists — the recorded
    suggestions once the `knownerrors.suggest` timer has run, else the same ones computed
    now, read-only (the first page usually leaves before that timer runs), as long as
    `budget` seconds have not gone (a storm of new incidents: the rest only link). Up to
    PAGE_KNOWN_ERRORS known errors, then similar incidents, PAGE_SUGGESTIONS in all."""
    until = time.monotonic() + budget
    recorded: dict[int, list[tuple[str, int]]] = {}
    for iid, kind, target in session.execute(
            select(Suggestion.incident_id, Suggestion.kind, Suggestion.target_id)
            .where(Suggestion.incident_id.in_(list(incident_ids)))
            .order_by(Suggestion.incident_id, Suggestion.id)):
        recorded.setdefault(iid, []).append((kind, target))
    out: dict[int, list[dict[str, str]]] = {}
    for iid in incident_ids:
        if iid in recorded:
            found = _previews(session, recorded[iid])
        elif time.monotonic() < until:
            found = preview(session, incident_id=iid)
        else:
            continue
        problems = [p for p in found if p.kind == "problem"][:PAGE_KNOWN_ERRORS]
        past = [p for p in found if p.kind == "incident"]
        shown = [*problems, *past][:PAGE_SUGGESTIONS]
        if shown:
            out[iid] = [_page_line(p) for p in shown]
    return out


def _page_line(p: Preview) -> dict[str, str]:
    if p.kind == "problem":
        first = next((line.strip() for line in (p.workaround or "").splitlines()
                      if line.strip()), "")
        return {"kind": "known error", "title": p.title, "detail": first[:300], "path": ""}
    return {"kind": "similar incident", "title": p.title, "detail": "",
            "path": f"/incidents/{p.target_id}"}


def _previews(session: Session, targets: list[tuple[str, int]]) -> list[Preview]:
    problem_ids = [i for k, i in targets if k == "problem"]
    incident_ids = [i for k, i in targets if k == "incident"]
    problems = {i: (t, w) for i, t, w in session.execute(
        select(Problem.id, Problem.title, Problem.workaround).where(
            Problem.id.in_(problem_ids)))} if problem_ids else {}
    # A past incident restricted (or found to be a drill) after it was recorded is no
    # longer shown: a message lists suggestions to everyone who sees the new incident.
    past = {i: t for i, t in session.execute(select(Incident.id, Incident.title).where(
        Incident.id.in_(incident_ids), not_drill(), Incident.restricted.is_(False)))
    } if incident_ids else {}
    out = []
    for kind, i in targets:
        if kind == "problem" and i in problems:
            out.append(Preview(kind, i, problems[i][0], problems[i][1]))
        elif kind == "incident" and i in past:
            out.append(Preview(kind, i, f"INC-{i}: {past[i]}", None))
    return out


def _problem_matches(session: Session, document: str, services: frozenset[int],
                     labels: dict[str, str]) -> list[similarity.Match]:
    scores = dict(search.find(session, "problems", document, limit=CANDIDATES))
    query = select(Problem).where(Problem.fix_status != FixStatus.FIXED.value)
    pool = {p.id: p for p in session.scalars(query.where(Problem.id.in_(list(scores))))}
    if services:  # same service, whatever the words
        pool.update((p.id, p) for p in session.scalars(
            query.where(Problem.service_id.in_(sorted(services))).limit(CANDIDATES)))
    candidates = [similarity.Candidate(
        id=p.id, text_score=scores.get(p.id, 0.0),
        services=frozenset([p.service_id]) if p.service_id else frozenset(),
        matchers=p.labels) for p in pool.values()]
    return similarity.rank(services=services, labels=labels, candidates=candidates,
                           limit=SUGGEST_PROBLEMS)


def _incident_matches(session: Session, incident: Incident, document: str,
                      services: frozenset[int], labels: dict[str, str]
                      ) -> list[similarity.Match]:
    found = [(i, s) for i, s in search.find(session, "incidents", document,
                                            limit=CANDIDATES + 1) if i != incident.id]
    ids = [i for i, _ in found]
    # Past, real, unrestricted incidents only: a suggestion is shown to everyone who sees
    # the new incident, so it must not reveal a restricted one.
    service_map: dict[int, set[int]] = {}
    for iid, sid in session.execute(
            select(Incident.id, IncidentService.service_id)
            .outerjoin(IncidentService, IncidentService.incident_id == Incident.id)
            .where(Incident.id.in_(ids), not_drill(), Incident.restricted.is_(False))):
        service_map.setdefault(iid, set()).update([sid] if sid is not None else [])
    kept = set(service_map)
    label_map: dict[int, dict[str, str]] = {}
    for of, alert_labels in session.execute(select(Alert.incident_id, Alert.labels).where(
            Alert.incident_id.in_(sorted(kept)))):
        if of is not None:
            label_map.setdefault(of, {}).update(alert_labels or {})
    candidates = [similarity.Candidate(id=i, text_score=s,
                                       services=frozenset(service_map.get(i, [])),
                                       labels=label_map.get(i, {}))
                  for i, s in found if i in kept]
    return similarity.rank(services=services, labels=labels, candidates=candidates,
                           limit=SUGGEST_INCIDENTS)


def suggestions_of(session: Session, *, incident_id: int, viewer: Principal
                   ) -> list[tuple[Suggestion, str, str | None]]:
    """(suggestion, title of what it points at, workaround of a known error)."""
    incidents.get_visible(session, incident_id=incident_id, viewer=viewer)
    out: list[tuple[Suggestion, str, str | None]] = []
    for s in session.scalars(select(Suggestion).where(Suggestion.incident_id == incident_id)
                             .order_by(Suggestion.id)):
        if s.kind == "problem":
            p = session.get(Problem, s.target_id)
            if p is not None:
                out.append((s, p.title, p.workaround))
        else:
            past = session.get(Incident, s.target_id)
            if past is not None:
                out.append((s, f"{past.number}: {past.title}", None))
    return out


def use(session: Session, *, suggestion_id: int, viewer: Principal, now: datetime
        ) -> Suggestion:
    """Record that responders used a suggestion; using a known error also links the
    incident to it as a recurrence."""
    s = session.get(Suggestion, suggestion_id)
    if s is None:
        raise NotFound(f"suggestion {suggestion_id} does not exist")
    incidents.get_visible(session, incident_id=s.incident_id, viewer=viewer)
    if not s.used:
        s.used, s.used_at = True, now
    if s.kind == "problem" and session.get(Problem, s.target_id) is not None:
        link(session, problem=get_problem(session, s.target_id), incident_id=s.incident_id,
             viewer=viewer, now=now)
    return s
