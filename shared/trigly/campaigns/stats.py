"""The A/B decision's statistics: a two-proportion z-test (pooled), two-sided.

z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)), p the pooled rate; the p-value is
2 (1 - Φ(|z|)) = erfc(|z| / √2). Pure: counts in, numbers out.
"""

import math
from dataclasses import dataclass

SIGNIFICANT = 0.05


@dataclass(frozen=True)
class Arm:
    name: str
    successes: int  # clicked or booked
    trials: int  # sent

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0


def two_proportion_p_value(a: Arm, b: Arm) -> float:
    """Two-sided p-value of "both arms have the same rate"; 1.0 when it cannot be told (an arm
    without trials, or no variation at all)."""
    if a.trials == 0 or b.trials == 0:
        return 1.0
    pooled = (a.successes + b.successes) / (a.trials + b.trials)
    variance = pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials)
    if variance <= 0:
        return 1.0
    z = (a.rate - b.rate) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))


@dataclass(frozen=True)
class Decision:
    winner: str | None  # None: no significant difference, the rest gets the split
    p_value: float
    best: str


def decide(arms: list[Arm]) -> Decision:
    """The arm with the best rate wins when it beats the runner-up with p < 0.05 (with more
    than two arms, beating the runner-up means beating every other)."""
    ranked = sorted(arms, key=lambda arm: (-arm.rate, arm.name))
    best = ranked[0]
    if len(ranked) < 2:
        return Decision(None, 1.0, best.name)
    p_value = two_proportion_p_value(best, ranked[1])
    return Decision(best.name if p_value < SIGNIFICANT else None, p_value, best.name)
