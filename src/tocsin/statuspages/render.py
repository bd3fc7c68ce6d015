"""A page's files from its snapshot: the HTML page, RSS and Atom feeds, and the Atlassian
Statuspage public JSON (`api/v2/...`), so aggregators and widgets read them unchanged.

Everything here is computed from the snapshot alone (service.snapshot keeps out what the
public may not see). Titles and names are escaped (Jinja autoescape; ElementTree for the
feeds), never interpreted as HTML. Update bodies are Markdown: the page and the feeds carry
them rendered by the one sanitised renderer (`tocsin.markup`: raw HTML off, an allow-list
after), the JSON files carry the Markdown text as Statuspage carries its plain-text bodies.
Links are relative, so an exported folder works from any address.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from tocsin.markup import to_html
from tocsin.statuspages.components import ComponentStatus, indicator, worst

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True,
                   lstrip_blocks=True)
HTML = "text/html; charset=utf-8"
JSON = "application/json"
JSON_FILES = ("api/v2/summary.json", "api/v2/status.json", "api/v2/components.json",
              "api/v2/incidents.json", "api/v2/incidents/unresolved.json",
              "api/v2/scheduled-maintenances.json",
              "api/v2/scheduled-maintenances/upcoming.json",
              "api/v2/scheduled-maintenances/active.json")
STAGE_LABELS = {"investigating": "Investigating", "identified": "Identified",
                "monitoring": "Monitoring", "resolved": "Resolved", "scheduled": "Scheduled",
                "in_progress": "In progress", "verifying": "Verifying",
                "completed": "Completed"}


def files(snap: dict[str, Any], *, now: datetime) -> dict[str, tuple[str, bytes]]:
    """name -> (content type, body) for every file of the page."""
    api = statuspage_api(snap)
    out = {name: (JSON, json.dumps(api[name], indent=1).encode()) for name in JSON_FILES}
    out["index.html"] = (HTML, html_page(snap).encode())
    out["feed.rss"] = ("application/rss+xml; charset=utf-8", rss(snap))
    out["feed.atom"] = ("application/atom+xml; charset=utf-8", atom(snap))
    return out


# ---- Atlassian Statuspage shapes ------------------------------------------------------------

def _page(snap: dict[str, Any]) -> dict[str, Any]:
    p = snap["page"]
    return {"id": p["slug"], "name": p["name"], "url": p["url"] + "/",
            "time_zone": p["time_zone"], "updated_at": _updated(snap)}


def _updated(snap: dict[str, Any]) -> str:
    times: list[str] = [c["updated_at"] for c in snap["components"]]
    times += [p["updated_at"] for p in snap["posts"]]
    return max(times, default=snap["today"] + "T00:00:00+00:00")


def _components(snap: dict[str, Any]) -> list[dict[str, Any]]:
    """Components, and each group as Statuspage shows it: a component with `group: true`
    listing its members."""
    slug, out = snap["page"]["slug"], []
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in snap["components"]:
        if c["group"]:
            groups.setdefault(c["group"], []).append(c)
    group_ids = {name: f"g{members[0]['id']}" for name, members in groups.items()}
    for c in snap["components"]:
        out.append({"id": str(c["id"]), "name": c["name"], "status": c["status"],
                    "created_at": c["created_at"], "updated_at": c["updated_at"],
                    "position": c["position"], "description": c["description"] or None,
                    "showcase": True, "start_date": c["created_at"][:10],
                    "group_id": group_ids.get(c["group"]), "page_id": slug, "group": False,
                    "only_show_if_degraded": False})
    for name, members in groups.items():
        out.append({"id": group_ids[name], "name": name,
                    "status": worst(ComponentStatus(m["status"]) for m in members).value,
                    "created_at": min(m["created_at"] for m in members),
                    "updated_at": max(m["updated_at"] for m in members),
                    "position": min(m["position"] for m in members), "description": None,
                    "showcase": False, "start_date": None, "group_id": None, "page_id": slug,
                    "group": True, "only_show_if_degraded": False,
                    "components": [str(m["id"]) for m in members]})
    return out


def _incident(snap: dict[str, Any], post: dict[str, Any]) -> dict[str, Any]:
    names = {c["id"]: c for c in snap["components"]}
    comps = [{"id": str(i), "name": names[i]["name"], "status": names[i]["status"],
              "page_id": snap["page"]["slug"]} for i in post["component_ids"] if i in names]
    monitoring = next((u["at"] for u in reversed(post["updates"])
                       if u["stage"] == "monitoring"), None)
    item = {
        "id": str(post["id"]), "name": post["title"], "status": post["stage"],
        "created_at": post["created_at"], "updated_at": post["updated_at"],
        "monitoring_at": monitoring, "resolved_at": post["resolved_at"],
        "impact": post["impact"], "shortlink": f"{snap['page']['url']}/#post-{post['id']}",
        "started_at": post["created_at"], "page_id": snap["page"]["slug"],
        "incident_updates": [{
            "id": str(u["id"]), "status": u["stage"], "body": u["body"],
            "incident_id": str(post["id"]), "created_at": u["at"], "updated_at": u["at"],
            "display_at": u["at"],
            "affected_components": [{"code": str(i), "name": names[i]["name"],
                                     "old_status": names[i]["status"],
                                     "new_status": names[i]["status"]}
                                    for i in u["component_ids"] if i in names]}
            for u in post["updates"]],
        "components": comps,
    }
    if post["kind"] == "maintenance":
        item["scheduled_for"] = post["scheduled_for"]
        item["scheduled_until"] = post["scheduled_until"]
    return item


def statuspage_api(snap: dict[str, Any]) -> dict[str, Any]:
    """The JSON files, by name."""
    page = _page(snap)
    ind, desc = indicator(ComponentStatus(c["status"]) for c in snap["components"])
    status = {"indicator": ind, "description": desc}
    components = _components(snap)
    incidents = [_incident(snap, p) for p in snap["posts"] if p["kind"] == "incident"]
    unresolved = [i for i in incidents if i["status"] != "resolved"]
    maint = [_incident(snap, p) for p in snap["posts"] if p["kind"] == "maintenance"]
    upcoming = [m for m in maint if m["status"] == "scheduled"]
    active = [m for m in maint if m["status"] in ("in_progress", "verifying")]
    return {
        "api/v2/summary.json": {"page": page, "status": status, "components": components,
                                "incidents": unresolved,
                                "scheduled_maintenances": upcoming + active},
        "api/v2/status.json": {"page": page, "status": status},
        "api/v2/components.json": {"page": page, "components": components},
        "api/v2/incidents.json": {"page": page, "incidents": incidents},
        "api/v2/incidents/unresolved.json": {"page": page, "incidents": unresolved},
        "api/v2/scheduled-maintenances.json": {"page": page, "scheduled_maintenances": maint},
        "api/v2/scheduled-maintenances/upcoming.json": {
            "page": page, "scheduled_maintenances": upcoming},
        "api/v2/scheduled-maintenances/active.json": {
            "page": page, "scheduled_maintenances": active},
    }


# ---- HTML -------------------------------------------------------------------------------------

def _local(iso: str | None, zone: str) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def html_page(snap: dict[str, Any]) -> str:
    zone = snap["page"]["time_zone"]
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for c in snap["components"]:
        if groups and groups[-1][0] == c["group"] and c["group"]:
            groups[-1][1].append(c)
        else:
            groups.append((c["group"], [c]))
    ind, desc = indicator(ComponentStatus(c["status"]) for c in snap["components"])
    names = {c["id"]: c["name"] for c in snap["components"]}
    posts = snap["posts"]
    text: str = _ENV.get_template("page.html").render(
        page=snap["page"], groups=groups, indicator=ind, description=desc,
        labels={s.value: s.label for s in ComponentStatus}, stage_labels=STAGE_LABELS,
        active=[p for p in posts if p["kind"] == "incident" and p["stage"] != "resolved"],
        maintenance=[p for p in posts if p["kind"] == "maintenance"
                     and p["stage"] != "completed"],
        history=[p for p in posts if p["stage"] in ("resolved", "completed")][:20],
        names=names, local=lambda iso: _local(iso, zone), updated=_local(_updated(snap), zone),
        markdown=body_html,
        preview=snap.get("preview", False), drill_posts=set(snap.get("drill_post_ids", [])))
    return text


def body_html(markdown: str) -> Markup:
    """An update's Markdown body as sanitised HTML, safe to place in a page as is."""
    return Markup(to_html(markdown))


# ---- feeds ------------------------------------------------------------------------------------

def _entries(snap: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    pairs = [(p, u) for p in snap["posts"] for u in p["updates"]]
    return sorted(pairs, key=lambda pu: pu[1]["at"], reverse=True)[:50]


def _rfc822(iso: str) -> str:
    from email.utils import format_datetime
    return format_datetime(datetime.fromisoformat(iso))


def rss(snap: dict[str, Any]) -> bytes:
    page = snap["page"]
    root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = f"{page['name']} status"
    ET.SubElement(channel, "link").text = page["url"] + "/"
    ET.SubElement(channel, "description").text = page["description"] or f"{page['name']} status"
    ET.SubElement(channel, "lastBuildDate").text = _rfc822(_updated(snap))
    for post, u in _entries(snap):
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = f"{post['title']}: {STAGE_LABELS[u['stage']]}"
        ET.SubElement(item, "link").text = f"{page['url']}/#post-{post['id']}"
        ET.SubElement(item, "guid", isPermaLink="false").text = \
            f"{page['url']}/#update-{u['id']}"
        ET.SubElement(item, "pubDate").text = _rfc822(u["at"])
        # RSS carries HTML in description as escaped text (ElementTree escapes it).
        ET.SubElement(item, "description").text = to_html(u["body"])
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def atom(snap: dict[str, Any]) -> bytes:
    page = snap["page"]
    ns = "http://www.w3.org/2005/Atom"
    root = ET.Element("feed", xmlns=ns)
    ET.SubElement(root, "title").text = f"{page['name']} status"
    ET.SubElement(root, "id").text = page["url"] + "/"
    ET.SubElement(root, "link", href=page["url"] + "/", rel="alternate")
    ET.SubElement(root, "link", href=page["url"] + "/feed.atom", rel="self")
    ET.SubElement(root, "updated").text = _updated(snap)
    ET.SubElement(ET.SubElement(root, "author"), "name").text = page["name"]
    for post, u in _entries(snap):
        entry = ET.SubElement(root, "entry")
        ET.SubElement(entry, "title").text = f"{post['title']}: {STAGE_LABELS[u['stage']]}"
        ET.SubElement(entry, "id").text = f"{page['url']}/#update-{u['id']}"
        ET.SubElement(entry, "link", href=f"{page['url']}/#post-{post['id']}")
        ET.SubElement(entry, "updated").text = u["at"]
        ET.SubElement(entry, "content", type="html").text = to_html(u["body"])
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
