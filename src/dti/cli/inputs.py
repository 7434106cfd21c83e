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


@dataclass(frozen=True)
class Inputs:
    dataset: Dataset
    framework: Framework
    recipe: Recipe
    unit_set: UnitSet
    edition: Edition | None
    published_data: bool = False   # the edition's own published values: compare with them


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
                framework: Path | None, recipe: Path | None, units: str, to_basis: str) -> Inputs:
    """Resolve the input options into a dataset, framework, recipe and unit set."""
    from dti.io.values import read_values

    ed = None
    if framework is None:
        ed = load_edition(edition or ("dti-province-2022" if demo else edition_ids()[-1]))
        fw, base, unit_set = ed.framework, ed.recipe, ed.units(basis)
    else:
        fw, base, unit_set = load_framework(framework), Recipe(), unit_set_for(units or basis
                                                                               or "provinces-63")
        if data is None:
            raise InputError([Problem("cli.missing_data", "--framework needs --data with the "
                                      "indicator values")])
    the_recipe = load_recipe(recipe, base) if recipe else base
    allow_missing = the_recipe.impute.method != "none" or the_recipe.screen.min_availability is not None
    if data is not None:
        dataset = read_values(data, fw, unit_set, sheet=sheet, allow_missing=allow_missing)
    elif demo:
        from dti.editions.demo import demo_dataset

        dataset = demo_dataset(ed.id)
    else:
        if unit_set.id not in ed.bases:
            raise InputError([Problem("cli.no_published_basis", f"{ed.id} has no published "
                                      f"values on {unit_set.id} (it has {', '.join(ed.bases)}); "
                                      "give --data, or --to to rebase")])
        dataset = ed.dataset(unit_set.id)
    published = data is None and not demo
    if to_basis and to_basis != unit_set.id:
        from dti.engine.compare import rebase

        dataset = rebase(dataset, load_crosswalk(unit_set.id, to_basis).new_to_old, to_basis)
        unit_set = load_unit_set(to_basis)
    return Inputs(dataset, fw, the_recipe, unit_set, ed, published and not to_basis)


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
