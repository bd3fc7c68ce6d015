"""A generated incident history written through the incident services (declare, acknowledge,
note, resolve, reopen at chosen times) and page messages as the outbox records them: for
pages and screenshots that need weeks of data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import TeamCreate, UserCreate
from tocsin.catalog import service as catalog
from tocsin.catalog.schemas import ServiceCreate
from tocsin.db import rows
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.schemas import IncidentCreate, ResolveRequest
from tocsin.notify.models import ContactMethod, Message
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime

PEOPLE = [("Lena Ortiz", "America/Los_Angeles"), ("Bo Schmidt", "Europe/Berlin"),
          ("Aki Tanaka", "Asia/Tokyo"), ("Uma Rao", "Asia/Kolkata")]


@dataclass
class History:
    incident_ids: list[int]
    user_ids: list[int]
    team_id: int
    service_ids: list[int]


def seed_history(runtime: Runtime, *, end: datetime, weeks: int = 12, incidents_n: int = 80,
                 seed: int = 7) -> History:
    rnd = random.Random(seed)
    start = end - timedelta(weeks=weeks)
    with runtime.sessions() as s, s.begin():
        users = [accounts.create_user(s, data=UserCreate(
            name=name, email=f"{name.split()[0].lower()}@example.net", role=Role.RESPONDER,
            time_zone=zone), now=start) for name, zone in PEOPLE]
        s.flush()
        team = accounts.create_team(s, data=TeamCreate(
            name="Payments", member_ids=[u.id for u in users]), now=start)
        s.flush()
        services = [catalog.create_service(s, data=ServiceCreate(
            name=n, owner_team_id=team.id), now=start) for n in ("checkout", "ledger", "search")]
        s.flush()
        methods = []
        for u in users:
            m = ContactMethod(user_id=u.id, kind=rnd.choice(["email", "webhook"]),
                              address=f"{u.email}", label="", verified_at=start,
                              created_at=start)
            s.add(m)
            methods.append(m)
        s.flush()
        ids = []
        for n in range(incidents_n):
            at = start + timedelta(seconds=rnd.randrange(int((end - start).total_seconds())))
            who = rnd.choice(users)
            actor = Principal(user_id=who.id, role=Role.RESPONDER)
            sev = rnd.choices(["SEV1", "SEV2", "SEV3", "SEV4"], [1, 3, 5, 2])[0]
            incident = incidents.declare(s, actor=actor, data=IncidentCreate(
                title=f"Generated incident {n}", severity=lc.Severity(sev),
                detection_source=rnd.choices(
                    [lc.DetectionSource.MONITOR, lc.DetectionSource.INTERNAL,
                     lc.DetectionSource.CUSTOMER], [7, 2, 1])[0],
                service_ids=[rnd.choice(services).id],
                impact_started_at=at - timedelta(seconds=rnd.randrange(30, 600))),
                now=at, settings=runtime.settings)
            ids.append(incident.id)
            for _ in range(rnd.choice([1, 1, 1, 2, 3])):
                page_at = at + timedelta(seconds=rnd.randrange(0, 120))
                method = methods[users.index(who)]
                rows.add(s, Message, idempotency_key=f"seed:{incident.id}:{page_at.timestamp()}",
                         kind="page", status="sent", incident_id=incident.id, user_id=who.id,
                         contact_method_id=method.id, due_at=page_at, attempts=1,
                         payload={}, created_at=page_at, sent_at=page_at)
            if rnd.random() < 0.9:
                ack = at + timedelta(seconds=rnd.lognormvariate(5.5, 0.9))
                if ack < end:
                    incidents.acknowledge(s, incident=incident, actor=actor, now=ack,
                                          settings=runtime.settings)
                    incidents.append_event(s, incident, kind=lc.EventKind.NOTE,
                                           now=ack + timedelta(minutes=rnd.randrange(1, 40)),
                                           actor=actor, body="looking")
                    fix = ack + timedelta(seconds=rnd.lognormvariate(8, 1))
                    if fix < end:
                        incidents.resolve(s, incident=incident, actor=actor,
                                          data=ResolveRequest(), now=fix,
                                          settings=runtime.settings)
                        if rnd.random() < 0.1 and fix + timedelta(minutes=20) < end:
                            incidents.reopen(s, incident=incident, actor=actor,
                                             reason="came back", now=fix + timedelta(minutes=20),
                                             settings=runtime.settings)
    return History(ids, [u.id for u in users], team.id, [x.id for x in services])
