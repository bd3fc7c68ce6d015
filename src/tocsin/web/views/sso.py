"""Single sign-on (OpenID Connect) and the second step of a password sign-in (TOTP)."""

from __future__ import annotations

from typing import Annotated

import pyotp
from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from tocsin.accounts import service as accounts
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.audit import service as audit
from tocsin.errors import Conflict, Invalid, NotFound, TocsinError, Unauthorized
from tocsin.sso import service as sso
from tocsin.web import forms
from tocsin.web import service as web_service
from tocsin.web.auth import COOKIE, AnyUser, Form, read_form
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router
from tocsin.web.views import signed_in
from tocsin.web.views.session import safe_next

router = web_router()
STATE_COOKIE = "tocsin_sso_state"


def _callback_url(request: Request) -> str:
    base: str | None = request.app.state.runtime.settings.base_url
    if base:
        return base.rstrip("/") + "/sso/callback"
    return str(request.url_for("sso_callback"))


@router.get("/sso/start")
def sso_start(request: Request, session: SessionDep, rt: RuntimeDep,
              next: str | None = None) -> Response:
    if not sso.enabled(rt.settings):
        raise NotFound("single sign-on is not configured")
    url, state = sso.begin(session, settings=rt.settings, redirect_uri=_callback_url(request),
                           next_url=safe_next(next), now=rt.clock.now())
    session.commit()
    response = RedirectResponse(url, status_code=303)
    # Binds the answer to this browser: a sign-in started elsewhere cannot be finished here.
    response.set_cookie(STATE_COOKIE, state, httponly=True, samesite="lax", path="/sso",
                        secure=rt.settings.cookies_secure, max_age=600)
    return response


def _refused(request: Request, message: str, status: int = 401) -> Response:
    response = pages_of(request).render(
        request, "login.html", status_code=status, next_url="/", email="",
        error=f"Single sign-on refused: {message}", login_csrf="",
        sso_enabled=True, sso_label=request.app.state.runtime.settings.sso_button_label,
        passwords=request.app.state.runtime.settings.local_sign_in)
    response.delete_cookie(STATE_COOKIE, path="/sso")
    return response


@router.get("/sso/callback", name="sso_callback")
def sso_callback(request: Request, session: SessionDep, rt: RuntimeDep,
                 code: str = "", state: str = "", error: str = "",
                 error_description: str = "") -> Response:
    if not sso.enabled(rt.settings):
        raise NotFound("single sign-on is not configured")
    now = rt.clock.now()
    try:
        login = sso.take_login(session, state=state,
                               browser_state=request.cookies.get(STATE_COOKIE, ""), now=now)
        session.commit()  # the state is used up, whatever happens next
        if error:
            raise Unauthorized(f"the identity provider answered '{error}'"
                               + (f": {error_description}" if error_description else ""))
        user = sso.finish(session, settings=rt.settings, login=login, code=code,
                          redirect_uri=_callback_url(request), now=now)
    except (Unauthorized, Invalid, Conflict) as exc:
        signed_in.refused(session, request, email="", now=now,
                          reason=f"single sign-on: {exc.detail}")
        return _refused(request, exc.detail)
    response = signed_in.start(session, request, rt, user=user, next_url=login.next_url,
                               method="single sign-on")
    response.delete_cookie(STATE_COOKIE, path="/sso")
    return response


# ---- the second step of a password sign-in ---------------------------------------------------

@router.get("/login/code")
def code_form(request: Request) -> Response:
    return pages_of(request).render(request, "login_code.html", error="")


@router.post("/login/code")
def code_submit(request: Request, session: SessionDep, rt: RuntimeDep,
                form: Annotated[FormData, Depends(read_form)]) -> Response:
    now = rt.clock.now()
    token = request.cookies.get(signed_in.CHALLENGE_COOKIE, "")
    try:
        challenge = sso.find_challenge(session, token=token, now=now)
    except Unauthorized as exc:
        return redirect("/login", flash=exc.detail)
    user_id, next_url = challenge.user_id, challenge.next_url
    code = forms.text(form, "code")
    recovery = forms.text(form, "recovery_code")
    cred = sso.totp_of(session, user_id)
    user = accounts.get_user(session, user_id)
    try:
        if recovery:
            if not sso.use_recovery_code(session, user_id=user_id, code=recovery, now=now):
                raise Unauthorized("that recovery code is not right or was used already")
            method = "password and a recovery code"
        else:
            if cred is None:
                raise Unauthorized("two-factor sign-in is not set up for this account")
            sso.check_code(session, cred=cred, code=code, now=now, settings=rt.settings)
            method = "password and a TOTP code"
    except Unauthorized as exc:
        # The failure count (brute-force lockout) is kept; nothing else changes.
        session.commit()
        signed_in.refused(session, request, email=user.email, user_id=user_id, now=now,
                          reason=f"second factor: {exc.detail}")
        return pages_of(request).render(request, "login_code.html", status_code=401,
                                        error=exc.detail)
    session.delete(challenge)
    response = signed_in.start(session, request, rt, user=user, next_url=next_url,
                               method=method)
    response.delete_cookie(signed_in.CHALLENGE_COOKIE, path="/login")
    return response


# ---- enrolment -----------------------------------------------------------------------------

@router.get("/profile/two-factor")
def two_factor_page(request: Request, session: SessionDep, who: AnyUser) -> Response:
    return pages_of(request).render(request, "two_factor.html", who,
                                    enabled=sso.has_second_factor(session, who.user.id),
                                    uri=None, codes=None, error="",
                                    required=request.app.state.runtime.settings
                                    .totp_required_for_admins)


@router.post("/profile/two-factor")
def two_factor_change(request: Request, session: SessionDep, rt: RuntimeDep, who: AnyUser,
                      form: Form) -> Response:
    action = forms.text(form, "action")
    now = rt.clock.now()
    uri, codes, error = None, None, ""
    try:
        if action == "start":
            uri = sso.start_enrolment(session, user=who.user)
        elif action == "confirm":
            codes = sso.confirm_enrolment(session, user=who.user, code=forms.text(form, "code"),
                                          now=now, settings=rt.settings)
        elif action == "off":
            if rt.settings.totp_required_for_admins and who.principal.is_admin:
                raise Conflict("admins must keep two-factor sign-in on (it is required here)")
            sso.turn_off(session, user_id=who.user.id)
        session.commit()
    except TocsinError as exc:
        session.commit()  # keeps the failure count of a wrong code
        error = exc.detail
        cred = sso.totp_of(session, who.user.id)
        if cred is not None and cred.enabled_at is None:
            uri = pyotp.TOTP(cred.secret).provisioning_uri(name=who.user.email,
                                                          issuer_name="Tocsin")
    return pages_of(request).render(request, "two_factor.html", who,
                                    enabled=sso.has_second_factor(session, who.user.id),
                                    uri=uri, codes=codes, error=error,
                                    required=rt.settings.totp_required_for_admins,
                                    status_code=422 if error else 200)



# ---- your sessions ---------------------------------------------------------------------------

@router.get("/profile/sessions")
def sessions_page(request: Request, session: SessionDep, rt: RuntimeDep,
                  who: AnyUser) -> Response:
    rows = web_service.list_sessions(session, user_id=who.user.id, now=rt.clock.now())
    current = web_service.digest_of(request.cookies.get(COOKIE, ""))
    return pages_of(request).render(request, "sessions.html", who, rows=rows, current=current)


@router.post("/profile/sessions/{session_id}/end")
def end_session(request: Request, session_id: str, session: SessionDep, rt: RuntimeDep,
                who: AnyUser, form: Form) -> Response:
    web_service.revoke_session(session, actor=who.principal, session_id=session_id)
    audit.record(session, action="session_revoked", target="web_sessions",
                 target_id=who.user.id, now=rt.clock.now())
    session.commit()
    return redirect("/profile/sessions", flash="Session ended.")
