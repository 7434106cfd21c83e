"""Command start-up: the wall time of short `dti` commands, as a user at a terminal feels it.

Run:  .venv/bin/python benchmarks/cli.py [--repeats 7]

Each command runs as its own process (the installed console script), ``--repeats`` times after one
warm-up run that fills the operating system's file cache and Python's bytecode cache, as a user's
first run does (``PYTHONDONTWRITEBYTECODE``, set in some shells and containers, is removed for the
child processes; ``--as-is`` keeps the environment unchanged); prints the median and the fastest run.
Target: each under 0.3 s on a 2-core machine.  Not a test: the figures go into the issue note.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = (["--help"], ["editions"], ["province", "thai nguyen"], ["record", "show", "thai nguyen"])
TARGET = 0.3


def dti() -> str:
    script = Path(sys.executable).with_name("dti")
    return str(script) if script.exists() else "dti"


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([dti(), *argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--as-is", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE if set (every run compiles the sources)")
    args = parser.parse_args()
    env = dict(os.environ)
    if not args.as_is:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    print(f"wall time per command, median of {args.repeats} runs (target < {TARGET} s)")
    for argv in COMMANDS:
        timed(argv, env)
        runs = [timed(argv, env) for _ in range(args.repeats)]
        median = statistics.median(runs)
        verdict = "met" if median < TARGET else "MISSED"
        print(f"  dti {' '.join(argv):28s} median {median:5.2f} s   fastest {min(runs):5.2f} s   {verdict}")


if __name__ == "__main__":
    main()
