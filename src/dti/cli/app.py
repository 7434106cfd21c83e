"""The ``dti`` command group and the options its commands share."""

from __future__ import annotations

import sys
from pathlib import Path

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dti")
def app() -> None:
    """Vietnam's Digital Transformation Index (DTI): editions, data, computation and ranking --
    and any composite index of the same family."""


@app.group("framework")
def framework_app() -> None:
    """Show or check an indicator framework."""


