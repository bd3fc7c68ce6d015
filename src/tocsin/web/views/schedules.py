"""Schedules: who is on call now, a week/month calendar (each layer, the final result,
overrides on top), creating schedules and layers, and overrides picked on the calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError
from tocsin.escalation import reachability
from tocsin.limits import Id, whole_number
from tocsin.runtime import Runtime
from tocsin.schedules import oncall
from tocsin.schedules import service as schedules
from tocsin.schedules.oncall import Unit
from tocsin.schedules.schemas import LayerIn, OverrideIn, ScheduleIn
from tocsin.web import calendar, forms, queries
from tocsin.web.auth import AdminUser, Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
PARTICIPANT_SLOTS = 6


@router.get("/schedules")
def schedule_list(request: Request, session: SessionDep, rt: RuntimeDep,
                  who: ViewerUser) -> Response:
    rows = schedules.list_schedules(session)
    now_on = schedules.on_call(session, schedules=rows, at=rt.clock.now())
    names = queries.user_names(session, [s.user_id for s in now_on.values() if s])
    people = reachability.load_people(session, now=rt.clock.now())
    flagged = [(s.name, problems) for s in rows if (problems := reachability.schedule_problems(
        session, s, people, now=rt.clock.now()))]
    return pages_of(request).render(request, "schedules/list.html", who, rows=rows,
                                    now_on=now_on, names=names, flagged=flagged)


def _layer_values(form: FormData) -> dict[str, Any]:
    return {"layer_name": forms.text(form, "layer_name"), "unit": forms.text(form, "unit"),
            "length": forms.text(form, "length"), "layer_start": forms.text(form, "layer_start"),
            "participants": [forms.text(form, f"participant_{i}")
                             for i in range(1, PARTICIPANT_SLOTS + 1)]}


def _layer(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    start: datetime | None = None
    if values["layer_start"]:
        try:
            start = datetime.fromisoformat(values["layer_start"]).replace(tzinfo=None)
        except ValueError:
            errors["layer_start"] = "enter a date and time like 2026-01-05 09:00"
    else:
        errors["layer_start"] = "when the first shift starts (the handoff time)"
    people = [n for p in values["participants"] if (n := whole_number(p)) is not None]
    if not people:
        errors["participants"] = "choose at least one person"
    length = values["length"] or "1"
    if whole_number(length) is None:
        errors["length"] = "enter a whole number"
    return {"name": values["layer_name"] or "Primary", "participants": people,
            "unit": values["unit"] or "weeks", "length": whole_number(length) or 1,
            "start": start}


def _form_page(request: Request, session: Session, who: WebUser, *, values: dict[str, Any],
               errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return pages_of(request).render(
        request, "schedules/form.html", who, status_code=status_code, values=values,
        errors=errors or {}, users=queries.user_choices(session),
        teams=queries.team_choices(session), units=[u.value for u in Unit],
        slots=range(1, PARTICIPANT_SLOTS + 1))


@router.get("/schedules/new")
def new_form(request: Request, session: SessionDep, who: AdminUser) -> Response:
    return _form_page(request, session, who, values={
        "time_zone": who.user.time_zone, "unit": "weeks", "length": "1",
        "layer_name": "Primary", "participants": []})


@router.post("/schedules/new")
def create(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
           form: Form) -> Response:
    values: dict[str, Any] = {"name": forms.text(form, "name"),
                              "time_zone": forms.text(form, "time_zone"),
                              "description": forms.text(form, "description"),
                              "team_id": forms.text(form, "team_id"), **_layer_values(form)}
    errors: dict[str, str] = {}
    layer = _layer(values, errors)
    try:
        data = forms.build(ScheduleIn, {
            "name": values["name"], "time_zone": values["time_zone"],
            "description": values["description"],
            "team_id": whole_number(values["team_id"]),
            "layers": [layer] if layer["start"] else []}, errors)
        created = schedules.create_schedule(session, data=data, now=rt.clock.now())
    except forms.FormErrors as exc:
        session.rollback()
        return _form_page(request, session, who, values=values, errors=_flat(exc.errors),
                          status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _form_page(request, session, who, values=values,
                          errors=_flat(forms.from_domain(exc)), status_code=exc.status_code)
    session.commit()
    return redirect(f"/schedules/{created.id}", flash=f"Schedule {created.name} created.")


def _flat(errors: dict[str, str]) -> dict[str, str]:
    """Layer errors arrive as 'layers' or 'layers.participants'; show them by their field."""
    out = dict(errors)
    if "layers" in out:
        out.setdefault("layer_name", out.pop("layers"))
    if "layers.participants" in out:
        out["participants"] = out.pop("layers.participants")
    return out


def calendar_context(session: Session, rt: Runtime, who: WebUser, schedule_id: Id,
                     view: str, day: str | None) -> dict[str, Any]:
    schedule = schedules.get_schedule(session, schedule_id)
    zone = who.user.time_zone
    view = view if view in calendar.VIEWS else "week"
    try:
        anchor = date.fromisoformat(day) if day else None
    except ValueError:
        anchor = None
    anchor = anchor or rt.clock.now().astimezone(ZoneInfo(zone)).date()
    p = calendar.period(view, anchor, zone)
    result, per_layer = schedules.shifts(session, schedule=schedule, start=p.start, end=p.end)
    overrides = schedules.overrides_of(session, [schedule.id], start=p.start,
                                       end=p.end)[schedule.id]
    lanes: dict[str, list[tuple[int, datetime, datetime, str]]] = {
        f"Layer: {name}": [(s.user_id, s.start, s.end, s.source) for s in shifts]
        for name, shifts in per_layer.items()}
    lanes["Overrides"] = [(o.user_id, o.start_at, o.end_at, "override") for o in overrides]
    lanes["Final"] = [(s.user_id, s.start, s.end, s.source) for s in result.shifts]
    people = {s[0] for lane in lanes.values() for s in lane}
    people |= {p for layer in schedules.layers_of(schedule) for p in layer.participants}
    now = rt.clock.now()
    current = schedules.on_call(session, schedules=[schedule], at=now)[schedule.id]
    return {"schedule": schedule, "period": p, "weeks": calendar.layout(p, zone, lanes),
            "names": queries.user_names(session, [*people, current.user_id if current else None]),
            "rows": _rows(result), "overrides": overrides,
            "current": current, "layers": schedules.layers_of(schedule),
            "warnings": schedules.warnings(session, schedule=schedule, now=now),
            "paging_problems": reachability.schedule_problems(
                session, schedule, reachability.load_people(session, now=now), now=now)}


@dataclass(frozen=True)
class _Row:
    user_id: Id | None
    start: datetime
    end: datetime
    source: str


def _rows(result: oncall.Result) -> list[_Row]:
    """Final shifts and gaps in time order, for the table under the calendar."""
    rows = [_Row(s.user_id, s.start, s.end, s.source.removeprefix("layer:"))
            for s in result.shifts]
    rows += [_Row(None, g.start, g.end, "gap") for g in result.gaps]
    return sorted(rows, key=lambda r: r.start)


def _calendar_page(request: Request, session: Session, rt: Runtime, who: WebUser,
                   schedule_id: Id, *, view: str = "week", day: str | None = None,
                   values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                   status_code: int = 200) -> Response:
    context = calendar_context(session, rt, who, schedule_id, view, day)
    return pages_of(request).render(
        request, "schedules/calendar.html", who, status_code=status_code,
        values=values or {}, errors=errors or {}, users=queries.user_choices(session),
        units=[u.value for u in Unit], slots=range(1, PARTICIPANT_SLOTS + 1), **context)


@router.get("/schedules/{schedule_id}")
def show(request: Request, schedule_id: Id, session: SessionDep, rt: RuntimeDep,
         who: ViewerUser, view: str = "week", day: str | None = None) -> Response:
    return _calendar_page(request, session, rt, who, schedule_id, view=view, day=day)


@router.post("/schedules/{schedule_id}/overrides")
def add_override(request: Request, schedule_id: Id, session: SessionDep, rt: RuntimeDep,
                 who: ResponderUser, form: Form) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    values = {k: forms.text(form, k) for k in ("user_id", "start", "end", "reason", "view",
                                               "day")}
    errors: dict[str, str] = {}
    zone = who.user.time_zone
    start, end = forms.when(form, "start", zone, errors), forms.when(form, "end", zone, errors)
    try:
        data = forms.build(OverrideIn, {
            "user_id": forms.optional_int(form, "user_id", errors), "start": start,
            "end": end, "reason": values["reason"]}, errors)
        schedules.add_override(session, schedule=schedule, data=data, now=rt.clock.now())
    except forms.FormErrors as exc:
        session.rollback()
        return _calendar_page(request, session, rt, who, schedule_id, view=values["view"],
                              day=values["day"] or None, values=values, errors=exc.errors,
                              status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _calendar_page(request, session, rt, who, schedule_id, view=values["view"],
                              day=values["day"] or None, values=values,
                              errors=forms.from_domain(exc), status_code=exc.status_code)
    session.commit()
    return redirect(f"/schedules/{schedule_id}?view={values['view'] or 'week'}"
                    f"&day={values['day']}", flash="Override added.")


@router.post("/schedules/{schedule_id}/overrides/{override_id}/delete")
def delete_override(request: Request, schedule_id: Id, override_id: Id, session: SessionDep,
                    who: ResponderUser, form: Form) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    schedules.delete_override(session, schedule=schedule, override_id=override_id)
    session.commit()
    return redirect(f"/schedules/{schedule_id}", flash="Override removed.")


@router.post("/schedules/{schedule_id}/layers")
def add_layer(request: Request, schedule_id: Id, session: SessionDep, rt: RuntimeDep,
              who: AdminUser, form: Form) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    values = _layer_values(form)
    errors: dict[str, str] = {}
    layer = _layer(values, errors)
    try:
        new_layer = forms.build(LayerIn, layer, errors)
        data = ScheduleIn(name=schedule.name, description=schedule.description,
                          time_zone=schedule.time_zone, team_id=schedule.team_id,
                          layers=[*schedules.layers_of(schedule), new_layer])
        schedules.update_schedule(session, schedule=schedule, data=data, now=rt.clock.now())
    except forms.FormErrors as exc:
        session.rollback()
        return _calendar_page(request, session, rt, who, schedule_id, values=values,
                              errors=_flat(exc.errors), status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _calendar_page(request, session, rt, who, schedule_id, values=values,
                              errors=_flat(forms.from_domain(exc)),
                              status_code=exc.status_code)
    session.commit()
    return redirect(f"/schedules/{schedule_id}", flash=f"Layer {new_layer.name} added.")


@router.post("/schedules/{schedule_id}/layers/{index}/delete")
def remove_layer(request: Request, schedule_id: Id, index: int, session: SessionDep,
                 rt: RuntimeDep, who: AdminUser, form: Form) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    layers = schedules.layers_of(schedule)
    if not 0 <= index < len(layers):
        return redirect(f"/schedules/{schedule_id}", flash="That layer is already gone.")
    removed = layers.pop(index)
    schedules.update_schedule(session, schedule=schedule, now=rt.clock.now(), data=ScheduleIn(
        name=schedule.name, description=schedule.description, time_zone=schedule.time_zone,
        team_id=schedule.team_id, layers=layers))
    session.commit()
    return redirect(f"/schedules/{schedule_id}", flash=f"Layer {removed.name} removed.")
