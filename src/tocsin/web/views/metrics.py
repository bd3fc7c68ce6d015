"""The metrics page (charts with a table under each, filters, CSV/JSON export), the quarterly
review (one printable page), and one-click silence/retire for noisy alert sources."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import manage, stats, suppress
from tocsin.alerts.models import RoutingRule, Silence
from tocsin.alerts.schemas import IntegrationUpdate, Matcher, SilenceIn
from tocsin.analytics import collector, digest, queries, summary
from tocsin.analytics import service as analytics
from tocsin.analytics.schemas import SummaryOut
from tocsin.analytics.targets import SEVERITIES
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.db.beside import read_beside
from tocsin.errors import Invalid
from tocsin.limits import Id
from tocsin.postmortems import service as postmortems
from tocsin.runtime import Runtime
from tocsin.web import chart
from tocsin.web import queries as web_queries
from tocsin.web.auth import AdminUser, Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
PERIODS = ("week", "month", "quarter")
# One-click silence of a noisy rule: how long, in hours (the first is the default).
SILENCE_HOURS = (24, 1, 4, 72, 168)
MISSED_SHOWN = 50  # incidents listed under "missed a target" (the CSV export has them all)
SEV_CSS = {"SEV1": "bar-sev1", "SEV2": "bar-sev2", "SEV3": "bar-sev3", "SEV4": "bar-sev4"}


@dataclass(frozen=True)
class Filters:
    since: datetime
    until: datetime
    period: str
    severity: str | None
    service_id: int | None
    team_id: int | None
    zone: str

    def query(self, **extra: str) -> str:
        values = {"since": self.since.isoformat(), "until": self.until.isoformat(),
                  "period": self.period, "tz": self.zone, **extra}
        for name, value in (("severity", self.severity), ("service_id", self.service_id),
                            ("team_id", self.team_id)):
            if value is not None:
                values[name] = str(value)
        return urlencode(values)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _day(value: str | None, zone: str) -> datetime | None:
    try:
        return (datetime.combine(date.fromisoformat(value[:10]), datetime.min.time(),
                                 ZoneInfo(zone)).astimezone(UTC) if value else None)
    except ValueError:
        return None


def filters_of(request: Request, rt: Runtime, who: WebUser) -> Filters:
    q = request.query_params
    zone = q.get("tz") or who.user.time_zone
    try:
        analytics.check_zone(zone)
    except Invalid:
        zone = "UTC"
    now = rt.clock.now()
    until = _day(q.get("until"), zone)
    until = until + timedelta(days=1) if until else None  # the last day is included
    since = _day(q.get("since"), zone)
    try:
        since, until = analytics.window(now=now, since=since, until=until)
    except Invalid:
        since, until = analytics.window(now=now, since=None, until=None)
    period = q.get("period") if q.get("period") in PERIODS else "week"
    severity = q.get("severity") if q.get("severity") in SEVERITIES else None
    return Filters(since, until, period or "week", severity, _int(q.get("service_id")),
                   _int(q.get("team_id")), zone)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


@collector.paused()  # (analytics/collector.py: the page is many answers)
def metrics_context(session: Session, rt: Runtime, who: WebUser, f: Filters, *,
                    by_team: bool = False) -> dict[str, Any]:
    """Everything the metrics page shows for `f`; `by_team`: the figures per team too (the
    quarterly review), from the same incidents."""
    now = rt.clock.now()
    # The stored summary built first if it has to be (once, after its migration), so the
    # part read beside does not build it at the same time.
    summary.ensure_built(session)
    # The alert-noise part is mostly database time in a few statements that return a few
    # rows: it runs beside the rest, in its own read session (db/beside.py). The on-call
    # part stays here: it reads thousands of rows, and a thread fetching rows one by one
    # waits for the interpreter lock at each (measured: its read took 4-5 times longer
    # beside the page's computing than alone, more than the overlap gained).
    noise_part = read_beside(rt.read_sessions, lambda s: stats.noise_report(
        s, now=now, days=30, viewer=who.principal))
    oncall = analytics.oncall(session, since=f.since, until=f.until, team_id=f.team_id,
                              zone=f.zone,
                              per_shift_limit=rt.settings.analytics_pages_per_shift)
    facts = queries.load_facts(session, since=f.since, until=f.until, viewer=who.principal,
                               severities=[f.severity] if f.severity else None,
                               service_id=f.service_id, team_id=f.team_id)
    common: dict[str, Any] = {"since": f.since, "until": f.until, "period": f.period,
                              "zone": f.zone, "facts": facts}
    by_period = analytics.incident_metrics(session, viewer=who.principal, by="period",
                                           **common).rows
    by_severity = {r.group: r for r in analytics.incident_metrics(
        session, viewer=who.principal, by="severity", **common).rows}
    severities = [by_severity.get(s) or _empty(s) for s in SEVERITIES]
    by_service = analytics.incident_metrics(session, viewer=who.principal, by="service",
                                            **common).rows
    compliance = analytics.compliance(session, viewer=who.principal, now=now,
                                      missed_limit=MISSED_SHOWN, **common)
    members = (queries.team_member_ids(session, f.team_id) if f.team_id is not None else None)
    labels = [r.group for r in by_period]
    completion = {by: report.rows for by, report in postmortems.completion_reports(
        session, viewer=who.principal, by=("period", "severity"), now=now,
        settings=rt.settings, **common).items()}
    teams = (analytics.incident_metrics(session, viewer=who.principal, by="team",
                                        **common).rows if by_team else None)
    noise = noise_part.result()
    return {
        "f": f, "by_period": by_period, "by_team": teams, "severities": severities, "by_service": by_service,
        "compliance": compliance, "oncall": oncall, "team_filtered": members is not None,
        "mtta_chart": chart.trend_chart(labels, [
            ("median", "series-p50", [_minutes(r.mtta.median) for r in by_period]),
            ("p90", "series-max", [_minutes(r.mtta.p90) for r in by_period])], unit="min"),
        "mttr_chart": chart.trend_chart(labels, [
            ("median", "series-p50", [_minutes(r.mttr.median) for r in by_period]),
            ("p90", "series-max", [_minutes(r.mttr.p90) for r in by_period])], unit="min"),
        "severity_chart": chart.bar_chart([(s.group, s.incidents, SEV_CSS[s.group])
                                           for s in severities]),
        "heat_chart": chart.heat_map(oncall.heat_map),
        "noise": noise, "silenceable": _silenceable(session, [r.id for r in noise.rules]),
        "silence_hours": SILENCE_HOURS, "completion": completion,
        "required_severities": rt.settings.postmortem_required_severities,
        "services": web_queries.service_choices(session), "teams": queries.teams(session),
        "periods": PERIODS, "sev_levels": SEVERITIES, "targets": analytics.targets_out(session).targets,
        "duration": digest.duration, "query": f.query(),
    }


def _silenceable(session: Session, rule_ids: list[int | None]) -> set[int]:
    """The rules whose conditions a silence can match exactly (suppress.silence_for_rule)."""
    wanted = [i for i in rule_ids if i is not None]
    if not wanted:
        return set()
    return {rid for rid, conditions in session.execute(
        select(RoutingRule.id, RoutingRule.conditions).where(RoutingRule.id.in_(wanted)))
        if suppress.silence_for_rule(conditions or []) is not None}


def _empty(severity: str) -> SummaryOut:
    empty = {"n": 0, "mean": None, "median": None, "p90": None}
    return SummaryOut(group=severity, incidents=0, mttd=empty, mtta=empty,
                      mttr=empty, mtbf=empty, unacknowledged=0,
                      unresolved=0, escalation_rate=None, recurrence_rate=None,
                      customer_share=None, monitor_share=None)


@router.get("/analytics")
def metrics_page(request: Request, session: SessionDep, rt: RuntimeDep,
                 who: ViewerUser) -> Response:
    f = filters_of(request, rt, who)
    return pages_of(request).render(request, "metrics/page.html", who,
                                    silenced=_just_silenced(session, rt, request),
                                    **metrics_context(session, rt, who, f))


def _just_silenced(session: Session, rt: Runtime, request: Request) -> Silence | None:
    """The silence a one-click silence just made (`?silenced=<id>`), while it still runs:
    the notice offers to undo it."""
    found = _int(request.query_params.get("silenced"))
    silence = session.get(Silence, found) if found is not None else None
    return silence if silence is not None and silence.ends_at > rt.clock.now() else None


def quarter_of(label: str | None, now: datetime, zone: str) -> tuple[str, datetime, datetime]:
    """('2026-Q4', start, end) of the quarter named, or of the last full one before now;
    quarters are cut in `zone`."""
    tz = ZoneInfo(zone)
    found = re.fullmatch(r"(\d{4})-Q([1-4])", label or "")
    if found:
        year, q = int(found[1]), int(found[2])
    else:
        local = now.astimezone(tz)
        year, q = local.year, (local.month - 1) // 3  # the quarter before the current one
        year, q = (year - 1, 4) if q == 0 else (year, q)
    start = datetime(year, 3 * q - 2, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz) if q == 4 else datetime(year, 3 * q + 1, 1,
                                                                       tzinfo=tz)
    return f"{year}-Q{q}", start.astimezone(UTC), end.astimezone(UTC)


def quarter_before(label: str) -> str:
    year, q = int(label[:4]), int(label[-1])
    return f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"


@router.get("/analytics/review")
def quarterly_review(request: Request, session: SessionDep, rt: RuntimeDep,
                     who: ViewerUser) -> Response:
    zone = who.user.time_zone
    label, start, end = quarter_of(request.query_params.get("quarter"), rt.clock.now(), zone)
    f = Filters(start, end, "month", None, None, None, zone)
    context = metrics_context(session, rt, who, f, by_team=True)
    return pages_of(request).render(request, "metrics/review.html", who, quarter=label,
                                    previous=quarter_before(label), **context)


@router.post("/analytics/noise/rules/{rule_id}/retire")
def retire_rule(request: Request, rule_id: Id, session: SessionDep, who: AdminUser,
                form: Form) -> Response:
    rule = manage.get_rule(session, rule_id)
    manage.set_rule_enabled(session, rule=rule, enabled=False)
    session.commit()
    return redirect("/analytics#noise-h", flash=f"Rule {rule.name} retired (disabled); "
                    "bring it back from Routing.")


@router.post("/analytics/noise/rules/{rule_id}/silence")
def silence_rule(request: Request, rule_id: Id, session: SessionDep, rt: RuntimeDep,
                 who: ResponderUser, form: Form) -> Response:
    """One click: a silence of exactly the rule's alerts (its label conditions as matchers)
    from now for the chosen hours; who may add a silence may do this."""
    rule = manage.get_rule(session, rule_id)
    matchers = suppress.silence_for_rule(rule.conditions or [])
    if matchers is None:
        return redirect("/suppression#silence", flash=f"Rule {rule.name} matches more than "
                        "labels: write its silence by hand.")
    chosen = form.get("hours")
    hours = int(chosen) if isinstance(chosen, str) and chosen.isdigit() and \
        int(chosen) in SILENCE_HOURS else SILENCE_HOURS[0]
    now = rt.clock.now()
    silence = manage.create_silence(session, data=SilenceIn(
        matchers=[Matcher(**m) for m in matchers], ends_at=now + timedelta(hours=hours),
        comment=f"Rule {rule.name} silenced for {hours} h from the alert-noise view"),
        author_id=who.user.id, now=now)
    session.commit()
    return redirect(f"/analytics?silenced={silence.id}#noise-h",
                    flash=f"Rule {rule.name} silenced for {hours} h: its alerts page no one.")


@router.post("/analytics/noise/silences/{silence_id}/undo")
def undo_silence(request: Request, silence_id: Id, session: SessionDep, rt: RuntimeDep,
                 who: ResponderUser, form: Form) -> Response:
    manage.expire_silence(session, silence_id=silence_id, now=rt.clock.now())
    session.commit()
    return redirect("/analytics#noise-h", flash="Silence undone: the rule pages again.")


@router.post("/analytics/noise/integrations/{integration_id}/disable")
def disable_integration(request: Request, integration_id: Id, session: SessionDep,
                        who: AdminUser, form: Form) -> Response:
    integration = manage.get_integration(session, integration_id)
    manage.update_integration(session, integration=integration,
                              data=IntegrationUpdate(enabled=False))
    session.commit()
    return redirect("/analytics#noise-h", flash=f"Integration {integration.name} disabled: "
                    "its alerts are refused until it is enabled again.")
