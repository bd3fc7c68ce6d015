"""The weekly metrics digest of a team, as plain text (pure: figures in, text out)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tocsin.analytics.measures import Spread, Summary
from tocsin.analytics.oncall_health import Health
from tocsin.analytics.targets import Compliance


def duration(seconds: float | None) -> str:
    """'4m 10s', '2h 05m', '3d 4h'; '-' for nothing."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _spread(label: str, s: Spread) -> str:
    return (f"  {label:<5} mean {duration(s.mean):>8}  median {duration(s.median):>8}  "
            f"p90 {duration(s.p90):>8}  (n={s.n})")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def digest_text(*, team: str, since: datetime, until: datetime, by_severity: Sequence[Summary],
                overall: Summary, compliance: Sequence[Compliance], health: Sequence[Health],
                missed_ack: Sequence[str], missed_hidden: int, url: str) -> tuple[str, str]:
    """(subject, body) of one team's digest for [since, until)."""
    subject = (f"Tocsin weekly digest for {team}: {overall.incidents} incident"
               f"{'' if overall.incidents == 1 else 's'}")
    lines = [f"{team}: incidents and on-call, {since:%Y-%m-%d} to {until:%Y-%m-%d} (UTC)", ""]
    lines.append(f"Incidents: {overall.incidents} ("
                 + ", ".join(f"{s.group} {s.incidents}" for s in by_severity) + ")")
    lines += [_spread("MTTA", overall.mtta), _spread("MTTR", overall.mttr),
              _spread("MTTD", overall.mttd)]
    lines.append(f"  escalated {_rate(overall.escalation_rate)}, recurred "
                 f"{_rate(overall.recurrence_rate)}, reported by customers "
                 f"{_rate(overall.customer_share)}")
    lines += ["", "Response targets (met / missed):"]
    for c in compliance:
        lines.append(f"  {c.measure:<8} {c.met} / {c.missed}  ({_rate(c.rate)} met)")
    if missed_ack or missed_hidden:
        named = ", ".join(missed_ack) if missed_ack else ""
        hidden = f"{' and ' if named else ''}{missed_hidden} restricted" if missed_hidden else ""
        lines.append(f"  missed the acknowledgement target: {named}{hidden}")
    lines += ["", "On-call (pages; off-hours and sleep hours in each person's time zone):"]
    for h in health:
        warn = "  ! more pages in a shift than the target" if h.warning else ""
        lines.append(f"  {h.name}: {h.pages} pages, {h.off_hours} off-hours, "
                     f"{h.sleep_hours} at night, longest run of interrupted nights "
                     f"{h.longest_interrupted_run}{warn}")
    if not health:
        lines.append("  nobody in this team")
    lines += ["", f"Charts and tables: {url}/analytics"]
    return subject, "\n".join(lines) + "\n"
