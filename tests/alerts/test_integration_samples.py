"""The sample event of a generic integration is built from its own mapping, so the
copy-paste example and `tocsin integration test` work for that integration as configured."""

from __future__ import annotations

from datetime import UTC, datetime

from tocsin.alerts.models import IntegrationKind
from tocsin.alerts.normalized import EventAction
from tocsin.alerts.samples import TITLE, sample_request
from tocsin.intake.formats.generic import parse_generic, select_path

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def sample(mapping: dict[str, str]) -> dict[str, object]:
    return sample_request(IntegrationKind.GENERIC, "k" * 32, "http://tocsin.test", service_id=7,
                          mapping=mapping, dedup_key="cron-1").body


def test_generic_sample_puts_each_field_at_its_mapped_path() -> None:
    mapping = {"title": "$.check.name", "dedup_key": "check.id", "status": "$.check.state",
               "severity": "level", "service": "$.tags[1]", "source": "$.origin.hosts[0].name"}
    body = sample(mapping)
    event = parse_generic(body, mapping, now=NOW)
    assert (event.summary, event.dedup_key, event.action) == (TITLE, "cron-1",
                                                             EventAction.TRIGGER)
    assert event.severity == "critical" and event.source == "tocsin-cli"
    assert select_path(body, "$.tags[1]") == "7"  # the integration's own service, by id
    assert body["check"] == {"name": TITLE, "id": "cron-1", "state": "firing"}


def test_generic_sample_keeps_the_title_when_paths_collide() -> None:
    mapping = {"title": "$.name", "dedup_key": "$.name", "source": "$.name.deeper"}
    assert sample(mapping) == {"name": TITLE}
    assert parse_generic(sample(mapping), mapping, now=NOW).summary == TITLE


def test_every_kind_has_a_sample_with_the_key_where_its_sender_puts_it() -> None:
    key = "a" * 32
    for kind in IntegrationKind:
        made = sample_request(kind, key, "http://t", service_id=1,
                              mapping={"title": "title"}, dedup_key="d")
        carried = [made.url, made.headers.get("Authorization", ""), str(made.body)]
        assert any(key in place for place in carried), kind
