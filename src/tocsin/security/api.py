"""Notification clocks of a security incident: list them, record a notification."""

from __future__ import annotations

from fastapi import APIRouter

from tocsin.api import pagination
from tocsin.api.deps import Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.incidents import service as incidents
from tocsin.limits import Id
from tocsin.security import service
from tocsin.security.schemas import ClockOut, NotifiedIn

router = APIRouter(tags=["security"])
PREFIX = "/api/v1/incidents/{incident_id}/notification-clocks"


@router.get(PREFIX, response_model=Page[ClockOut],
            summary="Notification deadlines of a security incident")
def list_clocks(incident_id: Id, session: SessionDep, who: Viewer, cursor: str | None = None,
                limit: Limit = 100) -> Page[ClockOut]:
    incidents.get_visible(session, incident_id=incident_id, viewer=who)
    return pagination.page_of_all(service.clocks_of(session, incident_id), cursor, limit,
                                  ClockOut.model_validate, lambda c: c.id)


@router.post(PREFIX + "/{clock_id}/notified", response_model=ClockOut,
             summary="Record that the notification was made (stops the reminders)")
def notified(incident_id: Id, clock_id: Id, data: NotifiedIn, session: SessionDep,
             rt: RuntimeDep, who: Responder) -> ClockOut:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who,
                                     for_update=True)
    clock = service.record_notification(session, incident=incident, clock_id=clock_id,
                                         actor=who, note=data.note, now=rt.clock.now())
    session.commit()
    return ClockOut.model_validate(clock)
