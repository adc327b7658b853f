"""Which API-key scope each route of the management API needs, declared here and nowhere else.

A route's scope is the most specific rule that matches its method and path: a rule's path is a
prefix of whole segments, where `<name>` stands for any one segment. The broad rules follow the
contract's table (CONTRACT §1) — every `GET` is `read`, every other method is `admin` — and the
narrower ones carve out the exceptions: reads only an admin may make, and the writes a marketer
may make. A new route is therefore covered the moment it exists (a new write is `admin` until a
rule here says otherwise), and `tests/integration/test_scopes.py` checks every route of the app
against these rules and against real keys.

Public routes (customer links, provider callbacks, the API's own documentation) verify their own
token, signature or secret and take no API key.
"""

from dataclasses import dataclass
from typing import Any, Final

from trigly.platform.tenancy import Scope

WRITES: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READS: Final = frozenset({"GET", "HEAD"})


class Public:
    """The marker of a route that takes no API key."""

    def __repr__(self) -> str:
        return "PUBLIC"


PUBLIC: Final = Public()


@dataclass(frozen=True)
class Rule:
    methods: frozenset[str]
    path: str  # a prefix of whole segments; `<name>` matches any one segment
    needs: Scope | Public

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))

    def matches(self, method: str, segments: tuple[str, ...]) -> bool:
        own = self.segments
        return (
            method in self.methods
            and len(segments) >= len(own)
            and all(o.startswith("<") or o == s for o, s in zip(own, segments, strict=False))
        )


def _rules(methods: frozenset[str], needs: Scope | Public, *paths: str) -> list[Rule]:
    return [Rule(methods, path, needs) for path in paths]


ANY: Final = READS | WRITES

RULES: Final[tuple[Rule, ...]] = (
    # Public: each checks its own token, signature or secret (CONTRACT §1a).
    *_rules(READS, PUBLIC, "/openapi.json", "/docs"),
    *_rules(ANY, PUBLIC, "/l", "/v1/callbacks", "/v1/telegram"),
    # read: every GET …
    *_rules(READS, Scope.READ, "/v1"),
    # … except keys, staff, the audit log and a customer's export.
    *_rules(
        READS,
        Scope.ADMIN,
        "/v1/api-keys",
        "/v1/staff",
        "/v1/audit",
        "/v1/customers/<customer_id>/export",
    ),
    # marketing: read + the campaign work a marketer does.
    *_rules(
        WRITES,
        Scope.MARKETING,
        "/v1/templates",
        "/v1/segments",
        "/v1/journeys",
        "/v1/campaigns",
        "/v1/messages",
        "/v1/offers",
        "/v1/scoring/refresh",
        "/v1/referral-links",
        "/v1/loyalty/redemptions",
        "/v1/reports",
        # A t.me link for a manager to send the customer: a message, not a setting.
        "/v1/customers/<customer_id>/telegram-link",
    ),
    # admin: every other write — keys, connectors, channels, settings, staff, merges, erasure,
    # imports, rejected-event replay, locations, maintenance plans and prices, push devices, the
    # loyalty programme.
    *_rules(WRITES, Scope.ADMIN, "/v1"),
)


def _segments(path: str) -> tuple[str, ...]:
    return tuple(path.strip("/").split("/"))


def rule_for(method: str, path: str) -> Rule | None:
    """The most specific rule for a request (or a route template), None when none matches."""
    segments = _segments(path)
    found = [r for r in RULES if r.matches(method.upper(), segments)]
    return max(found, key=lambda r: len(r.segments), default=None)


def needed(method: str, path: str) -> Scope | Public:
    """What a request needs; a path no rule covers needs `admin` (refuse rather than expose)."""
    rule = rule_for(method, path)
    return rule.needs if rule else Scope.ADMIN


def document(method: str, path: str, operation: dict[str, Any]) -> None:
    """Says in an OpenAPI operation which scope it needs and what a key without it gets."""
    scope = needed(method, path)
    if not isinstance(scope, Scope):
        return
    operation["x-trigly-scope"] = scope.value
    note = f"Needs an API key with scope `{scope.value}`."
    operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
    operation.setdefault("responses", {})["403"] = {
        "description": f"The API key's scopes do not include `{scope.value}`; nothing changed.",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
