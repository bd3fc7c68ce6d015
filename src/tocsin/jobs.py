"""The one explicit, ordered list of engine jobs and of timer handlers.

Adding a feature that needs periodic work or timers means adding lines here; nothing is
discovered by import side effects.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from tocsin.analytics import jobs as analytics_jobs
from tocsin.api.models import IdempotencyRecord
from tocsin.audit import jobs as audit_jobs
from tocsin.chatops import jobs as chatops_jobs
from tocsin.chatops import socket as chatops_socket
from tocsin.checks import jobs as checks_jobs
from tocsin.checks import service as checks_service
from tocsin.engine.models import Timer, TimerStatus
from tocsin.engine.timers import TimerContext, TimerHandler, fire_due, seconds_to_next
from tocsin.engine.worker import Job, JobContext
from tocsin.escalation import jobs as escalation_jobs
from tocsin.escalation.service import TIMER_STEP as ESCALATION_STEP
from tocsin.heartbeats import jobs as heartbeats_jobs
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.intake import jobs as intake_jobs
from tocsin.knownerrors import jobs as knownerrors_jobs
from tocsin.knownerrors import service as knownerrors
from tocsin.notify import jobs as notify_jobs
from tocsin.notify.delivery import delivery_wake
from tocsin.postmortems import actions as action_items
from tocsin.postmortems import jobs as postmortems_jobs
from tocsin.postmortems import service as postmortems
from tocsin.runbooks import service as runbooks
from tocsin.schedules import jobs as schedules_jobs
from tocsin.schedules.handoff import TIMER_HANDOFF
from tocsin.security import service as security
from tocsin.stakeholders import jobs as stakeholders_jobs
from tocsin.stakeholders import service as stakeholders_service
from tocsin.statuspages import jobs as statuspages_jobs
from tocsin.statuspages import service as statuspages
from tocsin.web import jobs as web_jobs
from tocsin.webhooks import jobs as webhooks_jobs

DONE_TIMER_RETENTION = timedelta(days=7)
# Delivery, with the known errors and similar incidents each incident's first page lists
# (learning is above notify: handed in here).
DELIVER = notify_jobs.Deliver(suggestions=knownerrors.page_suggestions)
DELIVERY_JOB = "notify.deliver"
IDEMPOTENCY_RETENTION = timedelta(hours=24)


def _incident_update_due(ctx: TimerContext) -> None:
    incidents.on_update_due(ctx.session, incident_id=int(ctx.timer.payload["incident_id"]),
                            now=ctx.now, settings=ctx.settings)


def _incident_recovery_end(ctx: TimerContext) -> None:
    incidents.on_recovery_watch_end(ctx.session,
                                    incident_id=int(ctx.timer.payload["incident_id"]),
                                    now=ctx.now)


def _postmortem_draft(ctx: TimerContext) -> None:
    postmortems.draft_due(ctx.session, incident_id=int(ctx.timer.payload["incident_id"]),
                          now=ctx.now, settings=ctx.settings)


def _postmortem_reminder(ctx: TimerContext) -> None:
    postmortems.on_reminder(ctx.session, postmortem_id=int(ctx.timer.payload["postmortem_id"]),
                            now=ctx.now, settings=ctx.settings)


def _action_item_reminder(ctx: TimerContext) -> None:
    action_items.on_reminder(ctx.session, item_id=int(ctx.timer.payload["action_item_id"]),
                             now=ctx.now, settings=ctx.settings)


def _runbook_review(ctx: TimerContext) -> None:
    runbooks.on_review_due(ctx.session, runbook_id=int(ctx.timer.payload["runbook_id"]),
                           now=ctx.now)


TIMER_HANDLERS: dict[str, TimerHandler] = {
    incidents.TIMER_UPDATE_DUE: _incident_update_due,
    incidents.TIMER_RECOVERY_END: _incident_recovery_end,
    ESCALATION_STEP: escalation_jobs.step,
    TIMER_HANDOFF: schedules_jobs.handoff_due,
    checks_service.TIMER_RUN_NOW: checks_service.run_request_lapsed,
    postmortems.TIMER_DRAFT: _postmortem_draft,
    postmortems.TIMER_REMINDER: _postmortem_reminder,
    action_items.TIMER_REMINDER: _action_item_reminder,
    runbooks.TIMER_REVIEW: _runbook_review,
}
TIMER_HANDLERS[stakeholders_service.TIMER_REMIND] = stakeholders_jobs.remind
TIMER_HANDLERS[stakeholders_service.TIMER_MISSED] = stakeholders_jobs.missed
TIMER_HANDLERS[security.TIMER_REMIND] = lambda ctx: security.remind(
    ctx.session, clock_id=int(ctx.timer.payload["clock_id"]), now=ctx.now, settings=ctx.settings)


def run_timers(ctx: JobContext) -> int:
    rt = ctx.runtime
    metrics = rt.metrics

    def observe(timer: Timer, outcome: str, lateness: float) -> None:
        metrics.timers_fired.labels(timer.kind, outcome).inc()
        metrics.timer_lateness.observe(lateness)

    now = rt.clock.now()
    # Peek with a read-only snapshot first: the worker runs this job at every wake (each
    # committed intake batch), and on SQLite a claim takes the only write lock.
    with rt.read_sessions() as session:
        ahead = seconds_to_next(session, now, skip_kinds=knownerrors_jobs.BACKGROUND_TIMERS)
    if ahead is None or ahead > 0:
        return 0
    with rt.sessions() as session, session.begin():
        result = fire_due(session, now=now, handlers=ctx.handlers,
                          settings=rt.settings, worker_id=ctx.worker_id,
                          limit=rt.settings.worker_batch_size, on_fired=observe,
                          skip_kinds=knownerrors_jobs.BACKGROUND_TIMERS)
    return result.fired + result.failed


def refresh_gauges(ctx: JobContext) -> int:
    rt = ctx.runtime
    with rt.sessions() as session:
        rows = session.execute(
            select(Incident.severity, func.count())
            .where(Incident.status.in_([s.value for s in lc.OPEN_STATUSES]))
            .group_by(Incident.severity)).all()
    counts = {severity: n for severity, n in rows}
    for sev in lc.Severity:
        rt.metrics.incidents_open.labels(sev.value).set(counts.get(sev.value, 0))
    return 0


def cleanup(ctx: JobContext) -> int:
    rt = ctx.runtime
    now = rt.clock.now()
    with rt.sessions() as session, session.begin():
        timers = session.execute(delete(Timer).where(
            Timer.status.in_([TimerStatus.DONE.value, TimerStatus.CANCELLED.value]),
            Timer.created_at < now - DONE_TIMER_RETENTION))
        idem = session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < now - IDEMPOTENCY_RETENTION))
    return int(timers.rowcount or 0) + int(idem.rowcount or 0)  # type: ignore[attr-defined]


JOBS: list[Job] = [
    # First: new alerts become incidents (and their pages) before timers and delivery run.
    Job("intake.process", intake_jobs.process),
    Job("timers", run_timers),
    Job(DELIVERY_JOB, DELIVER, lane=delivery_wake, finish=DELIVER.finish),
    # Suggestions search on a snapshot, then write briefly (knownerrors/jobs.py).
    Job("knownerrors.suggest", knownerrors_jobs.suggest_due),
    Job("gauges", refresh_gauges, every=15),
    Job("cleanup", cleanup, every=3600),
    Job("notify.retention", notify_jobs.retention, every=3600),
]
# Detection (checks, heartbeats, probes): see checks/jobs.py for why the runner is a thread.
JOBS += [
    Job("checks.runner", checks_jobs.RunnerSupervisor(), every=5),
    Job("checks.probe_liveness", checks_jobs.probe_liveness, every=5),
    Job("heartbeats.late", heartbeats_jobs.heartbeats_late, every=2),
    Job("checks.rollup", checks_jobs.check_rollups, every=60),
    Job("checks.retention", checks_jobs.check_retention, every=3600),
]
JOBS += [Job("web.purge_sessions", web_jobs.purge_sessions, every=3600)]
JOBS += [Job("intake.housekeeping", intake_jobs.housekeeping, every=5)]
JOBS.append(Job("webhooks.deliver", webhooks_jobs.deliver, every=1))
JOBS += [Job("analytics.weekly_digest", analytics_jobs.weekly_digest, every=3600)]
JOBS.append(Job("postmortems.trackers", postmortems_jobs.sync_with_trackers, every=10))
JOBS.append(Job("statuspages.refresh", statuspages_jobs.refresh, every=2))
# Chat-ops: the chat outbox and Socket Mode, each in its own lane (a chat outage waits there).
# Status pages answer chat's "link" and "resolved" (chatops/ports.py).
JOBS += [Job("chatops.deliver", chatops_jobs.Deliver(statuspages.FOR_CHAT),
             lane=chatops_jobs.chat_wake)]
JOBS += [Job("chatops.socket", chatops_socket.KeepConnected(statuspages.FOR_CHAT),
             lane=chatops_socket.socket_wake,
             finish=chatops_socket.KeepConnected.finish)]
JOBS += [Job("chatops.retention", chatops_jobs.retention, every=3600)]
JOBS.append(Job("audit.retention", audit_jobs.retention, every=24 * 3600))
