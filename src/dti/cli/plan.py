"""``dti plan``: what-if scenarios, target rank, defence view and strengths of one province.

Each command parses, calls one function of :mod:`dti.analysis.planner` and renders: a table in
Vietnamese (numbers as 0,8002) or English, or JSON/CSV (CSV is the command's main table).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from dti.analysis import planner
from dti.cli.analyse import _emit
from dti.cli.app import LANG, OUT, app, console, format_option
from dti.cli.inputs import Inputs, input_options, load_inputs
from dti.errors import InputError, Problem
from dti.formatting import format_number
from dti.messages import bilingual

FORMAT = format_option("csv", "json")
SCENARIOS = click.option("--scenarios", "scenario_dir", type=click.Path(path_type=Path),
                         default=planner.DEFAULT_FOLDER, show_default=True,
                         help="folder of the saved scenarios")
COST = click.option("--cost", "costs", multiple=True, metavar="CODE=W",
                    help="cost per point of an indicator (default 1); repeat for several")
PILLAR = click.option("--pillar", default=None, help="a pillar (e.g. CQS) instead of the total")

TEXT = bilingual("cli.plan")


@app.group("plan")
def plan_group() -> None:
    """Province planner: what-if, target rank, defence, strengths and weaknesses."""


def _unit(inputs: Inputs, name: str) -> str:
    code = inputs.unit_set.resolve(name)
    if code not in inputs.dataset.units:
        raise InputError([Problem("plan.unknown_unit", f"{name!r} is not in the data",
                                  unit=name)])
    return code


def _name(inputs: Inputs, code: str, lang: str) -> str:
    return inputs.unit_set.get(code).name(lang) if code in inputs.unit_set else code


def _node(inputs: Inputs, code: str, lang: str) -> str:
    return inputs.framework[code].name(lang) if code in inputs.framework else code


def _meta(inputs: Inputs, unit: str, lang: str) -> dict[str, Any]:
    return {"edition": inputs.edition.id if inputs.edition else None,
            "framework": inputs.framework.id, "data": inputs.dataset.source,
            "basis": inputs.dataset.unit_set, "unit": unit,
            "name": _name(inputs, unit, lang) if unit else None}


def _named(inputs: Inputs, rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Rows with the unit's name (in ``lang``) right after its code."""
    out = []
    for r in rows:
        items = list(r.items())
        at = list(r).index("unit") + 1
        out.append(dict(items[:at] + [("name", _name(inputs, r["unit"], lang))] + items[at:]))
    return out


def _n(value: float | None, lang: str, decimals: int = 4) -> str:
    return format_number(value, lang, decimals)


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    return table


# -- whatif and scenarios ------------------------------------------------------------------------

@plan_group.command("whatif")
@click.argument("province")
@click.option("--set", "assignments", multiple=True, metavar="CODE=VALUE",
              help="new value of a main indicator (a ratio 0..1 for the DTI); repeat for several")
@click.option("--save", default=None, metavar="NAME", help="save these changes as a scenario")
@SCENARIOS
@input_options
@FORMAT
@OUT
@LANG
def whatif_command(province: str, assignments: tuple[str, ...], save: str | None,
                   scenario_dir: Path, format: str, out: Path | None, lang: str,
                   **options: Any) -> None:
    """New total, pillars and ranks when some values of one province change (others fixed)."""
    if save is not None:
        planner.scenario_path(save, scenario_dir)   # a bad name fails before any work
    inputs = load_inputs(**options)
    unit = _unit(inputs, province)
    changes = planner.check_changes(inputs.framework,
                                    planner.split_assignments(assignments, "--set"), "--set")
    result = planner.what_if(inputs.dataset, inputs.framework, inputs.recipe, unit, changes)
    saved = None
    if save is not None:
        saved = planner.save_scenario(planner.Scenario(save, unit, changes), scenario_dir)
    payload = result.as_dict()
    tables = {"affected": _named(inputs, payload["affected"], lang),
              "standing": payload["standing"], "changes": payload["changes"]}
    meta = {**_meta(inputs, unit, lang), "saved": str(saved) if saved else None}
    _emit(tables if format != "csv" else {"affected": tables["affected"]}, meta, format, out,
          lambda: _print_whatif(inputs, result, tables, saved, lang))


def _print_whatif(inputs: Inputs, result, tables, saved: Path | None, lang: str) -> None:
    t = TEXT[lang]
    table = _table(t["whatif"].format(name=_name(inputs, result.unit, lang)),
                   [t["indicator"], t["before"], t["after"]])
    for c in result.changes:
        table.add_row(f"{c.code} {_node(inputs, c.code, lang)}", _n(c.before, lang),
                      _n(c.after, lang))
    console.print(table)
    table = _table(t["affected"], [t["node"], t["province"], t["before"], t["after"],
                                   t["rank_before"], t["rank_after"], t["change"]])
    for r in tables["affected"]:
        table.add_row(r["node"], _name(inputs, r["unit"], lang), _n(r["score_before"], lang),
                      _n(r["score_after"], lang), str(r["rank_before"] or "—"),
                      str(r["rank_after"] or "—"), _signed(r["rank_change"]))
    console.print(table)
    if saved is not None:
        console.print(t["saved"].format(path=saved))


def _signed(value: int | None) -> str:
    return "—" if value is None else f"{value:+d}" if value else "0"


@plan_group.command("scenarios")
@click.argument("names", nargs=-1)
@SCENARIOS
@input_options
@FORMAT
@OUT
@LANG
def scenarios_command(names: tuple[str, ...], scenario_dir: Path, format: str, out: Path | None,
                      lang: str, **options: Any) -> None:
    """Compare saved what-if scenarios side by side (all of them when no NAME is given)."""
    scenarios = planner.load_scenarios(scenario_dir, names)
    inputs = load_inputs(**options)
    scenarios = [planner.Scenario(s.name, _unit(inputs, s.unit), s.changes, s.note, s.source)
                 for s in scenarios]
    comparison = planner.compare_scenarios(inputs.dataset, inputs.framework, inputs.recipe,
                                           scenarios)
    rows = _named(inputs, comparison.rows(), lang)
    meta = {k: v for k, v in _meta(inputs, "", lang).items() if k not in ("unit", "name")}
    _emit({"scenarios": rows}, meta, format, out, lambda: _print_scenarios(inputs, rows, lang))


def _print_scenarios(inputs: Inputs, rows: list[dict[str, Any]], lang: str) -> None:
    t = TEXT[lang]
    nodes = [k[:-len("_after")] for k in rows[0] if k.endswith("_after") and "_rank" not in k]
    table = _table(t["scenarios"], [t["scenario"], t["province"], t["changes"],
                                    *(f"{c} ({t['rank']})" for c in nodes)])
    for r in rows:
        table.add_row(r["scenario"], _name(inputs, r["unit"], lang), r["changes"],
                      *(f"{_n(r[f'{c}_after'], lang)} ({r[f'{c}_rank_after']}, "
                        f"{_signed(r[f'{c}_rank_change'])})" for c in nodes))
    console.print(table)


# -- target --------------------------------------------------------------------------------------

@plan_group.command("target")
@click.argument("province")
@click.option("--rank", type=int, default=None, help="reach this rank or better")
@PILLAR
@click.option("--score", default=None, help="reach this published score or more")
@click.option("--above", default=None, metavar="PROVINCE", help="end strictly above this province")
@click.option("--strict", is_flag=True, help="rank K not shared (strictly above the unit K-th now)")
@COST
@click.option("--max", "bounds", multiple=True, metavar="CODE=POINTS",
              help="at most this many points more on an indicator; repeat for several")
@click.option("--integer", is_flag=True, help="whole points only (sub-indicator points)")
@input_options
@FORMAT
@OUT
@LANG
def target_command(province: str, rank: int | None, pillar: str | None, score: str | None,
                   above: str | None, strict: bool, costs: tuple[str, ...],
                   bounds: tuple[str, ...], integer: bool, format: str, out: Path | None,
                   lang: str, **options: Any) -> None:
    """The least added points (or least cost) for a province to reach a rank or a score."""
    inputs = load_inputs(**options)
    unit = _unit(inputs, province)
    fw = inputs.framework
    cost = planner.check_weights(fw, planner.split_assignments(costs, "--cost"), "--cost", "cost")
    limits = planner.check_weights(fw, planner.split_assignments(bounds, "--max"), "--max", "bound")
    result = planner.plan_target(
        inputs.dataset, fw, inputs.recipe, unit, rank=rank, pillar=pillar, score=score,
        cost=cost, bounds=limits, integer_points=integer, strict=strict,
        above=_unit(inputs, above) if above else None)
    payload = result.as_dict()
    payload["rivals"] = _named(inputs, payload["rivals"], lang)
    _emit({"plan": payload} if format != "csv" else {"steps": payload["steps"]},
          _meta(inputs, unit, lang), format, out,
          lambda: _print_plan(inputs, result, lang))


def _goal(inputs: Inputs, plan, lang: str) -> str:
    t, target = TEXT[lang], plan.target
    parts = []
    if target.rank is not None:
        parts.append(t["rank_goal"].format(k=target.rank) + (t["alone"] if target.strict else ""))
    if target.score is not None:
        parts.append(t["score_goal"].format(s=_n(target.score, lang)))
    if target.above is not None:
        parts.append(t["above_goal"].format(name=_name(inputs, target.above, lang)))
    return f"{', '.join(parts)} — {_node(inputs, plan.node, lang)}"


def _reason(inputs: Inputs, plan, lang: str) -> str:
    return TEXT[lang][plan.reason_code].format(
        node=_node(inputs, plan.node, lang), needed=_n(plan.needed, lang),
        best=_n(plan.best_possible, lang), maximum=_n(plan.maximum, lang))


def _print_plan(inputs: Inputs, plan, lang: str) -> None:
    t = TEXT[lang]
    console.print(t["target"].format(name=_name(inputs, plan.unit, lang),
                                     goal=_goal(inputs, plan, lang)))
    if not plan.reachable:
        console.print(t["unreachable"].format(reason=_reason(inputs, plan, lang)))
        return
    if not plan.steps:
        console.print(t["already"])
    else:
        table = _table("", [t["indicator"], t["points"], t["value"], t["new_value"], t["cost"]])
        for s in plan.steps:
            table.add_row(f"{s.code} {_node(inputs, s.code, lang)}", _n(s.points, lang),
                          _n(s.value_before, lang), _n(s.value_after, lang), _n(s.cost, lang))
        console.print(table)
        console.print(t["total"].format(p=_n(plan.points, lang), c=_n(plan.cost, lang)))
    for code, value in plan.scores_after.items():
        console.print(t["result"].format(node=_node(inputs, code, lang), s=_n(value, lang),
                                         r=plan.ranks_after[code]))
    if plan.rivals:
        console.print(f"{t['rivals']}: " + "; ".join(
            f"{_name(inputs, r.unit, lang)} {_n(r.score, lang)} ({t[r.status]})"
            for r in plan.rivals))


# -- defend and profile --------------------------------------------------------------------------

@plan_group.command("defend")
@click.argument("province")
@click.option("--neighbours", type=int, default=5, show_default=True,
              help="how many provinces just below to examine")
@PILLAR
@COST
@input_options
@FORMAT
@OUT
@LANG
def defend_command(province: str, neighbours: int, pillar: str | None, costs: tuple[str, ...],
                   format: str, out: Path | None, lang: str, **options: Any) -> None:
    """How many points the provinces just below would need to overtake this one, and where."""
    inputs = load_inputs(**options)
    unit = _unit(inputs, province)
    cost = planner.check_weights(inputs.framework, planner.split_assignments(costs, "--cost"),
                                 "--cost", "cost")
    result = planner.defend(inputs.dataset, inputs.framework, inputs.recipe, unit, neighbours,
                            cost=cost, pillar=pillar)
    rows = _named(inputs, [{**r, "steps": "; ".join(f"{s['code']}={s['points']:g}"
                                                      for s in r["steps"])}
                           for r in result.as_dict()["threats"]], lang)
    meta = {**_meta(inputs, unit, lang), "node": result.node, "score": result.score,
            "rank": result.rank}
    _emit({"threats": rows}, meta, format, out, lambda: _print_defend(inputs, result, lang))


def _print_defend(inputs: Inputs, result, lang: str) -> None:
    t = TEXT[lang]
    table = _table(t["defend"].format(name=_name(inputs, result.unit, lang),
                                      node=_node(inputs, result.node, lang),
                                      s=_n(result.score, lang), r=result.rank),
                   [t["province"], t["score"], t["rank"], t["gap"], t["needed"], t["on"]])
    for threat in result.threats:
        plan = threat.plan
        on = ", ".join(f"{s.code} +{_n(s.points, lang, 2)}" for s in plan.steps)
        table.add_row(_name(inputs, threat.unit, lang), _n(threat.score, lang), str(threat.rank),
                      _n(threat.gap, lang), _n(plan.points, lang) if plan.reachable else "—",
                      on if plan.reachable else t["unreachable"].format(
                          reason=_reason(inputs, plan, lang)))
    console.print(table)


@plan_group.command("profile")
@click.argument("province")
@input_options
@FORMAT
@OUT
@LANG
def profile_command(province: str, format: str, out: Path | None, lang: str,
                    **options: Any) -> None:
    """Indicators where a province ranks best and worst, points it misses, and its peers."""
    inputs = load_inputs(**options)
    unit = _unit(inputs, province)
    result = planner.profile(inputs.dataset, inputs.framework, inputs.recipe, unit)
    payload = result.as_dict()
    tables = {"indicators": payload["indicators"],
              "region_peers": _named(inputs, payload["region_peers"], lang),
              "nearest_peers": _named(inputs, payload["nearest_peers"], lang)}
    meta = {**_meta(inputs, unit, lang), **{k: payload[k] for k in ("score", "rank", "region",
                                                                "strongest", "weakest")}}
    _emit(tables if format != "csv" else {"indicators": tables["indicators"]}, meta, format, out,
          lambda: _print_profile(inputs, result, lang))


def _print_profile(inputs: Inputs, result, lang: str) -> None:
    t = TEXT[lang]
    table = _table(t["profile"].format(name=_name(inputs, result.unit, lang),
                                       node=_node(inputs, result.node, lang),
                                       s=_n(result.score, lang), r=result.rank),
                   [t["indicator"], t["value"], t["points_col"], t["max"], t["rank"], t["to_max"],
                    t["to_best"]])
    for s in result.indicators:
        table.add_row(f"{s.code} {_node(inputs, s.code, lang)}", _n(s.value, lang),
                      _n(s.points, lang, 2), _n(s.max_points, lang, 0), str(s.rank or "—"),
                      _n(s.missing_to_max, lang, 2), _n(s.missing_to_best, lang, 2))
    console.print(table)
    for key, codes in (("strongest", result.strongest), ("weakest", result.weakest)):
        console.print(f"{t[key]}: " + ", ".join(_node(inputs, c, lang) for c in codes))
    for key, peers in (("region", result.region_peers), ("nearest", result.nearest_peers)):
        console.print(t[key].format(region=result.region) + ": " + "; ".join(
            f"{_name(inputs, p.unit, lang)} {_n(p.score, lang)} ({p.rank or '—'})" for p in peers))
