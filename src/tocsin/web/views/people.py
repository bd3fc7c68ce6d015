"""Teams and users (admins change them; everyone signed in may look)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import TeamCreate, TeamUpdate, UserCreate, UserUpdate
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError
from tocsin.limits import Id
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind
from tocsin.principal import Role
from tocsin.web import forms, queries
from tocsin.web import service as web_sessions
from tocsin.web.auth import AdminUser, Form, ViewerUser, WebUser
from tocsin.web.managed import is_managed, refusal
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
LIMIT = 1000


# ---- teams ----------------------------------------------------------------------------------

@router.get("/teams")
def team_list(request: Request, session: SessionDep, who: ViewerUser) -> Response:
    teams = accounts.list_teams(session, after_id=None, limit=LIMIT)
    members = {t.id: accounts.team_member_ids(session, t.id) for t in teams}
    names = queries.user_names(session, [u for ids in members.values() for u in ids])
    return pages_of(request).render(request, "people/teams.html", who, teams=teams,
                                    members=members, names=names)


def _team_page(request: Request, session: Session, who: WebUser, *, team_id: Id | None,
               values: dict[str, Any], errors: dict[str, str] | None = None,
               status_code: int = 200, created: bool = False) -> Response:
    return pages_of(request).render(request, "people/team_form.html", who,
                                    status_code=status_code, team_id=team_id, values=values,
                                    errors=errors or {}, users=queries.user_choices(session),
                                    created=created,
                                    managed=is_managed(session, "team", team_id))


@router.get("/teams/new")
def team_new(request: Request, session: SessionDep, who: AdminUser) -> Response:
    return _team_page(request, session, who, team_id=None, values={"member_ids": []})


@router.get("/teams/{team_id}")
def team_edit(request: Request, team_id: Id, session: SessionDep, who: AdminUser,
              created: bool = False) -> Response:
    team = accounts.get_team(session, team_id)
    return _team_page(request, session, who, team_id=team_id, created=created, values={
        "name": team.name, "description": team.description,
        "member_ids": accounts.team_member_ids(session, team_id)})


# Decorators apply bottom-up: "/teams/new" must be registered before "/teams/{team_id}".
@router.post("/teams/{team_id}")
@router.post("/teams/new")
def team_save(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
              form: Form, team_id: Id | None = None) -> Response:
    values = {"name": forms.text(form, "name"), "description": forms.text(form, "description"),
              "member_ids": forms.ints(form, "member_ids")}
    created: int | None = None
    refused = refusal(session, form, kind="team", local_id=team_id, noun="team")
    if refused:
        return _team_page(request, session, who, team_id=team_id, values=values,
                          errors=refused, status_code=409)
    try:
        if team_id is None:
            created = accounts.create_team(session, data=forms.build(TeamCreate, values),
                                           now=rt.clock.now()).id
        else:
            accounts.update_team(session, team=accounts.get_team(session, team_id),
                                 data=forms.build(TeamUpdate, values))
        session.flush()
    except forms.FormErrors as exc:
        session.rollback()
        return _team_page(request, session, who, team_id=team_id, values=values,
                          errors=exc.errors, status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _team_page(request, session, who, team_id=team_id, values=values,
                          errors=forms.from_domain(exc), status_code=exc.status_code)
    session.commit()
    if created is not None:
        return redirect(f"/teams/{created}?created=1#next-step",
                        flash=f"Team {values['name']} created.")
    return redirect("/teams", flash=f"Team {values['name']} saved.")


# ---- users ----------------------------------------------------------------------------------

@router.get("/users")
def user_list(request: Request, session: SessionDep, who: ViewerUser) -> Response:
    users = accounts.list_users(session, after_id=None, limit=LIMIT)
    return pages_of(request).render(request, "people/users.html", who, users=users)


def user_page(request: Request, session: Session, who: WebUser, *, user_id: Id | None,
              values: dict[str, Any], errors: dict[str, str] | None = None,
              status_code: int = 200) -> Response:
    """The admin's page of one user: their account, and (existing users) their contact
    methods with an add form. `values`/`errors` may be either form's."""
    methods = notify.contact_methods_of(session, user_id) if user_id is not None else []
    return pages_of(request).render(
        request, "people/user_form.html", who, status_code=status_code, user_id=user_id,
        values=values, errors=errors or {}, roles=[r.value for r in Role], methods=methods,
        verify_errors=notify.verification_errors(session, [m.id for m in methods]),
        kinds=[k.value for k in ChannelKind],
        has_password=user_id is not None and bool(
            accounts.get_user(session, user_id).password_hash),
        managed=is_managed(session, "user", user_id))


def user_values(session: Session, user_id: int) -> dict[str, Any]:
    user = accounts.get_user(session, user_id)
    return {"name": user.name, "email": user.email, "role": user.role,
            "time_zone": user.time_zone, "active": user.active}


@router.get("/users/new")
def user_new(request: Request, session: SessionDep, who: AdminUser) -> Response:
    return user_page(request, session, who, user_id=None, values={
        "role": "responder", "time_zone": "UTC", "active": True, "invite": True})


@router.get("/users/{user_id}")
def user_edit(request: Request, user_id: Id, session: SessionDep, who: AdminUser) -> Response:
    return user_page(request, session, who, user_id=user_id,
                     values=user_values(session, user_id))


# Decorators apply bottom-up: "/users/new" must be registered before "/users/{user_id}".
@router.post("/users/{user_id}")
@router.post("/users/new")
def user_save(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
              form: Form, user_id: Id | None = None) -> Response:
    values: dict[str, Any] = {k: forms.text(form, k) for k in ("name", "email", "role",
                                                              "time_zone")}
    values["active"] = forms.checked(form, "active")
    values["invite"] = forms.checked(form, "invite")
    password = forms.optional(form, "password")
    created = None
    refused = refusal(session, form, kind="user", local_id=user_id, noun="user")
    if refused:
        return user_page(request, session, who, user_id=user_id, values=values,
                         errors=refused, status_code=409)
    try:
        if user_id is None:
            created = accounts.create_user(session, data=forms.build(UserCreate, {
                **{k: v for k, v in values.items() if k != "active"},
                "password": password}), now=rt.clock.now())
            if values["invite"]:
                notify.invite(session, user=created, now=rt.clock.now(),
                              hours=rt.settings.invite_link_hours)
        else:
            if user_id == who.user.id and (not values["active"] or values["role"] != "admin"):
                raise forms.FormErrors({"role": "you cannot demote or deactivate yourself; "
                                        "ask another admin"})
            user = accounts.get_user(session, user_id)
            # A blank password field means "keep it": never send None, which clears it.
            changes = {"name": values["name"], "time_zone": values["time_zone"],
                       "role": values["role"], "active": values["active"]}
            if password:
                changes["password"] = password
            accounts.update_user(session, user=user, data=forms.build(UserUpdate, changes))
            if password or not values["active"]:
                web_sessions.end_user_sessions(session, user_id=user_id)
        session.flush()
    except forms.FormErrors as exc:
        session.rollback()
        return user_page(request, session, who, user_id=user_id, values=values,
                         errors=exc.errors, status_code=422)
    except TocsinError as exc:
        session.rollback()
        return user_page(request, session, who, user_id=user_id, values=values,
                         errors=forms.from_domain(exc), status_code=exc.status_code)
    session.commit()
    if created is not None:
        sent = f" An invitation is on its way to {created.email}." if values["invite"] else ""
        return redirect(f"/users/{created.id}", flash=f"User {created.name} created.{sent}")
    return redirect("/users", flash=f"User {values['name']} saved.")
