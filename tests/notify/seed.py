"""Seeding paging data through the service layer (tests and bench/): users reachable by a
verified webhook, a policy, a service using it, and many incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import UserCreate
from tocsin.catalog import service as catalog
from tocsin.catalog.schemas import ServiceCreate
from tocsin.escalation import service as escalation
from tocsin.escalation.schemas import LevelIn, PolicyIn, ServicePoliciesIn, TargetIn
from tocsin.incidents import service as incidents
from tocsin.incidents.lifecycle import Severity
from tocsin.incidents.schemas import IncidentCreate
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind
from tocsin.notify.models import ContactMethod, Message
from tocsin.notify.schemas import ContactMethodIn
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime


def seed_paging(rt: Runtime, *, webhook_url: str, levels: int = 1, delay_minutes: int = 5,
                name: str = "svc") -> dict[str, Any]:
    """One user per level, each with a verified webhook; a SEV1 policy paging them in turn."""
    now = rt.clock.now()
    with rt.sessions() as s, s.begin():
        users = []
        for i in range(levels):
            user = accounts.create_user(s, data=UserCreate(
                name=f"{name} responder {i}", email=f"{name}{i}@example.com",
                role=Role.RESPONDER), now=now)
            who = Principal(user_id=user.id, role=Role.RESPONDER)
            method = notify.add_contact_method(s, actor=who, user_id=user.id, now=now,
                                               outbound=rt.settings.outbound_policy,
                                               data=ContactMethodIn(kind=ChannelKind.WEBHOOK,
                                                                    address=webhook_url))
            notify.verify(s, method=method, code=method.verify_code or "", now=now)
            users.append(user.id)
        # The verification messages are not part of what is measured.
        s.query(Message).filter(Message.kind == "verify").delete()
        policy = escalation.create_policy(s, now=now, data=PolicyIn(name=f"{name}-policy", levels=[
            LevelIn(delay_minutes=delay_minutes, targets=[TargetIn(kind="user", id=u)])
            for u in users]))
        svc = catalog.create_service(s, data=ServiceCreate(name=name), now=now)
        escalation.set_service_policies(s, service_id=svc.id, data=ServicePoliciesIn(
            policies={Severity.SEV1: policy.id}))
        # In the users' order (a query without ORDER BY may answer in any order on
        # PostgreSQL, and did once: a test then paged the wrong person's method).
        by_user = {m.user_id: m.id for m in s.query(ContactMethod).all()}
        methods = [by_user[u] for u in users]
    return {"users": users, "policy_id": policy.id, "service_id": svc.id, "methods": methods}


def declare_many(rt: Runtime, *, service_id: int, count: int, now: datetime,
                 batch: int = 250) -> list[int]:
    ids: list[int] = []
    for start in range(0, count, batch):
        with rt.sessions() as s, s.begin():
            for i in range(start, min(count, start + batch)):
                inc = incidents.declare(s, actor=None, now=now, settings=rt.settings,
                                        data=IncidentCreate(title=f"incident {i}",
                                                            severity=Severity.SEV1,
                                                            service_ids=[service_id]))
                ids.append(inc.id)
    return ids
