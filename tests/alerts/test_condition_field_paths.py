"""Condition fields are dotted paths into the alert context; a label whose name contains
dots is found whole, nested details are followed, and anything else is missing."""

from __future__ import annotations

from tocsin.alerts.match import matches

CONTEXT = {"labels": {"app.kubernetes.io/name": "checkout", "env": "prod"},
           "details": {"db": {"host": "db-1", "lag": 12}}, "summary": "slow"}


def _equals(field: str, value: object) -> bool:
    return matches({"field": field, "op": "equals", "value": value}, CONTEXT)


def test_dotted_label_names_nested_details_and_missing_fields() -> None:
    assert _equals("labels.app.kubernetes.io/name", "checkout")
    assert _equals("labels.env", "prod")
    assert _equals("details.db.host", "db-1")
    assert _equals("details.db.lag", 12)
    assert not _equals("details.db.port", 5432)
    assert not _equals("summary.length", 4)  # a string has no fields
    assert matches({"field": "labels.app", "op": "not_exists"}, CONTEXT)
    assert matches({"field": "details.db", "op": "exists"}, CONTEXT)
