"""Read an Opsgenie account. The official `opsgenie-sdk` covers only the account, alert,
incident and heartbeat APIs, so it checks the API key (Account API); users, teams,
schedules, escalations, services, integrations and maintenance are read from Opsgenie's
documented REST API with `vendor.RestReader` (pagination, 429 and `Retry-After`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import opsgenie_sdk
from opsgenie_sdk.exceptions import AuthenticationException, OpenApiException

from tocsin.importers.vendor import RestReader, VendorError, pages

US = "https://api.opsgenie.com"
EU = "https://api.eu.opsgenie.com"


def reader(api_key: str, base_url: str = US, **kwargs: Any) -> RestReader:
    return RestReader(vendor="Opsgenie", base_url=base_url,
                      headers={"Authorization": f"GenieKey {api_key}"}, **kwargs)


def check_key(api_key: str, base_url: str, *, ca_file: str | None = None) -> str:
    """The account's name, through the official client; a refused key is a VendorError."""
    conf = opsgenie_sdk.Configuration()
    conf.api_key["Authorization"] = api_key
    conf.api_key_prefix["Authorization"] = "GenieKey"
    conf.host = base_url.rstrip("/")
    conf.retry_enabled = False  # RestReader does the waiting for everything else
    if ca_file:
        conf.ssl_ca_cert = ca_file
    api = opsgenie_sdk.AccountApi(api_client=opsgenie_sdk.ApiClient(configuration=conf))
    try:
        info = api.get_info()
    except AuthenticationException as exc:
        raise VendorError(f"Opsgenie refused the API key ({exc.status}): check it has "
                          "read access to the configuration (an API integration key with "
                          "'Read' and 'Configuration access')") from None
    except OpenApiException as exc:
        raise VendorError(f"Opsgenie: reading the account failed: {exc}") from None
    return str(info.data.name)


def _id(x: str) -> str:
    return quote(str(x), safe="")


def fetch(r: RestReader) -> dict[str, Any]:
    """Everything the import maps, in Opsgenie's shapes, with each object's details
    attached under the key its list lacks (`contacts`, `members`, `overrides`, …)."""
    users = list(pages(r, "/v2/users", {"limit": 100, "offset": 0}))
    for u in users:
        u["contacts"] = r.get(f"/v2/users/{_id(u['id'])}/contacts").get("data", [])
        rules = r.get(f"/v2/users/{_id(u['id'])}/notification-rules").get("data", [])
        for rule in rules:
            rule["steps"] = r.get(f"/v2/users/{_id(u['id'])}/notification-rules/"
                                  f"{_id(rule['id'])}/steps").get("data", [])
        u["notificationRules"] = rules
    teams = []
    for t in r.get("/v2/teams").get("data", []):
        team = r.get(f"/v2/teams/{_id(t['id'])}", {"identifierType": "id"})["data"]
        team["routingRules"] = r.get(f"/v2/teams/{_id(t['id'])}/routing-rules",
                                     {"teamIdentifierType": "id"}).get("data", [])
        teams.append(team)
    schedules = r.get("/v2/schedules", {"expand": "rotation"}).get("data", [])
    for s in schedules:
        s["overrides"] = r.get(f"/v2/schedules/{_id(s['id'])}/overrides",
                               {"scheduleIdentifierType": "id"}).get("data", [])
    maintenance = []
    for m in r.get("/v1/maintenance", {"type": "non-expired"}).get("data", []):
        maintenance.append(r.get(f"/v1/maintenance/{_id(m['id'])}")["data"])
    return {
        "users": users, "teams": teams, "schedules": schedules,
        "escalations": r.get("/v2/escalations").get("data", []),
        "services": list(pages(r, "/v1/services", {"limit": 100, "offset": 0})),
        "integrations": r.get("/v2/integrations").get("data", []),
        "maintenance": maintenance,
    }


def timeline(r: RestReader, schedule_id: str, start: datetime,
             days: int) -> list[tuple[datetime, datetime, str]]:
    """Opsgenie's own final timeline of a schedule: (start, end, user id) periods."""
    body = r.get(f"/v2/schedules/{_id(schedule_id)}/timeline", {
        "identifierType": "id", "expand": "base,forwarding,override", "interval": days,
        "intervalUnit": "days", "date": start.strftime("%Y-%m-%dT%H:%M:%SZ")})
    out = []
    for rotation in (body["data"].get("finalTimeline") or {}).get("rotations", []):
        for period in rotation.get("periods", []):
            recipient = period.get("recipient") or {}
            if recipient.get("type") == "user":
                out.append((_time(period["startDate"]), _time(period["endDate"]),
                            str(recipient["id"])))
    return out


def _time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))
