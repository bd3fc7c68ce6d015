"""Escalation policies editor (levels of targets with delays) and, per service, which policy
pages for each severity. Running escalations keep their snapshot; edits apply to new ones."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.accounts import service as accounts
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.catalog import service as catalog
from tocsin.configcode import service as configcode
from tocsin.errors import Forbidden, TocsinError
from tocsin.escalation import reachability
from tocsin.escalation import service as escalation
from tocsin.escalation.api import guard_policy
from tocsin.escalation.policy import TeamMode
from tocsin.escalation.schemas import PolicyIn, ServicePoliciesIn
from tocsin.limits import Id, whole_number
from tocsin.schedules import service as schedules
from tocsin.web import forms, queries
from tocsin.web.auth import Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
LEVELS, TARGETS_PER_LEVEL = 4, 2
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def _targets(session: Session) -> list[tuple[str, str]]:
    """Choices as 'kind:id' with readable names: schedules, teams, then people."""
    out = [(f"schedule:{s.id}", f"On call: {s.name}") for s in schedules.list_schedules(session)]
    out += [(f"team:{i}", f"Team: {n}") for i, n in queries.team_choices(session)]
    out += [(f"user:{i}", n) for i, n in queries.user_choices(session)]
    return out


def _page(request: Request, session: Session, who: WebUser, *, values: dict[str, Any],
          policy_id: Id | None = None, errors: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    targets = _targets(session)
    policies = escalation.list_policies(session)
    people = reachability.load_people(session, now=request.app.state.runtime.clock.now())
    problems = {p.id: reachability.policy_problems(p, people) for p in policies}
    return pages_of(request).render(
        request, "escalation.html", who, status_code=status_code,
        policies=policies, policy_problems=problems, values=values, errors=errors or {},
        teams=queries.team_choices(session),
        policy_id=policy_id, targets=targets, target_names=dict(targets),
        managed_ids=configcode.managed(session, "policy"),
        levels=range(LEVELS), slots=range(TARGETS_PER_LEVEL),
        modes=[(TeamMode.ALL.value, "all members"),
               (TeamMode.ROUND_ROBIN.value, "one member in turn (round-robin)")])


@router.get("/escalation")
def policy_list(request: Request, session: SessionDep, who: ViewerUser,
                edit: int | None = None) -> Response:
    values: dict[str, Any] = {"repeat": "0"}
    if edit is not None:
        row = escalation.get_policy(session, edit)
        accounts.require_team_manager(session, actor=who.principal, team_id=row.team_id,
                                      what="this escalation policy")
        values = {"name": row.name, "description": row.description, "repeat": str(row.repeat),
                  "team_id": str(row.team_id or "")}
        for i, level in enumerate(row.levels[:LEVELS]):
            values[f"delay_{i}"] = str(level["delay_minutes"])
            for j, t in enumerate(level["targets"][:TARGETS_PER_LEVEL]):
                values[f"target_{i}_{j}"] = f"{t['kind']}:{t['id']}"
                values[f"mode_{i}_{j}"] = t.get("mode", TeamMode.ALL.value)
    return _page(request, session, who, values=values, policy_id=edit)


def _policy(form: FormData, errors: dict[str, str]) -> dict[str, Any]:
    levels = []
    for i in range(LEVELS):
        chosen = [(forms.text(form, f"target_{i}_{j}"),
                   forms.text(form, f"mode_{i}_{j}") or TeamMode.ALL.value)
                  for j in range(TARGETS_PER_LEVEL)]
        chosen = [(c, mode) for c, mode in chosen if ":" in c]
        if not chosen:
            continue
        delay = forms.text(form, f"delay_{i}") or "0"
        if whole_number(delay) is None:
            errors[f"delay_{i}"] = "minutes, a whole number"
            delay = "0"
        levels.append({"delay_minutes": int(delay), "targets": [
            _target(c, mode, errors, f"mode_{i}_{j}") for j, (c, mode) in enumerate(chosen)]})
    if not levels:
        errors["levels"] = "choose who is paged at least at the first level"
    repeat = forms.text(form, "repeat") or "0"
    return {"name": forms.text(form, "name"), "description": forms.text(form, "description"),
            "repeat": whole_number(repeat) or 0, "levels": levels,
            "team_id": whole_number(forms.text(form, "team_id"))}


def _target(choice: str, mode: str, errors: dict[str, str], field: str) -> dict[str, Any]:
    """A chosen target; the all/round-robin choice counts for teams only."""
    kind, _, ident = choice.partition(":")
    if kind != "team":
        mode = TeamMode.ALL.value
    elif mode not in {m.value for m in TeamMode}:
        errors[field] = "all members, or one member in turn"
        mode = TeamMode.ALL.value
    return {"kind": kind, "id": whole_number(ident) or 0, "mode": mode}


@router.post("/escalation")
def save_policy(request: Request, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
                form: Form, edit: int | None = None) -> Response:
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    old = escalation.get_policy(session, edit) if edit is not None else None
    # Checked before the form is read: a refusal says so, whatever the form holds.
    if old is not None:
        guard_policy(session, who.principal, old.team_id, old.team_id)
    if edit is not None and edit in configcode.managed(session, "policy") \
            and not forms.checked(form, "edit_managed"):
        return _page(request, session, who, values=values, policy_id=edit, status_code=409,
                     errors={"edit_managed": "This policy is managed by code: tick the box to "
                                             "edit it by hand anyway, or change the "
                                             "configuration file."})
    try:
        data = forms.build(PolicyIn, _policy(form, errors), errors)
        guard_policy(session, who.principal, old.team_id if old else data.team_id,
                     data.team_id)
        if old is None:
            row = escalation.create_policy(session, data=data, now=rt.clock.now())
        else:
            row = escalation.update_policy(session, row=old, data=data, now=rt.clock.now())
    except (forms.FormErrors, TocsinError) as exc:
        session.rollback()
        if isinstance(exc, Forbidden):
            raise
        found = exc.errors if isinstance(exc, forms.FormErrors) else forms.from_domain(exc)
        return _page(request, session, who, values=values, policy_id=edit, errors=found,
                     status_code=422)
    session.commit()
    return redirect("/escalation", flash=f"Policy {row.name} saved.")


def service_policy_context(session: Session, service_id: Id) -> dict[str, Any]:
    return {"policy_choices": [(p.id, p.name) for p in escalation.list_policies(session)],
            "chosen_policies": escalation.service_policies(session, service_id),
            "severities": SEVERITIES}


@router.post("/services/{service_id}/policies")
def save_service_policies(request: Request, service_id: Id, session: SessionDep,
                          who: ResponderUser, form: Form) -> Response:
    accounts.require_team_manager(
        session, actor=who.principal,
        team_id=catalog.get_service(session, service_id).owner_team_id,
        what="this service's paging policies")
    chosen = {sev: number for sev in SEVERITIES
              if (number := whole_number(forms.text(form, f"policy_{sev}"))) is not None}
    escalation.set_service_policies(session, service_id=service_id,
                                    data=ServicePoliciesIn.model_validate({"policies": chosen}))
    session.commit()
    return redirect(f"/services/{service_id}", flash="Paging policies saved.")
