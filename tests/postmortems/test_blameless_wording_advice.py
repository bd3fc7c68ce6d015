"""The blameless check flags a person as the subject of a failure and suggests the system
framing; it leaves system-framed sentences alone, and it never raises."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tocsin.postmortems.blameless import check

PEOPLE = ["Dana Smith", "Lee Park"]


def test_a_named_person_causing_the_failure_is_flagged() -> None:
    found = check("Dana caused the outage by pushing a bad config. Alerts fired at 10:02.",
                  people=PEOPLE)
    assert [(f.subject, f.verb) for f in found] == [("Dana", "caused")]
    assert "system allowed" in found[0].suggestion or "process allowed" in found[0].suggestion


def test_full_names_and_pronouns_are_flagged() -> None:
    text = "Lee Park forgot to renew the certificate. Then someone deleted the table."
    assert [f.subject for f in check(text, people=PEOPLE)] == ["Lee Park", "someone"]


def test_system_framing_is_not_flagged() -> None:
    text = ("The deploy pipeline allowed an unreviewed config to ship. "
            "The certificate expired because renewal was manual. Dana restored service.")
    assert check(text, people=PEOPLE) == []


@given(st.text(max_size=400), st.lists(st.text(max_size=20), max_size=5))
def test_any_text_gives_advice_never_an_error(text: str, people: list[str]) -> None:
    for finding in check(text, people=people):
        assert finding.sentence in text
