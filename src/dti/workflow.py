"""The assessment workflow as rules: states, actions and who may take them (pure).

One assessment is one province's self-assessment for one edition.  Its life::

    draft ──submit──▶ submitted ──start_review──▶ in_review ──finish_appraisal──▶ appraised
      ▲                                             │   ▲                            │
      └───────── returned ◀──────return─────────────┘   └──────reopen (lock          approve
                    │                                          exception)            ▼
                    └──submit──▶ submitted                          ◀──────────── approved ──publish──▶ published

``RULES`` is the one table of who may do what, in which state, on whose province; the store asks
:func:`decide` before every read and write, so the permission matrix lives here and nowhere else.
Separation of duties (nobody both submits and accepts the same assessment) depends on *who* did
what before, so it is checked by :func:`separation_problem` on top of the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"                  # ministry reviewer (thẩm định viên)
    EDITOR = "province_editor"             # provincial officer who fills the answers
    APPROVER = "province_approver"         # provincial leader who approves and submits
    PUBLIC = "public"                      # not logged in


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    APPRAISED = "appraised"
    APPROVED = "approved"
    PUBLISHED = "published"


class Action(StrEnum):
    VIEW = "view"                          # read the assessment, its answers, evidence, comments
    EDIT = "edit"                          # save a self-assessed answer, upload evidence, import Excel
    COMMENT = "comment"
    SUBMIT = "submit"
    START_REVIEW = "start_review"
    APPRAISE = "appraise"                  # set an appraised value or return one answer
    RETURN = "return"                      # send the assessment back to the province
    FINISH_APPRAISAL = "finish_appraisal"
    APPROVE = "approve"
    REOPEN = "reopen"                      # lock exception on an approved assessment
    PUBLISH = "publish"
    VIEW_AUDIT = "view_audit"


PROVINCE_ROLES = frozenset({Role.EDITOR, Role.APPROVER})
MINISTRY_ROLES = frozenset({Role.ADMIN, Role.REVIEWER})
ALL_STATES = frozenset(State)
OPEN_STATES = frozenset({State.DRAFT, State.RETURNED})          # the province may change answers
UNPUBLISHED = ALL_STATES - {State.PUBLISHED}
REVIEWING = frozenset({State.IN_REVIEW})


@dataclass(frozen=True)
class Rule:
    """One line of the table: ``roles`` may take ``action`` in ``states``; ``own_only`` roles only
    on their own province; ``to`` is the state it leads to (``None``: the state does not change)."""

    action: Action
    roles: frozenset[Role]
    states: frozenset[State]
    to: State | None = None
    own_only: frozenset[Role] = PROVINCE_ROLES
    needs_reason: bool = False


def _rule(action, roles, states, to=None, needs_reason=False) -> Rule:
    return Rule(Action(action), frozenset(roles), frozenset(states), to, needs_reason=needs_reason)


RULES: tuple[Rule, ...] = (
    _rule("view", MINISTRY_ROLES | PROVINCE_ROLES, ALL_STATES),
    _rule("view", {Role.PUBLIC}, {State.PUBLISHED}),
    _rule("edit", {Role.EDITOR}, OPEN_STATES),
    _rule("comment", {Role.EDITOR, Role.APPROVER, Role.REVIEWER}, UNPUBLISHED),
    _rule("submit", {Role.APPROVER}, OPEN_STATES, State.SUBMITTED),
    _rule("start_review", {Role.REVIEWER}, {State.SUBMITTED}, State.IN_REVIEW),
    _rule("appraise", {Role.REVIEWER}, REVIEWING),
    _rule("return", {Role.REVIEWER}, REVIEWING, State.RETURNED, needs_reason=True),
    _rule("finish_appraisal", {Role.REVIEWER}, REVIEWING, State.APPRAISED),
    _rule("approve", {Role.REVIEWER}, {State.APPRAISED}, State.APPROVED),
    _rule("reopen", {Role.ADMIN}, {State.APPROVED}, State.IN_REVIEW, needs_reason=True),
    _rule("publish", {Role.ADMIN}, {State.APPROVED}, State.PUBLISHED),
    _rule("view_audit", MINISTRY_ROLES | PROVINCE_ROLES, ALL_STATES),
)

# Actions that change an assessment's answers or state: these also need the edition's window open
# (province actions) and are written to the audit.
PROVINCE_WINDOW_ACTIONS = frozenset({Action.EDIT, Action.SUBMIT})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""                      # why not, in words a user can act on (English; the web translates)
    to: State | None = None
    needs_reason: bool = False
    refusal: str = ""                     # which kind of refusal (role, other_unit, state): the web's key
    allowed_states: tuple[str, ...] = ()  # a state refusal: the states where it would be allowed

    def __bool__(self) -> bool:
        return self.allowed


def decide(action: Action | str, role: Role | str, state: State | str, own: bool) -> Decision:
    """May ``role`` take ``action`` on an assessment in ``state``; ``own``: it is the user's province."""
    action, role, state = Action(action), Role(role), State(state)
    rules = [r for r in RULES if r.action is action and role in r.roles]
    if not rules:
        return Decision(False, f"the role {role.value} may not {action.value.replace('_', ' ')}",
                        refusal="role")
    scoped = [r for r in rules if own or role not in r.own_only]
    if not scoped:
        return Decision(False, "this assessment belongs to another province or body",
                        refusal="other_unit")
    for r in scoped:
        if state in r.states:
            return Decision(True, to=r.to, needs_reason=r.needs_reason)
    allowed = tuple(sorted(s.value for r in scoped for s in r.states))
    return Decision(False, f"not possible while the assessment is {state.value} (only when "
                    f"{', '.join(allowed)})", refusal="state", allowed_states=allowed)


def separation_problem(action: Action | str, actor_id: int, submitted_by: int | None) -> str | None:
    """Separation of duties: who submitted may not review or accept the same assessment."""
    action = Action(action)
    if action in {Action.START_REVIEW, Action.APPRAISE, Action.RETURN, Action.FINISH_APPRAISAL,
                  Action.APPROVE} and submitted_by is not None and actor_id == submitted_by:
        return "the person who submitted this assessment may not also review or accept it"
    return None
