"""A post-mortem as one Markdown document (export), and as a print-ready HTML page. Pure."""

from __future__ import annotations

from datetime import datetime
from html import escape

from tocsin.markup import to_html
from tocsin.postmortems.schemas import PostmortemOut

_SECTION_TITLES = (("summary", "Summary"), ("root_cause", "Root cause (5 whys)"),
                   ("contributing_factors", "Contributing factors"),
                   ("went_well", "What went well"), ("could_improve", "What could improve"))


def _clock(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(pm: PostmortemOut) -> str:
    impact = pm.impact
    lines = [f"# Post-mortem: {pm.title}", "",
             f"Status: {pm.status} · due {_clock(pm.due_at)}", ""]
    lines += ["## Summary", "", pm.summary or "_(to write)_", ""]
    lines += ["## Timeline", "", "| time (UTC) | role | what happened |", "|---|---|---|"]
    lines += [f"| {_clock(e.at)} | {e.role} | {_cell(e.text)} |"
              for e in pm.timeline if e.included]
    lines += ["", "## Impact", ""]
    for label, key in (("Impact started", "started_at"), ("Detected", "detected_at"),
                       ("Acknowledged", "acknowledged_at"), ("Mitigated", "mitigated_at"),
                       ("Resolved", "resolved_at"), ("Duration (minutes)", "duration_minutes"),
                       ("Users affected", "users_affected")):
        lines.append(f"- {label}: {impact.get(key) if impact.get(key) is not None else '—'}")
    lines.append(f"- Services: {', '.join(impact.get('services') or []) or '—'}")
    missed = impact.get("missed_targets") or []
    lines.append(f"- SLA breach: {'yes (' + ', '.join(missed) + ')' if missed else 'no'}")
    if pm.impact_notes:
        lines += ["", pm.impact_notes]
    lines.append("")
    for key, title in _SECTION_TITLES[1:]:
        lines += [f"## {title}", "", getattr(pm, key) or "_(to write)_", ""]
    lines += ["## Action items", ""]
    lines += [f"- [{'x' if a.status == 'done' else ' '}] {a.title} — owner #{a.owner_id}, "
              f"due {_clock(a.due_at)}, {a.priority}, {a.status}" for a in pm.action_items]
    if not pm.action_items:
        lines.append("_(none yet)_")
    return "\n".join(lines) + "\n"


_PRINT_CSS = """
body { font: 11pt/1.45 Georgia, serif; max-width: 48em; margin: 2em auto; color: #111; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #999;
padding: .2em .4em; vertical-align: top; } h1 { font-size: 1.6em; }
h2 { border-bottom: 1px solid #ccc; page-break-after: avoid; }
@media print { body { margin: 0; } a { color: inherit; } }
"""


def to_print_html(pm: PostmortemOut) -> str:
    """A self-contained page (no scripts, inline print CSS) from the sanitised Markdown."""
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(pm.title)}</title><style>{_PRINT_CSS}</style></head>"
            f"<body>{to_html(to_markdown(pm))}</body></html>")
