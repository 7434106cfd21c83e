"""Sub-indicator catalogues and scoring rules (chỉ số thành phần, cách tính điểm).

Each sub-indicator's points are computed from the province's answer by its rule; a main
indicator's 0..1 value is the sum of its sub-indicators' points over its max points, and the
engine aggregates those.  Pure: no database, web or CLI here.  See ``docs/scoring.md``.
"""

from dti.scoring.answers import parse_answer
from dti.scoring.catalogue import (
    CatalogueInfo,
    MainIndicator,
    ScoringCatalogue,
    SubIndicator,
    structure_problems,
)
from dti.scoring.load import (
    ILLUSTRATIVE,
    ILLUSTRATIVE_MINISTRY,
    catalogue_csv,
    catalogue_from_bytes,
    catalogue_from_rows,
    catalogue_rows,
    illustrative_catalogue,
    illustrative_catalogue_for,
    illustrative_ministry_catalogue,
    load_catalogue,
    write_catalogue_xlsx,
)
from dti.scoring.rules import (
    DECIMALS,
    KINDS,
    Field,
    FormulaRule,
    Option,
    OptionsRule,
    RatioRule,
    Rule,
    Step,
    StepsRule,
    YesNoRule,
    parse_rule,
    split_cell,
)
from dti.scoring.text import parse_number, parse_yes_no, slug

__all__ = [
    "DECIMALS",
    "ILLUSTRATIVE",
    "ILLUSTRATIVE_MINISTRY",
    "KINDS",
    "CatalogueInfo",
    "Field",
    "FormulaRule",
    "MainIndicator",
    "Option",
    "OptionsRule",
    "RatioRule",
    "Rule",
    "ScoringCatalogue",
    "Step",
    "StepsRule",
    "SubIndicator",
    "YesNoRule",
    "catalogue_csv",
    "catalogue_from_bytes",
    "catalogue_from_rows",
    "catalogue_rows",
    "illustrative_catalogue",
    "illustrative_catalogue_for",
    "illustrative_ministry_catalogue",
    "load_catalogue",
    "parse_answer",
    "parse_number",
    "parse_rule",
    "parse_yes_no",
    "slug",
    "split_cell",
    "structure_problems",
    "write_catalogue_xlsx",
]
