"""Routing rules (first match wins) with a dry-run box that shows what an alert would get."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.alerts import manage
from tocsin.alerts.schemas import DryRunIn, DryRunOut, RoutingRuleIn
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError
from tocsin.limits import Id
from tocsin.web import forms, queries
from tocsin.web.auth import AdminUser, Form, ViewerUser, WebUser
from tocsin.web.managed import managed_ids, refusal
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
CONDITION_ROWS = 3
OPS = ["equals", "not_equals", "regex", "exists", "not_exists", "gt", "gte", "lt", "lte"]


def _page(request: Request, session: Session, who: WebUser, *, values: dict[str, Any],
          errors: dict[str, str] | None = None, result: DryRunOut | None = None,
          which: str = "", status_code: int = 200) -> Response:
    services = queries.service_choices(session)
    teams = queries.team_choices(session)
    return pages_of(request).render(
        request, "routing.html", who, status_code=status_code, rules=manage.list_rules(session),
        values=values, errors=errors or {}, result=result, which=which, services=services,
        teams=teams, service_names=dict(services), team_names=dict(teams), ops=OPS,
        rows=range(CONDITION_ROWS), severities=["SEV1", "SEV2", "SEV3", "SEV4"],
        managed_ids=managed_ids(session, "routing_rule"))


@router.get("/routing")
def routing_page(request: Request, session: SessionDep, who: ViewerUser) -> Response:
    return _page(request, session, who, values={})


def _value(raw: str) -> Any:
    """Numbers compare as numbers ("error rate gte 5"); everything else is text."""
    try:
        return float(raw) if "." in raw else int(raw)
    except ValueError:
        return raw


def _labels(text: str, errors: dict[str, str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            errors["dry_labels"] = "one label per line, as name=value"
            continue
        labels[key.strip()] = value.strip()
    return labels


@router.post("/routing/rules")
def create_rule(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
                form: Form) -> Response:
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    conditions = []
    for i in range(CONDITION_ROWS):
        field = forms.text(form, f"cond_field_{i}")
        if field:
            op = forms.text(form, f"cond_op_{i}") or "equals"
            raw = forms.text(form, f"cond_value_{i}")
            conditions.append({"field": field, "op": op,
                               "value": None if op in ("exists", "not_exists") else _value(raw)})
    actions = {"service_id": forms.optional_int(form, "act_service_id", errors),
               "team_id": forms.optional_int(form, "act_team_id", errors),
               "severity": forms.optional(form, "act_severity"),
               "tags": [t.strip() for t in forms.text(form, "act_tags").split(",") if t.strip()]
               or None, "suppress": True if forms.checked(form, "act_suppress") else None}
    try:
        data = forms.build(RoutingRuleIn, {"name": forms.text(form, "name"),
                                           "conditions": conditions, "actions": actions}, errors)
        rule = manage.create_rule(session, data=data, now=rt.clock.now())
    except (forms.FormErrors, TocsinError) as exc:
        session.rollback()
        found = exc.errors if isinstance(exc, forms.FormErrors) else forms.from_domain(exc)
        return _page(request, session, who, values=values, errors=found, which="rule",
                     status_code=422 if isinstance(exc, forms.FormErrors) else exc.status_code)
    session.commit()
    return redirect("/routing", flash=f"Rule {rule.name} added.")


@router.post("/routing/rules/{rule_id}/delete")
def delete_rule(request: Request, rule_id: Id, session: SessionDep, who: AdminUser,
                form: Form) -> Response:
    rule = manage.get_rule(session, rule_id)
    refused = refusal(session, form, kind="routing_rule", local_id=rule_id, noun="rule")
    if refused:
        return _page(request, session, who, values={}, errors=refused, which="rule",
                     status_code=409)
    session.delete(rule)
    session.commit()
    return redirect("/routing", flash="Rule deleted.")


def _dry_values(form: FormData) -> dict[str, Any]:
    return {k: forms.text(form, k) for k in ("dry_summary", "dry_source", "dry_severity",
                                             "dry_labels", "dry_service_id")}


@router.post("/routing/dry-run")
def dry_run(request: Request, session: SessionDep, rt: RuntimeDep, who: ViewerUser,
            form: Form) -> Response:
    """Nothing is stored: the answer is what routing, classification and suppression would
    decide for this alert now."""
    values = _dry_values(form)
    errors: dict[str, str] = {}
    labels = _labels(values["dry_labels"], errors)
    try:
        data = forms.build(DryRunIn, {
            "summary": values["dry_summary"], "source": values["dry_source"],
            "severity": values["dry_severity"] or None, "labels": labels,
            "service_id": forms.optional_int(form, "dry_service_id", errors)}, errors)
        result = manage.dry_run(session, data=data, now=rt.clock.now())
    except (forms.FormErrors, TocsinError) as exc:
        session.rollback()
        found = exc.errors if isinstance(exc, forms.FormErrors) else forms.from_domain(exc)
        return _page(request, session, who, values=values, errors=found, which="dry",
                     status_code=422)
    session.rollback()
    return _page(request, session, who, values=values, result=result)
