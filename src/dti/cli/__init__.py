"""The ``dti`` command (``main`` returns the exit code; ``run`` is the console-script entry)."""

from dti.cli.main import main, run

__all__ = ["main", "run"]
