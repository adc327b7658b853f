"""The import report: what a dry run would do, or what a commit did, per event type.

Counts are plain integers keyed `type:count` (`customer.upserted:new`), so partial reports of an
import's chunks add up with atomic counters; examples are capped lists.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

COUNTS = ("new", "existing", "duplicates", "invalid", "accepted")
MAX_EXAMPLES = 20
# Counters that are not per event type.
LINES, EVENTS = "lines", "events"
DUP_IN_FILE, DUP_IMPORTED = "duplicates_in_file", "duplicates_already_imported"
UNREADABLE, PREVIOUSLY_REJECTED = "unreadable_lines", "previously_rejected"
BAD_PHONES, BAD_EMAILS, WARNINGS = "invalid_phones", "invalid_emails", "warnings"
UNREADABLE_TYPE = "(unreadable line)"


@dataclass
class ImportReport:
    format: str
    dry_run: bool
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    invalid_examples: list[dict[str, Any]] = field(default_factory=list)
    contacts_examples: list[dict[str, Any]] = field(default_factory=list)
    warnings_examples: list[dict[str, Any]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    def count(self, name: str, n: int = 1) -> None:
        if n:
            self.counters[name] = self.counters.get(name, 0) + n

    def count_event(self, event_type: str, outcome: str, n: int = 1) -> None:
        self.count(f"{event_type}:{outcome}", n)

    def example(self, kind: str, example: dict[str, Any]) -> None:
        examples = self._examples(kind)
        if len(examples) < MAX_EXAMPLES:
            examples.append(example)

    def _examples(self, kind: str) -> list[dict[str, Any]]:
        examples: list[dict[str, Any]] = getattr(self, f"{kind}_examples")
        return examples

    def merge(self, other: "ImportReport") -> None:
        for name, n in other.counters.items():
            self.count(name, n)
        for kind in ("invalid", "contacts", "warnings"):
            for example in other._examples(kind):
                self.example(kind, example)
        for column in other.unknown_columns:
            if column not in self.unknown_columns:
                self.unknown_columns.append(column)

    def by_type(self) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for name, n in self.counters.items():
            event_type, sep, outcome = name.rpartition(":")
            if sep and outcome in COUNTS:
                found.setdefault(event_type, dict.fromkeys(COUNTS, 0))[outcome] += n
        return dict(sorted(found.items()))

    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(COUNTS, 0)
        for counts in self.by_type().values():
            for outcome, n in counts.items():
                totals[outcome] += n
        return totals

    def as_json(self) -> dict[str, Any]:
        get = self.counters.get
        return {
            "format": self.format,
            "dry_run": self.dry_run,
            "lines": get(LINES, 0),
            "events": get(EVENTS, 0),
            "totals": self.totals(),
            "by_type": self.by_type(),
            "duplicates": {
                "in_file": get(DUP_IN_FILE, 0),
                "already_imported": get(DUP_IMPORTED, 0),
            },
            "invalid": {
                "unreadable_lines": get(UNREADABLE, 0),
                "previously_rejected": get(PREVIOUSLY_REJECTED, 0),
                "examples": self.invalid_examples[:MAX_EXAMPLES],
            },
            "invalid_contacts": {
                "phones": get(BAD_PHONES, 0),
                "emails": get(BAD_EMAILS, 0),
                "examples": self.contacts_examples[:MAX_EXAMPLES],
            },
            "warnings": {
                "count": get(WARNINGS, 0),
                "examples": self.warnings_examples[:MAX_EXAMPLES],
            },
            "unknown_columns": list(self.unknown_columns),
        }
