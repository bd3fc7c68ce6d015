"""My profile (name, time zone, password) and API keys."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import ApiKeyCreate, UserUpdate
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError
from tocsin.limits import Id
from tocsin.principal import Role
from tocsin.schedules import feed
from tocsin.web import forms, queries
from tocsin.web import service as web_sessions
from tocsin.web.auth import COOKIE, Form, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router
from tocsin.web.views import extras, learning

router = web_router()


def profile_page(request: Request, session: Session, who: WebUser, *,
                 values: dict[str, Any], errors: dict[str, str] | None = None,
                 status_code: int = 200) -> Response:
    settings = request.app.state.runtime.settings
    ical = feed.url(settings.public_url, settings.secret(), "users", who.user.id)
    return pages_of(request).render(request, "profile.html", who, status_code=status_code,
                                    values=values, errors=errors or {}, ical=ical,
                                    my_action_items=learning.my_action_items(session, who),
                                    **extras.contact_context(session, who))


@router.get("/me")
def profile(request: Request, session: SessionDep, who: ViewerUser) -> Response:
    return profile_page(request, session, who, values={"name": who.user.name,
                                                   "time_zone": who.user.time_zone})


@router.post("/me")
def saveprofile_page(request: Request, session: SessionDep, who: ViewerUser,
                 form: Form) -> Response:
    values = {"name": forms.text(form, "name"), "time_zone": forms.text(form, "time_zone")}
    current_pw, new_pw = forms.text(form, "current_password"), forms.text(form, "new_password")
    changes: dict[str, Any] = dict(values)
    errors: dict[str, str] = {}
    if new_pw:
        if not accounts.verify_password(who.user.password_hash, current_pw):
            errors["current_password"] = "this is not your current password"
        changes["password"] = new_pw
    try:
        user = accounts.get_user(session, who.user.id)
        accounts.update_user(session, user=user,
                             data=forms.build(UserUpdate, changes, errors))
        if new_pw:
            # Other browsers signed in as me lose their session; this one stays.
            web_sessions.end_user_sessions(session, user_id=user.id,
                                           keep_token=request.cookies.get(COOKIE))
    except forms.FormErrors as exc:
        session.rollback()
        if "password" in exc.errors:
            exc.errors["new_password"] = exc.errors.pop("password")
        return profile_page(request, session, who, values=values, errors=exc.errors,
                        status_code=422)
    session.commit()
    return redirect("/me", flash="Profile saved.")


def _keys_page(request: Request, session: Session, who: WebUser, *, values: dict[str, Any],
               errors: dict[str, str] | None = None, token: str | None = None,
               status_code: int = 200) -> Response:
    keys = accounts.list_api_keys(session, actor=who.principal, user_id=None)
    owners = queries.user_names(session, [k.user_id for k in keys])
    scopes = [r.value for r in Role if who.role.allows(r)]
    return pages_of(request).render(request, "profile_keys.html", who, status_code=status_code,
                                    keys=keys, owners=owners, scopes=scopes, values=values,
                                    errors=errors or {}, token=token)


@router.get("/api-keys")
def key_list(request: Request, session: SessionDep, who: ViewerUser) -> Response:
    return _keys_page(request, session, who, values={"scope": who.role.value})


@router.post("/api-keys")
def key_create(request: Request, session: SessionDep, rt: RuntimeDep, who: ViewerUser,
               form: Form) -> Response:
    values = {"name": forms.text(form, "name"), "scope": forms.text(form, "scope")}
    try:
        data = forms.build(ApiKeyCreate, {"name": values["name"],
                                          "scope": values["scope"] or None})
        _key, token = accounts.create_api_key_for(session, actor=who.principal, data=data,
                                                 now=rt.clock.now())
    except forms.FormErrors as exc:
        session.rollback()
        return _keys_page(request, session, who, values=values, errors=exc.errors,
                          status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _keys_page(request, session, who, values=values,
                          errors=forms.from_domain(exc), status_code=exc.status_code)
    session.commit()
    # The token is shown in this answer only (it is not stored), so no redirect here.
    return _keys_page(request, session, who, values={"scope": who.role.value}, token=token)


@router.post("/api-keys/{key_id}/revoke")
def key_revoke(request: Request, key_id: Id, session: SessionDep, rt: RuntimeDep,
               who: ViewerUser, form: Form) -> Response:
    key = accounts.revoke_api_key(session, actor=who.principal, key_id=key_id,
                                  now=rt.clock.now())
    session.commit()
    return redirect("/api-keys", flash=f"Key {key.name} revoked.")
