"""The one error tree of the package.

Every failure a user can cause is one of these; each edge (the CLI, later the web app) translates
them once: the CLI prints one line per problem and exits 1.

    DtiError                      anything the package raises on purpose
    ├── InputError                a file or table that cannot be used; carries ``problems``
    │   ├── FrameworkError        a framework file (YAML or table) with problems
    │   ├── RecipeError           a recipe file or recipe value that is not valid
    │   ├── DataError             an indicator-value file with problems
    │   └── CatalogueError        a sub-indicator catalogue (spreadsheet or JSON) with problems
    ├── UnknownUnitError          a unit name that resolves to nothing; carries ``suggestions``
    ├── UnknownEditionError       an edition id that is not shipped; carries ``known``
    ├── ComputeError              a build that cannot run on valid inputs (e.g. nothing to rank)
    └── WorkflowError             an assessment request that cannot be done; carries ``status``
        ├── NotAllowed            403: the role, province or state forbids it
        ├── NotFound              404
        ├── Conflict              409: state changed, window closed, duties separated
        │   └── StaleEdit         409: saved from a stale version; ``current`` is what is stored
        └── LoginRefused          401: wrong credentials or a locked account

Validation never stops at the first problem: it collects :class:`Problem` values, each with a
stable ``code``, a sentence a provincial officer can act on and where it is (file, row, column,
unit, indicator, value).  ``InputError`` holds them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One located problem in an input."""

    code: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    unit: str | None = None
    indicator: str | None = None
    value: Any = None

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        if self.unit:
            parts.append(f"province {self.unit!r}")
        if self.indicator:
            parts.append(f"indicator {self.indicator!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message} [{self.code}]" if where else f"{self.message} [{self.code}]"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class DtiError(Exception):
    """Base of every error the package raises on purpose."""


@dataclass
class InputError(DtiError):
    """An input with one or more problems; nothing from it has been used."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    def summary(self) -> str:
        n = len(self.problems)
        head = str(self.problems[0]) if self.problems else "invalid input"
        return head if n <= 1 else f"{head} (and {n - 1} more problem{'s' if n > 2 else ''})"

    def __str__(self) -> str:
        return self.summary()


class FrameworkError(InputError):
    """A framework file or table with problems."""


class RecipeError(InputError):
    """A recipe with problems."""


class DataError(InputError):
    """An indicator-value file with problems."""


class CatalogueError(InputError):
    """A sub-indicator catalogue (scoring rules) with problems."""


class UnknownUnitError(DtiError):
    """A unit (province) name that matches nothing in the unit set."""

    def __init__(self, name: str, suggestions: list[str], unit_set: str = "") -> None:
        self.name = name
        self.suggestions = suggestions
        self.unit_set = unit_set
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        where = f" in {unit_set}" if unit_set else ""
        kind = "province" if not unit_set or unit_set.startswith("provinces") else "unit"
        super().__init__(f"unknown {kind} {name!r}{where}{hint}")


class UnknownEditionError(DtiError):
    """An edition id that is not shipped."""

    def __init__(self, edition: str, known: list[str]) -> None:
        self.edition = edition
        self.known = known
        super().__init__(f"unknown edition {edition!r}; known editions: {', '.join(known)}")


class ComputeError(DtiError):
    """A build that cannot run on the given (valid) inputs."""


class WorkflowError(DtiError):
    """An assessment-workflow request that cannot be done; ``status`` is its HTTP status.

    Subclasses: :class:`NotAllowed` (403: role, province or state forbids it), :class:`NotFound`
    (404), :class:`StaleEdit` (409: someone saved first; ``current`` holds what is stored now),
    :class:`Conflict` (409: the state changed, a window is closed, a duty is separated),
    :class:`LoginRefused` (401: wrong password, locked account).
    """

    status = 400

    def __init__(self, message: str, **context) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class NotAllowed(WorkflowError):
    status = 403


class NotFound(WorkflowError):
    status = 404


class Conflict(WorkflowError):
    status = 409


class StaleEdit(Conflict):
    """A save started from a version that is no longer the stored one; nothing was written."""


class LoginRefused(WorkflowError):
    status = 401
