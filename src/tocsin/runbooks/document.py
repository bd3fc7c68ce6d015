"""A runbook file: YAML front matter (title, owner, review date, services, matchers) and a
Markdown body with the DOMAIN §9 sections. Parsing gives the document or every problem
with it; nothing is written from a file that does not parse."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import yaml

# Each required section, by the words its heading may use.
SECTIONS: dict[str, tuple[str, ...]] = {
    "symptoms": ("symptom",),
    "diagnostics": ("diagnos",),
    "commands": ("command",),
    "fixes": ("fix", "remediation"),
    "rollback": ("rollback", "roll back"),
    "escalation": ("escalat",),
}
_FRONT = re.compile(r"\A---\n(.*?)\n---\n?(.*)\Z", re.S)
_HEADING = re.compile(r"^#{1,3}\s+(.+?)\s*#*\s*$", re.M)


@dataclass(frozen=True)
class Parsed:
    slug: str
    title: str
    body: str
    owner_email: str | None
    review_at: datetime
    services: list[str] = field(default_factory=list)
    matchers: list[dict[str, Any]] = field(default_factory=list)


class Unparsable(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def missing_sections(body: str) -> list[str]:
    headings = [h.lower() for h in _HEADING.findall(body)]
    return [name for name, words in SECTIONS.items()
            if not any(w in h for h in headings for w in words)]


def _review(value: Any, problems: list[str]) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    problems.append("review_date: give a date (YYYY-MM-DD)")
    return datetime(1970, 1, 1, tzinfo=UTC)


def _matchers(value: Any, problems: list[str]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, dict):  # the short form: {label: value}
        value = [{"name": k, "value": v} for k, v in value.items()]
    out = []
    for m in value if isinstance(value, list) else [None]:
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) \
                or not isinstance(m.get("value"), str):
            problems.append("matchers: each needs a label name and a string value")
            continue
        if m.get("is_regex"):
            try:
                re.compile(m["value"])
            except re.error as exc:
                problems.append(f"matchers: bad regex {m['value']!r}: {exc}")
        out.append({"name": m["name"], "value": m["value"],
                    "is_regex": bool(m.get("is_regex")), "is_equal": m.get("is_equal", True)})
    return out


def parse(slug: str, text: str) -> Parsed:
    """The runbook in `text`, or Unparsable listing every problem found."""
    found = _FRONT.match(text.replace("\r\n", "\n"))
    if not found:
        raise Unparsable(["no front matter: start with '---', title/owner/review_date, '---'"])
    try:
        meta = yaml.safe_load(found.group(1)) or {}
    except yaml.YAMLError as exc:
        raise Unparsable([f"front matter is not YAML: {str(exc).splitlines()[0]}"]) from None
    if not isinstance(meta, dict):
        raise Unparsable(["front matter must be a mapping (key: value lines)"])
    problems: list[str] = []
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 300:
        problems.append("title: required, at most 300 characters")
    owner = meta.get("owner")
    if owner is not None and not isinstance(owner, str):
        problems.append("owner: an email address")
    review_at = _review(meta.get("review_date"), problems)
    services = meta.get("services") or []
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        problems.append("services: a list of service names")
        services = []
    matchers = _matchers(meta.get("matchers"), problems)
    body = found.group(2)
    missing = missing_sections(body)
    if missing:
        problems.append("missing sections: " + ", ".join(missing))
    if problems:
        raise Unparsable(problems)
    return Parsed(slug=slug, title=str(title).strip(), body=body, owner_email=owner,
                  review_at=review_at, services=list(services), matchers=matchers)


def matchers_hold(matchers: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    """Alertmanager semantics, as silences: every matcher holds; a missing label is ''."""
    if not matchers:
        return False
    for m in matchers:
        actual = labels.get(m["name"], "")
        hit = (re.fullmatch(m["value"], actual) is not None if m.get("is_regex")
               else actual == m["value"])
        if hit != bool(m.get("is_equal", True)):
            return False
    return True
