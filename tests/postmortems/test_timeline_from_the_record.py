"""The timeline attributes each entry to the role its author held then, and preselects the
key moments; impact and missed targets come from the record's times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.postmortems import timeline as tl

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ev(i: int, minutes: int, kind: str, actor: int | None, **data: object) -> tl.Event:
    return tl.Event(id=i, at=T0 + timedelta(minutes=minutes), kind=kind, actor_id=actor,
                    body=kind, data=dict(data))


EVENTS = [
    ev(1, 0, "created", None),
    ev(2, 2, "status_changed", 7, to="acknowledged"),
    ev(3, 2, "role_changed", 7, role="commander", to=7),
    ev(4, 3, "role_changed", 7, role="comms_lead", to=8),
    ev(5, 5, "note", 8),
    ev(6, 9, "decision", 7),
    ev(7, 20, "status_changed", 7, to="monitoring"),
    ev(8, 30, "resolved", 9),
]


def test_roles_and_key_moments() -> None:
    entries = tl.build(EVENTS)
    assert [(e.event_id, e.role) for e in entries if e.event_id in (1, 2, 5, 8)] == [
        (1, "system"), (2, "IC"), (5, "comms"), (8, "responder")]
    assert [e.moment for e in entries if e.key] == [
        "detected", "acknowledged", "decision", "mitigated", "resolved"]


def test_impact_and_missed_targets() -> None:
    facts = tl.Facts(severity="SEV1", detected_at=T0, impact_started_at=T0 - timedelta(minutes=5),
                     acknowledged_at=T0 + timedelta(minutes=2),
                     resolved_at=T0 + timedelta(minutes=30), impact_ended_at=None,
                     users_affected=None, services=("api",))
    impact = tl.impact(facts, EVENTS)
    assert impact["duration_minutes"] == 35.0
    assert impact["mitigated_at"] == (T0 + timedelta(minutes=20)).isoformat()
    assert impact["sla_breach"] is False
    late = tl.Facts(**{**facts.__dict__, "acknowledged_at": T0 + timedelta(minutes=6)})
    assert tl.missed_targets(late, EVENTS) == ["acknowledge"]
