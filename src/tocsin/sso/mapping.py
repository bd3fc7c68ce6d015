"""From a provider's verified ID token claims to a Tocsin account: the email to link by,
the global role, and the team roles, from the groups claim. Pure: plain values in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tocsin.errors import Invalid
from tocsin.principal import Role, TeamRole


@dataclass(frozen=True)
class Mapped:
    email: str
    name: str
    role: Role
    teams: dict[str, TeamRole]  # team name → role in it


def parse_team_rule(rule: str) -> tuple[str, TeamRole]:
    """`Team name:manager` (or `:member`; no suffix: member)."""
    name, sep, role = rule.rpartition(":")
    if not sep:
        return rule.strip(), TeamRole.MEMBER
    try:
        return name.strip(), TeamRole(role.strip().lower())
    except ValueError:
        raise Invalid(f"sso_group_teams: '{rule}': the role after ':' is member or "
                      "manager") from None


def groups_of(claims: Mapping[str, Any], claim: str) -> list[str]:
    value = claims.get(claim, [])
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def map_claims(claims: Mapping[str, Any], *, groups_claim: str,
               group_roles: Mapping[str, str], group_teams: Mapping[str, str],
               default_role: str) -> Mapped:
    """Raise Invalid (with a message for the person signing in) when the claims cannot make
    an account: no email, or an email the provider has not verified."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise Invalid("the identity provider sent no email address; ask your administrator "
                      "to release the 'email' claim to Tocsin")
    if claims.get("email_verified") is not True:
        raise Invalid(f"the identity provider has not verified the email {email}; Tocsin links "
                      "accounts by verified email only")
    groups = groups_of(claims, groups_claim)
    roles = [Role(group_roles[g]) for g in groups if g in group_roles]
    role = max(roles, key=lambda r: r.rank) if roles else Role(default_role)
    teams: dict[str, TeamRole] = {}
    for group in groups:
        if group in group_teams:
            team, team_role = parse_team_rule(group_teams[group])
            if teams.get(team) is not TeamRole.MANAGER:
                teams[team] = team_role
    name = claims.get("name")
    return Mapped(email=email.lower(), name=name if isinstance(name, str) and name else email,
                  role=role, teams=teams)
