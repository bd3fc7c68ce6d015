"""What of the inbox a viewer may see (the rule: incidents/visibility.py).

A processed row names the alerts and incidents it touched in its outcome: a row that names
one hidden from the viewer is left out, in SQL, so a page of rows stays full. A row not yet
processed, or whose processing failed, is attached to nothing yet, but it may carry a later
event of an alert already hidden from the viewer: its body and error are withheld. The row
itself (an id, a time, an integration) names nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, exists, func, literal_column, or_, select, true
from sqlalchemy.orm import Session

from tocsin.alerts.service import scope_of
from tocsin.alerts.triage_config import integration_info
from tocsin.alerts.visibility import alert_id_visible, hidden_alert_keys
from tocsin.incidents.visibility import hidden_incident_ids, incident_id_visible
from tocsin.intake.models import InboxRow
from tocsin.intake.processor import events_of
from tocsin.principal import Principal


def outcome_visible(session: Session, viewer: Principal) -> ColumnElement[bool]:
    """Condition on processed rows: no alert or incident their outcome names is hidden
    from `viewer`."""
    if viewer.is_admin:
        return true()
    if session.get_bind().dialect.name == "postgresql":
        # JSONB there (db/base.py JSONType); jsonb_array_elements raises on anything but an
        # array, and a row without an outcome holds a JSON null.
        outcome = case((func.jsonb_typeof(InboxRow.outcome) == "array", InboxRow.outcome),
                       else_=literal_column("'[]'::jsonb"))
        item = func.jsonb_array_elements(outcome).table_valued("value").alias("item")
        incident_id: ColumnElement[Any] = item.c.value.op("->>")("incident_id").cast(Integer)
        alert_id: ColumnElement[Any] = item.c.value.op("->>")("alert_id").cast(Integer)
    else:
        item = func.json_each(InboxRow.outcome).table_valued("value").alias("item")
        incident_id = func.json_extract(item.c.value, "$.incident_id")
        alert_id = func.json_extract(item.c.value, "$.alert_id")
    return ~exists().select_from(item).where(
        or_(~incident_id_visible(viewer, incident_id), ~alert_id_visible(viewer, alert_id)))


def withheld_payloads(session: Session, viewer: Principal,
                      rows: Sequence[InboxRow]) -> set[int]:
    """Ids of the unprocessed or failed `rows` carrying an event of an alert hidden from
    `viewer`. Rows are parsed again only when something is hidden from them at all."""
    hidden = hidden_incident_ids(viewer)
    waiting = [r for r in rows if r.body]
    if hidden is None or not waiting or not session.scalar(select(hidden.exists())):
        return set()
    keys: dict[int, set[tuple[str, str]]] = {}
    for row in waiting:
        integration = integration_info(session, row.integration_id)
        if integration is None:
            continue
        try:
            events, _raw = events_of(session, row, integration)
        except Exception:
            continue
        keys[row.id] = {(scope_of(e), e.dedup_key) for e in events}
    found = hidden_alert_keys(session, viewer=viewer,
                              keys={k for ks in keys.values() for k in ks})
    return {row_id for row_id, ks in keys.items() if ks & found}
