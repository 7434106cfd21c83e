"""Managing user accounts from the admin pages: list, create, deactivate and reactivate.

:func:`dti.store.accounts.create_user` is the bare constructor (used by the demo and the CLI);
the functions here are what an administrator does through the web: they check the role and
write an audit line in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dti.errors import Conflict, NotFound
from dti.store import audit
from dti.store.access import require_role
from dti.store.accounts import Actor, create_user
from dti.store.models import LoginSession, User
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
