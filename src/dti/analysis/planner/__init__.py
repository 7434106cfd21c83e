"""The province planner: what-if, target seeking, defence view, strengths and weaknesses.

Pure (NumPy and SciPy; no CLI, no web).  The public API, one module per job:

- :func:`what_if` — change main-indicator values of one unit (others fixed), rebuild, and report
  the new total, pillars, ranks and every unit's rank change; :class:`Scenario`,
  :func:`save_scenario`, :func:`load_scenarios` and :func:`compare_scenarios` keep named
  scenarios as YAML files (``var/scenarios/`` by default) and compare them side by side.
- :func:`plan_target` — the least added points (or least cost) for a unit to reach rank ≤ k
  overall or in a pillar, or a published score, as an exact mixed-integer programme
  (``scipy.optimize.milp``), confirmed by a rebuild; unreachable targets come back with
  ``reachable=False`` and the reason.
- :func:`defend` — what the units just below would need to overtake a unit, and on which
  indicators.
- :func:`profile` — the indicators where a unit ranks best and worst, the points it misses
  against the maximum and against the best unit, and its peers (same region, nearest profile).

Target seeking and the defence view need aggregates that are weighted arithmetic (or DTI points)
means over values used as they are; any other method raises ComputeError with the reason
(:func:`check_linear`).  Sub-indicator answers need the scoring catalogue of another issue: only
main-indicator (data-node) values are planned here.
"""

from dti.analysis.planner.defend import Defence, Threat, defend
from dti.analysis.planner.inputs import check_changes, check_weights, split_assignments
from dti.analysis.planner.model import UnitModel, check_linear, report_nodes, unit_model
from dti.analysis.planner.profile import Peer, Profile, Standing, profile
from dti.analysis.planner.scenarios import (DEFAULT_FOLDER, Scenario, ScenarioComparison,
                                            compare_scenarios, load_scenario, load_scenarios,
                                            save_scenario, scenario_path)
from dti.analysis.planner.target import Plan, PlanStep, Rival, Target, make_target, plan_for, plan_target
from dti.analysis.planner.whatif import Change, WhatIf, what_if

__all__ = [
    "Change", "DEFAULT_FOLDER", "Defence", "Peer", "Plan", "PlanStep", "Profile", "Rival",
    "Scenario", "ScenarioComparison", "Standing", "Target", "Threat", "UnitModel", "WhatIf",
    "check_changes", "check_linear", "check_weights", "compare_scenarios", "defend",
    "load_scenario", "load_scenarios", "make_target", "plan_for", "plan_target", "profile",
    "report_nodes", "save_scenario", "scenario_path", "split_assignments", "unit_model", "what_if",
]
