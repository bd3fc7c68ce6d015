"""Blameless wording: flag sentences that blame a person and suggest the system framing.

Pure: text in, advice out. It advises and never blocks (DOMAIN §9: "the system allowed…",
not "X caused").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Verbs that, with a person as their subject, assign blame for a failure.
_BLAME_VERBS = (
    "caused", "broke", "forgot", "failed to", "messed up", "screwed up", "neglected",
    "ignored", "missed", "should have", "didn't", "did not", "accidentally", "mistakenly",
    "carelessly", "deleted", "dropped", "pushed a bad", "deployed a bad",
)
_PRONOUNS = ("he", "she", "they", "someone", "somebody", "the engineer", "the developer",
             "the operator", "the on-call")
_VERBS = "|".join(re.escape(v) for v in sorted(_BLAME_VERBS, key=len, reverse=True))
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


@dataclass(frozen=True)
class Finding:
    sentence: str
    subject: str
    verb: str
    suggestion: str


def _subject_pattern(names: Iterable[str]) -> re.Pattern[str]:
    words = [re.escape(n) for n in sorted({n.strip() for n in names if n.strip()},
                                           key=len, reverse=True)]
    words += [re.escape(p) for p in _PRONOUNS]
    lead = r"(?:(?:then|and|but|so|later|finally|unfortunately|apparently),?\s+)?"
    return re.compile(rf"^\s*{lead}(?P<subject>{'|'.join(words)})(?:'s)?\s+(?P<verb>{_VERBS})\b",
                      re.IGNORECASE)


def _suggest(rest: str) -> str:
    what = rest.strip().rstrip(".!?") or "this"
    return (f"Describe what the system allowed, not who: \"The process allowed '{what}' to "
            f"happen; which safeguard was missing?\"")


def check(text: str, *, people: Iterable[str] = ()) -> list[Finding]:
    """Sentences of `text` whose subject is a person (a name from `people` — first names and
    full names — or a pronoun standing for one) followed by a blaming verb."""
    names: set[str] = set()
    for person in people:
        names.add(person)
        names.update(part for part in person.split() if len(part) > 2)
    pattern = _subject_pattern(names)
    findings: list[Finding] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0).strip()
        hit = pattern.search(sentence)
        if hit:
            findings.append(Finding(sentence=sentence, subject=hit.group("subject"),
                                    verb=hit.group("verb").lower(),
                                    suggestion=_suggest(sentence[hit.end():])))
    return findings
