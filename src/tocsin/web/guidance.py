"""Severity guidance shown beside the choice when declaring (DOMAIN §3): by user impact,
not by how hard the fix looks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeverityGuide:
    level: str
    name: str
    meaning: str
    response: str
    paging: str


SEVERITY_GUIDE = [
    SeverityGuide("SEV1", "Critical",
                  "Core function down for all or most users, payments failing, data loss or "
                  "breach.", "Under 5 min, all hands, executives told, public status page.",
                  "Phone, SMS, push and chat."),
    SeverityGuide("SEV2", "Major", "Significant degradation, or a large subset of users "
                  "affected.", "Under 15 min, on-call plus backup.", "Push and chat."),
    SeverityGuide("SEV3", "Minor", "A non-critical feature is impaired and a workaround "
                  "exists.", "Under 1 h, business hours.", "Chat or email."),
    SeverityGuide("SEV4", "Low", "Cosmetic, negligible impact.", "Backlog.",
                  "Ticket or email digest."),
]

ADVICE = "Unsure? Choose the higher severity now; lowering it later is logged and cheap."
