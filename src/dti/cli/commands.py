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
from dti.cli.inputs import input_options, load_inputs, unit_set_for
from dti.editions import edition_ids, edition_summary, load_edition
from dti.errors import InputError, Problem
from dti.formatting import format_number
from dti.framework.checks import check_framework
from dti.framework.load import load_framework
from dti.io.export import to_csv, to_json, write_output, write_xlsx
from dti.messages import bilingual

if TYPE_CHECKING:  # the engine and reports load in the commands that compute: listing stays quick
    from dti.report.results import ResultRow, ResultTable

@app.command("editions")
@format_option("json", "csv")
def editions_command(format: str) -> None:
    """List the built-in DTI editions."""
    rows = sorted((edition_summary(load_edition(e)) for e in edition_ids()),
                  key=lambda r: (r["year"], r["id"]))
    if format == "json":
        return write_output(to_json(rows), None)
    if format == "csv":
        return write_output(to_csv([{**r, "bases": ";".join(r["bases"])} for r in rows]), None)
    table = Table(title="DTI editions")
    for column in ("id", "year", "framework", "unit sets", "main indicators", "ranks published"):
        table.add_column(column, no_wrap=True)
    for r in rows:
        table.add_row(r["id"], str(r["year"]), r["framework"], ", ".join(r["bases"]),
                      str(r["main_indicators"]), str(r["published_ranks"]))
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
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="a data file whose header must hold every indicator")
def framework_check(file: Path, data: Path | None) -> None:
    """Check a framework file (YAML, CSV or XLSX) and report every problem at once."""
    fw = load_framework(file)
    if data is not None:
        from dti.tabular import read_table
        rows, problems = read_table(data)
        if problems:
            raise InputError(problems)
        problems = check_framework(fw, file=file.name, data_columns=[k for k in rows[0] if k != "__row__"])
        if problems:
            raise InputError(problems)
    console.print(f"{file.name}: OK — {len(fw.indicators)} indicators, {len(fw.aggregates)} "
                  f"aggregates, {len(fw.levels)} levels, root {fw.root.code}")


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
    from dti.io.values import read_values

    if framework is not None:
        fw, label = load_framework(framework), framework.name
        unit_set = unit_set_for(units or basis or "provinces-63")
    else:
        ed = load_edition(edition or edition_ids()[-1])
        fw, unit_set, label = ed.framework, ed.units(basis), ed.id
    dataset = read_values(data, fw, unit_set, sheet=sheet)
    console.print(f"{data.name}: OK — {len(dataset.units)} units, {len(dataset.columns)} columns, "
                  f"valid for {label}")


@app.command("compute")
@input_options
@FORMAT
@OUT
@LANG
def compute_command(format: str, out: Path | None, lang: str, **options: Any) -> None:
    """Compute scores and ranks for the total, every pillar and every main indicator."""
    from dti.engine.build import build
    from dti.report.results import result_table

    inputs = load_inputs(**options)
    result = result_table(build(inputs.dataset, inputs.framework, inputs.recipe), inputs.unit_set,
                          inputs.edition, lang, with_published=inputs.published_data)
    _emit_results(result, format, out, lang)


def _emit_results(result: ResultTable, format: str, out: Path | None, lang: str) -> None:
    if format == "json":
        return write_output(to_json(result.as_dict()), out)
    if format == "csv":
        return write_output(to_csv(result.flat_rows()), out)
    if format == "xlsx":
        if out is None:
            raise InputError([Problem("cli.xlsx_needs_out", "--format xlsx needs --out FILE.xlsx")])
        return write_xlsx(result.flat_rows(), out)
    _print_result_table(result, lang)


HEADINGS = bilingual("cli.headings")


def _print_result_table(result: ResultTable, lang: str) -> None:
    words = HEADINGS[lang]
    root = result.nodes[0].code
    shown = [n for n in result.nodes if n.role in ("total", "pillar", "main") or n.code == root]
    if all(r.scores[root] is None for r in result.rows):
        shown = []   # nothing computed (values not published): the published ranking alone
    table = Table(title=f"{result.title} — {result.basis}")
    table.add_column("#", justify="right")
    table.add_column(words["unit"])
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


