"""Alerts follow the incidents they were attached to (the rule: incidents/visibility.py).

An alert is hidden from a viewer when any incident it ever joined is hidden from them, not
only its current one: its event log keeps the raw payloads it brought to each of them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, exists, select, true, tuple_
from sqlalchemy.orm import QueryableAttribute, Session

from tocsin.alerts.models import Alert, IncidentAlert
from tocsin.errors import NotFound
from tocsin.incidents.visibility import incident_id_visible
from tocsin.principal import Principal

# Its own name (a Core alias, built once): the query a condition goes into may join the links
# (an incident's alerts).
_LINKS = cast(Table, IncidentAlert.__table__).alias("vis_links")


def alert_id_visible(viewer: Principal, column: ColumnElement[Any] | QueryableAttribute[Any],
                     ) -> ColumnElement[bool]:
    """Condition: no incident the alert whose id is in `column` joined is hidden from
    `viewer`. Attaching an alert always records the link (IncidentAlert), so the links
    cover its current incident too."""
    if viewer.is_admin:
        return true()
    return ~exists().where(_LINKS.c.alert_id == column,
                           ~incident_id_visible(viewer, _LINKS.c.incident_id))


def visible_alert(viewer: Principal) -> ColumnElement[bool]:
    """Condition on `Alert`: `viewer` may see it."""
    if viewer.is_admin:
        return true()
    return and_(incident_id_visible(viewer, Alert.incident_id),
                alert_id_visible(viewer, Alert.id))


def get_visible_alert(session: Session, *, alert_id: int, viewer: Principal) -> Alert:
    """The alert, if `viewer` may see it; hidden ones answer 'not found' like missing ones."""
    alert = session.scalars(select(Alert).where(Alert.id == alert_id,
                                                visible_alert(viewer))).first()
    if alert is None:
        raise NotFound(f"no alert with id {alert_id}")
    return alert


def hidden_alert_keys(session: Session, *, viewer: Principal,
                      keys: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (scope, dedup key) alerts `viewer` may not see."""
    if viewer.is_admin or not keys:
        return set()
    rows = session.execute(select(Alert.scope, Alert.dedup_key).where(
        tuple_(Alert.scope, Alert.dedup_key).in_(sorted(keys)), ~visible_alert(viewer)))
    return {(scope, key) for scope, key in rows}
