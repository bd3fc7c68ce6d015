"""Who is acting: a user, with the role their credential grants for this request."""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.accounts.models import Role
from tocsin.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    user_id: int
    role: Role
    api_key_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def require(self, needed: Role) -> None:
        if not self.role.allows(needed):
            raise Forbidden(
                f"this action needs the '{needed.value}' role; your credential grants "
                f"'{self.role.value}'"
            )
