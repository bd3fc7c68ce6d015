"""Sign in and sign out."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.audit import service as audit
from tocsin.sso import service as sso
from tocsin.web import service
from tocsin.web.auth import COOKIE, CSRF_FIELD, Form, WebUser, current, read_form
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router
from tocsin.web.throttle import SignInThrottle
from tocsin.web.views import signed_in

router = web_router()
# Before sign-in there is no session to hold a CSRF token, so the sign-in form uses a
# double-submit token: a random value in a cookie that the form must repeat.
LOGIN_CSRF_COOKIE = "tocsin_login_csrf"


def safe_next(value: str | None) -> str:
    """Only same-site paths: never let ?next= send someone to another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _login_page(request: Request, *, next_url: str, email: str = "", error: str = "",
                status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    settings = request.app.state.runtime.settings
    response = pages_of(request).render(request, "login.html", status_code=status_code,
                                        next_url=next_url, email=email, error=error,
                                        login_csrf=token, sso_enabled=sso.enabled(settings),
                                        sso_label=settings.sso_button_label,
                                        passwords=settings.local_sign_in)
    secure = request.app.state.runtime.settings.cookies_secure
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", path="/login",
                        secure=secure, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next_url=safe_next(next))


@router.post("/login")
def login(request: Request, session: SessionDep, rt: RuntimeDep,
          form: Annotated[FormData, Depends(read_form)]) -> Response:
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    next_url = safe_next(str(form.get("next") or "/"))
    sent = str(form.get(CSRF_FIELD) or "")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(request, next_url=next_url, email=email, status_code=403,
                           error="The sign-in form expired. Please try again.")
    throttle: SignInThrottle = request.app.state.web_throttle
    # Per account and source address: a guesser is slowed, while nobody can lock a
    # colleague out at 3 a.m. by failing on purpose from elsewhere.
    keys = [f"{email.lower()}|{request.client.host if request.client else '-'}"]
    now = rt.clock.now()
    wait = throttle.blocked_for(keys, now)
    if wait is not None:
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        return _login_page(request, next_url=next_url, email=email, status_code=429,
                           error=f"Too many failed sign-ins. Try again in {minutes} min.")
    if not sso.password_allowed(rt.settings, email):
        signed_in.refused(session, request, email=email, now=now,
                          reason="password sign-in is turned off")
        return _login_page(request, next_url=next_url, email=email, status_code=403,
                           error="Password sign-in is turned off: use single sign-on.")
    user = service.check_password(session, email=email, password=password)
    if user is None:
        throttle.failed(keys, now)
        signed_in.refused(session, request, email=email, now=now,
                          reason="wrong email or password")
        return _login_page(request, next_url=next_url, email=email, status_code=401,
                           error="Email or password is not right.")
    throttle.succeeded(keys)
    if sso.has_second_factor(session, user.id):
        challenge = sso.open_challenge(session, user=user, next_url=next_url, now=now)
        session.commit()
        response = redirect("/login/code")
        response.set_cookie(signed_in.CHALLENGE_COOKIE, challenge, httponly=True,
                            samesite="lax", path="/login", secure=rt.settings.cookies_secure,
                            max_age=int(sso.CHALLENGE_TTL.total_seconds()))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response
    done = signed_in.start(session, request, rt, user=user, next_url=next_url,
                           method="password")
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return done


@router.post("/logout")
def logout(request: Request, session: SessionDep, form: Form,
           who: Annotated[WebUser, Depends(current)]) -> Response:
    service.end_session(session, token=request.cookies.get(COOKIE, ""))
    audit.record(session, action="sign_out", target="user", target_id=who.user.id,
                 now=request.app.state.runtime.clock.now())
    session.commit()
    response = redirect("/login", flash="You are signed out.")
    response.delete_cookie(COOKIE, path="/")
    return response
