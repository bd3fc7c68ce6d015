"""Request dependencies: the runtime, a database session, and who is asking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.accounts.models import Role
from tocsin.accounts.principal import Principal
from tocsin.errors import Unauthorized
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


def get_principal(request: Request, session: SessionDep, runtime: RuntimeDep) -> Principal:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <API key>'")
        now = runtime.clock.now()
        principal, stale = accounts.authenticate(
            session, token=token.strip(), now=now,
            touch_every=timedelta(seconds=runtime.settings.api_key_touch_seconds))
        if stale and principal.api_key_id is not None:
            if request.method in READ_METHODS:
                # Its own short write (at most once per api_key_touch_seconds per key), so
                # the request's session stays read-only.
                with runtime.sessions() as writer, writer.begin():
                    accounts.touch_api_key(writer, key_id=principal.api_key_id, now=now)
            else:
                # The request already holds the write lock on SQLite: write in it, committed
                # with the request's own change.
                accounts.touch_api_key(session, key_id=principal.api_key_id, now=now)
        return principal
    resolvers: list[PrincipalResolver] = getattr(request.app.state, "principal_resolvers", [])
    for resolver in resolvers:
        found = resolver(request, session, runtime)
        if found is not None:
            return found
    raise Unauthorized("authentication required: send 'Authorization: Bearer <API key>'")


def require(role: Role) -> Callable[..., Principal]:
    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(role)
        return principal

    dependency.__name__ = f"require_{role.value}"
    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Responder = Annotated[Principal, Depends(require(Role.RESPONDER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
