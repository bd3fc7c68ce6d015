"""Routes for users, teams and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tocsin.accounts import service
from tocsin.accounts.models import ApiKey, Team, User
from tocsin.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    TeamCreate,
    TeamOut,
    TeamRoleIn,
    TeamUpdate,
    UserCreate,
    UserOut,
    UserUpdate,
)
from tocsin.api import idempotency, pagination
from tocsin.api.deps import Admin, Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.limits import Id
from tocsin.principal import Role
from tocsin.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["accounts"])
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]


class Invite(Protocol):
    """Email a new user a sign-in link. Notify sends it, and sits above accounts: the app
    hands this in (`app.state.invite`, tocsin/app.py)."""

    def __call__(self, session: Session, *, user: User, now: datetime, hours: int) -> object: ...


def _invite(request: Request) -> Invite:
    found: Invite = request.app.state.invite
    return found


InviteDep = Annotated[Invite, Depends(_invite)]


@router.get("/me", response_model=UserOut, summary="The user behind this credential")
def me(session: SessionDep, who: Viewer) -> UserOut:
    return UserOut.model_validate(service.get_user(session, who.user_id))


@router.get("/users", response_model=Page[UserOut], summary="List users, by id")
def list_users(session: SessionDep, who: Viewer, cursor: str | None = None,
               limit: Limit = 100) -> Page[UserOut]:
    rows = service.list_users(session, after_id=pagination.decode(cursor), limit=limit + 1)
    return pagination.page(rows, limit, UserOut.model_validate, lambda u: u.id)


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(data: UserCreate, session: SessionDep, rt: RuntimeDep, who: Admin,
                invite: InviteDep, idempotency_key: IdemKey = None) -> UserOut | JSONResponse:
    now = rt.clock.now()
    return idempotency.create_once(
        session, user_id=who.user_id, key=idempotency_key, path="/users", request=data,
        now=now,
        make=lambda: UserOut.model_validate(_create_user(session, rt, data, invite)))


def _create_user(session: Session, rt: Runtime, data: UserCreate, invite: Invite) -> User:
    now = rt.clock.now()
    user = service.create_user(session, data=data, now=now)
    if data.invite:
        invite(session, user=user, now=now, hours=rt.settings.invite_link_hours)
    return user


@router.get("/users/{user_id}", response_model=UserOut)
def show_user(user_id: Id, session: SessionDep, who: Viewer) -> UserOut:
    return UserOut.model_validate(service.get_user(session, user_id))


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: Id, data: UserUpdate, session: SessionDep, who: Admin) -> UserOut:
    user = service.update_user(session, user=service.get_user(session, user_id), data=data)
    session.commit()
    return UserOut.model_validate(user)


def _team_out(session: Session, team: Team) -> TeamOut:
    return TeamOut(id=team.id, name=team.name, description=team.description,
                   member_ids=service.team_member_ids(session, team.id),
                   manager_ids=service.team_manager_ids(session, team.id),
                   created_at=team.created_at)


@router.get("/teams", response_model=Page[TeamOut], summary="List teams, by id")
def list_teams(session: SessionDep, who: Viewer, cursor: str | None = None,
               limit: Limit = 100) -> Page[TeamOut]:
    rows = service.list_teams(session, after_id=pagination.decode(cursor), limit=limit + 1)
    return pagination.page(rows, limit, lambda t: _team_out(session, t), lambda t: t.id)


@router.post("/teams", status_code=201, response_model=TeamOut)
def create_team(data: TeamCreate, session: SessionDep, rt: RuntimeDep, who: Admin,
                idempotency_key: IdemKey = None) -> TeamOut | JSONResponse:
    now = rt.clock.now()
    return idempotency.create_once(
        session, user_id=who.user_id, key=idempotency_key, path="/teams", request=data,
        now=now, make=lambda: _team_out(session, service.create_team(session, data=data, now=now)))


@router.get("/teams/{team_id}", response_model=TeamOut)
def show_team(team_id: Id, session: SessionDep, who: Viewer) -> TeamOut:
    return _team_out(session, service.get_team(session, team_id))


@router.patch("/teams/{team_id}", response_model=TeamOut)
def update_team(team_id: Id, data: TeamUpdate, session: SessionDep, who: Admin) -> TeamOut:
    team = service.update_team(session, team=service.get_team(session, team_id), data=data)
    session.commit()
    return _team_out(session, team)


@router.delete("/teams/{team_id}", status_code=204)
def delete_team(team_id: Id, session: SessionDep, who: Admin) -> Response:
    service.delete_team(session, service.get_team(session, team_id))
    session.commit()
    return Response(status_code=204)


@router.put("/teams/{team_id}/members/{user_id}", response_model=TeamOut,
            summary="Add a member, or set their team role (admins and the team's managers)")
def set_member_role(team_id: Id, user_id: Id, data: TeamRoleIn, session: SessionDep,
                    who: Responder) -> TeamOut:
    team = service.get_team(session, team_id)
    service.require_team_manager(session, actor=who, team_id=team.id, what="its members")
    service.get_user(session, user_id)
    service.set_team_role(session, team_id=team.id, user_id=user_id, role=data.role)
    session.commit()
    return _team_out(session, team)


@router.delete("/teams/{team_id}/members/{user_id}", status_code=204,
               summary="Remove a member (admins and the team's managers)")
def remove_member(team_id: Id, user_id: Id, session: SessionDep, who: Responder) -> Response:
    team = service.get_team(session, team_id)
    service.require_team_manager(session, actor=who, team_id=team.id, what="its members")
    service.remove_team_member(session, team_id=team.id, user_id=user_id)
    session.commit()
    return Response(status_code=204)


def _key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(id=key.id, user_id=key.user_id, name=key.name, prefix=key.prefix,
                     scope=Role(key.scope), created_at=key.created_at,
                     last_used_at=key.last_used_at, revoked_at=key.revoked_at,
                     expires_at=key.expires_at, team_id=key.team_id)


@router.get("/api-keys", response_model=Page[ApiKeyOut],
            summary="Your keys; admins see everyone's (filter with user_id); by id")
def list_keys(session: SessionDep, who: Viewer, user_id: Id | None = None,
              cursor: str | None = None, limit: Limit = 100) -> Page[ApiKeyOut]:
    return pagination.page_of_all(service.list_api_keys(session, actor=who, user_id=user_id),
                                  cursor, limit, _key_out, lambda k: k.id)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated,
             summary="Create an API key; the token is in this answer only")
def create_key(data: ApiKeyCreate, session: SessionDep, rt: RuntimeDep,
               who: Viewer) -> ApiKeyCreated:
    key, token = service.create_api_key_for(session, actor=who, data=data, now=rt.clock.now())
    session.commit()
    return ApiKeyCreated(**_key_out(key).model_dump(), token=token)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, summary="Revoke an API key")
def revoke_key(key_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer) -> ApiKeyOut:
    key = service.revoke_api_key(session, actor=who, key_id=key_id, now=rt.clock.now())
    session.commit()
    return _key_out(key)
