"""Who may see which incident: the one rule every read path applies, as SQL conditions.

A restricted incident is seen by admins, its reporter, its role holders and its added
members; every other incident by everyone. What is attached to an incident (alerts and
their events, inbox outcomes, pages, changes) follows it: detail reads of hidden things
answer 'not found', lists leave them out. The conditions go into the queries themselves so
that a list's pages stay full and its cursor stays right; each is an index look-up per row
(the incident by its key), so a list reads no more rows than it shows.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, exists, or_, select, true
from sqlalchemy.orm import QueryableAttribute

from tocsin.incidents.models import Incident, IncidentMember
from tocsin.principal import Principal


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


# Their own names (Core aliases, built once): the query a condition goes into may read the
# same tables.
_INCIDENTS = cast(Table, Incident.__table__).alias("vis_incidents")
_MEMBERS = cast(Table, IncidentMember.__table__).alias("vis_members")


def _hidden(viewer: Principal) -> ColumnElement[bool]:
    """Condition on _INCIDENTS: hidden from `viewer` (not an admin).

    The complement of visible_incident written with IS DISTINCT FROM: a plain
    NOT (reporter_id = :uid OR ...) is NULL, not true, when a role is unassigned, and the
    incident would then count as not hidden."""
    uid, i = viewer.user_id, _INCIDENTS
    return and_(
        i.c.restricted.is_(True),
        i.c.reporter_id.is_distinct_from(uid),
        i.c.commander_id.is_distinct_from(uid),
        i.c.tech_lead_id.is_distinct_from(uid),
        i.c.comms_lead_id.is_distinct_from(uid),
        ~exists().where(_MEMBERS.c.incident_id == i.c.id, _MEMBERS.c.user_id == uid),
    )


def hidden_incident_ids(viewer: Principal) -> Select[int] | None:
    """The ids of the incidents `viewer` may not see, as a subquery; None for admins."""
    if viewer.is_admin:
        return None
    return select(_INCIDENTS.c.id).where(_hidden(viewer)).correlate(None)


def incident_id_visible(viewer: Principal, column: ColumnElement[Any] | QueryableAttribute[Any],
                        ) -> ColumnElement[bool]:
    """Condition: the incident whose id is in `column` is one `viewer` may see (a NULL,
    attached to no incident, is)."""
    if viewer.is_admin:
        return true()
    return ~exists().where(_INCIDENTS.c.id == column, _hidden(viewer))
