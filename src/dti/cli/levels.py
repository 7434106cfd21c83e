"""``dti unit``: a ministry, government body or the nation found by any spelling, with its group,
its 2025 restructuring and its published DTI figures."""

from __future__ import annotations

from typing import Any

import click

from dti.cli.app import LANG, app, console, format_option
from dti.formatting import format_number
from dti.io.export import to_json, write_output
from dti.messages import bilingual

WORDS = bilingual("cli.unit")


def _date(iso: str, lang: str) -> str:
    from dti.units.unit_set import english_date

    if lang == "en":
        return english_date(iso)
    year, month, day = (int(p) for p in iso.split("-"))
    return f"{day}/{month}/{year}"


def _history(code: str) -> list[dict[str, Any]]:
    from dti.editions.levels import body_history

    return [{**h.as_dict(), "decimals": h.decimals} for h in body_history(code)]


def unit_lookup(name: str, lang: str) -> dict[str, Any]:
    """What ``dti unit`` shows, as data: the nation, or the body ``name`` designates."""
    from dti.units.bodies import change_text, find_body, find_national, group_name, predecessors, successor

    nation = find_national(name)
    if nation is not None:
        return {"code": nation.code, "name": nation.name(lang), "name_vi": nation.name_vi,
                "name_en": nation.name_en, "level": "national", "group": "national",
                "group_name": "", "aliases": list(nation.also_known_as), "valid_from": "",
                "valid_to": "", "successor": None, "change": "", "absorbed": [],
                "history": _history(nation.code)}
    body = find_body(name)
    after = successor(body)
    return {"code": body.code, "name": body.name(lang), "name_vi": body.name_vi,
            "name_en": body.name_en, "level": "ministry", "group": body.group,
            "group_name": group_name(body.group, lang), "aliases": list(body.also_known_as),
            "valid_from": body.valid_from, "valid_to": body.valid_to,
            "successor": None if after is None else {"code": after.code, "name_vi": after.name_vi,
                                                     "name_en": after.name_en},
            "change": change_text(body, lang),
            "absorbed": [b.name(lang) for b in predecessors(body)],
            "history": _history(body.code)}


@app.command("unit")
@click.argument("name")
@format_option("json")
@LANG
def unit_command(name: str, format: str, lang: str) -> None:
    """Find a ministry or government body (or the nation) by any spelling; say what it became in 2025."""
    found = unit_lookup(name, lang)
    if format == "json":
        return write_output(to_json(found), None)
    w = WORDS[lang]
    console.print(f"{found['name']} ({found['code']})")
    other = ("name_en", found["name_en"]) if lang == "vi" else ("name_vi", found["name_vi"])
    console.print(f"  {w[other[0]]}: {other[1]}")
    if found["level"] == "ministry":
        console.print(f"  {w['group']}: {found['group_name'] or w['not_stated']}")
    if found["aliases"]:
        console.print(f"  {w['aliases']}: {', '.join(found['aliases'])}")
    if found["valid_from"] or found["valid_to"]:
        start = f"{w['from']} {_date(found['valid_from'], lang)} " if found["valid_from"] else ""
        end = _date(found["valid_to"], lang) if found["valid_to"] else w["today"]
        console.print(f"  {w['period']}: {start}{w['until']} {end}")
    unchanged = not (found["change"] or found["absorbed"] or found["valid_from"])
    if found["level"] == "ministry" and (found["change"] or unchanged):
        console.print(f"  {w['change']}: {found['change'] or w['none']}")
    if found["absorbed"]:
        console.print(f"  {w['absorbed']}: {', '.join(found['absorbed'])}")
    console.print(f"  {w['history']}:" + ("" if found["history"] else f" {w['no_figures']}"))
    for h in found["history"]:
        score = format_number(h["score"], lang, h["decimals"]) if h["score"] is not None else "—"
        shown = [score] if found["level"] == "national" else [
            f"{w['rank']} {h['rank'] if h['rank'] is not None else '—'}", score]
        note = h["note"] if lang == "en" else h["note_vi"]
        note = f" ({note})" if note else ""
        console.print(f"    {h['edition']}: {', '.join(shown)}{note}")
