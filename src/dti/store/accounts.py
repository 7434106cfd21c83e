"""Users, passwords, log-in sessions and security events.

Passwords are hashed with Argon2 (argon2-cffi).  Five failed log-ins within 15 minutes lock the
account for 15 minutes; every log-in, failure, lock and re-authentication is a security event.
A session is a random token in an HttpOnly cookie; only its SHA-256 is stored, with the CSRF token
the session's forms must echo.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dti.errors import Conflict, LoginRefused, NotAllowed
from dti.store.models import LoginSession, SecurityEvent, User
from dti.workflow import PROVINCE_ROLES, Role

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=1)
MIN_PASSWORD = 8
USERNAME_MAX = 80
USERNAME = re.compile(r"[A-Za-z0-9._-]{2,80}")
LOCKED = "too many failed log-ins: the account is locked for 15 minutes"

_hasher = PasswordHasher()


def now() -> datetime:
    """Naive UTC, the form every timestamp is stored in."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Actor:
    """Who is asking: a logged-in user, or the public."""

    id: int | None
    username: str
    role: Role
    province_code: str | None = None
    display_name: str = ""

    @property
    def is_public(self) -> bool:
        return self.role is Role.PUBLIC

    @classmethod
    def of(cls, user: User) -> "Actor":
        return cls(user.id, user.username, Role(user.role), user.province_code, user.display_name)


PUBLIC = Actor(None, "", Role.PUBLIC)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(session: Session, username: str, password: str, role: Role | str,
                province_code: str | None = None, display_name: str = "") -> User:
    role = Role(role)
    if role is Role.PUBLIC:
        raise Conflict("the public role is for visitors who are not logged in")
    if (role in PROVINCE_ROLES) != (province_code is not None):
        raise Conflict("province users need a province; ministry users have none")
    if len(password) < MIN_PASSWORD:
        raise Conflict(f"the password needs at least {MIN_PASSWORD} characters")
    if not USERNAME.fullmatch(username or ""):
        raise Conflict(f"{username!r} cannot be a user name: use 2–80 letters, digits, '.', '_' "
                       "or '-'")
    if len(display_name) > 200:
        raise Conflict("the display name has more than 200 characters")
    if province_code is not None and province_code not in _province_codes():
        raise Conflict(f"{province_code!r} is not a province code (GSO codes such as 48)")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"the user name {username!r} is taken")
    user = User(username=username, display_name=display_name or username,
                password_hash=hash_password(password), role=role.value,
                province_code=province_code, active=True, created_at=now())
    session.add(user)
    session.flush()
    return user


def record(session: Session, kind: str, username: str, user_id: int | None = None,
           address: str | None = None, detail: str = "") -> None:
    # a name typed at the log-in form can be any length: keep what the column holds
    session.add(SecurityEvent(at=now(), kind=kind, username=username[:USERNAME_MAX],
                              user_id=user_id, address=(address or "")[:64] or None,
                              detail=detail))


def authenticate(session: Session, username: str, password: str, address: str | None = None) -> User:
    """The user if the password is right and the account usable; else :class:`LoginRefused`.

    Nothing in the answer says whether an account exists: an unknown name costs the same Argon2
    work, and five failures lock it with the same message as a real account.  The caller
    commits in every case, so failures are counted even though the log-in is refused.
    """
    t = now()
    username = username[:USERNAME_MAX + 1]
    user = session.scalar(select(User).where(User.username == username)) \
        if len(username) <= USERNAME_MAX else None
    if _locked(session, username, user, t):
        record(session, "login_while_locked", username, user.id if user else None, address)
        raise LoginRefused(LOCKED)
    good = _verify(user.password_hash if user else _dummy_hash(), password)
    if user is None or not user.active or not good:
        record(session, "login_failed", username, user.id if user else None, address)
        session.flush()
        if _recent_failures(session, username, t) >= MAX_FAILURES:
            if user is not None:
                user.locked_until = t + LOCK_TIME
            record(session, "account_locked", username, user.id if user else None, address,
                   f"{MAX_FAILURES} failed log-ins within 15 minutes")
            raise LoginRefused(LOCKED)
        raise LoginRefused("wrong user name or password")
    user.locked_until = None
    record(session, "login_ok", username, user.id, address)
    return user


@lru_cache(maxsize=1)
def _province_codes() -> frozenset[str]:
    from dti.units import load_unit_set

    return frozenset(u.code for s in ("provinces-63", "provinces-34") for u in load_unit_set(s))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the name has no account (made once, on first need)."""
    return _hasher.hash("not a password anyone has")


def _locked(session: Session, username: str, user: User | None, t: datetime) -> bool:
    """A real account by its lock time; a name with no account by its recent lock event."""
    if user is not None:
        return user.locked_until is not None and user.locked_until > t
    last = session.scalar(select(func.max(SecurityEvent.at)).where(
        SecurityEvent.username == username, SecurityEvent.kind == "account_locked"))
    return last is not None and last + LOCK_TIME > t


def _recent_failures(session: Session, username: str, t: datetime) -> int:
    last_ok = session.scalar(select(func.max(SecurityEvent.at)).where(
        SecurityEvent.username == username, SecurityEvent.kind.in_(("login_ok", "account_locked"))))
    since = max(t - FAILURE_WINDOW, last_ok) if last_ok else t - FAILURE_WINDOW
    return session.scalar(select(func.count()).select_from(SecurityEvent).where(
        SecurityEvent.username == username, SecurityEvent.kind == "login_failed",
        SecurityEvent.at >= since)) or 0


def reauthenticate(session: Session, actor: Actor, password: str, purpose: str) -> None:
    """Sensitive operations (publish, lock exception) ask for the password again."""
    user = session.get(User, actor.id)
    if user is None or not _verify(user.password_hash, password):
        record(session, "reauth_failed", actor.username, actor.id, detail=purpose)
        raise NotAllowed("the password you re-entered is wrong; nothing was changed")
    record(session, "reauth_ok", actor.username, actor.id, detail=purpose)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User) -> tuple[str, str]:
    """A new log-in session: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    t = now()
    session.add(LoginSession(token_hash=_digest(token), csrf_token=csrf, user_id=user.id,
                             created_at=t, last_seen=t))
    return token, csrf


def resume_session(session: Session, token: str | None) -> tuple[Actor, str] | None:
    """The actor and CSRF token of a live session, or ``None`` (expired, unknown, user disabled)."""
    return read_session(session, token)[0]


def read_session(session: Session, token: str | None) -> tuple[tuple[Actor, str] | None, bool]:
    """(actor and CSRF token of a live session or ``None``, whether the row needs a write).

    Read-only, with one look-up of the session row: a request that only reads takes no write
    lock; when the second value is true, :func:`session_upkeep` does the write apart."""
    if not token:
        return None, False
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    if row is None:
        return None, False
    idle = now() - row.last_seen
    upkeep = idle > timedelta(minutes=1)
    user = session.get(User, row.user_id)
    if user is None or not user.active or idle > SESSION_IDLE:
        return None, upkeep
    return (Actor.of(user), row.csrf_token), upkeep


def session_upkeep(session: Session, token: str | None) -> None:
    """Write what reading a session left: the last-seen time (at most once a minute), or the
    removal of an expired session.  Run in a write transaction, apart from the request's reads."""
    if not token:
        return
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    if row is None:
        return
    t = now()
    user = session.get(User, row.user_id)
    if user is None or not user.active or t - row.last_seen > SESSION_IDLE:
        session.delete(row)
    elif t - row.last_seen > timedelta(minutes=1):
        row.last_seen = t


def close_session(session: Session, token: str | None) -> None:
    if token:
        row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
        if row is not None:
            session.delete(row)
