"""`/incident …`: the text after the command, parsed into what to do (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tocsin.incidents.lifecycle import Severity

ROLES = {"commander": "commander", "ic": "commander", "tech_lead": "tech_lead",
         "tech": "tech_lead", "comms_lead": "comms_lead", "comms": "comms_lead"}
# How Slack and Mattermost write a user mention in command text ("escape" on): <@U123|name>.
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")
_PRIORITY = re.compile(r"^P[1-4]$")

HELP = "\n".join([
    "*/incident* commands:",
    "• `declare [title]` opens the declare form",
    "• `ack` acknowledges this channel's incident",
    "• `resolve [summary]` resolves it",
    "• `severity SEV1..SEV4 [reason]` changes its severity",
    "• `role commander|tech_lead|comms_lead @person|me` assigns a role",
    "• `note <text>` adds a note to the timeline",
    "• `update <text>` posts a status update (also on the timeline)",
    "• `status` shows the incident",
    "• `link` links your chat account to your Tocsin account",
    "Outside an incident channel, name the incident: `ack INC-42`, `note INC-42 <text>`.",
])


@dataclass(frozen=True)
class Command:
    """`verb` is one of VERBS; `text` the rest; `severity`/`role`/`who` where they apply.
    `problem` is set when the input was not understood (the answer is help)."""

    verb: str
    text: str = ""
    severity: Severity | None = None
    role: str | None = None
    who: str | None = None  # a chat user id, or "me"
    problem: str = ""


VERBS = frozenset({"help", "declare", "ack", "resolve", "severity", "role", "note", "update",
                   "status", "link"})
# Verbs that act on the incident of the channel they are typed in.
ON_INCIDENT = frozenset({"ack", "resolve", "severity", "role", "note", "update", "status"})


def _help(problem: str) -> Command:
    return Command("help", problem=problem)


def parse(text: str) -> Command:
    words = text.strip().split(maxsplit=1)
    if not words:
        return Command("help")
    verb, rest = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    if verb == "acknowledge":
        verb = "ack"
    if verb not in VERBS:
        return _help(f"unknown command `{words[0][:40]}`")
    if verb == "severity":
        return _severity(rest)
    if verb == "role":
        return _role(rest)
    if verb in {"note", "update"} and not rest:
        return _help(f"`{verb}` needs some text")
    return Command(verb, text=rest)


def _severity(rest: str) -> Command:
    parts = rest.split(maxsplit=1)
    if not parts:
        return _help("`severity` needs a level: SEV1, SEV2, SEV3 or SEV4")
    level = parts[0].upper()
    if level in {"1", "2", "3", "4"} or _PRIORITY.match(level):
        level = "SEV" + level[-1]
    try:
        severity = Severity(level)
    except ValueError:
        return _help(f"unknown severity `{parts[0][:10]}`: use SEV1, SEV2, SEV3 or SEV4")
    return Command("severity", text=parts[1] if len(parts) > 1 else "", severity=severity)



def _role(rest: str) -> Command:
    parts = rest.split()
    if len(parts) != 2 or parts[0].lower() not in ROLES:
        return _help("`role` needs a role (commander, tech_lead, comms_lead) and a person")
    who = parts[1]
    if who.lower() == "me":
        return Command("role", role=ROLES[parts[0].lower()], who="me")
    mention = _MENTION.match(who)
    if mention is None:
        return _help("name the person as @mention or `me`")
    return Command("role", role=ROLES[parts[0].lower()], who=mention.group(1))
