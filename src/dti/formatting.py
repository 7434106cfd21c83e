"""Numbers as each interface language writes them: vi-VN 0,8002 and 1.000; en 0.8002 and 1,000."""

from __future__ import annotations


def format_number(value: float | None, lang: str = "vi", decimals: int = 4,
                  signed: bool = False) -> str:
    """Format with a fixed number of decimals; '—' for a missing value."""
    if value is None:
        return "—"
    text = f"{value:{'+' if signed else ''},.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
    return text
