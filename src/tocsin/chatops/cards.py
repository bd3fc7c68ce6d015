"""Messages for platforms reached by webhook: Mattermost (incoming webhooks, with interactive
buttons in its Slack-compatible attachments) and Microsoft Teams (Adaptive Cards posted to a
Workflows webhook, with Tocsin's signed links as actions). Pure."""

from __future__ import annotations

from typing import Any

from tocsin.chatops.blocks import SEVERITY_MARK, IncidentView

COLOURS = {"SEV1": "#d32f2f", "SEV2": "#f57c00", "SEV3": "#fbc02d", "SEV4": "#9e9e9e"}
MM_ACTIONS = (("ack", "Acknowledge"), ("resolve", "Resolve"), ("escalate", "Escalate"))


def _state(view: IncidentView) -> str:
    text = f"{view.severity} · {view.status}"
    return text + (f" · IC {view.commander}" if view.commander else "")


def mattermost_alert(view: IncidentView, *, action_url: str,
                     contexts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An incoming-webhook post; each button calls `action_url` with its signed context."""
    actions = [{"id": action_id, "name": label, "type": "button",
                "integration": {"url": action_url, "context": contexts[action_id]}}
               for action_id, label in MM_ACTIONS
               if action_id in contexts and (action_id != "ack" or view.status == "triggered")
               and view.status not in {"resolved", "closed"}]
    return {"username": "Tocsin",
            "text": f"{SEVERITY_MARK.get(view.severity, '')} {view.number}: {view.title}",
            "attachments": [{
                "fallback": f"{view.number} {view.title} ({_state(view)})",
                "color": COLOURS.get(view.severity, "#9e9e9e"),
                "title": f"{view.number}: {view.title}", "title_link": view.url,
                "text": _state(view), "actions": actions}]}


def teams_card(view: IncidentView, *, ack_links: list[tuple[str, str]]) -> dict[str, Any]:
    """A Workflows webhook message holding one Adaptive Card. `ack_links`: (who, signed
    acknowledge link) for the people paged, so a press acts as that person."""
    facts = [{"title": "Severity", "value": view.severity},
             {"title": "Status", "value": view.status},
             {"title": "Commander", "value": view.commander or "nobody yet"}]
    actions: list[dict[str, Any]] = []
    if view.status == "triggered":
        actions += [{"type": "Action.OpenUrl", "title": f"Acknowledge as {who}"[:40],
                     "url": url} for who, url in ack_links[:3]]
    actions.append({"type": "Action.OpenUrl", "title": "Open in Tocsin", "url": view.url})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": "1.4",
            "body": [{"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True,
                      "text": f"{view.number}: {view.title}"},
                     {"type": "FactSet", "facts": facts}],
            "actions": actions}
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": card}]}
