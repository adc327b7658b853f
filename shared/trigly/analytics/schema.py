"""The tables of the analytics view, their columns and types: one definition that the projection
writes, the compaction folds, DuckDB reads and the template's Glue tables declare.

Every row belongs to one customer (`customer_id`) and carries the `version` of the change that
wrote it: the projection rewrites all of a customer's rows at once, so the rows of the newest
version of a customer replace all older ones in every table, and a customer whose newest version
is a tombstone (`customers.erased`) has no rows at all. Dates that move with the clock ("days
ago", "in days", ages) are stored as dates and turned into numbers at query time, so a snapshot
never goes stale as days pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from trigly.events.types import Channel, ConsentPurpose

# Column types in the SQL both DuckDB and Athena (Trino) understand; Glue's names beside them.
GLUE_TYPES = {
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "DOUBLE": "double",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str

    @property
    def glue_type(self) -> str:
        return GLUE_TYPES[self.sql_type]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _columns(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, sql_type) for name, sql_type in pairs)


# Every table starts with these: whose row it is and which change wrote it (a ULID: sorts by time).
_OWNER = (("customer_id", "VARCHAR"), ("version", "VARCHAR"))

CONSENT_COLUMNS = tuple(
    f"consent_{channel.value}_{purpose.value}" for channel in Channel for purpose in ConsentPurpose
)

CUSTOMERS = Table(
    "customers",
    _columns(
        *_OWNER,
        ("erased", "BOOLEAN"),  # a tombstone: the customer and all their rows are gone
        ("region", "VARCHAR"),
        ("city", "VARCHAR"),
        ("location_id", "VARCHAR"),
        ("preferred_channel", "VARCHAR"),
        ("timezone", "VARCHAR"),
        ("birth_date", "DATE"),
        *((name, "BOOLEAN") for name in CONSENT_COLUMNS),
        ("visits_count", "INTEGER"),  # closed service orders, all time
        ("last_visit_on", "DATE"),
        ("visits_total_amount", "DOUBLE"),
        ("purchases_count", "INTEGER"),  # cars bought from the tenant
        ("last_purchase_on", "DATE"),
        ("spend_total", "DOUBLE"),  # service + parts + cars
        ("last_clicked_on", "DATE"),  # the last message link clicked
        ("web_last_visit_on", "DATE"),
        ("readiness_score", "DOUBLE"),  # §7, null until scored
        ("loyalty_balance", "BIGINT"),  # §8, null without a programme
        ("loyalty_tier", "VARCHAR"),
        ("updated_at", "TIMESTAMP"),
    ),
)

CARS = Table(
    "cars",
    _columns(
        *_OWNER,
        ("vin", "VARCHAR"),
        ("current", "BOOLEAN"),  # false: traded in or sold on (never matches a segment)
        ("make", "VARCHAR"),  # as received; conditions compare case-insensitively
        ("model", "VARCHAR"),
        ("year", "INTEGER"),
        ("condition", "VARCHAR"),  # new / used, as the tenant sold it
        ("first_registered_on", "DATE"),  # first sale or registration: car.age_years
        # The estimated mileage is a line: `mileage_km` on `mileage_on`, growing `km_per_day`.
        ("mileage_km", "DOUBLE"),
        ("mileage_on", "DATE"),
        ("km_per_day", "DOUBLE"),
        ("maintenance_due_on", "DATE"),
        ("financing_ends_on", "DATE"),
        ("insurance_ends_on", "DATE"),
        ("warranty_ends_on", "DATE"),
        ("owned_since", "DATE"),
        ("owned_until", "DATE"),
    ),
)

# The last view of each car model's pages per customer (web.viewed_model, 90 days).
MODEL_VIEWS = Table(
    "model_views",
    _columns(*_OWNER, ("make", "VARCHAR"), ("model", "VARCHAR"), ("last_viewed_on", "DATE")),
)

VISITS = Table(
    "visits",
    _columns(
        *_OWNER,
        ("order_id", "VARCHAR"),
        ("vin", "VARCHAR"),
        ("closed_at", "TIMESTAMP"),
        ("total_amount", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("location_id", "VARCHAR"),
        ("mileage_km", "INTEGER"),
        ("maintenance", "BOOLEAN"),
    ),
)

PURCHASES = Table(
    "purchases",
    _columns(
        *_OWNER,
        ("deal_id", "VARCHAR"),
        ("vin", "VARCHAR"),
        ("sold_at", "TIMESTAMP"),
        ("price", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("condition", "VARCHAR"),
        ("location_id", "VARCHAR"),
    ),
)

MESSAGES = Table(
    "messages",
    _columns(
        *_OWNER,
        ("message_id", "VARCHAR"),
        ("kind", "VARCHAR"),  # journey / campaign / transactional …
        ("purpose", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("status", "VARCHAR"),
        ("reason", "VARCHAR"),  # why suppressed or failed
        ("created_at", "TIMESTAMP"),
        ("delivered_at", "TIMESTAMP"),
        ("clicked_at", "TIMESTAMP"),
        ("journey_id", "VARCHAR"),
        ("campaign_id", "VARCHAR"),
        ("variant", "VARCHAR"),
        ("cost", "DOUBLE"),
    ),
)

TABLES: tuple[Table, ...] = (CUSTOMERS, CARS, MODEL_VIEWS, VISITS, PURCHASES, MESSAGES)
TABLES_BY_NAME = {table.name: table for table in TABLES}
