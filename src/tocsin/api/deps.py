"""Request dependencies: the runtime, a database session, and who is asking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Annotated, Protocol

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from tocsin.db.actor import Actor, set_actor
from tocsin.errors import Unauthorized
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


READ_METHODS = frozenset({"GET", "HEAD"})


def get_session(request: Request) -> Iterator[Session]:
    """A session for the request. Routes that write call `session.commit()` themselves before
    answering, so an accepted change is durable before the client hears about it; anything
    uncommitted is rolled back. GET and HEAD get read-only sessions (no write lock on SQLite).
    """
    runtime = get_runtime(request)
    factory = runtime.read_sessions if request.method in READ_METHODS else runtime.sessions
    with factory() as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(get_session)]

# Other ways to authenticate (e.g. the web app's session cookie) register here.
PrincipalResolver = Callable[[Request, Session, Runtime], Principal | None]


class ApiKeys(Protocol):
    """Bearer keys. Accounts stores them and its routes use this kernel, so the app hands
    them in (`app.state.api_keys`: the accounts service, tocsin/app.py)."""

    def authenticate(self, session: Session, *, token: str, now: datetime,
                     touch_every: timedelta) -> tuple[Principal, bool]: ...

    def touch_api_key(self, session: Session, *, key_id: int, now: datetime) -> None: ...


def _api_keys(request: Request) -> ApiKeys:
    keys: ApiKeys = request.app.state.api_keys
    return keys

SESSION_COOKIE = "tocsin_session"
# Found before the body was read (authenticate_early), reused by get_principal.
EARLY_PRINCIPAL = "tocsin.early_principal"
ANONYMOUS = "authentication required: send 'Authorization: Bearer <API key>'"

# Declared for the OpenAPI document (securitySchemes, and `security` on every operation that
# depends on get_principal); get_principal reads the credentials itself.
_bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="apiKey", bearerFormat="tsn_<prefix>_<secret>",
    description="An API key: `Authorization: Bearer tsn_…` (POST /api/v1/api-keys).")
_cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, scheme_name="sessionCookie",
    description="The web app's sign-in session. Writes (anything but GET/HEAD/OPTIONS) also "
    "need the header `X-CSRF-Token` carrying the session's CSRF token.")
BearerDoc = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer_scheme)]
CookieDoc = Annotated[str | None, Security(_cookie_scheme)]


def _from_bearer(request: Request, session: Session, runtime: Runtime,
                 header: str) -> tuple[Principal, bool]:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use 'Authorization: Bearer <API key>'")
    return _api_keys(request).authenticate(
        session, token=token.strip(), now=runtime.clock.now(),
        touch_every=timedelta(seconds=runtime.settings.api_key_touch_seconds))


def _from_resolvers(request: Request, session: Session, runtime: Runtime) -> Principal:
    resolvers: list[PrincipalResolver] = getattr(request.app.state, "principal_resolvers", [])
    for resolver in resolvers:
        found = resolver(request, session, runtime)
        if found is not None:
            return found
    raise Unauthorized(ANONYMOUS)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def name_actor(session: Session, request: Request, principal: Principal,
               label: str | None = None) -> None:
    """Name who acts on the request's session, for the audit log."""
    if label is None:
        label = (f"user {principal.user_id} (API key {principal.api_key_id})"
                 if principal.api_key_id is not None else f"user {principal.user_id}")
    set_actor(session, Actor(user_id=principal.user_id, label=label,
                             source=client_address(request)))


def get_principal(request: Request, session: SessionDep, runtime: RuntimeDep,
                  _bearer: BearerDoc = None, _cookie: CookieDoc = None) -> Principal:
    principal = _get_principal(request, session, runtime)
    name_actor(session, request, principal)
    return principal


def _get_principal(request: Request, session: Session, runtime: Runtime) -> Principal:
    early: tuple[Principal, bool] | None = request.scope.get(EARLY_PRINCIPAL)
    header = request.headers.get("authorization", "")
    if early is not None:
        principal, stale = early
    elif header:
        principal, stale = _from_bearer(request, session, runtime, header)
    else:
        return _from_resolvers(request, session, runtime)
    if stale and principal.api_key_id is not None:
        now = runtime.clock.now()
        if request.method in READ_METHODS:
            # Its own short write (at most once per api_key_touch_seconds per key), so
            # the request's session stays read-only.
            with runtime.sessions() as writer, writer.begin():
                _api_keys(request).touch_api_key(writer, key_id=principal.api_key_id, now=now)
        else:
            # The request already holds the write lock on SQLite: write in it, committed
            # with the request's own change.
            _api_keys(request).touch_api_key(session, key_id=principal.api_key_id, now=now)
    return principal


def authenticate_early(request: Request, runtime: Runtime) -> None:
    """Authenticate a request to a route that depends on get_principal before its body is
    read (api/guard.py calls this from a thread); raises Unauthorized. The principal is kept
    in the request scope, so get_principal does not look it up again."""
    header = request.headers.get("authorization", "")
    if header:
        with runtime.read_sessions() as session:
            request.scope[EARLY_PRINCIPAL] = _from_bearer(request, session, runtime, header)
        return
    if not request.cookies:  # no credential at all: refuse without touching the database
        raise Unauthorized(ANONYMOUS)
    # A write session: the cookie resolver slides the web session's expiry.
    with runtime.sessions() as session:
        request.scope[EARLY_PRINCIPAL] = (_from_resolvers(request, session, runtime), False)


def require(role: Role) -> Callable[..., Principal]:
    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(role)
        return principal

    dependency.__name__ = f"require_{role.value}"
    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Responder = Annotated[Principal, Depends(require(Role.RESPONDER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
