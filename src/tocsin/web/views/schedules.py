"""Schedules: who is on call now, a week/month calendar (each layer, the final result,
overrides on top), creating schedules and layers, and overrides picked on the calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.accounts import service as accounts
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError
from tocsin.escalation import reachability
from tocsin.limits import Id, Int32, whole_number
from tocsin.runtime import Runtime
from tocsin.schedules import feed, handoff, oncall
from tocsin.schedules import service as schedules
from tocsin.schedules.oncall import Unit
from tocsin.schedules.schemas import HandoffNoteIn, LayerIn, OverrideIn, ScheduleIn, SwapIn
from tocsin.web import calendar, forms, queries
from tocsin.web.auth import Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.managed import is_managed, refusal
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
PARTICIPANT_SLOTS = 6
# Restriction windows a layer form offers (the API takes any number; two cover "weekdays
# 9-17" plus "Saturday mornings"). A layer with more keeps the rest when edited here.
WINDOW_SLOTS = 2
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NOTES_SHOWN = 20  # the newest shift handoff notes on the schedule's page


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
    values: dict[str, Any] = {
        "layer_name": forms.text(form, "layer_name"), "unit": forms.text(form, "unit"),
        "length": forms.text(form, "length"), "layer_start": forms.text(form, "layer_start"),
        "participants": [forms.text(form, f"participant_{i}")
                         for i in range(1, PARTICIPANT_SLOTS + 1)]}
    for k in range(1, WINDOW_SLOTS + 1):
        values[f"window_{k}_days"] = [str(d) for d in forms.ints(form, f"window_{k}_days")]
        values[f"window_{k}_from"] = forms.text(form, f"window_{k}_from")
        values[f"window_{k}_to"] = forms.text(form, f"window_{k}_to")
    return values


def _layer_form_values(layer: LayerIn) -> dict[str, Any]:
    """The layer form's fields filled from a stored layer (editing in place)."""
    values: dict[str, Any] = {
        "layer_name": layer.name, "unit": layer.unit.value, "length": str(layer.length),
        "layer_start": layer.start.strftime("%Y-%m-%dT%H:%M"),
        "participants": [str(p) for p in layer.participants]}
    for k, window in enumerate(layer.restrictions[:WINDOW_SLOTS], start=1):
        values[f"window_{k}_days"] = [str(d) for d in window.days]
        values[f"window_{k}_from"] = window.start.strftime("%H:%M")
        values[f"window_{k}_to"] = window.end.strftime("%H:%M")
    return values


def _clock(raw: str) -> time | None:
    try:
        return time.fromisoformat(raw)
    except ValueError:
        return None


def _windows(values: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    """Restriction windows from the form; a window with nothing filled in is no window."""
    out = []
    for k in range(1, WINDOW_SLOTS + 1):
        days, start, end = (values[f"window_{k}_days"], values[f"window_{k}_from"],
                            values[f"window_{k}_to"])
        if not (days or start or end):
            continue
        if not days:
            errors[f"window_{k}_days"] = "tick the weekdays this window applies to"
        begin, finish = _clock(start), _clock(end)
        if begin is None:
            errors[f"window_{k}_from"] = "a time like 09:00"
        if finish is None:
            errors[f"window_{k}_to"] = "a time like 17:00 (at or before From: past midnight)"
        if days and begin is not None and finish is not None:
            out.append({"days": [int(d) for d in days if int(d) <= 6], "start": begin,
                        "end": finish})
    return out


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
            "start": start, "restrictions": _windows(values, errors)}


def _form_page(request: Request, session: Session, who: WebUser, *, values: dict[str, Any],
               errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return pages_of(request).render(
        request, "schedules/form.html", who, status_code=status_code, values=values,
        errors=errors or {}, users=queries.user_choices(session),
        teams=queries.team_choices(session), units=[u.value for u in Unit],
        slots=range(1, PARTICIPANT_SLOTS + 1), window_slots=range(1, WINDOW_SLOTS + 1),
        weekdays=WEEKDAYS)


@router.get("/schedules/new")
def new_form(request: Request, session: SessionDep, who: ResponderUser) -> Response:
    return _form_page(request, session, who, values={
        "time_zone": who.user.time_zone, "unit": "weeks", "length": "1",
        "layer_name": "Primary", "participants": []})


@router.post("/schedules/new")
def create(request: Request, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
           form: Form) -> Response:
    values: dict[str, Any] = {"name": forms.text(form, "name"),
                              "time_zone": forms.text(form, "time_zone"),
                              "description": forms.text(form, "description"),
                              "team_id": forms.text(form, "team_id"), **_layer_values(form)}
    accounts.require_team_manager(session, actor=who.principal,
                                  team_id=whole_number(values["team_id"]), what="this schedule")
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
    return redirect(f"/schedules/{created.id}?created=1",
                    flash=f"Schedule {created.name} created.")


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
    notes = handoff.notes_of(session, schedule.id)[-NOTES_SHOWN:][::-1]  # newest first
    people |= {i for n in notes for i in (n.author_id, n.delivered_to_id) if i is not None}
    return {"schedule": schedule, "period": p, "weeks": calendar.layout(p, zone, lanes),
            "names": queries.user_names(session, [*people, current.user_id if current else None]),
            "handoff_notes": notes,
            # The outgoing on-call writes the note (handoff.add_note: or an admin).
            "writes_note": who.can("admin") or (
                current is not None and current.user_id == who.user.id),
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
                   status_code: int = 200, edit_layer: int | None = None,
                   created: bool = False) -> Response:
    """`values`/`errors` fill whichever form was posted (fields are named apart: override,
    swap_*, layer fields); `edit_layer` turns the layer form into that layer's editor."""
    context = calendar_context(session, rt, who, schedule_id, view, day)
    layers = context["layers"]
    if edit_layer is not None and not 0 <= edit_layer < len(layers):
        edit_layer = None
    if edit_layer is not None and values is None:
        values = _layer_form_values(layers[edit_layer])
    s = rt.settings
    return pages_of(request).render(
        request, "schedules/calendar.html", who, status_code=status_code,
        values=values or {}, errors=errors or {}, users=queries.user_choices(session),
        units=[u.value for u in Unit], slots=range(1, PARTICIPANT_SLOTS + 1),
        window_slots=range(1, WINDOW_SLOTS + 1), weekdays=WEEKDAYS, edit_layer=edit_layer,
        ical=feed.url(s.public_url, s.secret(), "schedules", schedule_id),
        created=created, managed=is_managed(session, "schedule", schedule_id), **context)


@router.get("/schedules/{schedule_id}")
def show(request: Request, schedule_id: Id, session: SessionDep, rt: RuntimeDep,
         who: ViewerUser, view: str = "week", day: str | None = None,
         edit_layer: Int32 | None = None, created: bool = False) -> Response:
    return _calendar_page(request, session, rt, who, schedule_id, view=view, day=day,
                          edit_layer=edit_layer if who.can("admin") else None,
                          created=created)


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
        return _form_again(request, session, rt, who, schedule_id, values, exc.errors, 422)
    except TocsinError as exc:
        return _form_again(request, session, rt, who, schedule_id, values,
                           forms.from_domain(exc), exc.status_code)
    handoff.arm(session, schedule=schedule, now=rt.clock.now())
    session.commit()
    return redirect(f"/schedules/{schedule_id}?view={values['view'] or 'week'}"
                    f"&day={values['day']}", flash="Override added.")


@router.post("/schedules/{schedule_id}/handoff-notes")
def add_handoff_note(request: Request, schedule_id: Id, session: SessionDep, rt: RuntimeDep,
                     who: ResponderUser, form: Form) -> Response:
    """The outgoing on-call's note for the next shift (delivered with the briefing)."""
    schedule = schedules.get_schedule(session, schedule_id)
    values = {"handoff_note": forms.text(form, "handoff_note"), "view": "", "day": ""}
    try:
        data = forms.build(HandoffNoteIn, {"text": values["handoff_note"].strip()})
        handoff.add_note(session, schedule=schedule, author=who.principal, text=data.text,
                         now=rt.clock.now())
    except forms.FormErrors as exc:
        return _form_again(request, session, rt, who, schedule_id, values,
                           {"handoff_note": exc.errors.get("text", "this is required")}, 422)
    except TocsinError as exc:  # not on call now (nor an admin): 403
        return _form_again(request, session, rt, who, schedule_id, values,
                           {"handoff_note": exc.detail}, exc.status_code)
    session.commit()
    return redirect(f"/schedules/{schedule_id}#handoff-notes",
                    flash="Handoff note saved: it goes out with the next briefing.")


SWAP_FIELDS = ("swap_user_id", "swap_start", "swap_end", "swap_other_user_id",
               "swap_other_start", "swap_other_end")


@router.post("/schedules/{schedule_id}/swaps")
def add_swap(request: Request, schedule_id: int, session: SessionDep, rt: RuntimeDep,
             who: ResponderUser, form: Form) -> Response:
    """Two people trade spans: two overrides written together, as the API's swap."""
    schedule = schedules.get_schedule(session, schedule_id)
    values = {k: forms.text(form, k) for k in (*SWAP_FIELDS, "view", "day")}
    errors: dict[str, str] = {}
    zone = who.user.time_zone
    fields = {k.removeprefix("swap_"): (forms.when(form, k, zone, errors) if "user" not in k
                                        else forms.optional_int(form, k, errors))
              for k in SWAP_FIELDS}
    try:
        try:
            data = SwapIn.model_validate(fields)
        except ValueError:
            data = None
            errors.update({f"swap_{k}": "this is required" for k, v in fields.items()
                           if v is None and f"swap_{k}" not in errors})
        if errors or data is None:
            raise forms.FormErrors(errors)
        schedules.swap(session, schedule=schedule, data=data, now=rt.clock.now())
    except forms.FormErrors as exc:
        return _form_again(request, session, rt, who, schedule_id, values, exc.errors, 422)
    except TocsinError as exc:
        found = {f"swap_{k}": v for k, v in forms.from_domain(exc).items()}
        return _form_again(request, session, rt, who, schedule_id, values,
                           _swap_errors(found), exc.status_code)
    handoff.arm(session, schedule=schedule, now=rt.clock.now())
    session.commit()
    return redirect(f"/schedules/{schedule_id}?view={values['view'] or 'week'}"
                    f"&day={values['day']}", flash="Swap saved: two overrides added.")


def _form_again(request: Request, session: Session, rt: Runtime, who: WebUser,
                schedule_id: Id, values: dict[str, str], errors: dict[str, str],
                status_code: int) -> Response:
    """A refused override or swap: nothing is kept, and the calendar comes back with what
    was typed and why it was refused."""
    session.rollback()
    return _calendar_page(request, session, rt, who, schedule_id, view=values["view"],
                          day=values["day"] or None, values=values, errors=errors,
                          status_code=status_code)


def _swap_errors(found: dict[str, str]) -> dict[str, str]:
    """A domain error naming a swap field shows there; any other at the swap form's top."""
    known = {k: v for k, v in found.items() if k in SWAP_FIELDS}
    return known or {"swap_form": next(iter(found.values()), "the swap was refused")}


@router.post("/schedules/{schedule_id}/overrides/{override_id}/delete")
def delete_override(request: Request, schedule_id: Id, override_id: Id, session: SessionDep,
                    who: ResponderUser, form: Form) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    schedules.delete_override(session, schedule=schedule, override_id=override_id)
    session.commit()
    return redirect(f"/schedules/{schedule_id}", flash="Override removed.")


@router.post("/schedules/{schedule_id}/layers")
def add_layer(request: Request, schedule_id: Id, session: SessionDep, rt: RuntimeDep,
              who: ResponderUser, form: Form) -> Response:
    return _save_layer(request, session, rt, who, form, schedule_id=schedule_id, index=None)


@router.post("/schedules/{schedule_id}/layers/{index}")
def edit_layer(request: Request, schedule_id: int, index: int, session: SessionDep,
               rt: RuntimeDep, who: ResponderUser, form: Form) -> Response:
    return _save_layer(request, session, rt, who, form, schedule_id=schedule_id, index=index)


def _save_layer(request: Request, session: Session, rt: Runtime, who: WebUser, form: FormData,
                *, schedule_id: int, index: int | None) -> Response:
    """Add a layer (`index` None) or replace layer `index` in place, keeping its position
    and any restriction windows beyond those the form shows."""
    schedule = schedules.get_schedule(session, schedule_id)
    accounts.require_team_manager(session, actor=who.principal, team_id=schedule.team_id,
                                  what="this schedule")
    layers = schedules.layers_of(schedule)
    if index is not None and not 0 <= index < len(layers):
        return redirect(f"/schedules/{schedule_id}", flash="That layer is gone; nothing saved.")
    values = _layer_values(form)
    refused = refusal(session, form, kind="schedule", local_id=schedule_id, noun="schedule")
    if refused:
        return _calendar_page(request, session, rt, who, schedule_id, values=values,
                              errors=refused, status_code=409, edit_layer=index)
    errors: dict[str, str] = {}
    layer = _layer(values, errors)
    if index is not None:
        layer["restrictions"] += layers[index].restrictions[WINDOW_SLOTS:]
    try:
        new_layer = forms.build(LayerIn, layer, errors)
        if index is None:
            layers.append(new_layer)
        else:
            layers[index] = new_layer
        data = ScheduleIn(name=schedule.name, description=schedule.description,
                          time_zone=schedule.time_zone, team_id=schedule.team_id,
                          layers=layers)
        schedules.update_schedule(session, schedule=schedule, data=data, now=rt.clock.now())
    except forms.FormErrors as exc:
        session.rollback()
        return _calendar_page(request, session, rt, who, schedule_id, values=values,
                              errors=_flat(exc.errors), status_code=422, edit_layer=index)
    except TocsinError as exc:
        session.rollback()
        return _calendar_page(request, session, rt, who, schedule_id, values=values,
                              errors=_flat(forms.from_domain(exc)),
                              status_code=exc.status_code, edit_layer=index)
    handoff.arm(session, schedule=schedule, now=rt.clock.now())
    session.commit()
    done = "added" if index is None else "saved"
    return redirect(f"/schedules/{schedule_id}", flash=f"Layer {new_layer.name} {done}.")


@router.post("/schedules/{schedule_id}/layers/{index}/delete")
def remove_layer(request: Request, schedule_id: Id, index: int, session: SessionDep,
                 rt: RuntimeDep, who: ResponderUser, form: Form) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    accounts.require_team_manager(session, actor=who.principal, team_id=schedule.team_id,
                                  what="this schedule")
    layers = schedules.layers_of(schedule)
    if not 0 <= index < len(layers):
        return redirect(f"/schedules/{schedule_id}", flash="That layer is already gone.")
    refused = refusal(session, form, kind="schedule", local_id=schedule_id, noun="schedule")
    if refused:
        return _calendar_page(request, session, rt, who, schedule_id, errors=refused,
                              status_code=409)
    removed = layers.pop(index)
    schedules.update_schedule(session, schedule=schedule, now=rt.clock.now(), data=ScheduleIn(
        name=schedule.name, description=schedule.description, time_zone=schedule.time_zone,
        team_id=schedule.team_id, layers=layers))
    session.commit()
    return redirect(f"/schedules/{schedule_id}", flash=f"Layer {removed.name} removed.")
