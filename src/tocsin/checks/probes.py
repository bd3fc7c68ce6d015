"""Probe agents: registration, token checks, assignments, liveness and "probe offline" alerts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tocsin.alerts.detection import build_event, raise_alert
from tocsin.alerts.normalized import EventAction
from tocsin.alerts.service import IngestResult
from tocsin.catalog import service as catalog
from tocsin.catalog.models import Service, Tier
from tocsin.catalog.schemas import ServiceCreate
from tocsin.checks import recording
from tocsin.checks import service as checks
from tocsin.checks.models import SERVER_LOCATION, Check, CheckLocationState, Probe, ProbeStatus
from tocsin.checks.schemas import Assignment, ProbeCreate, PushedResult
from tocsin.db.lookup import get_or_404
from tocsin.errors import Conflict, Invalid, Unauthorized
from tocsin.settings import Settings

TOKEN_PREFIX = "tprobe_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_probe(session: Session, *, data: ProbeCreate, now: datetime) -> tuple[Probe, str]:
    if data.name == SERVER_LOCATION:
        raise Invalid(f"name: '{SERVER_LOCATION}' is the server's own location")
    if session.scalars(select(Probe.id).where(Probe.name == data.name)).first() is not None:
        raise Conflict(f"a probe named '{data.name}' already exists")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    # Offline until it first reports: a registered but never-started probe is not in quorum.
    probe = Probe(name=data.name, token_hash=hash_token(token),
                  status=ProbeStatus.OFFLINE.value, created_at=now)
    session.add(probe)
    session.flush()
    return probe, token


def list_probes(session: Session) -> list[Probe]:
    return list(session.scalars(select(Probe).order_by(Probe.name)))


def get_probe(session: Session, probe_id: int) -> Probe:
    return get_or_404(session, Probe, probe_id, "probe")


def delete_probe(session: Session, probe: Probe, *, now: datetime,
                 settings: Settings) -> None:
    """Remove a probe: its token stops working, its "probe offline" alert (if it went silent)
    resolves, and its last results stop counting in the quorum of the checks it served."""
    if probe.status == ProbeStatus.OFFLINE.value and probe.last_seen_at is not None:
        _probe_alert(session, probe, EventAction.RESOLVE, now=now, settings=settings)
    session.execute(delete(CheckLocationState).where(CheckLocationState.location == probe.name))
    served = [c.id for c in session.scalars(select(Check).where(Check.enabled.is_(True)))
              if probe.name in c.locations]
    session.delete(probe)
    session.flush()
    if served:
        recording.evaluate(session, served, now=now, settings=settings)


def token_known(session: Session, token: str) -> bool:
    return session.scalars(select(Probe.id).where(Probe.token_hash == hash_token(token))
                           ).first() is not None


def authenticate(session: Session, *, token: str, now: datetime,
                 settings: Settings) -> Probe:
    """The probe holding `token`; marks it seen, and back online (resolving its alert)."""
    probe = session.scalars(select(Probe).where(Probe.token_hash == hash_token(token))).first()
    if probe is None:
        raise Unauthorized("unknown probe token")
    probe.last_seen_at = now
    if probe.status == ProbeStatus.OFFLINE.value:
        probe.status = ProbeStatus.ONLINE.value
        _probe_alert(session, probe, EventAction.RESOLVE, now=now, settings=settings)
    return probe


def assignments(session: Session, probe: Probe) -> list[Assignment]:
    # `locations` is JSON; filtering in Python keeps the query portable. Probes ask every few
    # seconds at most, and enabled checks are a few thousand rows of small JSON.
    rows = session.scalars(select(Check).where(Check.enabled.is_(True)).order_by(Check.id))
    asked = checks.run_requests(session, probe.name)
    return [Assignment(id=c.id, kind=c.kind, interval_seconds=c.interval_seconds,
                       timeout_seconds=c.timeout_seconds, config=c.config,
                       run_requested_at=asked.get(c.id))
            for c in rows if probe.name in c.locations]


def accept_results(session: Session, probe: Probe, results: list[PushedResult], *,
                   now: datetime, settings: Settings) -> tuple[int, int]:
    """Record a probe's results for checks assigned to it; returns (accepted, ignored)."""
    ids = {r.check_id for r in results}
    assigned = {cid for cid, locations, enabled in session.execute(
        select(Check.id, Check.locations, Check.enabled).where(Check.id.in_(ids)))
        if enabled and probe.name in locations}
    observations = [recording.Observation(
        check_id=r.check_id, location=probe.name, at=min(r.at, now), ok=r.ok,
        latency_ms=r.latency_ms, reason=r.reason) for r in results if r.check_id in assigned]
    recording.record(session, observations, now=now, settings=settings)
    return len(observations), len(results) - len(observations)


def probe_service_id(session: Session, *, now: datetime, settings: Settings) -> int:
    name = settings.probe_service_name
    found = session.scalars(select(Service.id).where(Service.name == name)).first()
    if found is not None:
        return found
    return catalog.create_service(session, data=ServiceCreate(
        name=name, description="Tocsin's own probe agents (alerts when one goes silent).",
        tier=Tier.HIGH), now=now).id


def _probe_alert(session: Session, probe: Probe, action: EventAction, *, now: datetime,
                 settings: Settings) -> IngestResult:
    summary = (f"probe '{probe.name}' offline: no contact since "
               f"{probe.last_seen_at.isoformat() if probe.last_seen_at else 'ever'}"
               if action == EventAction.TRIGGER else f"probe '{probe.name}' is back online")
    event = build_event(action=action, source=f"probe:{probe.name}",
                        dedup_key=f"probe-{probe.name}", summary=summary,
                        service_id=probe_service_id(session, now=now, settings=settings),
                        now=now, labels={"probe": probe.name})
    return raise_alert(session, event, now=now, settings=settings)


def mark_silent_offline(session: Session, *, now: datetime, settings: Settings) -> list[str]:
    """Probes silent longer than `probe_offline_seconds` go offline, alert, and leave quorum.

    The conditional update (status still online, still silent) makes two workers doing this
    at once raise one alert, not two.
    """
    cutoff = now - timedelta(seconds=settings.probe_offline_seconds)
    silent = session.scalars(select(Probe).where(
        Probe.status == ProbeStatus.ONLINE.value, Probe.last_seen_at < cutoff)).all()
    gone: list[str] = []
    for probe in silent:
        moved = session.execute(update(Probe).where(
            Probe.id == probe.id, Probe.status == ProbeStatus.ONLINE.value,
            Probe.last_seen_at < cutoff).values(status=ProbeStatus.OFFLINE.value))
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.refresh(probe)
        _probe_alert(session, probe, EventAction.TRIGGER, now=now, settings=settings)
        gone.append(probe.name)
    if gone:
        affected = [c.id for c in session.scalars(select(Check).where(Check.enabled.is_(True)))
                    if set(gone) & set(c.locations)]
        # Without the silent probe the quorum shrinks; results already in may now decide.
        recording.evaluate(session, affected, now=now, settings=settings)
    return gone
