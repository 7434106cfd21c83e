"""Where a computation's data, framework and recipe come from: an edition, files, or both.

``compute`` and every ``analyse`` command take the same options, so they are declared once here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click
import yaml

from dti.editions import Edition, edition_ids, load_edition
from dti.engine.recipe import Recipe
from dti.errors import InputError, Problem, RecipeError
from dti.framework.load import load_framework
from dti.framework.model import Framework
from dti.units import UnitSet, load_crosswalk, load_unit_set, unit_set_ids

if TYPE_CHECKING:
    from dti.engine.data import Dataset
    from dti.io.periods import Period


@dataclass(frozen=True)
class Inputs:
    """What a computation reads.  ``periods`` is every period of the data, in increasing Time
    (one, with time None, unless the data is COINr panel data); ``dataset`` is the last of them."""

    dataset: Dataset
    framework: Framework
    recipe: Recipe
    unit_set: UnitSet
    edition: Edition | None
    published_data: bool = False   # the edition's own published values: compare with them
    periods: tuple[Period, ...] = ()


def input_options(command: Callable) -> Callable:
    """The options that say where the data, framework and recipe come from."""
    options = [
        click.option("--edition", "-e", default="", help="edition id (default: the latest)"),
        click.option("--data", type=click.Path(path_type=Path), default=None,
                     help="CSV/XLSX indicator values (default: the edition's published values)"),
        click.option("--demo", is_flag=True, help="the synthetic, illustrative 63-province data "
                     "set that follows the published 2022 ranks (edition dti-province-2022)"),
        click.option("--basis", default="", help="unit set of the data, e.g. provinces-63"),
        click.option("--sheet", default=None, help="XLSX sheet of --data"),
        click.option("--framework", type=click.Path(path_type=Path), default=None,
                     help="your own framework file (YAML, CSV or XLSX)"),
        click.option("--recipe", type=click.Path(path_type=Path), default=None,
                     help="recipe YAML/JSON file"),
        click.option("--units", default="", help="unit set id or a units CSV (with --framework)"),
        click.option("--to", "to_basis", default="", help="rebase the data onto this unit set "
                     "first (a merged province = plain mean of its former provinces)"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def load_inputs(edition: str, data: Path | None, demo: bool, basis: str, sheet: str | None,
                framework: Path | None, recipe: Path | None, units: str, to_basis: str, *,
                panel: bool = False) -> Inputs:
    """Resolve the input options into a dataset, framework, recipe and unit set.

    ``panel``: the caller computes every period of panel data (``dti compute``); any other
    command refuses a data file with several Time values.  With ``--framework`` and neither
    ``--units`` nor ``--basis``, the units are the ones the data names.  Every problem of the
    files, and of the recipe against them, is raised before anything is computed, so
    ``dti framework check --data`` (which calls this too) refuses what compute refuses.
    """
    ed = None
    if framework is None:
        ed = load_edition(edition or ("dti-province-2022" if demo else edition_ids()[-1]))
        fw, base, unit_set = ed.framework, ed.recipe, ed.units(basis)
    else:
        if data is None:
            raise InputError([Problem("cli.missing_data", "--framework needs --data with the "
                                      "indicator values")])
        fw, base = load_framework(framework), Recipe()
        unit_set = unit_set_for(units or basis) if units or basis else _data_units(data, sheet)
    the_recipe = load_recipe(recipe, base) if recipe else base
    periods = _periods(ed, data, demo, unit_set, sheet, fw, the_recipe, panel)
    published = data is None and not demo
    if to_basis and to_basis != unit_set.id:
        from dti.engine.compare import rebase
        from dti.io.periods import Period

        walk = load_crosswalk(unit_set.id, to_basis).new_to_old
        periods = tuple(Period(p.time, rebase(p.dataset, walk, to_basis)) for p in periods)
        unit_set = load_unit_set(to_basis)
    problems = input_problems(fw, the_recipe, periods, recipe.name if recipe else None)
    if problems:
        raise InputError(problems)
    return Inputs(periods[-1].dataset, fw, the_recipe, unit_set, ed, published and not to_basis,
                  periods)


def _data_units(data: Path, sheet: str | None) -> UnitSet:
    from dti.io.data_units import units_in_data

    return units_in_data(data, sheet)


def _periods(ed: Edition | None, data: Path | None, demo: bool, unit_set: UnitSet,
             sheet: str | None, fw: Framework, recipe: Recipe, panel: bool) -> tuple[Period, ...]:
    """The data's periods: the file's (each Time), the demo set, or the edition's published values."""
    from dti.io.periods import Period, read_periods

    if data is not None:
        allow_missing = recipe.impute.method != "none" or recipe.screen.min_availability is not None
        periods = read_periods(data, fw, unit_set, sheet=sheet, allow_missing=allow_missing)
        if len(periods) > 1 and not panel:
            raise InputError([Problem(
                "cli.several_periods", f"the data holds {len(periods)} periods (Time "
                f"{', '.join(p.time or '' for p in periods)}); this command takes one: keep the "
                "rows of one Time, or use dti compute, which computes each", file=data.name)])
        return periods
    if demo:
        from dti.editions.demo import demo_dataset

        return (Period(None, demo_dataset(ed.id)),)
    if unit_set.id not in ed.bases:
        raise InputError([Problem("cli.no_published_basis", f"{ed.id} has no published "
                                  f"values on {unit_set.id} (it has {', '.join(ed.bases)}); "
                                  "give --data, or --to to rebase")])
    return (Period(None, ed.dataset(unit_set.id)),)


def input_problems(fw: Framework, recipe: Recipe, periods: tuple[Period, ...],
                   recipe_file: str | None = None) -> list[Problem]:
    """What the recipe asks of the framework and the data that they do not have: the nodes it
    names, and the grouping columns it imputes or ranks by.  Checked once here rather than
    midway through a build, so each problem names the recipe option to correct."""
    problems = recipe.problems_for(fw, file=recipe_file)
    groups = set(periods[-1].dataset.groups) if periods else set()
    wanted = [("impute.group", recipe.impute.group)] if recipe.impute.method.startswith(
        "group_") and recipe.impute.group else []
    wanted += [("rank.groups", column) for column in recipe.rank.groups]
    for where, column in wanted:
        if column not in groups:
            problems.append(Problem(
                "recipe.unknown_group", f"{where} names the grouping column {column!r}, which "
                f"the data does not have (it has {', '.join(sorted(groups)) or 'none'}); name one "
                "of those, or add the column to the data", file=recipe_file, column=where,
                value=column))
    return problems


def unit_set_for(spec: str) -> UnitSet:
    """A built-in unit set by id, or a user's units CSV (ministries, districts, communes)."""
    if spec in unit_set_ids():
        return load_unit_set(spec)
    return UnitSet.from_csv(Path(spec), id=Path(spec).stem)


def load_recipe(path: Path, base: Recipe) -> Recipe:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RecipeError([Problem("recipe.unreadable", f"cannot read the recipe: {exc}",
                                   file=path.name)]) from None
    if raw is not None and not isinstance(raw, dict):
        raise RecipeError([Problem("recipe.not_mapping", "the recipe must be a YAML mapping of "
                                   "sections (normalise, aggregate, …)", file=path.name)])
    return Recipe.from_dict(raw, file=path.name, base=base)
