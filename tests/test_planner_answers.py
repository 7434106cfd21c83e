"""What-if on sub-indicator answers (issue #6 with the scoring catalogue of #4), checked by hand:
in the DTI points method one sub-indicator point is 1/1000 of the total."""

import pytest

from dti.analysis.planner.answers import points_to_gain, what_if_answers
from dti.editions import load_edition
from dti.editions.demo import demo_dataset
from dti.errors import InputError
from dti.scoring import illustrative_catalogue

E = load_edition("dti-province-2022")
CAT = illustrative_catalogue()


def _half_points():
    return {i.code: i.max_points / 2 for i in CAT.items if i.scored}


def test_a_ratio_answer_moves_the_total_by_its_points_over_1000():
    ratio = next(i for i in CAT.items if i.rule.kind == "ratio" and i.max_points > 0)
    a, b = (f.name for f in ratio.rule.fields)
    points = _half_points()
    result = what_if_answers(demo_dataset(), E.framework, E.recipe, "48", CAT, points,
                             {ratio.code: {a: "3", b: "4"}})
    change = result.changes[0]
    assert change.after_points == pytest.approx(ratio.max_points * 0.75)
    before = sum(points.values()) / 1000
    standing = {row["node"]: row for row in result.result.standing()}
    assert standing["DTI"]["score_before"] == pytest.approx(round(before, 4))
    expected_after = before + (ratio.max_points * 0.75 - ratio.max_points / 2) / 1000
    assert standing["DTI"]["score_after"] == pytest.approx(round(expected_after, 4))
    main = ratio.main_code
    assert result.main_after[main] - result.main_before[main] == pytest.approx(
        ratio.max_points * 0.25 / next(m.max_points for m in CAT.mains if m.code == main))


def test_yes_to_a_yes_no_answer_earns_its_maximum_and_can_lift_the_rank():
    yesno = max((i for i in CAT.items if i.rule.kind == "yesno"), key=lambda i: i.max_points)
    points = _half_points()
    result = what_if_answers(demo_dataset(), E.framework, E.recipe, "48", CAT, points,
                             {yesno.code: {"value": "có"}})
    assert result.changes[0].after_points == yesno.max_points
    standing = {row["node"]: row for row in result.result.standing()}["DTI"]
    assert standing["rank_after"] <= standing["rank_before"]


def test_unreadable_answers_and_unknown_codes_are_all_reported():
    ratio = next(i for i in CAT.items if i.rule.kind == "ratio")
    a, b = (f.name for f in ratio.rule.fields)
    with pytest.raises(InputError) as caught:
        what_if_answers(demo_dataset(), E.framework, E.recipe, "48", CAT, _half_points(),
                        {ratio.code: {a: "mười", b: "4"}, "XX.99": {"value": "có"}})
    codes = {p.code for p in caught.value.problems}
    assert codes == {"answer.not_a_number", "plan.unknown_sub_indicator"}


def test_points_to_gain_lists_the_largest_gaps_first_and_skips_full_marks():
    points = _half_points()
    best = max((i for i in CAT.items if i.scored), key=lambda i: i.max_points)
    points[best.code] = best.max_points
    gaps = points_to_gain(CAT, points)
    assert best.code not in [g.code for g in gaps]
    assert [g.missing for g in gaps] == sorted((g.missing for g in gaps), reverse=True)
    assert sum(g.missing for g in gaps) == pytest.approx(
        sum(i.max_points for i in CAT.items if i.scored) - sum(points.values()))
    assert gaps[0].total_share == pytest.approx(gaps[0].missing / 1000)
