"""Who may see which incident: the one rule every read path applies, as SQL conditions.

A restricted incident is seen by admins, its reporter, its role holders and its added
members; every other incident by everyone. What is attached to an incident (alerts and
their events, inbox outcomes, pages, changes) follows it: detail reads of hidden things
answer 'not found', lists leave them out. The conditions go into the queries themselves so
that a list's pages stay full and its cursor stays right.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, exists, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, aliased

from tocsin.accounts.principal import Principal
from tocsin.incidents.models import Incident, IncidentMember


def visible_incident(viewer: Principal) -> ColumnElement[bool]:
    """Condition on `Incident`: `viewer` may see it."""
    if viewer.is_admin:
        return true()
    uid = viewer.user_id
    return or_(
        Incident.restricted.is_(False),
        Incident.reporter_id == uid,
        Incident.commander_id == uid,
        Incident.tech_lead_id == uid,
        Incident.comms_lead_id == uid,
        exists().where(IncidentMember.incident_id == Incident.id, IncidentMember.user_id == uid),
    )


def hidden_incident_ids(viewer: Principal) -> Select[int] | None:
    """The ids of the incidents `viewer` may not see, as a subquery; None for admins.

    Written as the positive complement of visible_incident with IS DISTINCT FROM: a plain
    NOT (reporter_id = :uid OR ...) is NULL, not true, when a role is unassigned, and the
    incident would then count as not hidden."""
    if viewer.is_admin:
        return None
    uid = viewer.user_id
    # Its own alias, never correlated: the query it goes into may read incidents too.
    i = aliased(Incident)
    return select(i.id).where(
        i.restricted.is_(True),
        i.reporter_id.is_distinct_from(uid),
        i.commander_id.is_distinct_from(uid),
        i.tech_lead_id.is_distinct_from(uid),
        i.comms_lead_id.is_distinct_from(uid),
        ~exists().where(IncidentMember.incident_id == i.id, IncidentMember.user_id == uid),
    ).correlate(None)


def incident_id_visible(viewer: Principal,
                        column: InstrumentedAttribute[int | None] | ColumnElement[int | None],
                        ) -> ColumnElement[bool]:
    """Condition: the incident id in `column` (nullable: attached to nothing) is one
    `viewer` may see."""
    hidden = hidden_incident_ids(viewer)
    if hidden is None:
        return true()
    # NOT IN alone would drop rows whose column is NULL (NULL NOT IN (...) is NULL).
    return or_(column.is_(None), column.not_in(hidden))
