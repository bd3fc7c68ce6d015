"""Read models for the check pages: a page of the check list with everything each row shows,
and a check's per-location status, uptime and response times, each in a fixed number of
queries whatever the page size (never one query per row)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, IncidentAlert
from tocsin.alerts.visibility import visible_alert
from tocsin.checks import service as checks
from tocsin.checks.models import (
    Check,
    CheckKind,
    CheckLocationState,
    CheckResult,
    CheckRollup,
    CheckStatus,
    Probe,
    ProbeStatus,
)
from tocsin.checks.rollup import day_start, hour_start
from tocsin.checks.secrets import mask_dsn
from tocsin.principal import Principal
from tocsin.web.chart import HourLatency

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class CheckFilters:
    status: str = ""
    kind: str = ""
    service_id: int | None = None
    search: str = ""


@dataclass(frozen=True)
class LocationBadge:
    location: str
    state: str  # up, down, paused, unknown or offline (a probe out of the quorum)


@dataclass(frozen=True)
class CheckRow:
    id: int
    name: str
    kind: str
    target: str
    service_id: int
    status: str
    last_checked_at: datetime | None
    uptime_24h: float | None
    locations: list[LocationBadge] = field(default_factory=list)


def target_of(kind: str, config: dict[str, Any]) -> str:
    """What a check looks at, in one short line."""
    if kind == CheckKind.HTTP:
        return f"{config.get('method', 'GET')} {config.get('url', '')}"
    if kind in (CheckKind.TCP, CheckKind.TLS):
        return f"{config.get('host', '')}:{config.get('port', '')}"
    if kind == CheckKind.DNS:
        return f"{config.get('name', '')} {config.get('record_type', 'A')} @{config.get('resolver')}"
    for key in ("dsn", "url", "host"):
        if isinstance(config.get(key), str):
            return mask_dsn(config[key]) if key == "dsn" else str(config[key])
    return ""


def location_state(*, enabled: bool, offline: bool, ok: bool | None) -> str:
    if not enabled:
        return CheckStatus.PAUSED.value
    if offline:
        return "offline"
    if ok is None:
        return CheckStatus.UNKNOWN.value
    return CheckStatus.UP.value if ok else CheckStatus.DOWN.value


def _filtered(query: Any, filters: CheckFilters) -> Any:
    if filters.status:
        query = query.where(Check.status == filters.status)
    if filters.kind:
        query = query.where(Check.kind == filters.kind)
    if filters.service_id is not None:
        query = query.where(Check.service_id == filters.service_id)
    if filters.search:
        like = f"%{filters.search.lower()}%"
        # The target lives in the JSON settings; a connection string may hold a password,
        # so database checks are searched by name only.
        query = query.where(or_(func.lower(Check.name).like(like), and_(
            Check.kind != CheckKind.POSTGRES.value,
            func.lower(cast(Check.config, String)).like(like))))
    return query


def uptime_24h(session: Session, ids: list[int], now: datetime) -> dict[int, float]:
    if not ids:
        return {}
    rows = session.execute(
        select(CheckRollup.check_id, func.sum(CheckRollup.total), func.sum(CheckRollup.ok_count))
        .where(CheckRollup.check_id.in_(ids), CheckRollup.period == "hour",
               CheckRollup.start > hour_start(now) - 24 * HOUR)
        .group_by(CheckRollup.check_id))
    return {cid: 100 * int(ok) / int(total) for cid, total, ok in rows if total}


def list_page(session: Session, *, filters: CheckFilters, after_id: int | None, limit: int,
              now: datetime) -> tuple[list[CheckRow], int | None]:
    """One page in name order, after the check `after_id` (names are unique, so the name
    is the key); returns the rows and the id to continue after (None at the end)."""
    query = select(Check.id, Check.name, Check.kind, Check.config, Check.service_id,
                   Check.status, Check.enabled, Check.locations, Check.last_checked_at)
    query = _filtered(query, filters).order_by(Check.name).limit(limit + 1)
    if after_id is not None:
        query = query.where(Check.name > select(Check.name).where(Check.id == after_id)
                            .scalar_subquery())
    found = session.execute(query).all()
    more = len(found) > limit
    found = found[:limit]
    ids = [r.id for r in found]
    states: dict[tuple[int, str], bool] = {}
    if ids:
        states = {(cid, loc): ok for cid, loc, ok in session.execute(
            select(CheckLocationState.check_id, CheckLocationState.location,
                   CheckLocationState.ok).where(CheckLocationState.check_id.in_(ids)))}
    offline = checks.offline_probes(session) if ids else set()
    uptimes = uptime_24h(session, ids, now)
    rows = [CheckRow(
        id=r.id, name=r.name, kind=r.kind, target=target_of(r.kind, r.config),
        service_id=r.service_id, status=r.status, last_checked_at=r.last_checked_at,
        uptime_24h=uptimes.get(r.id),
        locations=[LocationBadge(loc, location_state(enabled=r.enabled, offline=loc in offline,
                                                     ok=states.get((r.id, loc))))
                   for loc in r.locations]) for r in found]
    return rows, found[-1].id if more and found else None


# ---- one check ----------------------------------------------------------------------------

@dataclass(frozen=True)
class LocationRow:
    location: str
    state: str
    consecutive: int | None
    last_at: datetime | None
    latency_ms: int | None
    reason: str | None
    probe_status: str | None  # None for the server's own location or an unknown probe
    probe_seen_at: datetime | None


def location_rows(session: Session, check: Check) -> list[LocationRow]:
    states = {s.location: s for s in session.scalars(
        select(CheckLocationState).where(CheckLocationState.check_id == check.id))}
    names = list(check.locations) + sorted(set(states) - set(check.locations))
    probes = {p.name: p for p in session.scalars(select(Probe).where(Probe.name.in_(names)))}
    out = []
    for name in names:
        s, p = states.get(name), probes.get(name)
        offline = p is not None and p.status == ProbeStatus.OFFLINE.value
        out.append(LocationRow(
            location=name, state=location_state(enabled=check.enabled, offline=offline,
                                                 ok=s.ok if s else None),
            consecutive=s.consecutive if s else None, last_at=s.last_at if s else None,
            latency_ms=s.latency_ms if s else None, reason=s.reason if s else None,
            probe_status=p.status if p else None, probe_seen_at=p.last_seen_at if p else None))
    return out


def _uptime(session: Session, check_id: int, period: str, since: datetime) -> float | None:
    total, ok = session.execute(
        select(func.sum(CheckRollup.total), func.sum(CheckRollup.ok_count)).where(
            CheckRollup.check_id == check_id, CheckRollup.period == period,
            CheckRollup.start >= since)).one()
    return 100 * int(ok) / int(total) if total else None


def uptimes(session: Session, check_id: int, now: datetime) -> dict[str, float | None]:
    """Uptime % over 24 h and 7 d (hourly rollups) and 30 d (daily rollups)."""
    this_hour = hour_start(now)
    return {"24 h": _uptime(session, check_id, "hour", this_hour - 23 * HOUR),
            "7 d": _uptime(session, check_id, "hour", this_hour - 167 * HOUR),
            "30 d": _uptime(session, check_id, "day", day_start(now) - timedelta(days=29))}


def hourly_latency(session: Session, check_id: int, *, since: datetime) -> list[HourLatency]:
    """Median and maximum response time per hour, from the raw results (rollups keep sums
    and maxima, not medians)."""
    buckets: dict[datetime, list[int]] = defaultdict(list)
    for at, latency in session.execute(
            select(CheckResult.at, CheckResult.latency_ms).where(
                CheckResult.check_id == check_id, CheckResult.at >= since,
                CheckResult.latency_ms.is_not(None))):
        if latency is not None:
            buckets[hour_start(at)].append(latency)
    return [HourLatency(start, int(statistics.median(values)), max(values), len(values))
            for start, values in sorted(buckets.items())]


def alert_of(session: Session, check: Check, viewer: Principal) -> Alert | None:
    """The check's alert, if `viewer` may see it: checks raise one per check, scoped to
    their service."""
    return session.scalars(select(Alert).where(
        Alert.scope == f"s:{check.service_id}", Alert.dedup_key == f"check-{check.id}",
        visible_alert(viewer))).first()


def incident_ids_of(session: Session, alert_id: int) -> list[int]:
    return list(session.scalars(select(IncidentAlert.incident_id).where(
        IncidentAlert.alert_id == alert_id).order_by(IncidentAlert.incident_id.desc())))
