"""From ID token claims to an account (pure)."""

from __future__ import annotations

import pytest

from tocsin.errors import Invalid
from tocsin.principal import Role, TeamRole
from tocsin.sso.mapping import map_claims

RULES = {"groups_claim": "groups", "default_role": "viewer",
         "group_roles": {"sre": "responder", "oncall-admins": "admin"},
         "group_teams": {"sre": "Platform:member", "sre-leads": "Platform:manager",
                         "pay": "Payments"}}


def test_strongest_role_and_manager_wins() -> None:
    got = map_claims({"email": "A@Example.com", "email_verified": True,
                      "groups": ["sre", "oncall-admins", "sre-leads", "pay", "other"]}, **RULES)
    assert got.email == "a@example.com" and got.role is Role.ADMIN
    assert got.teams == {"Platform": TeamRole.MANAGER, "Payments": TeamRole.MEMBER}


def test_no_matching_group_gets_the_default_role() -> None:
    got = map_claims({"email": "b@example.com", "email_verified": True, "groups": "x"},
                     **RULES)
    assert (got.role, got.teams, got.name) == (Role.VIEWER, {}, "b@example.com")


@pytest.mark.parametrize("claims, words", [
    ({"email_verified": True}, "no email"),
    ({"email": "c@example.com"}, "not verified"),
    ({"email": "c@example.com", "email_verified": "true"}, "not verified"),
])
def test_no_account_without_a_verified_email(claims: dict[str, object], words: str) -> None:
    with pytest.raises(Invalid, match=words):
        map_claims(claims, **RULES)
