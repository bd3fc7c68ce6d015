"""Service catalog operations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tocsin.accounts.models import Team
from tocsin.catalog.graph import find_cycle
from tocsin.catalog.models import Service, ServiceDependency, Tier
from tocsin.catalog.schemas import ServiceCreate, ServiceOut, ServiceUpdate
from tocsin.db.config_cache import config_cached
from tocsin.db.lookup import get_or_404
from tocsin.errors import Conflict, Invalid


def get_service(session: Session, service_id: int) -> Service:
    return get_or_404(session, Service, service_id, "service")


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    id: int
    name: str
    tier: str
    revenue: bool
    owner_team_id: int | None


def service_info(session: Session, service_id: int) -> ServiceInfo | None:
    def load() -> ServiceInfo | None:
        row = session.get(Service, service_id)
        return None if row is None else ServiceInfo(
            id=row.id, name=row.name, tier=row.tier, revenue=row.revenue,
            owner_team_id=row.owner_team_id)
    return config_cached(session, ("service", service_id), load)


def dependencies_of(session: Session, service_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {s: [] for s in service_ids}
    if service_ids:
        rows = session.execute(
            select(ServiceDependency.service_id, ServiceDependency.depends_on_id)
            .where(ServiceDependency.service_id.in_(service_ids))
            .order_by(ServiceDependency.depends_on_id))
        for sid, dep in rows:
            out[sid].append(dep)
    return out


def dependents_of(session: Session, service_id: int) -> list[int]:
    """Services that depend on `service_id` directly."""
    return list(session.scalars(select(ServiceDependency.service_id)
                                .where(ServiceDependency.depends_on_id == service_id)))


def to_out(session: Session, services: list[Service]) -> list[ServiceOut]:
    deps = dependencies_of(session, [s.id for s in services])
    return [ServiceOut(id=s.id, name=s.name, description=s.description,
                       owner_team_id=s.owner_team_id, tier=Tier(s.tier), revenue=s.revenue,
                       depends_on=deps[s.id], created_at=s.created_at) for s in services]


def _check_team(session: Session, team_id: int | None) -> None:
    if team_id is not None and session.get(Team, team_id) is None:
        raise Invalid(f"owner_team_id: no team with id {team_id}")


def _set_dependencies(session: Session, service: Service, depends_on: list[int]) -> None:
    wanted = sorted(set(depends_on))
    if service.id in wanted:
        raise Invalid("depends_on: a service cannot depend on itself")
    found = set(session.scalars(select(Service.id).where(Service.id.in_(wanted))))
    missing = [d for d in wanted if d not in found]
    if missing:
        raise Invalid(f"depends_on: no service with id {', '.join(map(str, missing))}")
    edges: dict[int, set[int]] = {}
    for sid, dep in session.execute(select(ServiceDependency.service_id,
                                           ServiceDependency.depends_on_id)):
        edges.setdefault(sid, set()).add(dep)
    edges[service.id] = set(wanted)
    cycle = find_cycle(edges, service.id)
    if cycle:
        raise Invalid("depends_on: this would make a dependency cycle: "
                      + " → ".join(str(c) for c in cycle))
    session.execute(delete(ServiceDependency).where(ServiceDependency.service_id == service.id))
    for dep in wanted:
        session.add(ServiceDependency(service_id=service.id, depends_on_id=dep))


def _name_free(session: Session, name: str) -> None:
    if session.scalars(select(Service.id).where(Service.name == name)).first() is not None:
        raise Conflict(f"a service named '{name}' already exists")


def create_service(session: Session, *, data: ServiceCreate, now: datetime) -> Service:
    _name_free(session, data.name)
    _check_team(session, data.owner_team_id)
    service = Service(name=data.name, description=data.description,
                      owner_team_id=data.owner_team_id, tier=data.tier.value,
                      revenue=data.revenue, created_at=now)
    session.add(service)
    session.flush()
    _set_dependencies(session, service, data.depends_on)
    return service


def update_service(session: Session, *, service: Service, data: ServiceUpdate) -> Service:
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] not in (None, service.name):
        _name_free(session, changes["name"])
    if "owner_team_id" in changes:
        _check_team(session, changes["owner_team_id"])
    depends_on = changes.pop("depends_on", None)
    for name, value in changes.items():
        if value is None and name != "owner_team_id":
            continue
        setattr(service, name, value.value if isinstance(value, Tier) else value)
    if depends_on is not None:
        _set_dependencies(session, service, depends_on)
    return service


def list_services(session: Session, *, after_id: int | None, limit: int) -> list[Service]:
    query = select(Service).order_by(Service.id).limit(limit)
    if after_id is not None:
        query = query.where(Service.id > after_id)
    return list(session.scalars(query))


def delete_service(session: Session, service: Service) -> None:
    session.delete(service)
