"""The ``dti`` command group and the options its commands share."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import NamedTuple

import click
from rich.console import Console

# A pipe or a file gets wide lines rather than Rich's 80-column default, so tables stay readable.
# Markup is off: names come from users' files and may hold "[...]" that Rich would interpret.
console = Console(highlight=False, markup=False, width=None if sys.stdout.isatty() else 200)


def format_option(*choices: str):
    """``--format`` with the formats a command really writes."""
    return click.option("--format", "-f", "format", default="table", show_default=True,
                        type=click.Choice(["table", *choices]), help="output format")


FORMAT = format_option("csv", "json", "xlsx")
LANG = click.option("--lang", default="vi", show_default=True, type=click.Choice(["vi", "en"]),
                    help="interface language")
OUT = click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
                   help="write to this file instead of the screen")
EDITION = click.option("--edition", "-e", default="", help="edition id (default: the latest)")


class Lazy(NamedTuple):
    modules: tuple[str, ...]   # what registers the command (and its subcommands)
    help: str                  # its line in `dti --help`


# Each command is imported only when it runs, so `dti --help` and the light commands start fast
# (the web app, SciPy's optimiser and the store load only for the commands that use them).
# tests/test_cli.py keeps this table equal to the commands and their help.
COMMANDS: dict[str, Lazy] = {
    "analyse": Lazy(("dti.cli.analyse",), "Uncertainty, sensitivity and statistical audit of a ranking."),
    "audit": Lazy(("dti.cli.store",), "The audit trail of the assessment store."),
    "backup": Lazy(("dti.cli.store",),
                   "Write one archive (.tar.gz) with a consistent copy of the database and the evidence files."),
    "compare": Lazy(("dti.cli.commands",),
                   "Rank and score changes of every province from one edition to another."),
    "compute": Lazy(("dti.cli.commands",),
                   "Compute scores and ranks for the total, every pillar and every main indicator."),
    "db": Lazy(("dti.cli.store",),
                   "Create or change the schema of the assessment store (Alembic migrations)."),
    "demo": Lazy(("dti.cli.store",),
                   "Create the illustrative edition with simulated answers for 63 provinces and one demo user "
                   "per role (once), then print the demo log-ins."),
    "editions": Lazy(("dti.cli.commands",), "List the built-in DTI editions."),
    "export-site": Lazy(("dti.cli.web",),
                   "Write the public portal as static files that work from any web server."),
    "framework": Lazy(("dti.cli.commands",), "Show or check an indicator framework."),
    "plan": Lazy(("dti.cli.plan", "dti.cli.plan_answers"),
                   "Province planner: what-if, target rank, defence, strengths and weaknesses."),
    "province": Lazy(("dti.cli.commands",),
                   "A one-screen profile: total, pillars, main indicators, ranks, change vs previous edition."),
    "record": Lazy(("dti.cli.record",),
                   "The published record: every published figure with its sources, and its audit."),
    "restore": Lazy(("dti.cli.store",),
                   "Load a `dti backup` archive into an empty database (checksums and schema revision checked "
                   "before anything changes)."),
    "serve": Lazy(("dti.cli.web",),
                   "Serve the public results portal and the assessment app (/app/) with uvicorn."),
    "template": Lazy(("dti.cli.commands",),
                   "Write an empty data template (CSV or XLSX) for an edition, one row per province."),
    "unit": Lazy(("dti.cli.levels",),
                   "Find a ministry or government body (or the nation) by any spelling; say what it "
                   "became in 2025."),
    "user": Lazy(("dti.cli.store",), "Accounts of the assessment app."),
    "validate": Lazy(("dti.cli.commands",), "Check an indicator-value file; report every problem at once."),
}


class LazyGroup(click.Group):
    """A command group whose commands are imported when they are used (see :data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        for module in COMMANDS[name].modules if name in COMMANDS else ():
            importlib.import_module(module)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name].help) for name in self.list_commands(ctx) if name in COMMANDS]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def load_all() -> click.Group:
    """Import every command (documentation checks walk the whole tree)."""
    for lazy in COMMANDS.values():
        for module in lazy.modules:
            importlib.import_module(module)
    return app


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dti")
def app() -> None:
    """Vietnam's Digital Transformation Index (DTI): editions, data, computation and ranking --
    and any composite index of the same family."""


@app.group("framework")
def framework_app() -> None:
    """Show or check an indicator framework."""


