"""Schedule operations: validate, store, and answer on-call questions via oncall.py."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tocsin.accounts.models import Team, User
from tocsin.db.lookup import get_or_404
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.schedules import oncall
from tocsin.schedules.models import Schedule, ScheduleOverride
from tocsin.schedules.schemas import LayerIn, OverrideIn, ScheduleIn, SwapIn

# How far ahead a saved schedule is checked for uncovered time.
WARN_HORIZON = timedelta(weeks=4)
MAX_RANGE = timedelta(days=400)


def _layer(data: LayerIn) -> oncall.Layer:
    return oncall.Layer(
        name=data.name, participants=tuple(data.participants), unit=data.unit,
        length=data.length, start=data.start,
        restrictions=tuple(oncall.Window(tuple(w.days), w.start, w.end)
                           for w in data.restrictions))


def layers_of(schedule: Schedule) -> list[LayerIn]:
    return [LayerIn.model_validate(raw) for raw in schedule.layers]


def definition(schedule: Schedule, overrides: list[ScheduleOverride]) -> oncall.Schedule:
    return oncall.Schedule(
        time_zone=schedule.time_zone,
        layers=tuple(_layer(x) for x in layers_of(schedule)),
        overrides=tuple(oncall.Override(o.user_id, o.start_at, o.end_at) for o in overrides))


def _check(session: Session, data: ScheduleIn) -> None:
    try:
        oncall.zone(data.time_zone)
    except oncall.InvalidSchedule as exc:
        raise Invalid(f"time_zone: {exc}") from None
    names = [x.name for x in data.layers]
    if len(set(names)) != len(names):
        raise Invalid("layers: layer names must be unique within a schedule")
    wanted = sorted({u for x in data.layers for u in x.participants})
    found = set(session.scalars(select(User.id).where(User.id.in_(wanted))))
    missing = [u for u in wanted if u not in found]
    if missing:
        raise Invalid(f"layers.participants: no user with id {', '.join(map(str, missing))}")
    if data.team_id is not None and session.get(Team, data.team_id) is None:
        raise Invalid(f"team_id: no team with id {data.team_id}")


def create_schedule(session: Session, *, data: ScheduleIn, now: datetime) -> Schedule:
    _check(session, data)
    if session.scalars(select(Schedule.id).where(Schedule.name == data.name)).first():
        raise Conflict(f"a schedule named '{data.name}' already exists")
    schedule = Schedule(name=data.name, description=data.description, time_zone=data.time_zone,
                        team_id=data.team_id,
                        layers=[x.model_dump(mode="json") for x in data.layers],
                        created_at=now, updated_at=now)
    session.add(schedule)
    session.flush()
    return schedule


def update_schedule(session: Session, *, schedule: Schedule, data: ScheduleIn,
                    now: datetime) -> Schedule:
    _check(session, data)
    if data.name != schedule.name and session.scalars(
            select(Schedule.id).where(Schedule.name == data.name)).first():
        raise Conflict(f"a schedule named '{data.name}' already exists")
    schedule.name, schedule.description = data.name, data.description
    schedule.time_zone, schedule.team_id = data.time_zone, data.team_id
    schedule.layers = [x.model_dump(mode="json") for x in data.layers]
    schedule.updated_at = now
    return schedule


def get_schedule(session: Session, schedule_id: int) -> Schedule:
    return get_or_404(session, Schedule, schedule_id, "schedule")


def list_schedules(session: Session) -> list[Schedule]:
    return list(session.scalars(select(Schedule).order_by(Schedule.id)))


def delete_schedule(session: Session, schedule: Schedule) -> None:
    session.delete(schedule)


def overrides_of(session: Session, schedule_ids: list[int], *, start: datetime | None = None,
                 end: datetime | None = None) -> dict[int, list[ScheduleOverride]]:
    query = select(ScheduleOverride).where(ScheduleOverride.schedule_id.in_(schedule_ids))
    if start is not None:
        query = query.where(ScheduleOverride.end_at > start)
    if end is not None:
        query = query.where(ScheduleOverride.start_at < end)
    out: dict[int, list[ScheduleOverride]] = {sid: [] for sid in schedule_ids}
    for o in session.scalars(query.order_by(ScheduleOverride.start_at)):
        out[o.schedule_id].append(o)
    return out


def add_override(session: Session, *, schedule: Schedule, data: OverrideIn,
                 now: datetime) -> ScheduleOverride:
    if data.end <= data.start:
        raise Invalid("end: an override must end after it starts")
    if session.get(User, data.user_id) is None:
        raise Invalid(f"user_id: no user with id {data.user_id}")
    clash = overrides_of(session, [schedule.id], start=data.start, end=data.end)[schedule.id]
    if clash:
        c = clash[0]
        raise Conflict(f"overlaps override {c.id} ({c.start_at.isoformat()} to "
                       f"{c.end_at.isoformat()}); delete or shorten it first",
                       extra={"override_id": c.id})
    override = ScheduleOverride(schedule_id=schedule.id, user_id=data.user_id,
                                start_at=data.start, end_at=data.end, reason=data.reason,
                                created_at=now)
    session.add(override)
    session.flush()
    return override


def swap(session: Session, *, schedule: Schedule, data: SwapIn,
         now: datetime) -> list[ScheduleOverride]:
    """A trade of two spans as two overrides, both or neither."""
    first = add_override(session, schedule=schedule, now=now, data=OverrideIn(
        user_id=data.other_user_id, start=data.start, end=data.end,
        reason=f"swap with user {data.user_id}"))
    second = add_override(session, schedule=schedule, now=now, data=OverrideIn(
        user_id=data.user_id, start=data.other_start, end=data.other_end,
        reason=f"swap with user {data.other_user_id}"))
    return [first, second]


def delete_override(session: Session, *, schedule: Schedule, override_id: int) -> None:
    result = session.execute(delete(ScheduleOverride).where(
        ScheduleOverride.id == override_id, ScheduleOverride.schedule_id == schedule.id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"schedule {schedule.id} has no override {override_id}")


def shifts(session: Session, *, schedule: Schedule, start: datetime,
           end: datetime) -> tuple[oncall.Result, dict[str, list[oncall.Shift]]]:
    """Final shifts (with gaps) and each layer's own shifts over [start, end)."""
    if end <= start:
        raise Invalid("end must be after start")
    if end - start > MAX_RANGE:
        raise Invalid(f"range too long: at most {MAX_RANGE.days} days per request")
    overrides = overrides_of(session, [schedule.id], start=start, end=end)[schedule.id]
    sched = definition(schedule, overrides)
    per_layer = {x.name: oncall.layer_shifts(x, sched.time_zone, start, end)
                 for x in sched.layers}
    return oncall.final_shifts(sched, start, end), per_layer


def gap_warnings(schedule_name: str, gaps: list[oncall.Gap]) -> list[str]:
    return [f"no one is on call for schedule {schedule_name} between "
            f"{g.start.isoformat()} and {g.end.isoformat()}" for g in gaps]


def warnings(session: Session, *, schedule: Schedule, now: datetime) -> list[str]:
    if not schedule.layers:
        return [f"schedule {schedule.name} has no layers: no one is ever on call"]
    result, _ = shifts(session, schedule=schedule, start=now, end=now + WARN_HORIZON)
    return gap_warnings(schedule.name, result.gaps)


def on_call(session: Session, *, schedules: list[Schedule],
            at: datetime) -> dict[int, oncall.Shift | None]:
    """The shift covering `at` for each schedule (None: nobody), looking a week ahead for
    when it ends."""
    overrides = overrides_of(session, [s.id for s in schedules], start=at,
                             end=at + timedelta(weeks=1))
    out: dict[int, oncall.Shift | None] = {}
    for s in schedules:
        result = oncall.final_shifts(definition(s, overrides[s.id]), at,
                                     at + timedelta(weeks=1))
        first = result.shifts[0] if result.shifts else None
        out[s.id] = first if first is not None and first.start == at else None
    return out


def on_call_user(session: Session, *, schedule_id: int, at: datetime) -> int | None:
    """Who escalation pages for this schedule at `at` (None: nobody)."""
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        return None
    overrides = overrides_of(session, [schedule_id], start=at,
                             end=at + timedelta(seconds=1))[schedule_id]
    return oncall.on_call_at(definition(schedule, overrides), at)


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()
    return {uid: name for uid, name in rows}
