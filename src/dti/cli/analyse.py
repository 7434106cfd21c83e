"""``dti analyse``: uncertainty (Monte Carlo), sensitivity (Sobol) and the statistical audit.

Each command checks where it will write (``--out``, ``--chart``) before it loads or computes
anything, so a long analysis never ends in an error about its file.  Every output names the
units screened out; warnings (an alternative that makes most runs fail, runs rounded for a Sobol
design) go to standard error as well as into the output.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import click
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from dti.analysis.failures import COVERAGE
from dti.analysis.spec import AnalysisSpec, AnalysisSpecError
from dti.cli.app import FORMAT, LANG, OUT, app, console
from dti.cli.inputs import Inputs, input_options, load_inputs
from dti.errors import InputError, Problem
from dti.formatting import format_number
from dti.io.export import to_csv, to_json, write_output, write_workbook
from dti.messages import bilingual

# The reference set-up: weights ±25 %, min-max vs z-score, arithmetic vs geometric, JRC
# winsorisation of 1 to 5 points.  Min-max onto [1, 100] and z-scores centred on 100 with sd 10
# (as COINr's own sensitivity example does) keep every value above 0, so that a geometric mean
# of them is defined: a 0 would fail the run (dti.analysis.failures).
DEFAULT_SPEC = {"runs": 1000, "seed": 2022, "design": "random", "choices": [
    {"name": "weights", "noise": 0.25},
    {"name": "normalise", "alternatives": [{"method": "minmax", "lower": 1},
                                           {"method": "zscore", "mean": 100, "sd": 10}]},
    {"name": "aggregate.method", "alternatives": ["arithmetic", "geometric"]},
    {"name": "treat.method", "alternatives": ["jrc"]},
    {"name": "treat.max_points", "alternatives": [1, 2, 3, 4, 5]},
]}
SPEC = click.option("--spec", "spec_file", type=click.Path(path_type=Path), default=None,
                    help="YAML file of the uncertain choices (default: weights ±25 %, min-max vs "
                         "z-score, arithmetic vs geometric, winsorisation 1–5 points)")
RUNS = click.option("--runs", type=int, default=None, help="number of runs (overrides the spec)")
SEED = click.option("--seed", type=int, default=None, help="random seed (overrides the spec)")
CHART = click.option("--chart", type=click.Path(path_type=Path), default=None,
                     help="also write the chart (.svg, .png or the Vega-Lite .json)")
REPORT = bilingual("cli.analyse_report")
UNCERTAINTY_TABLES = ("units", "samples")
SENSITIVITY_TABLES = ("ranking", "units")
AUDIT_TABLES = ("indicators", "correlations", "flags", "cronbach", "pca", "main_effects",
                "leave_one_out")


@app.group("analyse")
def analyse_group() -> None:
    """Uncertainty, sensitivity and statistical audit of a ranking."""


def check_out(format: str, out: Path | None, chart: Path | None,
              tables: tuple[str, ...]) -> None:
    """Raise an InputError naming every output that could not be written (``cli.bad_out``, and
    the format's own needs): run before any input is loaded or any run computed."""
    problems: list[Problem] = []
    if format == "csv" and (out is None or out.suffix) and len(tables) > 1:
        problems.append(_csv_needs_folder(tables))
    elif format == "xlsx" and out is None:
        problems.append(Problem("cli.xlsx_needs_out", "--format xlsx needs --out FILE.xlsx"))
    elif out is not None and format != "table":
        problems += _unwritable(out, "--out", folder=format == "csv" and len(tables) > 1)
    if chart is not None:
        problems += _unwritable(chart, "--chart")
    if problems:
        raise InputError(problems)


def _csv_needs_folder(tables: tuple[str, ...]) -> Problem:
    return Problem("cli.csv_needs_table", f"this result has {len(tables)} tables "
                   f"({', '.join(tables)}); give --out a folder (one CSV each, with about.csv), "
                   "or use --format json or xlsx")


def _unwritable(path: Path, option: str, folder: bool = False) -> list[Problem]:
    """Why ``path`` cannot be written as a file (or, ``folder``, created as a folder of files)."""
    def problem(message: str) -> list[Problem]:
        return [Problem("cli.bad_out", f"{option}: {message}", file=str(path))]

    if folder:
        if path.exists() and not path.is_dir():
            return problem("is a file; several CSV tables need a folder (it is created if need be)")
        existing = next(p for p in (path, *path.parents) if p.exists())
        if not existing.is_dir():
            return problem(f"{existing} is a file, not a folder")
        return [] if os.access(existing, os.W_OK | os.X_OK) else \
            problem(f"no permission to write in the folder {existing}")
    if path.is_dir():
        return problem("is a folder; give a file name")
    parent = path.parent
    if not parent.exists():
        return problem(f"the folder {parent} does not exist; create it first or choose another path")
    if not parent.is_dir():
        return problem(f"{parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return problem("no permission to write this file or in its folder")
    return []


def _spec(inputs: Inputs, spec_file: Path | None, runs: int | None, seed: int | None) -> AnalysisSpec:
    raw: dict[str, Any] = dict(DEFAULT_SPEC)
    if spec_file is not None:
        try:
            loaded = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise AnalysisSpecError([Problem("analysis.unreadable", f"cannot read the spec: {exc}",
                                             file=spec_file.name)]) from None
        if not isinstance(loaded, dict):
            raise AnalysisSpecError([Problem("analysis.unreadable", "the spec must be a YAML "
                                             "mapping with a 'choices' list", file=spec_file.name)])
        raw = loaded
    raw = {**raw, **({"runs": runs} if runs is not None else {}),
           **({"seed": seed} if seed is not None else {})}
    return AnalysisSpec.from_dict(raw, file=spec_file.name if spec_file else None,
                                  framework=inputs.framework)


@contextmanager
def _progress(total: int, label: str) -> Iterator[Any]:
    """A progress bar on standard error for long runs at a terminal; silent otherwise."""
    if total < 5000 or not sys.stderr.isatty():
        yield None
        return
    with Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.advance(task, done)


def _names(inputs: Inputs, lang: str) -> dict[str, str]:
    return {u: inputs.unit_set.get(u).name(lang) if u in inputs.unit_set else u
            for u in inputs.dataset.units}


def _meta(inputs: Inputs, spec: AnalysisSpec, **extra: Any) -> dict[str, Any]:
    return {"edition": inputs.edition.id if inputs.edition else None,
            "framework": inputs.framework.id, "data": inputs.dataset.source,
            "basis": inputs.dataset.unit_set, "seed": spec.seed, "design": spec.design,
            "runs": spec.runs, "choices": [c.label() for c in spec.choices],
            "spec": spec.to_dict(), "recipe": inputs.recipe.to_dict(), **extra}


def _screened(units: tuple[str, ...], names: dict[str, str]) -> list[dict[str, str]]:
    """The units screened out, as every output lists them."""
    return [{"code": u, "name": names.get(u, u)} for u in units]


def _warn(lines: list[str]) -> None:
    """Warnings on standard error, whatever the format (a JSON or CSV on standard output stays
    clean, and a reader of the screen sees them)."""
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)


def _print_screened(meta: dict[str, Any], lang: str) -> None:
    units = meta["screened_out"]
    if units:
        console.print(REPORT[lang]["screened_out"].format(
            count=len(units), units=", ".join(u["name"] for u in units)))


def _about(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's description as key/value rows (nested values as JSON)."""
    from dti.io.export import to_json as as_json

    return [{"key": k, "value": v if isinstance(v, (int, float, str)) or v is None
             else as_json(v)} for k, v in meta.items()]


def _emit(tables: dict[str, list[dict[str, Any]]], meta: dict[str, Any], format: str,
          out: Path | None, printer) -> None:
    if format == "json":
        return write_output(to_json({**meta, **tables}), out)
    if format == "csv":
        if len(tables) == 1:
            return write_output(to_csv(next(iter(tables.values()))), out)
        if out is None or out.suffix:
            raise InputError([_csv_needs_folder(tuple(tables))])
        out.mkdir(parents=True, exist_ok=True)
        write_output(to_csv(_about(meta)), out / "about.csv")
        for name, rows in tables.items():
            write_output(to_csv(rows), out / f"{name}.csv")
        return None
    if format == "xlsx":
        if out is None:
            raise InputError([Problem("cli.xlsx_needs_out", "--format xlsx needs --out FILE.xlsx")])
        return write_workbook({"about": _about(meta), **tables}, out)
    printer()


@analyse_group.command("uncertainty")
@input_options
@SPEC
@RUNS
@SEED
@click.option("--output", "output_node", default=None, help="node whose rank is studied "
              "(default: the total)")
@FORMAT
@OUT
@CHART
@LANG
def uncertainty_command(spec_file: Path | None, runs: int | None, seed: int | None,
                        output_node: str | None, format: str, out: Path | None,
                        chart: Path | None, lang: str, **options: Any) -> None:
    """Rank intervals per unit: Monte Carlo over the recipe's uncertain choices."""
    from dti.analysis.uncertainty import run_records, uncertainty, uncertainty_records
    from dti.report.charts import rank_interval_spec, render

    check_out(format, out, chart, UNCERTAINTY_TABLES)
    inputs = load_inputs(**options)
    spec = _spec(inputs, spec_file, runs, seed)
    with _progress(spec.runs, "Monte Carlo") as progress:
        result = uncertainty(inputs.dataset, inputs.framework, inputs.recipe, spec, output_node,
                             progress)
    names = _names(inputs, lang)
    rows = uncertainty_records(result, names)
    meta = _meta(inputs, spec, output=result.output, failed_runs=int(result.failed.sum()),
                 runs_used=result.used, failures=result.failures, notes=list(result.notes),
                 warnings=list(result.warnings),
                 screened_out=_screened(result.screened_out, names))
    _warn(meta["warnings"])
    if chart is not None:
        render(rank_interval_spec(rows, lang), chart)
    _emit({"units": rows, "samples": run_records(result)}, meta, format, out,
          lambda: _print_uncertainty(rows, meta, spec.rank_thresholds, lang))


def _print_uncertainty(rows, meta, thresholds, lang: str) -> None:
    vi = lang == "vi"
    table = Table(title=("Độ bất định của thứ hạng" if vi else "Rank uncertainty")
                  + f" — {meta['runs']} runs, seed {meta['seed']}")
    for column in ("#", "Tỉnh, thành phố" if vi else "Province", "điểm" if vi else "score",
                   "trung vị" if vi else "median", "5–95 %",
                   *(f"P(≤{k})" for k in thresholds)):
        table.add_column(column, justify="right")
    for r in rows:
        if r["nominal_rank"] is None:
            continue
        table.add_row(str(r["nominal_rank"]), r["name"], format_number(r["nominal_score"], lang, 4),
                      format_number(r["median_rank"], lang, 1),
                      f"{r['rank_p05']}–{r['rank_p95']}",
                      *(format_number(r[f"p_top_{k}"], lang, 2) for k in thresholds))
    console.print(table)
    console.print(f"choices: {', '.join(meta['choices'])}")
    console.print(("dữ liệu: " if vi else "data: ") + str(meta["data"]))
    _print_screened(meta, lang)
    for reason, count in meta["failures"].items():
        console.print(f"{count} runs failed: {reason}")
    if meta["failures"] and meta["runs_used"] >= COVERAGE * meta["runs"]:   # else a note says it
        console.print(REPORT[lang]["runs_used"].format(
            used=format_number(meta["runs_used"], lang, 0), runs=format_number(meta["runs"], lang, 0)))
    for note in meta["notes"]:
        console.print(note)


@analyse_group.command("sensitivity")
@input_options
@SPEC
@RUNS
@SEED
@click.option("--unit", "unit_name", default=None, help="also show this province's own indices")
@FORMAT
@OUT
@CHART
@LANG
def sensitivity_command(spec_file: Path | None, runs: int | None, seed: int | None,
                        unit_name: str | None, format: str, out: Path | None, chart: Path | None,
                        lang: str, **options: Any) -> None:
    """Sobol first-order and total indices of each choice, for the ranking and for each unit."""
    from dti.analysis.sensitivity import rounding_note, sensitivity, sensitivity_records
    from dti.report.charts import render, sensitivity_spec

    check_out(format, out, chart, SENSITIVITY_TABLES)
    inputs = load_inputs(**options)
    spec = _spec(inputs, spec_file, runs, seed)
    unit = inputs.unit_set.resolve(unit_name) if unit_name else None
    with _progress(spec.runs * (len(spec.choices) + 2), "Sobol") as progress:
        result = sensitivity(inputs.dataset, inputs.framework, inputs.recipe, spec,
                             progress=progress)
    names = _names(inputs, lang)
    tables = sensitivity_records(result, names)
    if unit is not None:
        tables["units"] = [r for r in tables["units"] if r["code"] == unit]
    rounded = rounding_note(result.requested, result.N, len(spec.choices))
    meta = _meta(inputs, spec, N=result.N, runs_requested=result.requested,
                 evaluated_runs=result.runs, failed_runs=result.failed, design=result.design,
                 samples_used=result.samples_used, failures=result.failures,
                 notes=list(result.notes),
                 warnings=[*([rounded] if rounded else []), *result.warnings],
                 screened_out=_screened(result.screened_out, names))
    _warn(meta["warnings"])
    if chart is not None:
        render(sensitivity_spec(tables["ranking"], lang), chart)
    _emit(tables, meta, format, out, lambda: _print_sensitivity(tables, meta, unit, lang))


def _print_sensitivity(tables, meta, unit: str | None, lang: str) -> None:
    vi = lang == "vi"
    table = Table(title=("Độ nhạy của bảng xếp hạng (Sobol)" if vi else "Sensitivity of the "
                         "ranking (Sobol)") + f" — N = {meta['N']}, seed {meta['seed']}")
    for column in ("lựa chọn" if vi else "choice", "S1", "± 95 %", "ST", "± 95 %"):
        table.add_column(column, justify="right")
    for r in tables["ranking"]:
        table.add_row(r["choice"], *(format_number(r[k], lang, 3)
                                     for k in ("S1", "S1_conf", "ST", "ST_conf")))
    console.print(table)
    for note in meta["notes"]:
        if note not in meta["warnings"]:    # those went to standard error
            console.print(note)
    if meta["failed_runs"] and meta["samples_used"] >= COVERAGE * meta["N"]:   # else a note
        console.print(REPORT[lang]["samples_used"].format(
            used=format_number(meta["samples_used"], lang, 0), N=format_number(meta["N"], lang, 0)))
    _print_screened(meta, lang)
    if unit is not None and unit in {u["code"] for u in meta["screened_out"]}:
        name = next(u["name"] for u in meta["screened_out"] if u["code"] == unit)
        console.print(REPORT[lang]["unit_screened_out"].format(name=name))
    if unit is not None:
        for r in tables["units"]:
            console.print(f"{r['name']} {r['output']} — {r['choice']}: S1 "
                          f"{format_number(r['S1'], lang, 3)}, ST {format_number(r['ST'], lang, 3)}")


@analyse_group.command("audit")
@input_options
@FORMAT
@OUT
@CHART
@LANG
def audit_command(format: str, out: Path | None, chart: Path | None, lang: str,
                  **options: Any) -> None:
    """Statistical audit: coverage, outliers, correlations and flags, Cronbach's α, PCA,
    main effects against weights, leave-one-out impact."""
    from dti.analysis.audit import audit, audit_records
    from dti.engine.build import build
    from dti.report.charts import correlation_heatmap_spec, render

    check_out(format, out, chart, AUDIT_TABLES)
    inputs = load_inputs(**options)
    nominal = build(inputs.dataset, inputs.framework, inputs.recipe)
    tables = audit_records(audit(nominal))
    screened = tuple(u for u, kept in zip(nominal.units, nominal.included) if not kept)
    meta = {"edition": inputs.edition.id if inputs.edition else None,
            "framework": inputs.framework.id, "data": inputs.dataset.source,
            "recipe": inputs.recipe.to_dict(),
            "screened_out": _screened(screened, _names(inputs, lang))}
    if chart is not None:
        render(correlation_heatmap_spec(indicator_correlations(tables, inputs.framework), lang),
               chart)
    _emit(tables, meta, format, out, lambda: _print_audit(tables, meta, lang))


def indicator_correlations(tables, framework) -> list[dict[str, Any]]:
    """Indicator × indicator Pearson correlations, both halves and the diagonal, for a heatmap."""
    indicators = [n.code for n in framework.indicators if n.scored]
    cells = [{"a": c, "b": c, "r": 1.0} for c in indicators]
    for r in tables["correlations"]:
        if r["a"] in indicators and r["b"] in indicators and r["pearson"] is not None:
            cells += [{"a": r["a"], "b": r["b"], "r": r["pearson"]},
                      {"a": r["b"], "b": r["a"], "r": r["pearson"]}]
    return cells


AUDIT_TITLES = bilingual("cli.analyse")


def _print_audit(tables, meta, lang: str) -> None:
    """Every table but the full correlation matrix (see --format json or --chart)."""
    titles = AUDIT_TITLES["en" if lang == "en" else "vi"]
    for name, title in titles.items():
        rows = tables.get(name) or []
        if not rows:
            console.print(f"{title}: " + ("không có" if lang == "vi" else "none"))
            continue
        table = Table(title=title)
        for column in rows[0]:
            table.add_column(str(column))
        for r in rows:
            table.add_row(*(_cell(v, lang) for v in r.values()))
        console.print(table)
    console.print("Ma trận tương quan đầy đủ: --format json/xlsx hoặc --chart heatmap.svg"
                  if lang == "vi" else "Full correlation matrix: --format json/xlsx or --chart heatmap.svg")
    _print_screened(meta, lang)


def _cell(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return ("có" if lang == "vi" else "yes") if value else ""
    if isinstance(value, float):
        return format_number(value, lang, 3)
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return "—" if value is None else str(value)
