"""Panels that come from features built alongside the web app (schedules, intake).

Each returns None while its feature's service functions are not there, so the page simply
leaves the panel out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tocsin.web.auth import WebUser


def my_oncall(session: Session, who: WebUser) -> dict[str, Any] | None:
    return None


def recent_alerts(session: Session, who: WebUser) -> list[dict[str, Any]] | None:
    return None


def incident_alerts(session: Session, who: WebUser, incident_id: int
                    ) -> list[dict[str, Any]] | None:
    return None


def my_contact_methods(session: Session, who: WebUser) -> list[dict[str, Any]] | None:
    return None
