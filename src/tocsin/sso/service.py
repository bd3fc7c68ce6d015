"""Sign-in through an OpenID Connect provider, and the second factor of local accounts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.accounts.models import Team, User
from tocsin.accounts.schemas import TeamCreate, UserCreate
from tocsin.errors import Conflict, Invalid, Unauthorized
from tocsin.principal import Role
from tocsin.settings import Settings
from tocsin.sso import mapping, oidc
from tocsin.sso.models import (
    RecoveryCode,
    SignInChallenge,
    SsoIdentity,
    SsoLogin,
    TotpCredential,
)

LOGIN_TTL = timedelta(minutes=10)
CHALLENGE_TTL = timedelta(minutes=5)
RECOVERY_CODES = 10


def enabled(settings: Settings) -> bool:
    return bool(settings.sso_issuer and settings.sso_client_id)


def _client(settings: Settings, redirect_uri: str) -> OAuth2Client:
    secret = settings.sso_client_secret.get_secret_value() if settings.sso_client_secret else ""
    return oidc.client(client_id=settings.sso_client_id, client_secret=secret,
                       redirect_uri=redirect_uri)


def begin(session: Session, *, settings: Settings, redirect_uri: str, next_url: str,
          now: datetime) -> tuple[str, str]:
    """Start a sign-in: (the provider's authorization URL, the state to bind the browser)."""
    assert settings.sso_issuer
    provider = oidc.discover(settings.sso_issuer)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    session.execute(delete(SsoLogin).where(SsoLogin.created_at < now - LOGIN_TTL))
    session.add(SsoLogin(state=state, nonce=nonce, code_verifier=verifier,
                         next_url=next_url, created_at=now))
    url = oidc.authorization_url(provider, _client(settings, redirect_uri), state=state,
                                 nonce=nonce, code_verifier=verifier)
    return url, state


def take_login(session: Session, *, state: str, browser_state: str,
               now: datetime) -> SsoLogin:
    """The sign-in this answer belongs to, used up; Unauthorized when `state` is unknown,
    stale, or not the one this browser started."""
    login = session.get(SsoLogin, state) if state else None
    if login is None or not hmac.compare_digest(state.encode(), browser_state.encode()):
        raise Unauthorized("the sign-in answer's state does not match a sign-in started in "
                           "this browser; start again from the sign-in page")
    session.delete(login)
    if now - login.created_at > LOGIN_TTL:
        raise Unauthorized("the sign-in took too long; start again from the sign-in page")
    return login


def finish(session: Session, *, settings: Settings, login: SsoLogin, code: str,
           redirect_uri: str, now: datetime) -> User:
    """Exchange the code, check the ID token, and find, link or create the user."""
    assert settings.sso_issuer
    provider = oidc.discover(settings.sso_issuer)
    id_token = oidc.exchange(provider, _client(settings, redirect_uri), code=code,
                             code_verifier=login.code_verifier)
    claims = oidc.verify_id_token(provider, id_token, client_id=settings.sso_client_id,
                                  nonce=login.nonce, now=now)
    return sign_in_with_claims(session, settings=settings, claims=claims, now=now)


def sign_in_with_claims(session: Session, *, settings: Settings, claims: dict[str, object],
                        now: datetime) -> User:
    """The account for verified claims: linked by (issuer, subject), else by verified email,
    else created; its global role and team roles follow the groups claim."""
    found = mapping.map_claims(claims, groups_claim=settings.sso_groups_claim,
                               group_roles=settings.sso_group_roles,
                               group_teams=settings.sso_group_teams,
                               default_role=settings.sso_default_role)
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    identity = session.scalars(select(SsoIdentity).where(
        SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)).first()
    if identity is not None:
        user = accounts.get_user(session, identity.user_id)
        identity.last_sign_in_at = now
    else:
        user_or_none = session.scalars(select(User).where(User.email == found.email)).first()
        if user_or_none is None:
            user = accounts.create_user(session, data=UserCreate(
                name=found.name[:200], email=found.email, role=found.role), now=now)
        else:
            user = user_or_none
        session.add(SsoIdentity(user_id=user.id, issuer=issuer, subject=subject,
                                created_at=now, last_sign_in_at=now))
    if not user.active:
        raise Unauthorized(f"the account {user.email} is deactivated in Tocsin")
    if user.email.lower() not in _break_glass(settings) and user.role != found.role.value:
        user.role = found.role.value
    for team_name, team_role in found.teams.items():
        team = session.scalars(select(Team).where(Team.name == team_name)).first()
        if team is None:
            team = accounts.create_team(session, data=TeamCreate(name=team_name), now=now)
        accounts.set_team_role(session, team_id=team.id, user_id=user.id, role=team_role)
    session.flush()
    return user


def _break_glass(settings: Settings) -> set[str]:
    return {e.lower() for e in settings.break_glass_emails}


def password_allowed(settings: Settings, email: str) -> bool:
    """Local password sign-in: on, or off except for the break-glass accounts."""
    return settings.local_sign_in or email.lower() in _break_glass(settings)


# ---- second factor (TOTP) -----------------------------------------------------------------

STEP_SECONDS = 30


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def totp_of(session: Session, user_id: int) -> TotpCredential | None:
    return session.get(TotpCredential, user_id)


def has_second_factor(session: Session, user_id: int) -> bool:
    cred = totp_of(session, user_id)
    return cred is not None and cred.enabled_at is not None


def start_enrolment(session: Session, *, user: User) -> str:
    """A new secret (not yet active) for `user`; returns its otpauth:// URI."""
    cred = totp_of(session, user.id)
    if cred is not None and cred.enabled_at is not None:
        raise Conflict("two-factor sign-in is already on; turn it off first to enrol again")
    secret = pyotp.random_base32()
    if cred is None:
        session.add(TotpCredential(user_id=user.id, secret=secret))
    else:
        cred.secret, cred.last_step, cred.failures = secret, 0, 0
    session.flush()
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Tocsin")


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code is `code`, within one step either way (clock drift)."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def check_code(session: Session, *, cred: TotpCredential, code: str, now: datetime,
               settings: Settings) -> None:
    """Accept `code` once: Unauthorized when wrong, reused, or after too many failures
    (then refused until the lockout ends, right or wrong)."""
    if cred.locked_until is not None and cred.locked_until > now:
        raise Unauthorized("too many wrong codes; two-factor sign-in is locked until "
                           f"{cred.locked_until:%H:%M} UTC")
    step = _matching_step(cred.secret, code, now)
    if step is not None and step <= cred.last_step:
        _failed(cred, now, settings)
        raise Unauthorized("this code was already used; wait for the next one")
    if step is None:
        _failed(cred, now, settings)
        raise Unauthorized("the code is not right")
    cred.last_step, cred.failures, cred.locked_until = step, 0, None


def _failed(cred: TotpCredential, now: datetime, settings: Settings) -> None:
    cred.failures += 1
    if cred.failures >= settings.totp_max_failures:
        cred.locked_until = now + timedelta(minutes=settings.totp_lockout_minutes)
        cred.failures = 0


def confirm_enrolment(session: Session, *, user: User, code: str, now: datetime,
                      settings: Settings) -> list[str]:
    """Turn two-factor on with a first code; returns the recovery codes (shown once)."""
    cred = totp_of(session, user.id)
    if cred is None:
        raise Invalid("start enrolment first")
    check_code(session, cred=cred, code=code, now=now, settings=settings)
    cred.enabled_at = now
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    for c in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=_digest(c)))
    session.flush()
    return codes


def use_recovery_code(session: Session, *, user_id: int, code: str, now: datetime) -> bool:
    row = session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.code_hash == _digest(code.strip()),
        RecoveryCode.used_at.is_(None))).first()
    if row is None:
        return False
    row.used_at = now
    return True


def turn_off(session: Session, *, user_id: int) -> None:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    cred = totp_of(session, user_id)
    if cred is not None:
        session.delete(cred)


def needs_enrolment(session: Session, *, user: User, settings: Settings) -> bool:
    return (settings.totp_required_for_admins and user.role == Role.ADMIN.value
            and not has_second_factor(session, user.id))


def open_challenge(session: Session, *, user: User, next_url: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.execute(delete(SignInChallenge).where(SignInChallenge.expires_at < now))
    session.add(SignInChallenge(id=_digest(token), user_id=user.id, next_url=next_url,
                                expires_at=now + CHALLENGE_TTL))
    return token


def find_challenge(session: Session, *, token: str, now: datetime) -> SignInChallenge:
    row = session.get(SignInChallenge, _digest(token)) if token else None
    if row is None or row.expires_at <= now:
        raise Unauthorized("the sign-in waited too long for the code; sign in again")
    return row
