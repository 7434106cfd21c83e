"""Users, passwords, log-in sessions and security events.

Passwords are hashed with Argon2 (argon2-cffi).  Failed log-ins are throttled twice over:

- by client address: five failures from one address (an IPv6 client by its /64 network) within
  15 minutes refuse that address for 15 minutes, whatever name it tries, without Argon2 work and
  without counting towards any account's lock;
- by account: twenty failures within 15 minutes — so from four addresses at least — lock the
  account for 15 minutes, except from an address it logged in from within the last 30 days.

Every refusal gives the same message (:data:`REFUSED`) and, except a throttled address's, the
same Argon2 work.  Every log-in, failure, lock and re-authentication is a security event; the
attempts of a throttled address are not, so a flood writes nothing.  A session is a random token
in an HttpOnly cookie; only its SHA-256 is stored, with the CSRF token the session's forms must
echo.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from dti.clock import now
from dti.errors import Conflict, LoginRefused, NotAllowed
from dti.store.models import LoginSession, SecurityEvent, User
from dti.workflow import PROVINCE_ROLES, Role

ADDRESS_FAILURES = 5     # from one address, any names: then the address is refused
ACCOUNT_FAILURES = 20    # on one name, from addresses not yet refused: then the account is locked
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)       # an account's lock, and an address's refusal
KNOWN_ADDRESS = timedelta(days=30)      # an address the account logged in from: its lock does not apply
SESSION_IDLE = timedelta(hours=1)
MIN_PASSWORD = 8
USERNAME_MAX = 80
USERNAME = re.compile(r"[A-Za-z0-9._-]{2,80}")
# One message for every refusal: a wrong password, an unknown name, a locked account and a refused
# address read the same, so the answer tells an attacker nothing; the owner learns what to do.
REFUSED = ("wrong user name or password, or too many failed log-ins: try again in 15 minutes or "
           "ask an administrator")
FAILURES = ("login_failed", "login_while_locked")    # what counts against an address

_hasher = PasswordHasher()


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
        raise Conflict("editors and approvers need their unit (a province, or a ministry or "
                       "government body); admins and reviewers have none")
    if len(password) < MIN_PASSWORD:
        raise Conflict(f"the password needs at least {MIN_PASSWORD} characters")
    if not USERNAME.fullmatch(username or ""):
        raise Conflict(f"{username!r} cannot be a user name: use 2–80 letters, digits, '.', '_' "
                       "or '-'")
    if len(display_name) > 200:
        raise Conflict("the display name has more than 200 characters")
    if province_code is not None and province_code not in unit_codes():
        raise Conflict(f"{province_code!r} is neither a province code (GSO codes such as 48) nor a "
                       "ministry or government body's code (such as BTC; dti unit NAME finds it)")
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


def address_key(address: str | None) -> str | None:
    """What counts as one client: an IPv4 address, an IPv6 client's /64 network (one host is
    commonly given a whole /64), anything else as written (cut to the column)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Attempt:
    """A log-in attempt as read before its password is checked: the password check (Argon2,
    slow on purpose) then runs outside any transaction, so it never holds the write lock."""

    username: str
    address: str | None       # the address key (see :func:`address_key`)
    password_hash: str        # the account's, or a stand-in's for a name with no account


def authenticate(session: Session, username: str, password: str, address: str | None = None) -> User:
    """The user if the password is right and the account usable; else :class:`LoginRefused`.

    The three steps in one session (the command line, tests); the web app runs
    :func:`begin_login` in a read, :func:`check_password` in no transaction at all and
    :func:`finish_login` in a write transaction that it commits even when the log-in is refused,
    so failures are counted.
    """
    attempt = begin_login(session, username, address)
    return finish_login(session, attempt, check_password(attempt, password))


def begin_login(session: Session, username: str, address: str | None) -> Attempt:
    """Read what the password check needs; a refused address is turned away here, for every
    name alike, with no Argon2 work and nothing written."""
    key = address_key(address)
    if key is not None and address_refused_until(session, key, now()) is not None:
        raise LoginRefused(REFUSED)
    username = username[:USERNAME_MAX + 1]
    user = _user(session, username)
    return Attempt(username, key, user.password_hash if user else _dummy_hash())


def check_password(attempt: Attempt, password: str) -> bool:
    """One Argon2 verification for every attempt that gets this far — an unknown name and a
    locked account included — so the time taken tells nothing."""
    return _verify(attempt.password_hash, password)


def finish_login(session: Session, attempt: Attempt, good: bool) -> User:
    """Decide on what is stored now (another attempt may have locked the account meanwhile),
    record the attempt, lock or refuse what one failure too many calls for.  Every refusal is
    :class:`LoginRefused` with the same message: nothing says whether an account exists or is
    locked."""
    t, key, username = now(), attempt.address, attempt.username
    if key is not None and address_refused_until(session, key, t) is not None:
        raise LoginRefused(REFUSED)     # refused meanwhile: as any refused attempt, not recorded
    user = _user(session, username)
    good = good and user is not None and user.password_hash == attempt.password_hash
    locked = _locked(session, username, user, t) and not _known(session, username, key, t)
    if locked or user is None or not user.active or not good:
        _fail(session, username, user, key, t, locked)
        raise LoginRefused(REFUSED)
    if user.locked_until is not None and user.locked_until <= t:
        user.locked_until = None   # a lock in force stays: the owner got in from a known address
    record(session, "login_ok", username, user.id, key)
    return user


def _user(session: Session, username: str) -> User | None:
    if len(username) > USERNAME_MAX:
        return None
    return session.scalar(select(User).where(User.username == username))


def _fail(session: Session, username: str, user: User | None, key: str | None, t: datetime,
          locked: bool) -> None:
    """Record a refused attempt, then lock the account or refuse the address if it was one too many."""
    user_id = user.id if user else None
    record(session, "login_while_locked" if locked else "login_failed", username, user_id, key)
    session.flush()
    if not locked and _recent_failures(session, username, t) >= ACCOUNT_FAILURES:
        if user is not None:
            user.locked_until = t + LOCK_TIME
        record(session, "account_locked", username, user_id, key,
               f"{ACCOUNT_FAILURES} failed log-ins within 15 minutes")
    if key is not None and address_failures(session, key, t) >= ADDRESS_FAILURES:
        record(session, "address_throttled", username, user_id, key,
               f"{ADDRESS_FAILURES} failed log-ins from this address within 15 minutes")


@lru_cache(maxsize=1)
def unit_codes() -> frozenset[str]:
    """The units an editor or approver can belong to: the provinces before and after the 2025
    merger, and every ministry and government body (the codes never collide: GSO codes are
    digits, body codes letters)."""
    from dti.units import load_unit_set
    from dti.units.bodies import bodies

    return frozenset([*(u.code for s in ("provinces-63", "provinces-34") for u in load_unit_set(s)),
                      *(b.code for b in bodies())])


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the name has no account (made once, on first need)."""
    return _hasher.hash("not a password anyone has")


def _locked(session: Session, username: str, user: User | None, t: datetime) -> bool:
    """A real account by its lock time; a name with no account by its recent lock event."""
    if user is not None:
        return user.locked_until is not None and user.locked_until > t
    locked_at = _last(session, ("account_locked",), t - LOCK_TIME, username=username)
    lifted_at = _last(session, ("lock_lifted",), t - LOCK_TIME, username=username)
    return locked_at is not None and (lifted_at is None or lifted_at < locked_at)


def _known(session: Session, username: str, key: str | None, t: datetime) -> bool:
    """Whether the account logged in from this address lately: its lock does not apply there."""
    return key is not None and _last(session, ("login_ok",), t - KNOWN_ADDRESS, username=username,
                                     address=key) is not None


def _last(session: Session, kinds: tuple[str, ...], since: datetime, **where) -> datetime | None:
    query = select(func.max(SecurityEvent.at)).where(SecurityEvent.kind.in_(kinds),
                                                     SecurityEvent.at >= since)
    for column, value in where.items():
        query = query.where(getattr(SecurityEvent, column) == value)
    return session.scalar(query)


def _recent_failures(session: Session, username: str, t: datetime) -> int:
    """Failures on a name since the window opened, its last log-in, lock or lift."""
    reset = _last(session, ("login_ok", "account_locked", "lock_lifted"), t - FAILURE_WINDOW,
                  username=username)
    return session.scalar(select(func.count()).select_from(SecurityEvent).where(
        SecurityEvent.username == username, SecurityEvent.kind == "login_failed",
        SecurityEvent.at >= (reset or t - FAILURE_WINDOW))) or 0


def address_failures(session: Session, key: str, t: datetime) -> int:
    """Refused attempts from an address since the window opened, its last refusal or release."""
    reset = _last(session, ("address_throttled", "address_released"), t - FAILURE_WINDOW,
                  address=key)
    return session.scalar(select(func.count()).select_from(SecurityEvent).where(
        SecurityEvent.address == key, SecurityEvent.kind.in_(FAILURES),
        SecurityEvent.at >= (reset or t - FAILURE_WINDOW))) or 0


def address_refused_until(session: Session, key: str, t: datetime) -> datetime | None:
    """When a refused address may try again, or ``None`` if it may now."""
    refused_at = _last(session, ("address_throttled",), t - LOCK_TIME, address=key)
    released_at = _last(session, ("address_released",), t - LOCK_TIME, address=key)
    if refused_at is None or refused_at + LOCK_TIME <= t or \
            (released_at is not None and released_at >= refused_at):
        return None
    return refused_at + LOCK_TIME


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


# Every request's one query, built once: the session row and the columns of its user an
# :class:`Actor` holds (plain columns — no user object is loaded and tracked).
_SESSION = (select(LoginSession.__table__.c.last_seen, LoginSession.__table__.c.csrf_token,
                   *(User.__table__.c[name] for name in ("id", "username", "role",
                                                         "province_code", "display_name",
                                                         "active")))
            .join(User.__table__, User.__table__.c.id == LoginSession.__table__.c.user_id)
            .where(LoginSession.__table__.c.token_hash == bindparam("token")))


def read_session(session: Session, token: str | None) -> tuple[tuple[Actor, str] | None, bool]:
    """(actor and CSRF token of a live session or ``None``, whether the row needs a write).

    Read-only, with one look-up of the session row: a request that only reads takes no write
    lock; when the second value is true, :func:`session_upkeep` does the write apart."""
    if not token:
        return None, False
    found = session.connection().execute(_SESSION, {"token": _digest(token)}).first()
    if found is None:
        return None, False
    idle = now() - found.last_seen
    upkeep = idle > timedelta(minutes=1)
    if not found.active or idle > SESSION_IDLE:
        return None, upkeep
    return (Actor.of(found), found.csrf_token), upkeep


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
