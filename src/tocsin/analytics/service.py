"""Metrics operations: load facts through queries.py, decide with the pure modules."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.analytics import collector, digest, measures, oncall_health, queries
from tocsin.analytics import targets as tg
from tocsin.analytics.models import ResponseTarget
from tocsin.analytics.schemas import (
    ComplianceOut,
    ComplianceReport,
    HealthOut,
    IncidentMetricsOut,
    IncidentTargetsOut,
    MissOut,
    OnCallOut,
    SpreadOut,
    SummaryOut,
    TargetIn,
    TargetOut,
    TargetsOut,
)
from tocsin.db import rows
from tocsin.errors import Invalid
from tocsin.incidents import service as incidents
from tocsin.notify import service as notify
from tocsin.principal import Principal, Role

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366


def window(*, now: datetime, since: datetime | None, until: datetime | None,
           days: int | None = None) -> tuple[datetime, datetime]:
    """[since, until): by default the last DEFAULT_DAYS up to now, now included."""
    end = until or now + timedelta(microseconds=1)
    start = since or end - timedelta(days=days or DEFAULT_DAYS)
    if start >= end:
        raise Invalid("since: must be before until")
    if end - start > timedelta(days=MAX_DAYS):
        raise Invalid(f"since: a report covers at most {MAX_DAYS} days")
    return start, end


def request_window(*, now: datetime, since: datetime | None, until: datetime | None
                   ) -> tuple[datetime, datetime]:
    """`window` of an API request's since/until, which must carry their offsets."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name}: give a time zone offset (e.g. Z)")
    return window(now=now, since=since, until=until)


def check_severities(values: list[str] | None) -> list[str] | None:
    bad = [v for v in values or [] if v not in tg.SEVERITIES]
    if bad:
        raise Invalid(f"severity: one of {', '.join(tg.SEVERITIES)}")
    return values or None


def check_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise Invalid(f"tz: unknown time zone {zone!r}") from e
    return zone


# ---- targets ------------------------------------------------------------------------------

def targets(session: Session) -> dict[str, tg.Target]:
    current = dict(tg.DEFAULT_TARGETS)
    for r in session.scalars(select(ResponseTarget)):
        current[r.severity] = tg.Target(r.severity, r.ack_minutes, r.update_minutes,
                                        r.resolve_minutes)
    return current


def targets_out(session: Session) -> TargetsOut:
    edited = set(session.scalars(select(ResponseTarget.severity)))
    return TargetsOut(targets=[
        TargetOut(severity=t.severity, ack_minutes=t.ack_minutes,
                  update_minutes=t.update_minutes, resolve_minutes=t.resolve_minutes,
                  default=t.severity not in edited) for t in targets(session).values()])


def set_target(session: Session, *, severity: str, data: TargetIn, actor: Principal,
               now: datetime) -> None:
    actor.require(Role.ADMIN)
    if severity not in tg.SEVERITIES:
        raise Invalid(f"severity: one of {', '.join(tg.SEVERITIES)}")
    row = session.get(ResponseTarget, severity)
    if row is None:
        rows.add_object(session, ResponseTarget, severity=severity, updated_at=now,
                        updated_by_id=actor.user_id, **data.model_dump())
        return
    for name, value in data.model_dump().items():
        setattr(row, name, value)
    row.updated_at, row.updated_by_id = now, actor.user_id


def reset_target(session: Session, *, severity: str, actor: Principal) -> None:
    actor.require(Role.ADMIN)
    row = session.get(ResponseTarget, severity)
    if row is not None:
        session.delete(row)


def incident_targets(session: Session, *, incident_id: int, viewer: Principal,
                     now: datetime) -> IncidentTargetsOut:
    """One incident's verdicts; 'not found' when `viewer` may not see it."""
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=viewer)
    found = queries.load_facts(session, since=None, until=None, viewer=viewer,
                               incident_ids=[incident.id])
    if not found:  # left out of the metrics (a drill): judged against nothing
        return IncidentTargetsOut(incident_id=incident.id, severity=incident.severity,
                                  ack="none", update="none", resolve="none", ack_deadline=None,
                                  update_deadline=None, resolve_deadline=None)
    target = targets(session).get(incident.severity) or tg.Target(incident.severity, None, None,
                                                                  None)
    v = tg.verdicts(found[0], {incident.severity: target}, now=now)

    def deadline(measure: str) -> datetime | None:
        minutes = target.minutes(measure)
        return None if minutes is None else incident.created_at + timedelta(minutes=minutes)

    return IncidentTargetsOut(
        incident_id=incident.id, severity=incident.severity, ack=v["ack"].value,
        update=v["update"].value, resolve=v["resolve"].value, ack_deadline=deadline("ack"),
        update_deadline=deadline("update"), resolve_deadline=deadline("resolve"))


# ---- incident metrics ---------------------------------------------------------------------

def facts(session: Session, *, viewer: Principal, since: datetime, until: datetime,
          severities: list[str] | None = None, service_id: int | None = None,
          team_id: int | None = None) -> list[measures.Facts]:
    """The counted incidents created in [since, until), reduced (the stored summary): for
    features above that measure along the same incidents (postmortems' completion)."""
    return queries.load_facts(session, since=since, until=until, viewer=viewer,
                              severities=severities, service_id=service_id, team_id=team_id)


def group_keys(session: Session, *, by: str, period: str, zone: str) -> measures.Keys:
    """How facts fall into the groups of `by`, named as the metrics name them."""
    return measures.keys_by(by, period=period, zone=check_zone(zone),
                            names=queries.names(session, by))


def _spread(s: measures.Spread) -> SpreadOut:
    return SpreadOut(n=s.n, mean=s.mean, median=s.median, p90=s.p90)


def summary_out(s: measures.Summary) -> SummaryOut:
    return SummaryOut(group=s.group, incidents=s.incidents, mttd=_spread(s.mttd),
                      mtta=_spread(s.mtta), mttr=_spread(s.mttr), mtbf=_spread(s.mtbf),
                      unacknowledged=s.unacknowledged, unresolved=s.unresolved,
                      escalation_rate=s.escalation_rate, recurrence_rate=s.recurrence_rate,
                      customer_share=s.customer_share, monitor_share=s.monitor_share)


@collector.paused()
def incident_metrics(session: Session, *, viewer: Principal, since: datetime, until: datetime,
                     by: str, period: str, zone: str, severities: list[str] | None = None,
                     service_id: int | None = None, team_id: int | None = None,
                     facts: list[measures.Facts] | None = None) -> IncidentMetricsOut:
    """Figures count every counted incident, restricted ones included: a figure is a count
    or a duration over a group, never an incident's title, number or people."""
    if facts is None:
        facts = queries.load_facts(session, since=since, until=until, viewer=viewer,
                                   severities=severities, service_id=service_id,
                                   team_id=team_id)
    keys = measures.keys_by(by, period=period, zone=check_zone(zone),
                            names=queries.names(session, by))
    return IncidentMetricsOut(since=since, until=until, by=by,
                              period=period, time_zone=zone,
                              rows=[summary_out(s) for s in measures.summaries(facts, keys)])


@collector.paused()
def compliance(session: Session, *, viewer: Principal, since: datetime, until: datetime,
               period: str, zone: str, now: datetime, severities: list[str] | None = None,
               service_id: int | None = None, team_id: int | None = None,
               facts: list[measures.Facts] | None = None,
               missed_limit: int | None = None) -> ComplianceReport:
    """Compliance per period, and the incidents that missed a target, latest first: all of
    them, or the latest `missed_limit` (a page showing a few; every one is counted)."""
    if facts is None:
        facts = queries.load_facts(session, since=since, until=until, viewer=viewer,
                                   severities=severities, service_id=service_id,
                                   team_id=team_id)
    current = targets(session)
    keys = measures.keys_by("period", period=period, zone=check_zone(zone))
    groups = keys.groups(facts)
    tallies = [tg.tally(k, groups[k], current, now=now) for k in sorted(groups)]
    out = [ComplianceOut(group=c.group, measure=c.measure,
                         met=c.met, missed=c.missed, pending=c.pending, rate=c.rate)
           for t in tallies for c in t.compliance]
    late: list[tuple[measures.Facts, tuple[str, ...]]] = []
    hidden = 0
    for t in tallies:  # (each incident is in one period: listed once)
        for f, steps in t.late:
            if f.visible:
                late.append((f, steps))
            else:
                hidden += 1
    late.sort(key=lambda fs: fs[0].created_at, reverse=True)
    missed = [MissOut(incident_id=f.id, number=f"INC-{f.id}", severity=f.severity,
                      created_at=f.created_at, measures=list(steps))
              for f, steps in late[:missed_limit]]
    return ComplianceReport(since=since, until=until, period=period, rows=out,
                            missed=missed, missed_count=len(late), missed_hidden=hidden)


# ---- on-call health -----------------------------------------------------------------------

@collector.paused()
def oncall(session: Session, *, since: datetime, until: datetime, team_id: int | None,
           zone: str, per_shift_limit: int) -> OnCallOut:
    members = queries.team_member_ids(session, team_id) if team_id is not None else None
    people = queries.people(session, members)
    pages = queries.load_pages(session, since=since, until=until,
                               user_ids=[p.user_id for p in people])
    pages = oncall_health.collapse(pages)  # once, for the three figures below
    found = oncall_health.health(pages, people, per_shift_limit=per_shift_limit,
                                 collapsed=True)
    return OnCallOut(
        since=since, until=until, team_id=team_id, per_shift_limit=per_shift_limit,
        fairness=oncall_health.fairness([h.pages for h in found]),
        people=[HealthOut(**asdict(h), warning=h.warning) for h in found],
        heat_map=oncall_health.heat_map(pages, check_zone(zone), collapsed=True),
        heat_map_time_zone=zone, by_channel=oncall_health.by_channel(pages))


# ---- weekly digest ------------------------------------------------------------------------

DIGEST_KINDS = frozenset({"email"})


@collector.paused()
def team_digest(session: Session, *, team_id: int, team: str, since: datetime,
                until: datetime, recipient: Principal, now: datetime, base_url: str,
                per_shift_limit: int) -> tuple[str, str]:
    """One team's digest as `recipient` may read it (restricted incidents they may not see
    are counted, never named)."""
    facts = queries.load_facts(session, since=since, until=until, viewer=recipient,
                               team_id=team_id)
    current = targets(session)
    members = queries.people(session, queries.team_member_ids(session, team_id))
    pages = queries.load_pages(session, since=since, until=until,
                               user_ids=[p.user_id for p in members])
    judged = tg.tally("all", facts, current, now=now)
    late = [f for f, steps in judged.late if "ack" in steps]
    return digest.digest_text(
        team=team, since=since, until=until,
        by_severity=measures.summaries(facts, measures.keys_by("severity")),
        overall=measures.summarise("all", facts),
        compliance=judged.compliance,
        health=oncall_health.health(pages, members, per_shift_limit=per_shift_limit),
        missed_ack=[f"INC-{f.id}" for f in late if f.visible],
        missed_hidden=sum(1 for f in late if not f.visible), url=base_url)


def send_digests(session: Session, *, now: datetime, base_url: str,
                 per_shift_limit: int) -> int:
    """Every team member's digest of the last 7 days, by email through the outbox. The
    outbox key names the team, the ISO week and the person, so running this again in the
    same week sends nothing twice."""
    until = now
    since = now - timedelta(days=7)
    year, week, _ = now.isocalendar()
    made = 0
    for team_id, team in queries.teams(session):
        week_key = f"digest:t{team_id}:{year}-W{week:02d}:"
        if queries.outbox_has(session, week_key):
            continue  # this team's digest went out this week: nothing to compute
        for member in queries.people(session, queries.team_member_ids(session, team_id)):
            role = queries.role_of(session, member.user_id)
            subject, text = team_digest(
                session, team_id=team_id, team=team, since=since, until=until,
                recipient=Principal(user_id=member.user_id, role=role), now=now,
                base_url=base_url, per_shift_limit=per_shift_limit)
            made += notify.send_briefing(
                session, user_id=member.user_id, now=now, subject=subject, text=text,
                key=f"{week_key}u{member.user_id}",
                kinds=DIGEST_KINDS)
    return made
