"""``dti record``: the published figures with their sources, and the audit of the record."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from dti.cli.app import LANG, OUT, app, console, format_option
from dti.messages import bilingual

RECORD_FILE = click.option("--facts", "facts", type=click.Path(path_type=Path), default=None,
                           help="a facts file in the shipped layout (default: the shipped record)")


@app.group("record")
def record_app() -> None:
    """The published record: every published figure with its sources, and its audit."""


def _record(facts: Path | None):
    from dti.editions.record import load_facts, shipped_record

    return load_facts(facts) if facts else shipped_record()


AUDIT_WORDS = bilingual("cli.record_audit")


@record_app.command("audit")
@RECORD_FILE
@click.option("--year", type=int, default=None, help="one edition year only")
@click.option("--failing", is_flag=True, help="only the checks that do not hold")
@format_option("csv", "json")
@OUT
@LANG
def record_audit(facts: Path | None, year: int | None, failing: bool, format: str, out: Path | None,
                 lang: str) -> None:
    """Check the record against the method: foundation points and activity ratios (Decision 922),
    ranks against scores, merged provinces' means (2024), 2020 totals, stated rank changes.  Exits
    1 when a check does not hold.  The reasons are in --lang; CSV and JSON also carry each
    finding's stable code."""
    from dti.editions.record_audit import audit
    from dti.io.export import to_csv, to_json, write_output

    findings = [f for f in audit(_record(facts))
                if (year is None or f.year == year) and (not failing or not f.holds)]
    rows = [{"check": f.check, "holds": f.holds, "year": f.year, "basis": f.basis,
             "units": ";".join(f.units), "code": f.code, "message": f.text(lang), "facts": f.where,
             "sources": " ".join(dict.fromkeys(x.url for x in f.facts))} for f in findings]
    if format == "json":
        write_output(to_json(rows), out)
    elif format == "csv":
        write_output(to_csv(rows), out)
    else:
        _print_audit(rows, lang)
    broken = sum(not f.holds for f in findings)
    if broken:
        from dti.errors import DtiError

        raise DtiError(AUDIT_WORDS[lang]["broken"].format(n=broken))


def _print_audit(rows: list[dict], lang: str) -> None:
    from dti.editions.record_text import CHECKS

    words = AUDIT_WORDS[lang]
    table = Table(title=words["title"].format(hold=sum(r["holds"] for r in rows),
                                              fail=sum(not r["holds"] for r in rows)))
    for column in words["columns"]:
        table.add_column(column)
    for r in rows:
        table.add_row(CHECKS[lang].get(r["check"], r["check"]), words["yes" if r["holds"] else "no"],
                      str(r["year"]), r["units"], r["message"], r["facts"])
    console.print(table)


SHOW_WORDS = bilingual("cli.record_show")


def _measure_words(measure: str, year: int, lang: str) -> str:
    """The measure as the reader's language names it (Vietnamese: the framework's names)."""
    from dti.editions.record_text import measure_name

    words = SHOW_WORDS[lang]
    if lang == "en":
        return measure
    if measure in ("rank", "rank_change"):
        return words[measure]
    if measure.startswith("rank_"):
        name = measure_name("score_" + measure.removeprefix("rank_"), year, lang)
        return words["rank_of"].format(name=name) if not name.startswith("score_") else measure
    return measure_name(measure, year, lang)


@record_app.command("show")
@click.argument("province")
@RECORD_FILE
@click.option("--year", type=int, default=None, help="one edition year only")
@format_option("csv", "json")
@OUT
@LANG
def record_show(province: str, facts: Path | None, year: int | None, format: str, out: Path | None,
                lang: str) -> None:
    """Every published figure of one province, each with its sources (winner first) and the
    sources that disagree."""
    from dti.io.export import to_csv, to_json, write_output
    from dti.units import load_unit_set

    record = _record(facts)
    codes = {basis: _resolve(load_unit_set(basis), province)
             for basis in ("provinces-63", "provinces-34")}
    figures = sorted((f for f in record.figures.values()
                      if codes.get(f.basis) == f.unit and (year is None or f.year == year)),
                     key=lambda f: (f.year, f.basis, f.measure))
    if not figures:
        raise click.ClickException(SHOW_WORDS[lang]["none"].format(unit=province))
    rows = [{"year": f.year, "basis": f.basis, "unit": f.unit, "measure": f.measure,
             "value": f.value, "kind": f.winner.kind, "source_class": f.winner.source,
             "source": f.winner.url, "quote": f.winner.quote, "other_sources": len(f.sources) - 1,
             "conflicts": "; ".join(f"{c.value:g} ({c.url})" for c in f.conflicts)} for f in figures]
    if format == "json":
        return write_output(to_json(rows), out)
    if format == "csv":
        return write_output(to_csv(rows), out)
    _print_show(rows, province, lang)


def _print_show(rows: list[dict], province: str, lang: str) -> None:
    words = SHOW_WORDS[lang]
    table = Table(title=words["title"].format(unit=province))
    for column in words["columns"]:
        table.add_column(column)
    for r in rows:
        value = f"{r['value']:g}".replace(".", ",") if lang == "vi" else f"{r['value']:g}"
        table.add_row(str(r["year"]), r["basis"], _measure_words(r["measure"], r["year"], lang),
                      value, words.get(r["kind"], r["kind"]),
                      f"{words.get(r['source_class'], r['source_class'])}: {r['source']}",
                      r["conflicts"])
    console.print(table)


def _resolve(units, name: str) -> str | None:
    from dti.errors import UnknownUnitError

    try:
        return units.resolve(name)
    except UnknownUnitError:
        return None
