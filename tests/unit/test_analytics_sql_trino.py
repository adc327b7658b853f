"""Every analytics query is Trino (Athena) SQL as well as DuckDB SQL.

Athena cannot run here, so each query text is parsed as Trino by sqlglot, must call only
functions sqlglot knows in Trino (an unknown one would be a DuckDB-only name), and the query as
sqlglot understands it in Trino, written back out for DuckDB, must give DuckDB the same answer as
the original text: the two engines read the text the same way.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest
import sqlglot
from sqlglot import expressions as exp

from tests.unit.segment_rows import population, view_from_rows
from tests.unit.test_segment_sql import MOSCOW, TENANT, leaves_for
from trigly.analytics import sql
from trigly.platform import clock
from trigly.segments.conditions import FIELDS, All, AnyOf, CarBlock, Condition, Not, Op

TODAY = clock.now().astimezone(MOSCOW).date()


def corpus() -> list[Condition]:
    """Each field with every op it takes (one `any` per field), car blocks, and the groups."""
    conditions: list[Condition] = []
    car_leaves: list[Condition] = []
    for field in FIELDS.values():
        leaves = [leaves_for(field, op, TENANT)[0] for op in Op if op in field.ops]
        conditions.append(AnyOf(tuple(leaves)))
        if field.name.startswith("car."):
            car_leaves += leaves
    conditions += [
        CarBlock(All(tuple(car_leaves[:4]))),
        Not(CarBlock(AnyOf(tuple(car_leaves[4:12])))),
        All(tuple(Not(c) for c in conditions[:6])),
        All(()),
    ]
    return conditions


CORPUS = corpus()


def functions_unknown_to_trino(tree: exp.Expression) -> set[str]:
    return {node.name for node in tree.find_all(exp.Anonymous)}


@pytest.fixture(scope="module")
def conn() -> duckdb.DuckDBPyConnection:
    return view_from_rows(population(seed=5, customers=80, today=TODAY))


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_every_query_parses_as_trino_and_means_the_same_in_duckdb(
    conn: duckdb.DuckDBPyConnection, index: int
) -> None:
    condition = CORPUS[index]
    for query in sql.every_query(condition, TODAY):
        tree = sqlglot.parse_one(query, read="trino")
        assert functions_unknown_to_trino(tree) == set(), query
        as_duckdb = tree.sql(dialect="duckdb")
        # Order is part of the page queries' answer; compare as lists.
        assert conn.execute(as_duckdb).fetchall() == conn.execute(query).fetchall(), query


def test_sqlglot_would_flag_a_duckdb_only_function() -> None:
    # The check above has teeth: DuckDB-only names surface as unknown functions in Trino.
    tree = sqlglot.parse_one("SELECT list_value(1, 2), epoch_ms(3) FROM t", read="trino")
    assert functions_unknown_to_trino(tree) == {"list_value", "epoch_ms"}


def test_the_dates_are_literals_both_engines_read() -> None:
    tree = sqlglot.parse_one(sql.count_sql(CORPUS[0], TODAY + timedelta(days=1)), read="trino")
    assert tree.find(exp.With) is not None
