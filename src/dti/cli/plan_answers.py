"""``dti plan answers``: what-if on a province's sub-indicator answers, from its workbook.

The province's current answers come from its assessment workbook (the XLSX the app's "Tải mẫu
Excel" gives, filled or not); ``--set CODE.FIELD=VALUE`` changes some of them; the scoring
catalogue turns answers into points and main-indicator values, and the other provinces keep the
values of ``--edition`` / ``--data`` / ``--demo``.  Nothing is saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dti.analysis.planner.answers import what_if_answers
from dti.cli.analyse import _emit
from dti.cli.app import LANG, OUT, console
from dti.cli.inputs import input_options, load_inputs
from dti.cli.plan import FORMAT, _meta, _n, _named, _print_whatif, _table, _unit, plan_group
from dti.errors import InputError, Problem
from dti.io.assessment_xlsx import edition_of, read_import
from dti.messages import bilingual
from dti.scoring import ScoringCatalogue, illustrative_catalogue, load_catalogue, parse_answer

WORDS = bilingual("cli.plan_answers")


def _changes(assignments: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """``NTS.04.a=3`` → {"NTS.04": {"a": "3"}}; every malformed one reported."""
    out: dict[str, dict[str, str]] = {}
    problems = []
    for text in assignments:
        target, eq, value = text.partition("=")
        code, dot, field = target.strip().rpartition(".")
        if not eq or not dot or not code or not field:
            problems.append(Problem("plan.bad_answer_change", f"{text!r} is not CODE.FIELD=VALUE "
                                    "(e.g. NTS.04.a=3 or NTS.05.value=có)", column="--set",
                                    value=text))
            continue
        out.setdefault(code, {})[field] = value.strip()
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError([Problem("plan.no_changes", "give at least one --set CODE.FIELD=VALUE",
                                  column="--set")])
    return out


def current_answers(workbook: Path, catalogue: ScoringCatalogue, province: str,
                    unit_set) -> tuple[dict[str, dict[str, Any]], dict[str, float | None]]:
    """The answers the province's workbook holds (as typed) and their points; blank rows have
    neither."""
    data = workbook.read_bytes()
    edition = edition_of(data, workbook.name)   # "" when unreadable: read_import says why
    rows, problems = read_import(data, workbook.name, catalogue, edition, province, unit_set)
    points: dict[str, float | None] = {}
    for row in rows:
        item = catalogue.item(row.code)
        answer, found = parse_answer(item, row.raw)
        problems += found
        points[row.code] = item.points(answer) if item.scored and not found else None
    if problems:
        raise InputError(problems)
    return {row.code: dict(row.raw) for row in rows}, points


@plan_group.command("answers")
@click.argument("province")
@click.option("--workbook", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              required=True, help="the province's assessment workbook (.xlsx from the app)")
@click.option("--set", "assignments", multiple=True, metavar="CODE.FIELD=VALUE",
              help="a new answer for one field of a sub-indicator (e.g. NTS.04.a=3); repeat")
@click.option("--catalogue", "catalogue_file", type=click.Path(path_type=Path), default=None,
              help="the sub-indicator catalogue in the ministry's layout (default: the "
                   "illustrative one)")
@input_options
@FORMAT
@OUT
@LANG
def answers_command(province: str, workbook: Path, assignments: tuple[str, ...],
                    catalogue_file: Path | None, format: str, out: Path | None, lang: str,
                    **options: Any) -> None:
    """What-if on sub-indicator answers: new points, total and ranks (others fixed)."""
    changes = _changes(assignments)
    catalogue = load_catalogue(catalogue_file) if catalogue_file else illustrative_catalogue()
    inputs = load_inputs(**options)
    unit = _unit(inputs, province)
    raw, points = current_answers(workbook, catalogue, unit, inputs.unit_set)
    # a change names some fields; the answer's other fields keep what the workbook says
    merged = {code: {**raw.get(code, {}), **fields} for code, fields in changes.items()}
    result = what_if_answers(inputs.dataset, inputs.framework, inputs.recipe, unit, catalogue,
                             points, merged)
    payload = result.as_dict()
    tables = {"answers": payload["answers"], "affected": _named(inputs, payload["affected"], lang),
              "standing": payload["standing"]}
    meta = {**_meta(inputs, unit, lang), "workbook": str(workbook), "catalogue": catalogue.id}

    def show() -> None:
        w = WORDS[lang]
        table = _table(w["answers"], [w["code"], w["points_before"], w["points_after"]])
        for c in result.changes:
            table.add_row(c.code, _n(c.before_points, lang, 2), _n(c.after_points, lang, 2))
        console.print(table)
        _print_whatif(inputs, result.result, tables, None, lang)

    _emit(tables if format != "csv" else {"affected": tables["affected"]}, meta, format, out, show)

