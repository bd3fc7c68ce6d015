"""Storing results, confirming status changes and raising alerts — one transaction per batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, tuple_, update
from sqlalchemy.orm import Session

from tocsin.alerts.detection import build_event, raise_alert
from tocsin.alerts.normalized import EventAction
from tocsin.alerts.service import IngestResult
from tocsin.checks import confirm
from tocsin.checks.models import (
    Check,
    CheckLocationState,
    CheckResult,
    CheckStatus,
)
from tocsin.checks.service import offline_probes
from tocsin.settings import Settings


@dataclass(frozen=True)
class Observation:
    check_id: int
    location: str
    at: datetime
    ok: bool
    latency_ms: int | None
    reason: str | None


@dataclass(frozen=True)
class Transition:
    check_id: int
    status: CheckStatus
    alert: IngestResult | None


_RESULTS = cast(Table, CheckResult.__table__)
_STATES = cast(Table, CheckLocationState.__table__)
_CHECKS = cast(Table, Check.__table__)
_UPDATE_STATE = (
    update(_STATES)
    .where(_STATES.c.check_id == bindparam("b_check_id"),
           _STATES.c.location == bindparam("b_location"))
    .values({c: bindparam(f"b_{c}") for c in ("ok", "consecutive", "last_at", "latency_ms",
                                              "reason")}))
_UPDATE_LAST = (update(_CHECKS).where(_CHECKS.c.id == bindparam("b_id"))
                .values(last_checked_at=bindparam("b_at"),
                        last_latency_ms=bindparam("b_latency")))


def check_source(check_id: int) -> str:
    return f"check:{check_id}"


def record(session: Session, observations: Sequence[Observation], *, now: datetime,
           settings: Settings) -> list[Transition]:
    """Store `observations`, advance per-location runs, and apply confirmed status changes.

    Status changes raise (trigger) or resolve the check's alert in the same transaction.
    Written with executemany statements, not one ORM object per row: the runner calls this
    with a thousand results at a time.
    """
    if not observations:
        return []
    # Core statements on the tables, not ORM bulk operations: a third of the cost per row.
    conn = session.connection()
    conn.execute(insert(_RESULTS), [
        {"check_id": o.check_id, "location": o.location, "at": o.at, "ok": o.ok,
         "latency_ms": o.latency_ms, "reason": None if o.ok else o.reason}
        for o in observations])
    keys = list({(o.check_id, o.location) for o in observations})
    states: dict[tuple[int, str], dict[str, Any]] = {}
    for i in range(0, len(keys), 500):
        for cid, loc, ok, n in session.execute(
                select(CheckLocationState.check_id, CheckLocationState.location,
                       CheckLocationState.ok, CheckLocationState.consecutive)
                .where(tuple_(CheckLocationState.check_id,
                              CheckLocationState.location).in_(keys[i:i + 500]))):
            states[(cid, loc)] = {"check_id": cid, "location": loc, "ok": ok, "consecutive": n}
    existing = set(states)
    for o in sorted(observations, key=lambda o: o.at):
        state = states.setdefault((o.check_id, o.location), {
            "check_id": o.check_id, "location": o.location, "ok": o.ok, "consecutive": 0})
        state["consecutive"] = state["consecutive"] + 1 if state["ok"] == o.ok else 1
        state.update(ok=o.ok, last_at=o.at, latency_ms=o.latency_ms,
                     reason=None if o.ok else o.reason)
    updates = [v for k, v in states.items() if k in existing]
    inserts = [v for k, v in states.items() if k not in existing]
    if updates:
        conn.execute(_UPDATE_STATE, [{f"b_{k}": v for k, v in u.items()} for u in updates])
    if inserts:
        conn.execute(insert(_STATES), inserts)
    latest: dict[int, Observation] = {}
    for o in observations:
        if o.check_id not in latest or o.at >= latest[o.check_id].at:
            latest[o.check_id] = o
    statuses = {cid: st for cid, st in session.execute(
        select(Check.id, Check.status).where(Check.id.in_(list(latest))))}
    conn.execute(_UPDATE_LAST, [{"b_id": cid, "b_at": o.at, "b_latency": o.latency_ms}
                                for cid, o in latest.items() if cid in statuses])
    # Only a result that disagrees with the confirmed status can change it.
    agrees = {CheckStatus.UP.value: True, CheckStatus.DOWN.value: False}
    suspects = sorted({o.check_id for o in observations if o.check_id in statuses
                       and agrees.get(statuses[o.check_id]) != o.ok})
    return evaluate(session, suspects, now=now, settings=settings) if suspects else []


def evaluate(session: Session, check_ids: Sequence[int], *, now: datetime,
             settings: Settings) -> list[Transition]:
    """Re-decide the status of `check_ids` from their location states (no new results)."""
    # populate_existing: `record` writes with Core statements, which do not refresh objects
    # this session may already hold.
    checks = {c.id: c for c in session.scalars(select(Check).where(Check.id.in_(check_ids))
                                               .execution_options(populate_existing=True))}
    offline = offline_probes(session)
    by_check: dict[int, list[CheckLocationState]] = {}
    for s in session.scalars(select(CheckLocationState).where(
            CheckLocationState.check_id.in_(check_ids))
            .execution_options(populate_existing=True)):
        by_check.setdefault(s.check_id, []).append(s)
    transitions: list[Transition] = []
    for cid in check_ids:
        check = checks.get(cid)
        if check is None:
            continue
        states = by_check.get(cid, [])
        views = [confirm.LocationView(s.location, s.ok, s.consecutive,
                                      live=s.location not in offline) for s in states]
        decision = confirm.decide(CheckStatus(check.status), views, assigned=check.locations,
                                  consecutive_needed=check.confirm_failures,
                                  locations_needed=check.confirm_locations)
        if not decision.changed:
            continue
        transitions.append(_apply(session, check, decision, states, now=now, settings=settings))
    return transitions


def _apply(session: Session, check: Check, decision: confirm.Decision,
           states: list[CheckLocationState], *, now: datetime, settings: Settings) -> Transition:
    previous = CheckStatus(check.status)
    check.status, check.status_changed_at = decision.status.value, now
    reasons = {s.location: s.reason for s in states if s.location in decision.failing}
    if decision.status == CheckStatus.DOWN:
        detail = "; ".join(f"{loc}: {r}" for loc, r in sorted(reasons.items()))
        check.status_reason = detail[:500]
        summary = (f"{check.name} is down ({len(decision.failing)} of {decision.live} "
                   f"locations): {detail}")
        action = EventAction.TRIGGER
    else:
        check.status_reason = None
        summary = f"{check.name} is up again"
        # Coming up from `unknown` is the first confirmation, not a recovery: nothing to resolve.
        if previous != CheckStatus.DOWN:
            return Transition(check.id, decision.status, None)
        action = EventAction.RESOLVE
    event = build_event(
        action=action, source=check_source(check.id), dedup_key=f"check-{check.id}",
        summary=summary, service_id=check.service_id, now=now,
        labels={"check": check.name, "kind": check.kind},
        details={"failing": decision.failing, "passing": decision.passing,
                 "live_locations": decision.live, "required": decision.required,
                 "reasons": reasons})
    return Transition(check.id, decision.status,
                      raise_alert(session, event, now=now, settings=settings))
