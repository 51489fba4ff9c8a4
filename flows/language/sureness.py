"""How sure a best score is, given the others: shared by the matcher and its calibration
(its own module, so a matcher not yet trained imports no numpy)."""

from __future__ import annotations


def sureness(score: float, total: float, sharpen: float) -> float:
    """Return a score weighed by its share of all the candidates' scores: a best intent far
    ahead of the rest stays near its score, one among several alike falls. With `sharpen`
    0 (examples that cannot tell known from unknown) it is the score itself."""
    if not sharpen or total <= 0:
        return score
    return float(score * (score / total) ** sharpen)
