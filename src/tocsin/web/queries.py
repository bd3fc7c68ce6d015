"""Read-only look-ups the pages need in bulk (names for ids), kept out of the views."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.accounts.models import Team, User
from tocsin.catalog.models import Service

# Select boxes list at most this many choices; beyond it the page says so.
CHOICES_LIMIT = 1000


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


def service_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Service.id, Service.name)
                           .where(Service.id.in_(wanted)))
    return {sid: name for sid, name in rows}


def user_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(select(User.id, User.name).where(User.active.is_(True))
                           .order_by(User.name).limit(CHOICES_LIMIT))
    return [(i, name) for i, name in rows]


def service_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(select(Service.id, Service.name).order_by(Service.name)
                           .limit(CHOICES_LIMIT))
    return [(i, name) for i, name in rows]


def team_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(select(Team.id, Team.name).order_by(Team.name)
                           .limit(CHOICES_LIMIT))
    return [(i, name) for i, name in rows]
