"""Users, teams and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin.accounts.models import ApiKey, Team, TeamMember, User
from tocsin.accounts.schemas import ApiKeyCreate, TeamCreate, TeamUpdate, UserCreate, UserUpdate
from tocsin.db.lookup import get_or_404
from tocsin.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from tocsin.principal import Principal, Role, TeamRole

TOKEN_PREFIX = "tsn"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# ---- users -------------------------------------------------------------------------------

def create_user(session: Session, *, data: UserCreate, now: datetime) -> User:
    email = data.email.lower()
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict(f"email: a user with email {email} already exists")
    user = User(name=data.name, email=email, time_zone=data.time_zone, role=data.role.value,
                password_hash=hash_password(data.password) if data.password else None,
                active=True, created_at=now)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"email: a user with email {email} already exists") from None
    return user


def get_user(session: Session, user_id: int) -> User:
    return get_or_404(session, User, user_id, "user")


def update_user(session: Session, *, user: User, data: UserUpdate) -> User:
    changes = data.model_dump(exclude_unset=True)
    if "password" in changes:
        pw = changes.pop("password")
        user.password_hash = hash_password(pw) if pw else None
    if "role" in changes and changes["role"] is not None:
        changes["role"] = changes["role"].value
    for name, value in changes.items():
        if value is not None:
            setattr(user, name, value)
    return user


def list_users(session: Session, *, after_id: int | None, limit: int) -> list[User]:
    query = select(User).order_by(User.id).limit(limit)
    if after_id is not None:
        query = query.where(User.id > after_id)
    return list(session.scalars(query))


# ---- teams -------------------------------------------------------------------------------

def _check_user_ids(session: Session, ids: list[int]) -> list[int]:
    wanted = sorted(set(ids))
    found = set(session.scalars(select(User.id).where(User.id.in_(wanted))))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise Invalid(f"member_ids: no user with id {', '.join(map(str, missing))}")
    return wanted


def team_member_ids(session: Session, team_id: int) -> list[int]:
    return list(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id)
                                .order_by(TeamMember.user_id)))


def create_team(session: Session, *, data: TeamCreate, now: datetime) -> Team:
    if session.scalars(select(Team.id).where(Team.name == data.name)).first() is not None:
        raise Conflict(f"a team named '{data.name}' already exists")
    members = _check_user_ids(session, data.member_ids)
    team = Team(name=data.name, description=data.description, created_at=now)
    session.add(team)
    session.flush()
    for uid in members:
        session.add(TeamMember(team_id=team.id, user_id=uid))
    return team


def get_team(session: Session, team_id: int) -> Team:
    return get_or_404(session, Team, team_id, "team")


def update_team(session: Session, *, team: Team, data: TeamUpdate) -> Team:
    if data.name is not None and data.name != team.name:
        taken = session.scalars(select(Team.id).where(Team.name == data.name)).first()
        if taken is not None:
            raise Conflict(f"a team named '{data.name}' already exists")
        team.name = data.name
    if data.description is not None:
        team.description = data.description
    if data.member_ids is not None:
        members = _check_user_ids(session, data.member_ids)
        # Members who stay keep their team role (a manager stays a manager).
        roles = {uid: role for uid, role in session.execute(
            select(TeamMember.user_id, TeamMember.role).where(TeamMember.team_id == team.id))}
        session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
        for uid in members:
            session.add(TeamMember(team_id=team.id, user_id=uid,
                                   role=roles.get(uid, TeamRole.MEMBER.value)))
    return team


def list_teams(session: Session, *, after_id: int | None, limit: int) -> list[Team]:
    query = select(Team).order_by(Team.id).limit(limit)
    if after_id is not None:
        query = query.where(Team.id > after_id)
    return list(session.scalars(query))


def delete_team(session: Session, team: Team) -> None:
    session.delete(team)


# ---- team-scoped roles ---------------------------------------------------------------------

def team_role_of(session: Session, *, user_id: int, team_id: int) -> TeamRole | None:
    role = session.scalars(select(TeamMember.role).where(
        TeamMember.team_id == team_id, TeamMember.user_id == user_id)).first()
    return TeamRole(role) if role is not None else None


def managed_team_ids(session: Session, *, user_id: int) -> list[int]:
    return list(session.scalars(select(TeamMember.team_id).where(
        TeamMember.user_id == user_id, TeamMember.role == TeamRole.MANAGER.value)
        .order_by(TeamMember.team_id)))


def may_manage_team(session: Session, *, actor: Principal, team_id: int | None) -> bool:
    """The one team rule: may `actor` change configuration owned by `team_id`?

    Admins may change anything (an admin's key limited to a team: that team only). Others
    need the manager role in that team, a credential of at least the responder role, and
    (for a team-limited key) the same team. Configuration owned by no team: admins only."""
    if actor.team_id is not None and actor.team_id != team_id:
        return False
    if actor.is_admin:
        return True
    if team_id is None or not actor.role.allows(Role.RESPONDER):
        return False
    return team_role_of(session, user_id=actor.user_id, team_id=team_id) is TeamRole.MANAGER


def require_team_manager(session: Session, *, actor: Principal, team_id: int | None,
                         what: str) -> None:
    """Raise Forbidden unless `actor` may change `what`, owned by `team_id` (may_manage_team).
    Every API route and web form that changes a team's configuration calls this."""
    if may_manage_team(session, actor=actor, team_id=team_id):
        return
    if actor.team_id is not None and actor.team_id != team_id:
        raise Forbidden(f"this API key is limited to team {actor.team_id}; {what} belongs to "
                        + (f"team {team_id}" if team_id is not None else "no team"))
    if team_id is None:
        raise Forbidden(f"{what} belongs to no team: only admins may change it")
    team = session.get(Team, team_id)
    name = team.name if team is not None else str(team_id)
    raise Forbidden(f"only managers of team '{name}' (or admins) may change {what}")


def require_team_move(session: Session, *, actor: Principal, old_team: int | None,
                      new_team: int | None, what: str) -> None:
    """Changing something owned by `old_team` (and perhaps giving it to `new_team`) needs
    the manager role in both."""
    for team_id in dict.fromkeys((old_team, new_team)):
        require_team_manager(session, actor=actor, team_id=team_id, what=what)


def team_manager_ids(session: Session, team_id: int) -> list[int]:
    return list(session.scalars(select(TeamMember.user_id).where(
        TeamMember.team_id == team_id, TeamMember.role == TeamRole.MANAGER.value)
        .order_by(TeamMember.user_id)))


def remove_team_member(session: Session, *, team_id: int, user_id: int) -> None:
    row = session.get(TeamMember, (team_id, user_id))
    if row is None:
        raise NotFound(f"user {user_id} is not in team {team_id}")
    session.delete(row)


def set_team_role(session: Session, *, team_id: int, user_id: int, role: TeamRole) -> None:
    """Add `user_id` to the team with `role`, or change their role in it."""
    row = session.get(TeamMember, (team_id, user_id))
    if row is None:
        session.add(TeamMember(team_id=team_id, user_id=user_id, role=role.value))
    elif row.role != role.value:
        row.role = role.value
    session.flush()


# ---- API keys ----------------------------------------------------------------------------

def _digest(secret: str) -> str:
    # Keys are 256-bit random values, so a fast hash is safe here (unlike passwords) and
    # keeps authentication cheap on every request.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, *, owner: User, name: str, scope: Role | None,
                   now: datetime, expires_at: datetime | None = None,
                   team_id: int | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns it and the token, which is never stored and never shown again."""
    owner_role = Role(owner.role)
    scope = scope or owner_role
    if not owner_role.allows(scope):
        raise Invalid(f"scope '{scope.value}' is above the owner's role '{owner_role.value}'")
    if expires_at is not None and expires_at <= now:
        raise Invalid("expires_at must be in the future")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(user_id=owner.id, name=name, prefix=prefix, secret_hash=_digest(secret),
                 scope=scope.value, created_at=now, expires_at=expires_at, team_id=team_id)
    session.add(key)
    session.flush()
    return key, f"{TOKEN_PREFIX}_{prefix}_{secret}"


def create_api_key_for(session: Session, *, actor: Principal, data: ApiKeyCreate,
                       now: datetime) -> tuple[ApiKey, str]:
    owner_id = data.user_id or actor.user_id
    if owner_id != actor.user_id and not actor.is_admin:
        raise Forbidden("only admins may create API keys for other users")
    owner = get_user(session, owner_id)
    # A credential never mints a stronger one: the new key's scope is capped by what the
    # calling credential grants now (its scope and its owner's role, both in actor.role)
    # and by the new owner's role; a missing scope means that cap, not the owner's role.
    cap = lowest(actor.role, Role(owner.role))
    scope = data.scope or cap
    if not cap.allows(scope):
        raise Invalid(f"scope '{scope.value}' is above what you may grant ('{cap.value}': "
                      f"your credential grants '{actor.role.value}', the owner's role is "
                      f"'{owner.role}')")
    if data.team_id is not None:
        get_team(session, data.team_id)
    if actor.team_id is not None and data.team_id != actor.team_id:
        raise Invalid(f"team_id: a key limited to team {actor.team_id} mints keys for that "
                      "team only")
    return create_api_key(session, owner=owner, name=data.name, scope=scope, now=now,
                          expires_at=data.expires_at, team_id=data.team_id)


def lowest(*roles: Role) -> Role:
    return min(roles, key=lambda role: role.rank)


def authenticate(session: Session, *, token: str, now: datetime,
                 touch_every: timedelta) -> tuple[Principal, bool]:
    """Resolve a bearer token to a principal, or raise Unauthorized.

    Also says whether the key's last-used time is stale (older than `touch_every`); the
    caller records it with `touch_api_key`, so authentication itself never writes.
    """
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise Unauthorized("malformed API key: expected 'Authorization: Bearer tsn_…'")
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _digest(parts[2])):
        raise Unauthorized("unknown API key")
    if key.revoked_at is not None:
        raise Unauthorized("this API key was revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthorized("this API key has expired")
    user = session.get(User, key.user_id)
    if user is None or not user.active:
        raise Unauthorized("the owner of this API key is deactivated")
    stale = key.last_used_at is None or now - key.last_used_at >= touch_every
    # A key never grants more than its owner has now (roles can be lowered after issue).
    user_role, scope = Role(user.role), Role(key.scope)
    role = scope if user_role.allows(scope) else user_role
    return Principal(user_id=user.id, role=role, api_key_id=key.id, team_id=key.team_id), stale


def touch_api_key(session: Session, *, key_id: int, now: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def list_api_keys(session: Session, *, actor: Principal, user_id: int | None) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if not actor.is_admin:
        query = query.where(ApiKey.user_id == actor.user_id)
    elif user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    return list(session.scalars(query))


def revoke_api_key(session: Session, *, actor: Principal, key_id: int, now: datetime) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or (key.user_id != actor.user_id and not actor.is_admin):
        raise NotFound(f"no API key with id {key_id}")
    if key.revoked_at is None:
        key.revoked_at = now
    return key


def bootstrap_admin(session: Session, *, now: datetime) -> tuple[User, str, str] | None:
    """On an empty database, create the first admin with a password and an API key.

    Returns (user, password, token) once; None when users already exist.
    """
    if session.scalars(select(User.id).limit(1)).first() is not None:
        return None
    password = secrets.token_urlsafe(12)
    user = create_user(session, data=UserCreate(name="Admin", email="admin@example.com",
                                                role=Role.ADMIN, password=password), now=now)
    _key, token = create_api_key(session, owner=user, name="bootstrap", scope=Role.ADMIN,
                                 now=now)
    return user, password, token
