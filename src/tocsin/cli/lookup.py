"""Name things the way people do: users by email (or `me`), services, policies, schedules,
teams and integrations by name or id. Each resolves through the REST API, so nobody has to
look an id up first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tocsin.cli.client import Client, fail

PAGE = 500


def pages(client: Client, path: str, params: dict[str, Any] | None = None
          ) -> Iterator[dict[str, Any]]:
    """Every item of a list route (`{items, next_cursor}`), following the cursors."""
    cursor: str | None = None
    while True:
        query: dict[str, Any] = {**(params or {}), "limit": PAGE}
        if cursor:
            query["cursor"] = cursor
        page: dict[str, Any] = client.request("GET", path, params=query)
        yield from page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


def every(client: Client, path: str, params: dict[str, Any] | None = None
          ) -> list[dict[str, Any]]:
    return list(pages(client, path, params))


def user(client: Client, ref: str) -> dict[str, Any]:
    """`me`, an email address or a user id."""
    if ref.lower() == "me":
        out: dict[str, Any] = client.request("GET", "/api/v1/me")
        return out
    if ref.isdigit():
        out = client.request("GET", f"/api/v1/users/{ref}")
        return out
    wanted = ref.strip().lower()
    for row in pages(client, "/api/v1/users"):
        if row["email"].lower() == wanted:
            return row
    return fail(f"no user with email {ref} (see GET /api/v1/users, or `tocsin user create`)")


def user_id(client: Client, ref: str) -> int:
    return int(user(client, ref)["id"])


def _named(rows: list[dict[str, Any]], ref: str, what: str, hint: str) -> dict[str, Any]:
    if ref.isdigit():
        for row in rows:
            if row["id"] == int(ref):
                return row
    matches = [row for row in rows if str(row.get("name", "")).lower() == ref.strip().lower()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        return fail(f"{len(matches)} {what}s are named '{ref}': give the id "
                    f"({', '.join(str(m['id']) for m in matches)})")
    known = ", ".join(sorted(str(r.get("name")) for r in rows)[:20]) or "none yet"
    return fail(f"no {what} '{ref}' (known: {known}; {hint})")


def service(client: Client, ref: str) -> dict[str, Any]:
    return _named(list(pages(client, "/api/v1/services")), ref, "service",
                  "create one with `tocsin service create`")


def policy(client: Client, ref: str) -> dict[str, Any]:
    return _named(every(client, "/api/v1/escalation-policies"), ref,
                  "escalation policy", "create one with `tocsin escalation create`")


def schedule(client: Client, ref: str) -> dict[str, Any]:
    return _named(every(client, "/api/v1/schedules"), ref, "schedule",
                  "create one with `tocsin schedule create`")


def team(client: Client, ref: str) -> dict[str, Any]:
    return _named(list(pages(client, "/api/v1/teams")), ref, "team",
                  "create one with POST /api/v1/teams")


def integration(client: Client, ref: str) -> dict[str, Any]:
    return _named(every(client, "/api/v1/integrations"), ref, "integration",
                  "create one with `tocsin integration create`")
