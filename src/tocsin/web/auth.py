"""Cookie sessions for the web app, CSRF checks, and the principal resolver the API shares."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.accounts import service as accounts
from tocsin.accounts.models import User
from tocsin.api.deps import SESSION_COOKIE, RuntimeDep, SessionDep, name_actor
from tocsin.errors import Forbidden
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime
from tocsin.sso import service as sso
from tocsin.web import service
from tocsin.web.models import WebSession

COOKIE = SESSION_COOKIE
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """No live session: the page answers with a redirect to sign-in, then back."""


class EnrolmentRequired(Exception):
    """An admin without a second factor while `totp_required_for_admins` is on: every page
    but enrolment and sign-out answers with a redirect to enrolment."""


ENROLMENT_PATHS = frozenset({"/profile/two-factor", "/logout"})


class CsrfFailed(Forbidden):
    def __init__(self) -> None:
        super().__init__("this form has expired or did not come from Tocsin; reload the page "
                         "and try again")


@dataclass(frozen=True)
class WebUser:
    """Who is looking at a page: the principal for role checks plus what pages show."""

    principal: Principal
    user: User
    csrf_token: str
    # Teams whose configuration this user manages (team manager role).
    managed_teams: frozenset[int] = frozenset()

    @property
    def role(self) -> Role:
        return self.principal.role

    def can(self, role: str) -> bool:
        return self.principal.role.allows(Role(role))

    @property
    def manages_any(self) -> bool:
        """May change some team's configuration (admins: all of it)."""
        return self.principal.is_admin or bool(self.managed_teams)

    def manages(self, team_id: int | None) -> bool:
        """What pages show as editable; accounts.service.require_team_manager decides."""
        return self.principal.is_admin or (team_id is not None and team_id in self.managed_teams)


def idle(runtime: Runtime) -> timedelta:
    return timedelta(minutes=runtime.settings.web_session_idle_minutes)


def _lookup(request: Request, session: Session, runtime: Runtime
            ) -> tuple[WebSession, User] | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    found = service.find_session(session, token=token, now=runtime.clock.now(),
                                 idle=idle(runtime))
    if found is not None and session.dirty:
        session.commit()  # the sliding expiry; throttled in service.TOUCH_EVERY
    return found


def _must_enrol(session: Session, runtime: Runtime, user: User) -> bool:
    """An admin without a second factor while it is required: only enrolment is open."""
    return (runtime.settings.totp_required_for_admins and user.role == Role.ADMIN.value
            and not sso.has_second_factor(session, user.id))


def resolve_cookie(request: Request, session: Session, runtime: Runtime) -> Principal | None:
    """Principal resolver for the API (registered in app.state.principal_resolvers).

    A browser sends the cookie with any request, including ones a hostile page triggers, so
    the API honours the cookie for writes only with the session's CSRF token in a header.
    """
    found = _lookup(request, session, runtime)
    if found is None:
        return None
    row, user = found
    if _must_enrol(session, runtime, user):
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), row.csrf_token.encode()):
            return None
    return Principal(user_id=user.id, role=Role(user.role))


def current(request: Request, session: SessionDep, runtime: RuntimeDep) -> WebUser:
    found = _lookup(request, session, runtime)
    if found is None:
        raise LoginRequired()
    row, user = found
    principal = Principal(user_id=user.id, role=Role(user.role))
    name_actor(session, request, principal, user.email)
    if request.url.path not in ENROLMENT_PATHS and _must_enrol(session, runtime, user):
        raise EnrolmentRequired()
    managed = (frozenset(accounts.managed_team_ids(session, user_id=user.id))
               if principal.role.allows(Role.RESPONDER) and not principal.is_admin
               else frozenset[int]())
    return WebUser(principal=principal, user=user, csrf_token=row.csrf_token,
                   managed_teams=managed)


def _require(role: Role) -> Callable[[WebUser], WebUser]:
    def dependency(who: Annotated[WebUser, Depends(current)]) -> WebUser:
        who.principal.require(role)
        return who

    dependency.__name__ = f"web_require_{role.value}"
    return dependency


async def read_form(request: Request) -> FormData:
    return await request.form()


def checked_form(form: Annotated[FormData, Depends(read_form)],
                 who: Annotated[WebUser, Depends(current)]) -> FormData:
    """The posted form, after checking its CSRF token against the session's."""
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(),
                                                            who.csrf_token.encode()):
        raise CsrfFailed()
    return form


AnyUser = Annotated[WebUser, Depends(current)]
ViewerUser = Annotated[WebUser, Depends(_require(Role.VIEWER))]
ResponderUser = Annotated[WebUser, Depends(_require(Role.RESPONDER))]
AdminUser = Annotated[WebUser, Depends(_require(Role.ADMIN))]
Form = Annotated[FormData, Depends(checked_form)]
