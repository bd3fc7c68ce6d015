"""The page an invitation email links to: set your password and add your first contact
method, then you are signed in. The link is the credential (like a password-reset link):
single use, expiring (tocsin.notify.links)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.accounts import service as accounts
from tocsin.accounts.models import User
from tocsin.accounts.schemas import UserUpdate
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import Invalid, TocsinError
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind
from tocsin.notify.links import check_invite_token, invite_user, password_stamp
from tocsin.notify.schemas import ContactMethodIn
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime
from tocsin.web import forms
from tocsin.web import service as web_sessions
from tocsin.web.auth import COOKIE, idle, read_form
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
CONTACT_FIELDS = ("kind", "address", "label")


def _invited(session: Session, rt: Runtime, token: str) -> User:
    """The active user a valid, unused, unexpired invitation names; raises Invalid."""
    user = session.get(User, invite_user(token))
    if user is None or not user.active:
        raise Invalid("this sign-in link is not valid: its account is gone or deactivated")
    check_invite_token(rt.settings.secret(), token, stamp=password_stamp(user.password_hash),
                       now=rt.clock.now())
    return user


def _page(request: Request, *, token: str, user: User | None, values: dict[str, str],
          errors: dict[str, str], refused: str = "", status_code: int = 200) -> Response:
    return pages_of(request).render(
        request, "welcome.html", status_code=status_code, token=token, user=user,
        values=values, errors=errors, refused=refused, kinds=[k.value for k in ChannelKind])


@router.get("/welcome/{token}")
def welcome(request: Request, token: str, session: SessionDep, rt: RuntimeDep) -> Response:
    # Showing the form uses nothing up: mail scanners that open links do no harm.
    try:
        user = _invited(session, rt, token)
    except TocsinError as exc:
        return _page(request, token=token, user=None, values={}, errors={},
                     refused=exc.detail, status_code=400)
    return _page(request, token=token, user=user, values={"kind": "sms"}, errors={})


@router.post("/welcome/{token}")
def accept(request: Request, token: str, session: SessionDep, rt: RuntimeDep,
           form: Annotated[FormData, Depends(read_form)]) -> Response:
    values = {k: forms.text(form, k) for k in CONTACT_FIELDS}
    try:
        user = _invited(session, rt, token)
    except TocsinError as exc:
        return _page(request, token=token, user=None, values={}, errors={},
                     refused=exc.detail, status_code=400)
    password = str(form.get("password") or "")
    errors: dict[str, str] = {}
    if password != str(form.get("password_again") or ""):
        errors["password_again"] = "the two passwords differ"
    if not password:
        errors["password"] = "choose a password"
    now = rt.clock.now()
    try:
        data = forms.build(UserUpdate, {"password": password or None}, errors)
        # Confirmed before the password changes: the link proved the invited address.
        notify.confirm_invited_address(session, user=user, now=now)
        if values["address"]:
            notify.add_contact_method(
                session, actor=Principal(user_id=user.id, role=Role(user.role)),
                user_id=user.id, data=forms.build(ContactMethodIn, values), now=now,
                outbound=rt.settings.outbound_policy)
        accounts.update_user(session, user=user, data=data)  # the link is now used up
        web_sessions.end_user_sessions(session, user_id=user.id)
        cookie, _row = web_sessions.start_session(session, user=user, now=now, idle=idle(rt))
    except forms.FormErrors as exc:
        session.rollback()
        return _page(request, token=token, user=session.get(User, user.id), values=values,
                     errors=exc.errors, status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _page(request, token=token, user=session.get(User, user.id), values=values,
                     errors=forms.from_domain(exc), status_code=exc.status_code)
    session.commit()
    step = ("Enter the code sent to your new contact method below." if values["address"]
            else "Add how Tocsin should page you below.")
    response = redirect("/me#contact", flash=f"Welcome, {user.name}: your password is set "
                        f"and {user.email} is verified. {step}")
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="lax", path="/",
                        secure=rt.settings.cookies_secure)
    return response
