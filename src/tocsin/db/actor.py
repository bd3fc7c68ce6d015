"""Who is acting in a database session, and from where, for the audit log.

The HTTP kernel (`api/deps.py`) and the web app name the actor on the request's session;
the audit feature's session hook reads it when it records a change. A session nobody named
(a worker's) records its changes as done by the system; a command-line tool that changes
configuration names its operator on every session of its factory (`act_as`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

_KEY = "tocsin.actor"


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str  # an email, "api key 7 of user 3", or "system"
    source: str = ""  # the client's address, when a request made the change


SYSTEM = Actor(user_id=None, label="system")


def set_actor(session: Session, actor: Actor) -> None:
    session.info[_KEY] = actor


def actor_of(session: Session) -> Actor:
    found = session.info.get(_KEY)
    return found if isinstance(found, Actor) else SYSTEM


def act_as(factory: sessionmaker[Session], actor: Actor) -> None:
    """Every session `factory` makes from now on acts as `actor` (a command-line run: the
    whole process is one operator's)."""
    factory.configure(info={_KEY: actor})
