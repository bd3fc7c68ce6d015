"""Schedule routes under /api/v1/schedules and /api/v1/oncall, and the iCal feeds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.api import pagination
from tocsin.api.deps import Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.engine import timers
from tocsin.errors import NotFound
from tocsin.limits import Id, Timestamp
from tocsin.schedules import feed, handoff, service
from tocsin.schedules.models import HandoffNote, Schedule
from tocsin.schedules.oncall import Shift
from tocsin.schedules.schemas import (
    FeedOut,
    GapOut,
    HandoffNoteIn,
    HandoffNoteOut,
    OnCallOut,
    OverrideIn,
    OverrideOut,
    ScheduleIn,
    ScheduleOut,
    ShiftOut,
    ShiftsOut,
    SwapIn,
)

router = APIRouter(tags=["schedules"])
PREFIX = "/api/v1/schedules"


class PagingProblems(Protocol):
    """Why a schedule's on-call would reach nobody: prepared once per request, then asked per
    schedule. Escalation knows, and sits above schedules: the app hands this in
    (`app.state.schedule_paging_problems`, tocsin/app.py)."""

    def __call__(self, session: Session, *, now: datetime) -> Callable[[Schedule], list[str]]: ...


def _paging_problems(request: Request) -> PagingProblems:
    found: PagingProblems = request.app.state.schedule_paging_problems
    return found


ProblemsDep = Annotated[PagingProblems, Depends(_paging_problems)]


def _out(session: Session, schedule: Schedule, now: datetime,
         problems: Callable[[Schedule], list[str]]) -> ScheduleOut:
    overrides = service.overrides_of(session, [schedule.id], start=now - timedelta(days=1))
    return ScheduleOut(
        id=schedule.id, name=schedule.name, description=schedule.description,
        time_zone=schedule.time_zone, team_id=schedule.team_id,
        layers=service.layers_of(schedule),
        overrides=[OverrideOut(id=o.id, user_id=o.user_id, start=o.start_at, end=o.end_at,
                               reason=o.reason) for o in overrides[schedule.id]],
        warnings=service.warnings(session, schedule=schedule, now=now),
        paging_problems=problems(schedule))


def _shift(s: Shift) -> ShiftOut:
    return ShiftOut(user_id=s.user_id, start=s.start, end=s.end, source=s.source)


@router.post(PREFIX, status_code=201, response_model=ScheduleOut, summary="Create a schedule")
def create(data: ScheduleIn, session: SessionDep, rt: RuntimeDep, who: Responder,
           problems: ProblemsDep) -> ScheduleOut:
    accounts.require_team_manager(session, actor=who, team_id=data.team_id,
                                  what="this schedule")
    schedule = service.create_schedule(session, data=data, now=rt.clock.now())
    handoff.arm(session, schedule=schedule, now=rt.clock.now())
    session.commit()
    now = rt.clock.now()
    return _out(session, schedule, now, problems(session, now=now))


@router.get(PREFIX, response_model=Page[ScheduleOut], summary="List schedules, by id")
def list_all(session: SessionDep, rt: RuntimeDep, who: Viewer, problems: ProblemsDep,
             cursor: str | None = None, limit: Limit = 100) -> Page[ScheduleOut]:
    now = rt.clock.now()
    problems_of = problems(session, now=now)
    return pagination.page_of_all(service.list_schedules(session), cursor, limit,
                                  lambda s: _out(session, s, now, problems_of), lambda s: s.id)


@router.get(PREFIX + "/{schedule_id}", response_model=ScheduleOut)
def show(schedule_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer,
         problems: ProblemsDep) -> ScheduleOut:
    now = rt.clock.now()
    return _out(session, service.get_schedule(session, schedule_id), now,
                problems(session, now=now))


@router.put(PREFIX + "/{schedule_id}", response_model=ScheduleOut)
def replace(schedule_id: Id, data: ScheduleIn, session: SessionDep, rt: RuntimeDep,
            who: Responder, problems: ProblemsDep) -> ScheduleOut:
    schedule = service.get_schedule(session, schedule_id)
    accounts.require_team_move(session, actor=who, old_team=schedule.team_id,
                               new_team=data.team_id, what="this schedule")
    service.update_schedule(session, schedule=schedule, data=data, now=rt.clock.now())
    handoff.arm(session, schedule=schedule, now=rt.clock.now())
    session.commit()
    now = rt.clock.now()
    return _out(session, schedule, now, problems(session, now=now))


@router.delete(PREFIX + "/{schedule_id}", status_code=204)
def remove(schedule_id: Id, session: SessionDep, who: Responder) -> Response:
    schedule = service.get_schedule(session, schedule_id)
    accounts.require_team_manager(session, actor=who, team_id=schedule.team_id,
                                  what="this schedule")
    service.delete_schedule(session, schedule)
    timers.cancel(session, handoff.timer_key(schedule_id))
    session.commit()
    return Response(status_code=204)


@router.post(PREFIX + "/{schedule_id}/overrides", status_code=201, response_model=OverrideOut)
def add_override(schedule_id: Id, data: OverrideIn, session: SessionDep, rt: RuntimeDep,
                 who: Responder) -> OverrideOut:
    schedule = service.get_schedule(session, schedule_id)
    o = service.add_override(session, schedule=schedule, data=data, now=rt.clock.now())
    handoff.arm(session, schedule=schedule, now=rt.clock.now())
    session.commit()
    return OverrideOut(id=o.id, user_id=o.user_id, start=o.start_at, end=o.end_at,
                       reason=o.reason)


@router.post(PREFIX + "/{schedule_id}/swaps", status_code=201, response_model=list[OverrideOut])
def add_swap(schedule_id: Id, data: SwapIn, session: SessionDep, rt: RuntimeDep,
             who: Responder) -> list[OverrideOut]:
    schedule = service.get_schedule(session, schedule_id)
    made = service.swap(session, schedule=schedule, data=data, now=rt.clock.now())
    handoff.arm(session, schedule=schedule, now=rt.clock.now())
    session.commit()
    return [OverrideOut(id=o.id, user_id=o.user_id, start=o.start_at, end=o.end_at,
                        reason=o.reason) for o in made]


@router.delete(PREFIX + "/{schedule_id}/overrides/{override_id}", status_code=204)
def remove_override(schedule_id: Id, override_id: Id, session: SessionDep, rt: RuntimeDep,
                    who: Responder) -> Response:
    schedule = service.get_schedule(session, schedule_id)
    service.delete_override(session, schedule=schedule, override_id=override_id)
    handoff.arm(session, schedule=schedule, now=rt.clock.now())
    session.commit()
    return Response(status_code=204)


@router.get(PREFIX + "/{schedule_id}/shifts", response_model=ShiftsOut,
            summary="Final and per-layer shifts in a range, with gaps as warnings")
def shifts(schedule_id: Id, start: Timestamp, end: Timestamp, session: SessionDep,
           who: Viewer) -> ShiftsOut:
    schedule = service.get_schedule(session, schedule_id)
    result, per_layer = service.shifts(session, schedule=schedule, start=start, end=end)
    return ShiftsOut(
        schedule_id=schedule.id, start=start, end=end,
        final=[_shift(s) for s in result.shifts],
        layers={name: [_shift(s) for s in items] for name, items in per_layer.items()},
        gaps=[GapOut(start=g.start, end=g.end) for g in result.gaps],
        warnings=service.gap_warnings(schedule.name, result.gaps))


def _oncall(session: Session, schedules: list[Schedule], at: datetime) -> list[OnCallOut]:
    found = service.on_call(session, schedules=schedules, at=at)
    names = service.user_names(session, {s.user_id for s in found.values() if s})
    out = []
    for sched in schedules:
        sh = found[sched.id]
        out.append(OnCallOut(
            schedule_id=sched.id, schedule_name=sched.name, at=at,
            user_id=sh.user_id if sh else None,
            user_name=names.get(sh.user_id) if sh else None,
            until=sh.end if sh else None, status="covered" if sh else "nobody"))
    return out


@router.get("/api/v1/oncall", response_model=Page[OnCallOut],
            summary="Who is on call now (or `at`) for every schedule, by schedule id")
def oncall_all(session: SessionDep, rt: RuntimeDep, who: Viewer, at: Timestamp | None = None,
               cursor: str | None = None, limit: Limit = 100) -> Page[OnCallOut]:
    schedules = pagination.page_of_all(service.list_schedules(session), cursor, limit,
                                       lambda s: s, lambda s: s.id)
    return Page(items=_oncall(session, schedules.items, at or rt.clock.now()),
                next_cursor=schedules.next_cursor)


@router.get(PREFIX + "/{schedule_id}/oncall", response_model=OnCallOut)
def oncall_one(schedule_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer,
               at: Timestamp | None = None) -> OnCallOut:
    schedule = service.get_schedule(session, schedule_id)
    return _oncall(session, [schedule], at or rt.clock.now())[0]


@router.get(PREFIX + "/{schedule_id}/feed", response_model=FeedOut,
            summary="The secret iCalendar URL of this schedule")
def schedule_feed_url(schedule_id: Id, session: SessionDep, rt: RuntimeDep,
                      who: Viewer) -> FeedOut:
    service.get_schedule(session, schedule_id)
    s = rt.settings
    return FeedOut(url=feed.url(s.public_url, s.secret(), "schedules", schedule_id))


@router.get("/api/v1/oncall/feed", response_model=FeedOut,
            summary="The secret iCalendar URL of your own shifts")
def my_feed_url(rt: RuntimeDep, who: Viewer) -> FeedOut:
    s = rt.settings
    return FeedOut(url=feed.url(s.public_url, s.secret(), "users", who.user_id))


@router.get("/ical/{kind}/{ident}/{token}.ics", include_in_schema=False)
def ical(kind: str, ident: int, token: str, session: SessionDep, rt: RuntimeDep) -> Response:
    if kind not in ("schedules", "users") or not feed.check_token(
            rt.settings.secret(), kind, ident, token):
        raise NotFound("no such calendar")
    now = rt.clock.now()
    if kind == "schedules":
        body = feed.schedule_feed(session, schedule=service.get_schedule(session, ident), now=now)
    else:
        body = feed.user_feed(session, user_id=ident, now=now)
    return Response(body, media_type="text/calendar; charset=utf-8")


def _note(n: HandoffNote) -> HandoffNoteOut:
    return HandoffNoteOut(id=n.id, schedule_id=n.schedule_id, author_id=n.author_id,
                          text=n.text, created_at=n.created_at, delivered_at=n.delivered_at,
                          delivered_to_id=n.delivered_to_id)


@router.post(PREFIX + "/{schedule_id}/handoff-notes", status_code=201,
             response_model=HandoffNoteOut,
             summary="Leave a note for the next on-call (delivered at the handoff)")
def add_handoff_note(schedule_id: Id, data: HandoffNoteIn, session: SessionDep,
                     rt: RuntimeDep, who: Responder) -> HandoffNoteOut:
    schedule = service.get_schedule(session, schedule_id)
    note = handoff.add_note(session, schedule=schedule, author=who, text=data.text,
                            now=rt.clock.now())
    session.commit()
    return _note(note)


@router.get(PREFIX + "/{schedule_id}/handoff-notes", response_model=Page[HandoffNoteOut],
            summary="Handoff notes kept on the schedule, oldest first")
def handoff_notes(schedule_id: Id, session: SessionDep, who: Viewer, cursor: str | None = None,
                  limit: Limit = 100) -> Page[HandoffNoteOut]:
    schedule = service.get_schedule(session, schedule_id)
    return pagination.page_of_all(handoff.notes_of(session, schedule.id), cursor, limit,
                                  _note, lambda n: n.id)
