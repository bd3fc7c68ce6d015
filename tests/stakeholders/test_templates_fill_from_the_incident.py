"""Templates: fields filled from the incident, missing ones left visible, bad templates
refused when saved."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Account
from tocsin.errors import Invalid
from tocsin.stakeholders.templates import DEFAULTS, FIELDS, check, fill


def test_every_default_template_is_valid_and_names_known_fields() -> None:
    for subject, body in DEFAULTS.values():
        check(subject)
        check(body)
    assert fill("{service}: next update by {next_update}; cause {cause}",
                {"service": "checkout", "next_update": "14:30 UTC", "cause": ""}) \
        == "checkout: next update by 14:30 UTC; cause [cause]"


@pytest.mark.parametrize("bad", ["{nope}", "{service", "{service.__class__}", "{0}"])
def test_bad_templates_are_refused(bad: str) -> None:
    with pytest.raises(Invalid):
        check(bad)


@given(st.text(max_size=40).filter(lambda t: "{" not in t and "}" not in t),
       st.sampled_from(FIELDS))
def test_filling_replaces_exactly_the_fields(text: str, field: str) -> None:
    assert fill(text + "{" + field + "}", {field: "X"}) == text + "X"


def test_templates_are_editable_over_the_api(client: TestClient, admin: Account,
                                             responder: Account) -> None:
    r = client.put("/api/v1/stakeholders/templates/initial", headers=admin.headers,
                   json={"subject": "{severity} on {service}", "body": "Impact: {impact}"})
    assert r.status_code == 200, r.text
    r = client.put("/api/v1/stakeholders/templates/initial", headers=admin.headers,
                   json={"subject": "{severity", "body": "x"})
    assert r.status_code == 422
    r = client.put("/api/v1/stakeholders/templates/initial", headers=responder.headers,
                   json={"subject": "x", "body": "x"})
    assert r.status_code == 403
    got = client.get("/api/v1/stakeholders/templates", headers=responder.headers).json()
    assert got["initial"]["subject"] == "{severity} on {service}"
    assert got["progress"]["default"] is True
