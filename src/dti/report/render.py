"""Terminal rendering of a province profile (Rich), Vietnamese first."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from dti.formatting import format_number
from dti.messages import bilingual
from dti.report.profile import ProvinceProfile

LABELS = bilingual("report.render")


def print_profile(console: Console, profile: ProvinceProfile, lang: str = "vi") -> None:
    t = LABELS["en" if lang == "en" else "vi"]
    region = profile.region or "—"
    console.print(f"{profile.name} ({t['code']} {profile.code}) — {profile.basis}, "
                  f"{t['region']}: {region} — {profile.edition}", style="bold")
    table = Table()
    for column in (t["indicator"], t["value"], t["rank"], t["source"]):
        table.add_column(column)
    for f in profile.figures:
        table.add_row(f.name, format_number(f.value, lang, 4) if f.value is not None
                      else t["not_published"], str(f.rank) if f.rank else "—",
                      ", ".join(t[part] for part in f.source.split("+")) if f.source else "—")
    console.print(table)
    history = Table(title=t["history"])
    for column in (t["edition"], t["basis"], t["unit"], t["value"], t["rank"]):
        history.add_column(column)
    for h in profile.history:
        value = format_number(h.value, lang, 4) if h.value is not None else "—"
        rank = f"{h.rank}/{h.of}" if h.rank else "—"
        history.add_row(h.edition, h.basis, h.unit_name, value, rank)
    console.print(history)
    change = profile.change
    if change and change.places is not None:
        n = change.places
        words = t["rose"] if n > 0 else t["fell"] if n < 0 else t["same"]
        console.print(f"{change.previous} → {profile.edition} ({change.basis}): "
                      f"{change.rank_before} → {change.rank_after}, {words.format(n=abs(n))}")
    elif change:
        console.print(t["no_change"])
    for note in profile.notes:
        console.print(note)
