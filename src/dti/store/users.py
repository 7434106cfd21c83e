"""Managing user accounts from the admin pages: list, create, deactivate and reactivate; see and
lift log-in locks (locked accounts, refused addresses).

:func:`dti.store.accounts.create_user` is the bare constructor (used by the demo and the CLI);
the functions here are what an administrator does through the web: they check the role and
write an audit line in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dti.clock import now
from dti.errors import Conflict, InputError, NotFound, Problem
from dti.store import accounts, audit
from dti.store.access import require_role
from dti.store.accounts import Actor, create_user
from dti.store.models import LoginSession, SecurityEvent, User
from dti.workflow import Role


def list_users(session: Session, actor: Actor) -> list[User]:
    require_role(actor, Role.ADMIN)
    return list(session.scalars(select(User).order_by(User.role, User.province_code, User.username)))


def add_user(session: Session, actor: Actor, username: str, password: str, role: Role | str,
             province_code: str | None = None, display_name: str = "") -> User:
    """A new account; province users need a province, ministry users none (checked by
    :func:`create_user`)."""
    require_role(actor, Role.ADMIN)
    user = create_user(session, username.strip(), password, role, province_code or None,
                       display_name.strip())
    audit.write(session, actor, "user.create", province=user.province_code,
                after={"username": user.username, "role": user.role,
                       "province_code": user.province_code})
    return user


def set_active(session: Session, actor: Actor, username: str, active: bool) -> User:
    """Deactivate (log-in refused, open sessions closed) or reactivate an account.  Accounts are
    never deleted: the audit trail names them."""
    require_role(actor, Role.ADMIN)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    if user.id == actor.id and not active:
        raise Conflict("you cannot deactivate your own account")
    before = user.active
    user.active = active
    if not active:
        for login in session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)):
            session.delete(login)
    audit.write(session, actor, "user.activate" if active else "user.deactivate",
                province=user.province_code, before={"username": username, "active": before},
                after={"username": username, "active": active})
    return user


REASON_MAX = 5000   # characters, as for every other reason kept in the audit trail
SHOWN = 10          # addresses or names listed beside one lock
LISTED = 100        # refused addresses listed, the newest first


def login_locks(session: Session, actor: Actor) -> dict[str, list[dict[str, Any]]]:
    """The accounts locked now and the addresses refused now (the newest :data:`LISTED`), each
    with until when and its failures of the last 15 minutes (and where they came from, or which
    names they tried)."""
    require_role(actor, Role.ADMIN)
    t = now()
    since = t - accounts.FAILURE_WINDOW
    locked = [{"username": u.username, "role": u.role, "province_code": u.province_code,
               "locked_until": u.locked_until,
               **_failures(session, since, "address", username=u.username, kind="login_failed")}
              for u in session.scalars(select(User).where(User.locked_until > t)
                                       .order_by(User.username))]
    # as accounts.address_refused_until decides, for all addresses in two grouped reads: a
    # botnet may have thousands refused, and the page lists only the newest
    released = dict(session.execute(_latest("address_released", t - accounts.LOCK_TIME)).all())
    refused = [(key, at) for key, at in session.execute(
        _latest("address_throttled", t - accounts.LOCK_TIME).order_by(func.max(SecurityEvent.at).desc()))
        if at + accounts.LOCK_TIME > t and not (key in released and released[key] >= at)]
    shown = [{"address": key, "refused_until": at + accounts.LOCK_TIME,
              **_failures(session, since, "username", address=key)} for key, at in refused[:LISTED]]
    return {"accounts": locked, "addresses": shown, "addresses_not_shown": len(refused) - len(shown)}


def _latest(kind: str, since: datetime):
    """Each address's latest event of ``kind`` since ``since``."""
    return select(SecurityEvent.address, func.max(SecurityEvent.at)).where(
        SecurityEvent.kind == kind, SecurityEvent.at >= since).group_by(SecurityEvent.address)


def _failures(session: Session, since: datetime, spread: str, kind: str | None = None,
              **where) -> dict[str, Any]:
    """How many failures, and the first few distinct values of ``spread`` among them."""
    conditions = [SecurityEvent.at >= since,
                  SecurityEvent.kind.in_((kind,) if kind else accounts.FAILURES),
                  *(getattr(SecurityEvent, column) == value for column, value in where.items())]
    count = session.scalar(select(func.count()).select_from(SecurityEvent).where(*conditions))
    column = getattr(SecurityEvent, spread)
    values = session.scalars(select(column).distinct().where(*conditions, column.is_not(None))
                             .order_by(column).limit(SHOWN))
    return {"failures": count or 0, ("addresses" if spread == "address" else "usernames"): list(values)}


def lift_account_lock(session: Session, actor: Actor, username: str, reason: str) -> User:
    """Unlock an account before its time (its failures start again from zero)."""
    require_role(actor, Role.ADMIN)
    reason = _reason(reason)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    locked_until = user.locked_until
    if locked_until is None or locked_until <= now():
        raise Conflict(f"the account {username!r} is not locked; nothing was changed")
    user.locked_until = None
    accounts.record(session, "lock_lifted", username, user.id,
                    detail=f"lifted by {actor.username}: {reason}")
    audit.write(session, actor, "user.unlock", province=user.province_code, reason=reason,
                before={"username": username, "locked_until": locked_until.isoformat()},
                after={"username": username, "locked_until": None})
    return user


def release_address(session: Session, actor: Actor, address: str, reason: str) -> str:
    """Let a refused address try again before its time (its failures start again from zero)."""
    require_role(actor, Role.ADMIN)
    reason = _reason(reason)
    key = accounts.address_key(address.strip())
    until = accounts.address_refused_until(session, key, now()) if key else None
    if until is None:
        raise Conflict(f"the address {address.strip()!r} is not refused; nothing was changed")
    accounts.record(session, "address_released", actor.username, actor.id, key,
                    f"released by {actor.username}: {reason}")
    audit.write(session, actor, "address.release", reason=reason,
                before={"address": key, "refused_until": until.isoformat()},
                after={"address": key, "refused_until": None})
    return key


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InputError([Problem("admin.missing_field", "fill in the field 'reason': why the "
                                  "lock is lifted is kept in the audit trail", column="reason")])
    if len(reason) > REASON_MAX:
        raise InputError([Problem("workflow.text_too_long", f"{len(reason):,} characters; at most "
                                  f"{REASON_MAX:,}", column="reason")])
    return reason
