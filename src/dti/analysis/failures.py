"""Why runs of an analysis failed, how many, and which choice is to blame.

A run fails, with one reason, the first of:

1. its combination of choices cannot be built (``cannot build: …``, the recipe's own problem);
2. it takes a geometric or power mean over a negative value (:data:`NEGATIVE_IN_MEAN`);
3. it takes a geometric or harmonic mean over a zero value (:data:`ZERO_IN_MEAN`): the engine's
   limit 0 would hand the unit a 0 whatever its other values — on COINr's ASEM example a min-max
   normalisation gave 32 of 51 units an index of 0 — and COINr refuses such a mean, so the run is
   left out rather than quietly ranked;
4. a unit with a nominal score got none (:data:`NO_SCORE`).

Results rest on the runs that did not fail and say how many (:func:`coverage_note`); a choice
whose alternative makes most of its runs fail is named (:func:`failure_warnings`), since its
statistics then describe the other alternatives only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dti.analysis.spec import AnalysisSpec, choice_value

NO_SCORE = "a unit with a nominal score got none (e.g. a geometric mean of values ≤ 0)"
NEGATIVE_IN_MEAN = ("a geometric or power mean over a negative value, which is undefined "
                    "(z-scores are negative below the mean: a normalise.mean well above 0, e.g. "
                    "100 with sd 10, avoids it)")
ZERO_IN_MEAN = ("a geometric or harmonic mean over a zero value, whose limit 0 would ignore every "
                "other value (min-max gives the lowest unit 0: a normalise.lower above 0, e.g. 1, "
                "avoids it)")
# The undefined means, in the order they are reported (a run with both counts as the first).
UNDEFINED_MEANS = (NEGATIVE_IN_MEAN, ZERO_IN_MEAN)
# An alternative whose runs fail more often than this is named in a warning ...
MOST = 0.5
# ... when they fail more often than the runs without it by this many standard errors: with half
# the runs failing for another choice, any alternative's share hovers around 50 % by chance.
SIGNIFICANT = 3.0
# Below this share of runs (or samples) left, results carry a note with the reasons.
COVERAGE = 0.9


@dataclass(frozen=True)
class Failures:
    """Per run: whether it failed and why (``reason`` indexes ``reasons``; -1: it succeeded)."""

    failed: np.ndarray
    reason: np.ndarray
    reasons: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        """Reason -> runs, in the order of :data:`reasons`, reasons no run met left out."""
        counts = np.bincount(self.reason[self.failed], minlength=len(self.reasons))
        return {r: int(c) for r, c in zip(self.reasons, counts) if c}


def classify_failures(build_failed: np.ndarray, errors: dict[int, str],
                      combination_of_run: np.ndarray, scores: np.ndarray,
                      undefined: dict[str, np.ndarray] | None = None) -> Failures:
    """Which runs failed, and why.

    ``build_failed`` (bool per run) with the message per combination in ``errors``;
    ``undefined``: per reason of :data:`UNDEFINED_MEANS`, the runs that took such a mean;
    ``scores``: runs × the units with a nominal score (NaN: left without one)."""
    combination_of_run = np.asarray(combination_of_run)
    reasons = [f"cannot build: {message}" for _, message in sorted(errors.items())]
    reason = np.full(len(build_failed), -1)
    for i, k in enumerate(sorted(errors)):
        reason[(combination_of_run == k) & build_failed] = i
    checks = [(r, (undefined or {}).get(r)) for r in UNDEFINED_MEANS]
    checks.append((NO_SCORE, np.isnan(scores).any(axis=1)))
    for text, runs in checks:
        if runs is not None:
            reason[(reason < 0) & runs] = len(reasons)
            reasons.append(text)
    return Failures(reason >= 0, reason, tuple(reasons))


def account_failures(build_failed: np.ndarray, errors: dict[int, str],
                     combination_of_run: np.ndarray, scores: np.ndarray,
                     undefined: dict[str, np.ndarray] | None = None
                     ) -> tuple[np.ndarray, dict[str, int]]:
    """Which runs failed, and why (reason -> runs): :func:`classify_failures` in short."""
    failures = classify_failures(build_failed, errors, combination_of_run, scores, undefined)
    return failures.failed, failures.counts()


def coverage_note(used: int, total: int, what: str, kind: str, failures: dict[str, int]
                  ) -> str | None:
    """A note when fewer than 90 % of ``total`` survived failed runs: "indices rest on 448 of
    1,024 samples: …" (None otherwise)."""
    if used >= COVERAGE * total:
        return None
    reasons = "; ".join(f"{reason} ({count:,} runs)" for reason, count in failures.items())
    return f"{what} rest on {used:,} of {total:,} {kind}: {reasons}"


def failure_warnings(spec: AnalysisSpec, inputs: np.ndarray | None, failures: Failures
                     ) -> tuple[str, ...]:
    """One warning per alternative of a choice that makes most of its runs fail: more than
    :data:`MOST` of them, and clearly more than the runs without it (:func:`_blamed`); when most
    runs fail and no alternative is to blame alone (the failures come from a fixed setting, or
    from choices together), one warning for the whole analysis.

    ``inputs``: runs × choices, each run's pick (an alternative's index, a whole-number range's
    value; see :class:`~dti.analysis.spec.Runs`).  Weights and ranges over real numbers take
    values that do not recur, so they are not judged one value at a time."""
    if inputs is None or not failures.failed.any():
        return ()
    warnings = []
    for j, choice in enumerate(spec.choices):
        if choice.is_weights or (choice.range is not None and not choice.whole):
            continue
        picks, which = np.unique(inputs[:, j], return_inverse=True)
        which = which.ravel()
        runs = np.bincount(which, minlength=len(picks))
        failed = np.bincount(which, weights=failures.failed, minlength=len(picks))
        for k in np.flatnonzero(_blamed(failed, runs)):
            value = choice.alternatives[int(picks[k])] if choice.range is None else picks[k]
            mine = failures.reason[(which == k) & failures.failed]
            reason = failures.reasons[int(np.bincount(mine).argmax())]
            shown = choice_value(value) if value != () else "none"
            warnings.append(f"{choice.name} = {shown}: {int(failed[k]):,} of "
                            f"{int(runs[k]):,} runs fail ({failed[k] / runs[k]:.0%}), mostly "
                            f"for {reason}; the results rest on the other alternatives")
    total, failed = len(failures.failed), int(failures.failed.sum())
    if not warnings and failed > MOST * total:
        reason = failures.reasons[int(np.bincount(failures.reason[failures.failed]).argmax())]
        warnings.append(f"most runs fail: {failed:,} of {total:,} ({failed / total:.0%}), mostly "
                        f"for {reason}; the results rest on the others")
    return tuple(warnings)


def _blamed(failed: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """Per alternative: more than :data:`MOST` of its runs fail, and more than those of the other
    alternatives by :data:`SIGNIFICANT` standard errors of the difference of two shares (with the
    pooled share).  An alternative taken by every run has nothing to be compared with: it is
    never blamed alone."""
    share = failed / runs
    rest_runs = runs.sum() - runs
    with np.errstate(invalid="ignore", divide="ignore"):
        rest = (failed.sum() - failed) / rest_runs
        pooled = failed.sum() / runs.sum()
        error = np.sqrt(pooled * (1 - pooled) * (1 / runs + 1 / rest_runs))
        clear = np.where(rest_runs > 0, share - rest > SIGNIFICANT * error, False)
    return (share > MOST) & clear
