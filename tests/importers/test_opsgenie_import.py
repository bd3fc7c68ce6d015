"""Must show: an Opsgenie account with 3 teams, 5 schedules and 4 policies imported — dry run
first, then for real, then again with no change — and who is on call for the next 14 days,
hour by hour, the same in Opsgenie's timeline (computed by the stand-in from the rotation
data) and in Tocsin."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.importers.conftest import KEY
from tests.importers.opsgenie_standin import Account
from tocsin.accounts.models import Team, User
from tocsin.errors import Invalid
from tocsin.escalation.models import EscalationPolicy
from tocsin.importers import opsgenie, opsgenie_map, runner
from tocsin.importers.service import Report
from tocsin.importers.vendor import RestReader, VendorError
from tocsin.runtime import Runtime
from tocsin.schedules.models import Schedule


def _import(runtime: Runtime, url: str, *, dry_run: bool,
            sleeps: list[float] | None = None) -> tuple[Report, RestReader]:
    reader = opsgenie.reader(KEY, url, sleep=(sleeps if sleeps is not None else []).append)
    data = opsgenie_map.to_plan(opsgenie.fetch(reader))
    return runner.apply(runtime, data, dry_run=dry_run), reader


def _counts(runtime: Runtime) -> dict[str, int]:
    with runtime.read_sessions() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
                for m in (User, Team, Schedule, EscalationPolicy)}


def _made(report: Report, verb: str) -> Counter[str]:
    return Counter(a.kind for a in report.actions if a.verb == verb)


def test_dry_run_then_import_then_rerun_changes_nothing(runtime: Runtime, opsgenie_url: str,
                                                        opsgenie_account: Account) -> None:
    assert opsgenie.check_key(KEY, opsgenie_url) == "acme"
    before = _counts(runtime)
    sleeps: list[float] = []
    dry, first_reader = _import(runtime, opsgenie_url, dry_run=True, sleeps=sleeps)
    assert _counts(runtime) == before  # nothing written
    # The stand-in answered 429 with Retry-After: 1 once; the reader waited that, then passed.
    assert first_reader.retries == 1 and sleeps == [1.0]
    assert opsgenie_account.log.count("/v2/escalations") == 2
    assert opsgenie_account.log.count("/v2/users") == 3 and opsgenie_account.log.count(
        "/v1/services") == 2  # followed the paging links
    wanted = {"user": 8, "team": 3, "schedule": 5, "policy": 4, "service": 4,
              "integration": 2, "override": 1, "maintenance": 1}
    assert {k: _made(dry, "create")[k] for k in wanted} == wanted
    # Everything that does not map one to one is said, with what was done instead.
    notes = "\n".join(n.line() for n in dry.notes)
    for expected in ("sms contact 49-1701234567", "next on-call", "random team member",
                     "type Datadog", "several rotations", "conditional routing rules"):
        assert expected in notes

    real, _ = _import(runtime, opsgenie_url, dry_run=False)
    assert {k: _made(real, "create")[k] for k in wanted} == wanted
    assert [a.line() for a in real.actions] == [a.line() for a in dry.actions]
    after = _counts(runtime)
    assert after["teams"] == before["teams"] + 3
    assert after["schedules"] == 5 and after["escalation_policies"] == 4
    urls = {name: url for name, _kind, url, _key in real.senders}
    assert urls["Payments API"].endswith("/v2/alerts")
    assert "/api/v1/intake/alertmanager/" in urls["Prometheus Platform"]

    again, _ = _import(runtime, opsgenie_url, dry_run=False)
    assert _made(again, "create") == Counter() and _made(again, "change") == Counter()
    assert _made(again, "skip")["schedule"] == 5
    assert _counts(runtime) == after
    assert {s[3] for s in again.senders} == {s[3] for s in real.senders}  # keys kept


def test_fourteen_days_on_call_match_hour_by_hour(runtime: Runtime, opsgenie_url: str) -> None:
    _, reader = _import(runtime, opsgenie_url, dry_run=False)
    data = opsgenie_map.to_plan(opsgenie.fetch(reader))
    assert runner.check(runtime, reader, data, opsgenie.timeline) == []


def test_check_finds_a_changed_rotation(runtime: Runtime, opsgenie_url: str,
                                        opsgenie_account: Account) -> None:
    """The comparison can fail: after the import, Opsgenie's rotation changes."""
    _, reader = _import(runtime, opsgenie_url, dry_run=False)
    data = opsgenie_map.to_plan(opsgenie.fetch(reader))
    opsgenie_account.schedules[0]["rotations"][0]["participants"].reverse()
    diffs = runner.check(runtime, reader, data, opsgenie.timeline)
    assert diffs and all(d.schedule == "Platform weekly" for d in diffs)


def test_a_run_failing_halfway_leaves_nothing_and_the_next_run_finishes(
        runtime: Runtime, opsgenie_url: str, opsgenie_account: Account) -> None:
    """Users and teams are written before Tocsin refuses the fifth schedule (two rotations
    of one name): the whole run is undone, and once fixed the next run does everything."""
    rotations = opsgenie_account.schedules[4]["rotations"]
    rotations.append({**rotations[0]})
    before = _counts(runtime)
    with pytest.raises(Invalid, match=r"schedule 'Data hourly' \(source id s-data\): "
                                      "layers: layer names must be unique"):
        _import(runtime, opsgenie_url, dry_run=False)
    assert _counts(runtime) == before
    rotations.pop()
    report, _ = _import(runtime, opsgenie_url, dry_run=False)
    assert _made(report, "create")["schedule"] == 5 and _made(report, "create")["user"] == 8


def test_a_refused_key_is_a_clear_error(opsgenie_url: str) -> None:
    with pytest.raises(VendorError, match="refused the API key"):
        opsgenie.check_key("wrong", opsgenie_url)
    with pytest.raises(VendorError, match="refused the credentials"):
        opsgenie.fetch(opsgenie.reader("wrong", opsgenie_url))


def test_people_keep_their_email_rules_and_the_rest_is_noted(runtime: Runtime,
                                                             opsgenie_url: str) -> None:
    from tocsin.notify import service as notify

    report, _ = _import(runtime, opsgenie_url, dry_run=False)
    with runtime.read_sessions() as s:
        alice = s.scalars(select(User).where(User.email == "alice@acme.example.com")).one()
        methods = {m.id: m.address for m in notify.contact_methods_of(s, alice.id)}
        rules = sorted((r.urgency, r.delay_minutes, methods[r.contact_method_id])
                       for r in notify.rules_of(s, alice.id))
    assert sorted(methods.values()) == ["alice@acme.example.com", "alice@home.example.org"]
    assert alice.role == "admin" and alice.time_zone == "Europe/Berlin"
    assert rules == [("high", 0, "alice@acme.example.com"), ("high", 5, "alice@home.example.org"),
                     ("low", 0, "alice@acme.example.com"), ("low", 5, "alice@home.example.org")]
    assert any("rule 'Closed' (close-alert)" in n.line() for n in report.notes)


def test_a_rerun_after_changes_at_the_source_changes_just_those(
        runtime: Runtime, opsgenie_url: str, opsgenie_account: Account) -> None:
    _import(runtime, opsgenie_url, dry_run=False)
    a = opsgenie_account
    a.teams[0]["description"] = "Core platform, now with edge"
    a.teams[0]["members"].append({"user": {"id": "u-dave"}, "role": "user"})
    a.schedules[0]["rotations"][0]["participants"].reverse()
    a.schedules[4]["overrides"][0]["user"] = {"type": "user", "id": "u-bob"}
    a.escalations[2]["rules"][1]["delay"]["timeAmount"] = 25
    a.services[0]["description"] = "public API"
    a.users[1]["fullName"] = "Robert"
    report, reader = _import(runtime, opsgenie_url, dry_run=False)
    changed = sorted((x.kind, x.name) for x in report.actions if x.verb == "change")
    assert changed == [("override", "Data hourly: 2027-03-24 03:00"),
                       ("policy", "Data escalation"), ("schedule", "Platform weekly"),
                       ("service", "API"), ("team", "Platform"),
                       ("user", "bob@acme.example.com")]
    assert _made(report, "create") == Counter()
    data = opsgenie_map.to_plan(opsgenie.fetch(reader))
    assert runner.check(runtime, reader, data, opsgenie.timeline) == []
