"""Checks as code: export every check to YAML, import a YAML file (create or update by name).

An import is all or nothing: every entry is validated first; one bad entry refuses the file
with its position and problem, and nothing is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.catalog.models import Service
from tocsin.checks import service as checks
from tocsin.checks.models import Check
from tocsin.checks.schemas import CheckCreate, CheckUpdate
from tocsin.errors import Invalid, TocsinError
from tocsin.settings import Settings

FIELDS = ("kind", "interval_seconds", "timeout_seconds", "locations", "confirm_failures",
          "confirm_locations", "enabled", "config")


def export_yaml(session: Session) -> str:
    names: dict[int, str] = {i: n for i, n in session.execute(select(Service.id, Service.name))}
    entries = []
    for c in session.scalars(select(Check).order_by(Check.name)):
        entry: dict[str, Any] = {"name": c.name, "service": names.get(c.service_id)}
        entry.update({f: getattr(c, f) for f in FIELDS})
        entries.append(entry)
    return yaml.safe_dump({"checks": entries}, sort_keys=False, allow_unicode=True)


def _parse(text: str) -> list[dict[str, Any]]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid(f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, dict) or not isinstance(document.get("checks"), list):
        raise Invalid("expected a mapping with a 'checks' list")
    entries: list[dict[str, Any]] = []
    for entry in document["checks"]:
        if not isinstance(entry, dict):
            raise Invalid("each entry under 'checks' must be a mapping")
        entries.append(entry)
    return entries


def import_yaml(session: Session, text: str, *, now: datetime,
                settings: Settings) -> dict[str, list[str]]:
    """Create or update the checks in `text`; returns the names created and updated."""
    services: dict[str, int] = {n: i for n, i in session.execute(
        select(Service.name, Service.id))}
    done: dict[str, list[str]] = {"created": [], "updated": []}
    seen: set[str] = set()
    for position, entry in enumerate(_parse(text), start=1):
        name = str(entry.get("name", f"#{position}"))
        where = f"checks[{position}] ({name})"
        if name in seen:
            raise Invalid(f"{where}: the name appears twice in the file")
        seen.add(name)
        body = {k: v for k, v in entry.items() if k != "service"}
        service = entry.get("service")
        if service not in services:
            raise Invalid(f"{where}: no service named {service!r}")
        body["service_id"] = services[service]
        existing = session.scalars(select(Check).where(Check.name == name)).first()
        try:
            if existing is None:
                checks.create_check(session, data=CheckCreate.model_validate(body), now=now,
                                    settings=settings)
                done["created"].append(name)
            else:
                if body.pop("kind", existing.kind) != existing.kind:
                    raise Invalid("kind cannot change; delete the check and create it again")
                checks.update_check(session, check=existing,
                                    data=CheckUpdate.model_validate(body), now=now,
                                    settings=settings)
                done["updated"].append(name)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in exc.errors())
            raise Invalid(f"{where}: {problems}") from None
        except TocsinError as exc:
            raise Invalid(f"{where}: {exc.detail}") from None
        session.flush()
    return done
