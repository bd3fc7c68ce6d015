"""One import run against a runtime: fetch everything, write it in one transaction (rolled
back for a dry run), then compare who is on call for the next days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tocsin.importers import compare, service
from tocsin.importers.plan import Plan
from tocsin.runtime import Runtime

CHECK_DAYS = 14


def apply(runtime: Runtime, data: Plan, *, dry_run: bool) -> service.Report:
    settings = runtime.settings
    with runtime.sessions() as session, session.begin():
        report = service.run(session, data=data, now=runtime.clock.now(),
                             base_url=settings.public_url,
                             outbound=settings.outbound_policy)
        if dry_run:
            session.rollback()
    return report


Timeline = Callable[[Any, str, datetime, int], list[tuple[datetime, datetime, str]]]


def check(runtime: Runtime, reader: Any, data: Plan, timeline: Timeline, *,
          days: int = CHECK_DAYS) -> list[compare.Difference]:
    """Hour by hour for `days` from now: the vendor's own timeline of each schedule against
    Tocsin's (schedules/oncall.py through schedules.service)."""
    now = runtime.clock.now()
    instants = compare.hours(now, days)
    start, end = instants[0], instants[-1] + timedelta(hours=1)
    out: list[compare.Difference] = []
    for s in data.schedules:
        source = timeline(reader, s.ext_id, start, days + 1)
        with runtime.read_sessions() as session:
            mine = service.tocsin_periods(session, source=data.source,
                                          schedule_ext_id=s.ext_id, start=start, end=end)
        if mine is None:
            out.append(compare.Difference(s.name, start, ("(not imported)",), ()))
            continue
        out.extend(compare.differences(mine[0], instants, source, mine[1]))
    return out


def summary(report: service.Report, *, dry_run: bool) -> list[str]:
    lines: list[str] = [a.line() for a in report.actions if a.verb != "skip"]
    lines += [a.line() for a in report.actions if a.verb == "skip"]
    if report.notes:
        lines.append("")
        lines.append("not mapped one to one (what was done instead):")
        lines += [f"  {n.line()}" for n in report.notes]
    if report.senders and not dry_run:
        lines.append("")
        lines.append("point each sender at Tocsin (URL, key):")
        lines += [f"  {name} ({kind}): {url}  key {key}" for name, kind, url, key
                  in report.senders]
    head = "dry run, nothing written: " if dry_run else ""
    lines.append("")
    lines.append(f"{head}{report.count('create')} to create, {report.count('change')} to "
                 f"change, {report.count('skip')} unchanged" if dry_run else
                 f"{report.count('create')} created, {report.count('change')} changed, "
                 f"{report.count('skip')} unchanged")
    return lines

