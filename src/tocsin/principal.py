"""Who is acting: a user, with the role their credential grants for this request.

A base module (no feature imports it from another feature): services, the HTTP kernel and
the web app all speak of a `Principal` and its `Role`; accounts stores users and keys.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tocsin.errors import Forbidden


class Role(enum.StrEnum):
    """What a user (or an API key, capped by its scope) may do. Ordered by power."""

    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANK = {Role.VIEWER: 0, Role.RESPONDER: 1, Role.ADMIN: 2}


class TeamRole(enum.StrEnum):
    """A user's role in one team, beside their global role: a team's managers change its
    schedules, escalation policies, services and integrations (admins change anyone's)."""

    MEMBER = "member"
    MANAGER = "manager"


@dataclass(frozen=True)
class Principal:
    user_id: int
    role: Role
    api_key_id: int | None = None
    # An API key limited to one team may change only that team's configuration.
    team_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def require(self, needed: Role) -> None:
        if not self.role.allows(needed):
            raise Forbidden(
                f"this action needs the '{needed.value}' role; your credential grants "
                f"'{self.role.value}'"
            )
