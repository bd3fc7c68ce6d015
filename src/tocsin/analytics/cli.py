"""`tocsin report`: the metrics tables in the terminal (incident figures, response-target
compliance, on-call health), from the server's /api/v1/metrics API."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.analytics.digest import duration
from tocsin.cli.client import Client
from tocsin.cli.output import JsonOpt, emit, table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _summary_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"group": r["group"], "incidents": r["incidents"],
             "mtta_mean": duration(r["mtta"]["mean"]),
             "mtta_median": duration(r["mtta"]["median"]),
             "mtta_p90": duration(r["mtta"]["p90"]),
             "mttr_mean": duration(r["mttr"]["mean"]),
             "mttr_median": duration(r["mttr"]["median"]),
             "mttr_p90": duration(r["mttr"]["p90"]),
             "mttd_median": duration(r["mttd"]["median"]),
             "mtbf_median": duration(r["mtbf"]["median"]),
             "escalated": _pct(r["escalation_rate"]), "recurred": _pct(r["recurrence_rate"]),
             "customer": _pct(r["customer_share"])} for r in rows]


def report(
    by: Annotated[str, typer.Option(help="severity, service, team, period or all")] = "severity",
    period: Annotated[str, typer.Option(help="week, month or quarter")] = "week",
    since: Annotated[str | None, typer.Option(help="start, ISO 8601 with offset")] = None,
    until: Annotated[str | None, typer.Option(help="end (exclusive), ISO 8601 with offset")
                     ] = None,
    tz: Annotated[str, typer.Option(help="time zone periods are cut in")] = "UTC",
    team: Annotated[int | None, typer.Option(help="only this team's services and people")
                    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Incident metrics (MTTA, MTTR, MTTD, MTBF with mean, median and p90), response-target
    compliance per period, on-call health per person, and post-mortem and action-item
    completion per period.

    Example: tocsin report --by service --since 2026-10-01T00:00:00Z --tz Europe/Berlin
    """
    params: dict[str, Any] = {"by": by, "period": period, "tz": tz}
    params |= {k: v for k, v in (("since", since), ("until", until), ("team_id", team))
               if v is not None}
    client = Client()
    metrics = client.request("GET", "/api/v1/metrics/incidents", params=params)
    window = {k: v for k, v in params.items() if k != "by"}
    compliance = client.request("GET", "/api/v1/metrics/compliance", params=window)
    oncall = client.request("GET", "/api/v1/metrics/oncall",
                            params={k: v for k, v in window.items() if k != "period"})
    learning = client.request("GET", "/api/v1/metrics/postmortems",
                              params={**window, "by": "period"})
    if as_json:
        emit({"incidents": metrics, "compliance": compliance, "oncall": oncall,
              "postmortems": learning}, as_json=True)
        return
    typer.echo(f"Incidents {metrics['since']} to {metrics['until']}, per {by}:")
    typer.echo(table(_summary_rows(metrics["rows"]),
                     ["group", "incidents", "mtta_mean", "mtta_median", "mtta_p90",
                      "mttr_mean", "mttr_median", "mttr_p90", "mttd_median", "mtbf_median",
                      "escalated", "recurred", "customer"]))
    typer.echo(f"\nResponse targets met, per {period}:")
    typer.echo(table([{**r, "rate": _pct(r["rate"])} for r in compliance["rows"]],
                     ["group", "measure", "met", "missed", "pending", "rate"]))
    if compliance["missed"] or compliance["missed_hidden"]:
        named = ", ".join(m["number"] for m in compliance["missed"][:20])
        more = len(compliance["missed"]) - 20
        typer.echo(f"missed a target: {named}" + (f" and {more} more" if more > 0 else "")
                   + (f" (+{compliance['missed_hidden']} restricted)"
                      if compliance["missed_hidden"] else ""))
    typer.echo("\nOn-call health (off-hours and sleep hours in each person's time zone):")
    typer.echo(table([{**p, "share": _pct(p["share"]), "warning": "over limit"
                       if p["warning"] else ""} for p in oncall["people"]],
                     ["name", "time_zone", "pages", "off_hours", "sleep_hours",
                      "interrupted_nights", "longest_interrupted_run", "busiest_shift",
                      "share", "warning"]))
    typer.echo(f"fairness: {_pct(oncall['fairness'])}")
    typer.echo(f"\nPost-mortems (needed for resolved "
               f"{'/'.join(learning['required_severities'])}) and action items, per {period}:")
    typer.echo(table([{**r, "published": f"{r['published']} ({_pct(r['published_rate'])})",
                       "on_time": f"{r['published_on_time']} ({_pct(r['on_time_rate'])})",
                       "actions_done": f"{r['actions_done']} "
                                       f"({_pct(r['actions_done_rate'])})",
                       "actions_on_time": f"{r['actions_done_on_time']} "
                                          f"({_pct(r['actions_on_time_rate'])})"}
                      for r in learning["rows"]],
                     ["group", "needed", "published", "on_time", "overdue", "missing",
                      "actions", "actions_done", "actions_on_time", "actions_overdue"]))
