"""What chat-ops needs from features built beside it, declared here and handed in by the
composition root (docs/architecture.md, "How a lower feature reaches a higher one")."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from tocsin.incidents.models import Incident


class StatusPagePort(Protocol):
    """Status pages (issue 15): the link shown in an incident channel's topic, and what a
    resolve typed in chat tells the status page."""

    def link_for(self, session: Session, incident: Incident, *, base_url: str) -> str | None: ...

    def on_resolved(self, session: Session, *, incident: Incident, now: datetime,
                    base_url: str) -> None: ...


class NoStatusPage:
    """Until status pages are connected: no link, nothing to tell."""

    def link_for(self, session: Session, incident: Incident, *, base_url: str) -> str | None:
        return None

    def on_resolved(self, session: Session, *, incident: Incident, now: datetime,
                    base_url: str) -> None:
        return None


NO_STATUS_PAGE = NoStatusPage()
