"""The shipped table of computed figures (dti/editions/computed.json) is the engine's answer."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from dti.editions import edition_ids, load_edition
from dti.report import computed
from dti.report.profile import figure_for


def test_the_shipped_table_is_what_the_engine_computes_today():
    shipped = json.loads(computed._path().read_text(encoding="utf-8"))["editions"]
    assert shipped == computed.computed_table(), (
        "dti/editions/computed.json is out of date: run .venv/bin/python -m dti.report.computed")


def test_the_table_holds_the_fills_the_profile_shows():
    table = computed.shipped_computed()
    # 2022: the five provinces whose main-indicator values were published get computed totals
    assert len(table["dti-province-2022"]["provinces-63"]["DTI"]["scores"]) == 5
    assert table["dti-province-2021"]["provinces-63"] == {}   # nothing published to compute from


@pytest.mark.parametrize("edition_id", edition_ids())
def test_figures_from_the_table_equal_figures_from_a_build(edition_id):
    shipped = load_edition(edition_id)
    copy = dataclasses.replace(shipped)   # not the package's object: figure_for builds it
    assert computed.is_shipped(shipped) and not computed.is_shipped(copy)
    compared = 0
    for basis in shipped.bases:
        for unit in shipped.units(basis).codes:
            for node in shipped.framework.nodes:
                assert figure_for(shipped, basis, unit, node.code) == \
                    figure_for(copy, basis, unit, node.code), (basis, unit, node.code)
                compared += 1
    assert compared >= 63 * 9   # every unit × every node of at least one basis


def test_a_province_profile_does_not_load_numpy():
    script = ("import sys; from dti.cli.main import main; code = main(['province', 'thai nguyen']); "
              "print('numpy' in sys.modules, code)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False 0"


@pytest.mark.parametrize("package", ["dti.engine", "dti.io", "dti.web"])
def test_lazy_packages_name_what_they_load(package):
    module = __import__(package, fromlist=["__all__"])
    assert sorted(module.__all__) == sorted(module._WHERE)
    for name in module.__all__:
        assert getattr(module, name).__name__ == name


def test_the_serve_supervisor_loads_neither_the_engine_nor_the_store():
    """`dti serve --workers N` imports dti.cli.web and dti.web.settings in the supervisor, which
    never builds an app: the app's imports would only add memory to a process that does not use them."""
    script = ("import sys, dti.cli.web, dti.web.settings; "
              "print(sorted(m for m in ('numpy', 'scipy', 'sqlalchemy', 'dti.web.app') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
