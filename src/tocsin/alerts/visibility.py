"""Alerts follow the incidents they were attached to (the rule: incidents/visibility.py).

An alert is hidden from a viewer when any incident it ever joined is hidden from them, not
only its current one: its event log keeps the raw payloads it brought to each of them."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, Select, and_, exists, select, true, tuple_, union
from sqlalchemy.orm import Session, aliased

from tocsin.accounts.principal import Principal
from tocsin.alerts.models import Alert, IncidentAlert
from tocsin.errors import NotFound
from tocsin.incidents import visibility


def visible_alert(viewer: Principal) -> ColumnElement[bool]:
    """Condition on `Alert`: `viewer` may see it."""
    hidden = visibility.hidden_incident_ids(viewer)
    if hidden is None:
        return true()
    # Its own alias of the links: the query it goes into may join them (an incident's alerts).
    link = aliased(IncidentAlert)
    return and_(visibility.incident_id_visible(viewer, Alert.incident_id),
                ~exists().where(link.alert_id == Alert.id, link.incident_id.in_(hidden)))


def hidden_alert_ids(viewer: Principal) -> Select[int] | None:
    """The ids of the alerts `viewer` may not see, as a subquery; None for admins."""
    hidden = visibility.hidden_incident_ids(viewer)
    if hidden is None:
        return None
    return select(union(
        select(IncidentAlert.alert_id).where(IncidentAlert.incident_id.in_(hidden)),
        select(Alert.id).where(Alert.incident_id.in_(hidden))).subquery().c[0])


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
    hidden = hidden_alert_ids(viewer)
    if hidden is None or not keys:
        return set()
    rows = session.execute(select(Alert.scope, Alert.dedup_key).where(
        tuple_(Alert.scope, Alert.dedup_key).in_(sorted(keys)), Alert.id.in_(hidden)))
    return {(scope, key) for scope, key in rows}
