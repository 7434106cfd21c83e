"""Entry point: library errors become one line per problem on standard error and exit code 1,
with no traceback; usage errors exit 2 as Click does."""

from __future__ import annotations

import sys

import click

from dti.cli.app import app
from dti.errors import DtiError, InputError, Problem


def main(argv: list[str] | None = None) -> int:
    """Run the app; library errors become one line each and exit code 1.  Returns the code."""
    try:
        app.main(args=argv, standalone_mode=False, prog_name="dti")
    except InputError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except DtiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except MemoryError:
        problem = Problem("compute.memory", "not enough memory for this computation; use fewer "
                          "runs or units")
        print(f"error: {problem}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file that cannot be written or read: say which, no traceback
        problem = Problem("file.os_error", f"{exc.strerror or exc}; check the path and its "
                          "permissions", file=str(exc.filename) if exc.filename else None)
        print(f"error: {problem}", file=sys.stderr)
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 1
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
