"""Post-mortem and action-item completion agree with a naive count over generated incidents,
post-mortems and action items, per severity and per period in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.analytics import measures as m
from tocsin.postmortems import completion as c

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = START + timedelta(days=400)
REQUIRED = ["SEV1", "SEV2"]

action = st.fixed_dictionaries({
    "status": st.sampled_from(["open", "in_progress", "done", "cancelled"]),
    "due": st.integers(min_value=0, max_value=500 * 24),  # hours after creation
    "done": st.integers(min_value=0, max_value=500 * 24),
})
incident = st.fixed_dictionaries({
    "created": st.integers(min_value=0, max_value=365 * 24),  # hours after START
    "severity": st.sampled_from(["SEV1", "SEV2", "SEV3", "SEV4"]),
    "resolved": st.booleans(),
    "review": st.one_of(st.none(), st.fixed_dictionaries({
        "status": st.sampled_from(["draft", "in_review", "published"]),
        "due": st.integers(min_value=0, max_value=500 * 24),
        "published": st.integers(min_value=0, max_value=500 * 24)})),
    "actions": st.lists(action, max_size=4),
})


def _plain(histories: list[dict[str, Any]]) -> tuple[list[m.Facts], dict[int, c.Review],
                                                    dict[int, list[c.Action]]]:
    facts, reviews, actions = [], {}, {}
    for i, h in enumerate(histories):
        created = START + timedelta(hours=h["created"])
        facts.append(m.Facts(id=i, severity=h["severity"], created_at=created, source="monitor",
                             resolved_at=created + timedelta(hours=1) if h["resolved"] else None))
        if (r := h["review"]) is not None:
            reviews[i] = c.Review(i, r["status"], created + timedelta(hours=r["due"]),
                                  created + timedelta(hours=r["published"])
                                  if r["status"] == "published" else None)
        actions[i] = [c.Action(i, a["status"], created + timedelta(hours=a["due"]),
                               created + timedelta(hours=a["done"])
                               if a["status"] == "done" else None) for a in h["actions"]]
    return facts, reviews, actions


def naive(histories: list[dict[str, Any]]) -> dict[str, int]:
    """Counted one question at a time, each over the whole list."""
    def needs(h: dict[str, Any]) -> bool:
        return h["severity"] in REQUIRED and h["resolved"]

    def published(h: dict[str, Any]) -> bool:
        return needs(h) and h["review"] is not None and h["review"]["status"] == "published"

    live = [a | {"h": h} for h in histories for a in h["actions"] if a["status"] != "cancelled"]
    return {
        "needed": len([h for h in histories if needs(h)]),
        "published": len([h for h in histories if published(h)]),
        "published_on_time": len([h for h in histories if published(h)
                                  and h["review"]["published"] <= h["review"]["due"]]),
        "missing": len([h for h in histories if needs(h) and h["review"] is None]),
        "overdue": len([h for h in histories if needs(h) and h["review"] is not None
                        and h["review"]["status"] != "published"
                        and START + timedelta(hours=h["created"] + h["review"]["due"]) <= NOW]),
        "actions": len(live),
        "actions_done": len([a for a in live if a["status"] == "done"]),
        "actions_done_on_time": len([a for a in live if a["status"] == "done"
                                     and a["done"] <= a["due"]]),
        "actions_overdue": len([a for a in live if a["status"] != "done" and START + timedelta(
            hours=a["h"]["created"] + a["due"]) <= NOW]),
    }


@settings(max_examples=150, deadline=None)
@given(histories=st.lists(incident, max_size=25),
       zone=st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Kiritimati"]),
       dimension=st.sampled_from(["severity", "period", "all"]))
def test_completion_matches_a_naive_count(histories: list[dict[str, Any]], zone: str,
                                          dimension: str) -> None:
    facts, reviews, actions = _plain(histories)
    got = {r.group: r for r in c.completions(
        facts, m.keys_by(dimension, period="month", zone=zone), reviews, actions, REQUIRED,
        now=NOW)}
    groups: dict[str, list[dict[str, Any]]] = {}
    for h in histories:
        local = (START + timedelta(hours=h["created"])).astimezone(ZoneInfo(zone))
        key = {"severity": h["severity"], "all": "all",
               "period": f"{local.year}-{local.month:02d}"}[dimension]
        groups.setdefault(key, []).append(h)
    assert set(got) == set(groups)
    for key, members in groups.items():
        want = naive(members)
        row = got[key].as_dict()
        assert {k: row[k] for k in want} == want
        assert row["published_rate"] == (round(want["published"] / want["needed"], 4)
                                         if want["needed"] else None)
        assert row["actions_done_rate"] == (round(want["actions_done"] / want["actions"], 4)
                                            if want["actions"] else None)
