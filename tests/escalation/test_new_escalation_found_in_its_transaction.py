"""A new incident's escalation, first page and step timer are written as plain rows (not ORM
objects), and whatever follows in the same transaction still finds them: an acknowledgement
halts the escalation and cancels the page and the step, a severity raise restarts it. Both
in a plain transaction and in an intake batch (ids handed out up front, one flush)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.notify.seed import seed_paging
from tocsin.db.ids import batch_writes
from tocsin.engine.models import Timer
from tocsin.escalation import service as escalation
from tocsin.escalation.models import Escalation
from tocsin.escalation.schemas import ServicePoliciesIn
from tocsin.incidents import service as incidents
from tocsin.incidents.lifecycle import Severity
from tocsin.incidents.models import Incident
from tocsin.incidents.schemas import IncidentCreate
from tocsin.intake.processor import BATCH_TABLES
from tocsin.notify.models import Message
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime


def _declare(s: Session, runtime: Runtime, service_id: int, severity: Severity) -> Incident:
    return incidents.declare(s, actor=None, now=runtime.clock.now(), settings=runtime.settings,
                             data=IncidentCreate(title="checkout down", severity=severity,
                                                 service_ids=[service_id]))


def _state(runtime: Runtime, incident_id: int) -> tuple[object, ...]:
    with runtime.sessions() as s:
        esc = s.scalars(select(Escalation).where(Escalation.incident_id == incident_id)).one()
        timers = s.scalars(select(Timer.status).where(
            Timer.payload["incident_id"].as_integer() == incident_id,
            Timer.kind == "escalation.step")).all()
        pages = s.scalars(select(Message.status).where(Message.incident_id == incident_id)
                          .order_by(Message.id)).all()
        return esc.status, esc.generation, esc.snapshot["name"], timers, pages


@pytest.mark.parametrize("batched", [False, True])
def test_acknowledged_in_the_same_transaction(runtime: Runtime, batched: bool) -> None:
    seed = seed_paging(runtime, webhook_url="http://127.0.0.1:9/page", levels=2)
    with runtime.sessions() as s, s.begin():
        if batched:
            batch_writes(s, BATCH_TABLES)
        incident = _declare(s, runtime, seed["service_id"], Severity.SEV1)
        assert incidents.acknowledge_from_sender(s, incident=incident, source="test",
                                                 now=runtime.clock.now(),
                                                 settings=runtime.settings)
        incident_id = incident.id
    assert _state(runtime, incident_id) == ("acknowledged", 2, "svc-policy", ["cancelled"],
                                            ["cancelled"])


@pytest.mark.parametrize("batched", [False, True])
def test_severity_raised_in_the_same_transaction(runtime: Runtime, batched: bool) -> None:
    seed = seed_paging(runtime, webhook_url="http://127.0.0.1:9/page", levels=2)
    with runtime.sessions() as s, s.begin():
        escalation.set_service_policies(s, service_id=seed["service_id"], data=ServicePoliciesIn(
            policies={Severity.SEV1: seed["policy_id"], Severity.SEV2: seed["policy_id"]}))
    with runtime.sessions() as s, s.begin():
        if batched:
            batch_writes(s, BATCH_TABLES)
        incident = _declare(s, runtime, seed["service_id"], Severity.SEV2)
        incidents.change_severity(s, incident=incident, severity=Severity.SEV1, reason="worse",
                                  actor=Principal(user_id=seed["users"][0],
                                                  role=Role.RESPONDER),
                                  now=runtime.clock.now(), settings=runtime.settings)
        incident_id = incident.id
    # Restarted: the first page cancelled, the step timer moved (not a second one).
    assert _state(runtime, incident_id) == ("active", 2, "svc-policy", ["pending"],
                                            ["cancelled", "pending"])
