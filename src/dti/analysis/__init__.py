"""Analysis over builds: uncertainty (Monte Carlo), sensitivity (Sobol) and the statistical audit.

The public API is what ``__all__`` lists (pinned by ``tests/test_analysis_api.py``)::

    spec = AnalysisSpec.from_dict(yaml.safe_load(text), framework=framework)
    result = uncertainty(data, framework, recipe, spec)       # -> UncertaintyResult
    rows = uncertainty_records(result, names)                 # one row per unit
    sobol = sensitivity(data, framework, recipe, spec)        # -> SensitivityResult
    report = audit(build(data, framework, recipe))            # -> Audit

Every other module (``batch``, ``audit_stats``, the helpers of ``spec``) is internal and may
change.  As in :mod:`dti.engine` (``build``), three functions share their module's name, so
``dti.analysis.audit`` is the function; reach a module itself with
``importlib.import_module("dti.analysis.audit")``.  Importing the package imports neither SciPy
nor SALib: the analyses load them when they run.
"""

from __future__ import annotations

# Imported here, not on first use: three functions share their module's name, and a submodule
# imported first (``import dti.analysis.audit``) would otherwise shadow the function.
from dti.analysis.audit import Audit, audit, audit_records
from dti.analysis.sensitivity import (SensitivityResult, SobolIndices, sensitivity,
                                      sensitivity_records)
from dti.analysis.spec import AnalysisSpec, AnalysisSpecError, Choice
from dti.analysis.uncertainty import (UncertaintyResult, run_records, uncertainty,
                                      uncertainty_records)

__all__ = [
    "AnalysisSpec", "AnalysisSpecError", "Audit", "Choice", "SensitivityResult", "SobolIndices",
    "UncertaintyResult", "audit", "audit_records", "run_records", "sensitivity",
    "sensitivity_records", "uncertainty", "uncertainty_records",
]
