from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import TeamCreate, UserCreate
from tocsin.alerts import manage
from tocsin.alerts.models import IntegrationKind
from tocsin.alerts.schemas import IntegrationCreate
from tocsin.catalog import service as catalog
from tocsin.catalog.schemas import ServiceCreate
from tocsin.escalation import service as escalation
from tocsin.escalation.schemas import LevelIn, PolicyIn, ServicePoliciesIn, TargetIn
from tocsin.heartbeats import service as heartbeats
from tocsin.heartbeats.schemas import HeartbeatCreate
from tocsin.incidents.lifecycle import Severity
from tocsin.runtime import Runtime
from tocsin.schedules import service as schedules
from tocsin.schedules.schemas import LayerIn, ScheduleIn, WindowIn


@pytest.fixture
def populated(runtime: Runtime) -> Runtime:
    """Two users, a team, a schedule with a night restriction, a policy to the schedule and
    the team, two services (one depending on the other) with policies, an integration and a
    heartbeat: made through the features' services, as the web app and the API would."""
    now = runtime.clock.now()
    with runtime.sessions() as s, s.begin():
        ann = accounts.create_user(s, now=now, data=UserCreate(
            name="Ann", email="ann@example.com", time_zone="Europe/Berlin"))
        ben = accounts.create_user(s, now=now, data=UserCreate(name="Ben",
                                                                email="ben@example.com"))
        team = accounts.create_team(s, now=now, data=TeamCreate(name="Ops",
                                                                member_ids=[ann.id, ben.id]))
        sched = schedules.create_schedule(s, now=now, data=ScheduleIn(
            name="Ops primary", time_zone="Europe/Berlin", team_id=team.id, layers=[
                LayerIn(name="week", participants=[ann.id, ben.id],
                        start=datetime(2026, 1, 5, 9)),
                LayerIn(name="nights", participants=[ben.id], unit="days",  # type: ignore[arg-type]
                        start=datetime(2026, 1, 5, 18), restrictions=[
                            WindowIn(days=[0, 1, 2, 3, 4], start="18:00",  # type: ignore[arg-type]
                                     end="08:00")])]))  # type: ignore[arg-type]
        pol = escalation.create_policy(s, now=now, data=PolicyIn(name="Ops policy", repeat=1,
                                                                 levels=[
            LevelIn(delay_minutes=5, targets=[TargetIn(kind="schedule", id=sched.id)]),  # type: ignore[arg-type]
            LevelIn(delay_minutes=10, targets=[TargetIn(kind="team", id=team.id,  # type: ignore[arg-type]
                                                        mode="round_robin")])]))  # type: ignore[arg-type]
        db = catalog.create_service(s, now=now, data=ServiceCreate(name="db", tier="critical",  # type: ignore[arg-type]
                                                                   owner_team_id=team.id))
        api = catalog.create_service(s, now=now, data=ServiceCreate(
            name="api", owner_team_id=team.id, depends_on=[db.id], revenue=True))
        for svc in (db, api):
            escalation.set_service_policies(s, service_id=svc.id, data=ServicePoliciesIn(
                policies={Severity.SEV1: pol.id, Severity.SEV2: pol.id}))
        manage.create_integration(s, now=now, data=IntegrationCreate(
            service_id=api.id, kind=IntegrationKind.ALERTMANAGER, name="prometheus"))
        heartbeats.create_heartbeat(s, now=now, settings=runtime.settings,
                                    data=HeartbeatCreate(name="nightly backup",
                                                         service_id=db.id,
                                                         period_seconds=86400))
    return runtime


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.runner = CliRunner()
        self.args = ["--data-dir", str(tmp_path)]

    def __call__(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(__import__("tocsin.console").console.app,
                                    [*args, *self.args])
        assert result.exit_code == code, result.output
        return result.output


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", database_url)
    monkeypatch.setenv("TOCSIN_ENV", "dev")
    yield Cli(tmp_path)
