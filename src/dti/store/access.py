"""The one place where the server decides who may see and change what.

Every store function that reads or writes an assessment calls :func:`authorize` first (or
:func:`scope_assessments` for lists); the web layer never decides by itself.  The rules come from
:mod:`dti.workflow`; this module adds what depends on stored facts: the user's province, the
assessment's state, the edition's window and who submitted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from dti.clock import now
from dti.errors import Conflict, NotAllowed, NotFound
from dti.store.accounts import Actor
from dti.store.models import Assessment, EditionRow
from dti.workflow import (MINISTRY_ROLES, PROVINCE_WINDOW_ACTIONS, Action, Decision, Role, State,
                          decide, separation_problem)


def is_own(actor: Actor, assessment: Assessment) -> bool:
    return actor.province_code is not None and actor.province_code == assessment.province_code


def authorize(session: Session, actor: Actor, action: Action | str, assessment: Assessment) -> Decision:
    """The decision for ``actor`` taking ``action`` on ``assessment``, or an error.

    A province user asking for another province's assessment, or the public for an unpublished
    one, gets :class:`NotAllowed` (403), as does anyone the separation of duties excludes; a
    province action outside the edition's window gets :class:`Conflict` (409).
    """
    action = Action(action)
    decision = decide(action, actor.role, assessment.state, is_own(actor, assessment))
    if not decision:
        raise NotAllowed(decision.reason, action=action.value, state=assessment.state,
                         refusal=decision.refusal, allowed=list(decision.allowed_states),
                         role=actor.role.value)
    duty = separation_problem(action, actor.id or -1, assessment.submitted_by)
    if duty:
        raise NotAllowed(duty, action=action.value, refusal="separation")
    if action in PROVINCE_WINDOW_ACTIONS:
        edition = session.get(EditionRow, assessment.edition_id)
        closed = window_problem(edition)
        if closed:
            message, refusal, at = closed
            raise Conflict(message, action=action.value, refusal=refusal,
                           at=at.isoformat() if at else None)
    return decision


def window_problem(edition: EditionRow) -> tuple[str, str, datetime | None] | None:
    """Why the edition takes no answers now: (message, the kind of refusal, the moment it names
    in UTC), or None when its window is open."""
    t = now()
    if edition.status == "published":
        return "this edition is published; answers can no longer change", "published", None
    if edition.opens_at and t < edition.opens_at:
        return (f"the assessment window opens on {edition.opens_at:%d/%m/%Y %H:%M} UTC",
                "window_opens", edition.opens_at)
    if edition.closes_at and t > edition.closes_at:
        return (f"the assessment window closed on {edition.closes_at:%d/%m/%Y %H:%M} UTC",
                "window_closed", edition.closes_at)
    return None


def audit_province(actor: Actor, province: str | None) -> str | None:
    """The province whose audit lines ``actor`` may read (``None``: every province), or NotAllowed.

    The trail spans an assessment's whole life, so the ``view_audit`` rule of :mod:`dti.workflow`
    is asked for any state: a role it allows on every province reads everything; one it allows on
    its own province only is held to that province.
    """
    everywhere = _in_any_state(Action.VIEW_AUDIT, actor.role, own=False)
    if everywhere:
        return province
    if actor.province_code is None or not _in_any_state(Action.VIEW_AUDIT, actor.role, own=True):
        raise NotAllowed("the audit trail is for logged-in users")
    if province not in (None, actor.province_code):
        raise NotAllowed(everywhere.reason)
    return actor.province_code


def _in_any_state(action: Action, role: Role, own: bool) -> Decision:
    """The table's decision in the state most favourable to ``role``: allowed if any state is."""
    decisions = [decide(action, role, state, own) for state in State]
    return next((d for d in decisions if d), decisions[0])


def scope_assessments(actor: Actor, query: Select) -> Select:
    """Limit a query over assessments to what ``actor`` may see."""
    if actor.role in MINISTRY_ROLES:
        return query
    if actor.role is Role.PUBLIC:
        return query.where(Assessment.state == State.PUBLISHED.value)
    return query.where(Assessment.province_code == (actor.province_code or ""))


def require_role(actor: Actor, *roles: Role) -> None:
    """Edition-level actions (admin pages, the review queue) are by role alone."""
    if actor.role not in roles:
        raise NotAllowed(f"this needs the role {' or '.join(r.value for r in roles)}")


# Built once (composing it per call cost more than running it): every request starts here.
_FIND = (select(EditionRow, Assessment).join(Assessment, Assessment.edition_id == EditionRow.id)
         .where(EditionRow.code == bindparam("edition"),
                Assessment.province_code == bindparam("unit")))


def find(session: Session, edition_code: str, province_code: str) -> tuple[EditionRow, Assessment]:
    """The edition and the province's assessment in it, in one query (every change starts here);
    NotFound says which of the two does not exist."""
    found = session.execute(_FIND, {"edition": edition_code, "unit": province_code}).first()
    if found is not None:
        return found[0], found[1]
    if session.scalar(select(EditionRow.id).where(EditionRow.code == edition_code)) is None:
        raise NotFound(f"no edition {edition_code!r}")
    raise NotFound(f"no assessment of province {province_code!r} in {edition_code!r}")
