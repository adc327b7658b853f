"""Stable per-customer choices: the same customer always lands on the same side, whatever
worker, retry or resume asks (sha256, not Python's salted `hash`)."""

import hashlib
from collections.abc import Sequence

from trigly.campaigns.model import Variant

_SCALE = 10_000  # basis points: percents with two decimals


def _point(*parts: str) -> int:
    """A customer's stable point in [0, 10000) for a purpose."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % _SCALE


def in_holdout(campaign_id: str, customer_id: str, percent: int) -> bool:
    return _point("holdout", campaign_id, customer_id) < percent * 100


def in_global_control(tenant_id: str, customer_id: str, percent: int) -> bool:
    """The tenant's global control group: the same customers for every campaign."""
    return _point("global_control", tenant_id, customer_id) < percent * 100


def in_test(campaign_id: str, customer_id: str, percent: int) -> bool:
    """The A/B test's share of the audience (sent first; the rest waits for the decision)."""
    return _point("ab_test", campaign_id, customer_id) < percent * 100


def variant_of(campaign_id: str, customer_id: str, variants: Sequence[Variant]) -> Variant:
    """By weight: variant ranges laid end to end over [0, 100)."""
    point = _point("variant", campaign_id, customer_id)
    edge = 0
    for variant in variants:
        edge += variant.weight * 100
        if point < edge:
            return variant
    return variants[-1]
