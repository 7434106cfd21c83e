"""Commands over editions, frameworks, data and results: each parses, calls one library
function and renders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from dti.cli.app import EDITION, FORMAT, LANG, OUT, app, console, format_option, framework_app
from dti.cli.inputs import input_options, load_inputs, load_recipe, unit_set_for
from dti.editions import edition_ids, edition_summary, load_edition
from dti.engine.recipe import Recipe
from dti.errors import InputError, Problem
from dti.formatting import format_number
from dti.framework.load import load_framework
from dti.io.export import to_csv, to_json, write_output, write_xlsx
from dti.messages import bilingual

if TYPE_CHECKING:  # the engine and reports load in the commands that compute: listing stays quick
    from dti.report.results import ResultRow, ResultTable

LEVEL_ORDER = ("province", "ministry", "national")


@app.command("editions")
@format_option("json", "csv")
def editions_command(format: str) -> None:
    """List the built-in DTI editions."""
    from dti.editions.levels import level_edition_ids, level_summary, load_level_edition

    rows = sorted([*(edition_summary(load_edition(e)) for e in edition_ids()),
                   *(level_summary(load_level_edition(e)) for e in level_edition_ids())],
                  key=lambda r: (r["year"], LEVEL_ORDER.index(r["level"]), r["id"]))
    if format == "json":
        return write_output(to_json(rows), None)
    if format == "csv":
        return write_output(to_csv([{**r, "bases": ";".join(r["bases"])} for r in rows]), None)
    table = Table(title="DTI editions")
    for column in ("id", "level", "year", "framework", "unit sets", "main indicators",
                   "ranks published"):
        table.add_column(column, no_wrap=True)
    for r in rows:
        main = "—" if r["main_indicators"] is None else str(r["main_indicators"])
        table.add_row(r["id"], r["level"], str(r["year"]), r["framework"] or "—",
                      ", ".join(r["bases"]), main, str(r["published_ranks"]))
    console.print(table)


@framework_app.command("show")
@click.argument("source")
@LANG
def framework_show(source: str, lang: str) -> None:
    """Show a framework (an edition id or a framework file) as a tree with points or weights."""
    fw = load_edition(source).framework if source in edition_ids() else load_framework(Path(source))
    root = fw.root
    tree = Tree(Text(fw.name(lang), style="bold"))
    _tree_add(tree, fw, root.code, lang)
    others = [n for n in fw.nodes if n.is_aggregate and not n.parents and n.code != root.code]
    for node in others:
        _tree_add(tree, fw, node.code, lang)
    console.print(tree)
    for key in ("legal_basis", "formula", "unknown"):
        if fw.meta.get(key):
            console.print(f"{key.replace('_', ' ')}: {fw.meta[key]}")


def _tree_add(parent: Tree, fw, code: str, lang: str) -> None:
    node = fw[code]
    label = f"{node.code}  {node.name(lang)}"
    if node.max_points is not None:
        label += f"  — {format_number(node.max_points, lang, 0)} " + ("điểm" if lang == "vi" else "points")
    elif node.weight is not None:
        label += f"  — weight {format_number(node.weight, lang, 4)}"
    if not node.scored:
        label += " (không tính điểm)" if lang == "vi" else " (not scored)"
    if node.compute == "data":
        label += " [nhập từ dữ liệu]" if lang == "vi" else " [read from data]"
    branch = parent.add(label)
    for child in fw.children[code]:
        _tree_add(branch, fw, child, lang)


@framework_app.command("check")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option("--framework", "framework_option", type=click.Path(path_type=Path), default=None,
              help="the framework file (instead of FILE)")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="a data file to check as dti compute reads it")
@click.option("--sheet", default=None, help="XLSX sheet of --data")
@click.option("--recipe", type=click.Path(path_type=Path), default=None,
              help="the recipe compute will use (it decides whether gaps may be imputed)")
@click.option("--units", default="", help="unit set id or a units CSV (default: the units "
              "the data names)")
def framework_check(file: Path | None, framework_option: Path | None, data: Path | None,
                    sheet: str | None, recipe: Path | None, units: str) -> None:
    """Check a framework file (YAML, CSV or XLSX, or COINr's iMeta) and report every problem at
    once; with --data, read the data exactly as dti compute does and refuse what it refuses."""
    file = file or framework_option
    if file is None:
        raise click.UsageError("give the framework file: dti framework check FILE (or --framework FILE)")
    if data is None:
        fw = load_framework(file)
        if recipe is not None:   # what the recipe asks of the framework alone (nodes, goalposts)
            problems = load_recipe(recipe, Recipe()).problems_for(fw, file=recipe.name)
            if problems:
                raise InputError(problems)
        return console.print(f"{file.name}: OK — {len(fw.indicators)} indicators, "
                             f"{len(fw.aggregates)} aggregates, {len(fw.levels)} levels, root "
                             f"{fw.root.code}")
    inputs = load_inputs(edition="", data=data, demo=False, basis="", sheet=sheet,
                         framework=file, recipe=recipe, units=units, to_basis="", panel=True)
    fw = inputs.framework
    times = [p.time for p in inputs.periods if p.time is not None]
    units_named = {u for p in inputs.periods for u in p.dataset.units}
    console.print(f"{file.name}: OK — {len(fw.indicators)} indicators, {len(fw.aggregates)} "
                  f"aggregates, {len(fw.levels)} levels, root {fw.root.code}; {data.name}: "
                  f"{len(units_named)} units" + (f", Time {', '.join(times)}" if times else ""))


@app.command("validate")
@click.argument("data", type=click.Path(path_type=Path))
@EDITION
@click.option("--basis", default="", help="unit set of the data, e.g. provinces-63")
@click.option("--sheet", default=None, help="XLSX sheet")
@click.option("--framework", type=click.Path(path_type=Path), default=None,
              help="check against your own framework file instead of an edition")
@click.option("--units", default="", help="unit set id or a units CSV (with --framework)")
def validate_command(data: Path, edition: str, basis: str, sheet: str | None,
                     framework: Path | None, units: str) -> None:
    """Check an indicator-value file; report every problem at once."""
    from dti.io.data_units import units_in_data
    from dti.io.periods import read_periods

    if framework is not None:
        fw, label = load_framework(framework), framework.name
        unit_set = unit_set_for(units or basis) if units or basis else units_in_data(data, sheet)
    else:
        ed = load_edition(edition or edition_ids()[-1])
        fw, unit_set, label = ed.framework, ed.units(basis), ed.id
    periods = read_periods(data, fw, unit_set, sheet=sheet)
    times = [p.time for p in periods if p.time is not None]
    console.print(f"{data.name}: OK — {len(periods[-1].dataset.units)} units, "
                  f"{len(periods[-1].dataset.columns)} columns"
                  + (f", Time {', '.join(times)}" if times else "") + f", valid for {label}")


@app.command("compute")
@input_options
@FORMAT
@OUT
@LANG
def compute_command(format: str, out: Path | None, lang: str, **options: Any) -> None:
    """Compute scores and ranks for the total, every pillar and every main indicator."""
    from dti.engine.build import build
    from dti.report.results import result_table

    inputs = load_inputs(**options, panel=True)
    results = [(period.time, result_table(build(period.dataset, inputs.framework, inputs.recipe),
                                          inputs.unit_set, inputs.edition, lang,
                                          with_published=inputs.published_data))
               for period in inputs.periods]
    if len(results) == 1:
        return _emit_results(results[0][1], format, out, lang)
    _emit_series(results, format, out, lang)


def _emit_results(result: ResultTable, format: str, out: Path | None, lang: str) -> None:
    if format == "json":
        return write_output(to_json(result.as_dict()), out)
    if format == "csv":
        return write_output(to_csv(result.flat_rows()), out)
    if format == "xlsx":
        return write_xlsx(result.flat_rows(), _xlsx_out(out))
    _print_result_table(result, lang)


def _emit_series(results: list[tuple[str | None, ResultTable]], format: str, out: Path | None,
                 lang: str) -> None:
    """Panel data: one result per Time, in order, each carrying its Time."""
    if format == "json":
        return write_output(to_json({"periods": [{"time": time, **result.as_dict()}
                                                 for time, result in results]}), out)
    flat = [{"time": time, **row} for time, result in results for row in result.flat_rows()]
    if format == "csv":
        return write_output(to_csv(flat), out)
    if format == "xlsx":
        return write_xlsx(flat, _xlsx_out(out))
    for time, result in results:
        console.print(HEADINGS[lang]["time"].format(time=time), style="bold")
        _print_result_table(result, lang)


def _xlsx_out(out: Path | None) -> Path:
    if out is None:
        raise InputError([Problem("cli.xlsx_needs_out", "--format xlsx needs --out FILE.xlsx")])
    return out


HEADINGS = bilingual("cli.headings")


def _print_result_table(result: ResultTable, lang: str) -> None:
    words = HEADINGS[lang]
    root = result.nodes[0].code
    shown = [n for n in result.nodes if n.role in ("total", "pillar", "main") or n.code == root]
    if not any(n.role for n in result.nodes):
        # A custom framework names no pillars: its root and the aggregates right under it.
        shown = [n for n in result.nodes if n.code == root or (n.is_aggregate and root in n.parents)]
    if all(r.scores[root] is None for r in result.rows):
        shown = []   # nothing computed (values not published): the published ranking alone
    table = Table(title=f"{result.title} — {result.basis}")
    table.add_column("#", justify="right")
    # A shipped edition ranks provinces; a custom framework ranks whatever units its data names.
    table.add_column(words["unit"] if result.meta.get("edition") else words["unit_any"])
    for n in shown:
        table.add_column(n.short or n.code, justify="right")
    has_published = any(r.published is not None for r in result.rows)
    if has_published:
        table.add_column(words["published"], justify="right")
        table.add_column(words["source"])
    for r in result.rows:
        published_rank = r.published_rank(root)
        if r.scores[root] is None and published_rank is None:
            continue   # neither computed nor published: nothing to show
        cells = [str(r.ranks[root] or ""), r.name]
        cells += [_score_cell(r, n.code, lang, result.meta.get("precision")) for n in shown]
        if has_published:
            p = r.published_score(root)
            cells.append(f"{format_number(p, lang, 4) if p is not None else '—'} ({published_rank or '—'})")
            cells.append(_short_source(r.published.source if r.published else "", lang))
        table.add_row(*cells)
    console.print(table)
    for note in result.notes:
        console.print(note)
    for gap in result.gaps:
        console.print(words["gap"].format(name=gap.name, node=gap.node,
                                          computed=format_number(gap.computed, lang, 4),
                                          published=format_number(gap.published, lang, 4)))


def _short_source(source: str, lang: str) -> str:
    """The site a figure comes from (the full address is in the CSV and JSON output)."""
    from urllib.parse import urlparse

    host = urlparse(source.split(" ", 1)[0]).hostname or source
    derived = {"vi": " (suy ra)", "en": " (derived)"}[lang]
    return host + (derived if source.endswith("(derived)") else "")


def _score_cell(row: ResultRow, code: str, lang: str, decimals: int | None) -> str:
    value, rank = row.scores.get(code), row.ranks.get(code)
    if value is None:
        return "—"
    return f"{format_number(value, lang, decimals or 4)} ({rank})"


@app.command("compare")
@click.argument("before")
@click.argument("after")
@click.option("--node", default=None, help="node code (default: the total)")
@format_option("json", "csv")
@OUT
@LANG
def compare_command(before: str, after: str, node: str | None, format: str, out: Path | None,
                    lang: str) -> None:
    """Rank and score changes of every province from one edition to another."""
    from dti.report.compare import edition_comparison

    result = edition_comparison(before, after, node, lang)
    if format == "json":
        return write_output(to_json(result), out)
    if format == "csv":
        return write_output(to_csv(result["results"]), out)
    table = Table(title=f"{result['before']} → {result['after']} ({result['basis']}, {result['method']})")
    for column in ("Tỉnh, thành phố" if lang == "vi" else "Province", result["before"], result["after"],
                   "Δ điểm" if lang == "vi" else "Δ score", "Δ hạng" if lang == "vi" else "Δ rank"):
        table.add_column(column, justify="right")
    for r in result["results"]:
        if r["rank_before"] is None and r["rank_after"] is None:
            continue
        table.add_row(r["name"], _value_rank(r["score_before"], r["rank_before"], lang),
                      _value_rank(r["score_after"], r["rank_after"], lang),
                      format_number(r["score_change"], lang, 4, signed=True)
                      if r["score_change"] is not None else "—",
                      _arrow(r["rank_change"]))
    console.print(table)
    console.print(f"{result['compared']} provinces have a rank in both editions.")


def _value_rank(value: float | None, rank: int | None, lang: str) -> str:
    v = format_number(value, lang, 4) if value is not None else "—"
    return f"{v} ({rank})" if rank is not None else v


def _arrow(change: int | None) -> str:
    if change is None:
        return "—"
    return f"▲{change}" if change > 0 else f"▼{-change}" if change < 0 else "="


@app.command("province")
@click.argument("name")
@EDITION
@format_option("json")
@LANG
def province_command(name: str, edition: str, format: str, lang: str) -> None:
    """A one-screen profile: total, pillars, main indicators, ranks, change vs previous edition."""
    from dti.report.profile import province_profile

    profile = province_profile(name, edition or None, lang)
    if format == "json":
        return write_output(to_json(profile.as_dict()), None)
    from dti.report.render import print_profile
    print_profile(console, profile, lang)


@app.command("template")
@click.argument("out", type=click.Path(path_type=Path))
@EDITION
@click.option("--basis", default="", help="unit set, e.g. provinces-63")
def template_command(out: Path, edition: str, basis: str) -> None:
    """Write an empty data template (CSV or XLSX) for an edition, one row per province."""
    from dti.io.template import write_template

    ed = load_edition(edition or edition_ids()[-1])
    write_template(out, ed.framework, ed.units(basis))
    console.print(f"wrote {out}")


