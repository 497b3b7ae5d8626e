"""The compiler targets other warehouses through sqlglot: representative semantic queries
compiled once and written for Snowflake and BigQuery (and chatter's Spark spelling), compared
with checked-in golden SQL. Transpile only: nothing here runs on those warehouses. Each golden
is read back by sqlglot in its own dialect, so a spelling sqlglot cannot parse fails too.

Set UPDATE_GOLDEN=1 to rewrite the snapshots after an intended change, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from chatter.semantic.compiler import compile_query
from chatter.semantic.engines.spark_dialect import NAME as SPARK_DIALECT
from chatter.semantic.literals import literal_sql
from chatter.semantic.model import default_model
from chatter.semantic.query import SemanticQuery, resolve

GOLDEN = Path(__file__).parent.parent / "golden" / "dialects"
DIALECTS = ("snowflake", "bigquery", SPARK_DIALECT)

QUERIES: dict[str, dict[str, Any]] = {
    # A rate by a dimension, with a filter on a level.
    "conversion_rate_by_channel_for_fintech": {
        "measures": ["conversion_rate"],
        "dimensions": ["acquisition_channel"],
        "filters": [{"field": "industry", "op": "=", "value": "fintech"}],
        "order_by": [{"field": "conversion_rate", "descending": True}],
    },
    # Semi-additive: a quarter's MRR is its last month's, not the sum of three.
    "mrr_by_quarter": {"measures": ["mrr"], "dimensions": ["month"], "time_grain": "quarter"},
    # A time window on the measure's date, by month.
    "signups_by_month_in_a_window": {
        "measures": ["users"],
        "dimensions": ["signup_date"],
        "time_grain": "month",
        "filters": [
            {"field": "signup_date", "op": "between", "value": ["2025-04-01", "2025-06-30"]}
        ],
    },
}


def rendered(name: str, dialect: str) -> str:
    model = default_model()
    compiled = compile_query(resolve(SemanticQuery.parse(QUERIES[name]), model), model)
    sql = literal_sql(compiled.ast, compiled.params, dialect)
    return sqlglot.transpile(sql, read=dialect, write=dialect, pretty=True)[0] + "\n"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_golden_sql_per_dialect(name: str, dialect: str) -> None:
    pretty = rendered(name, dialect)
    path = GOLDEN / dialect / f"{name}.sql"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pretty)
    assert pretty == path.read_text(), f"{dialect} SQL for {name} changed; UPDATE_GOLDEN=1"


def test_values_stay_parameters_in_each_dialect() -> None:
    """The parameterized statement uses the dialect's own placeholders, never the value."""
    model = default_model()
    query = QUERIES["conversion_rate_by_channel_for_fintech"]
    compiled = compile_query(resolve(SemanticQuery.parse(query), model), model)
    spelled = {d: compiled.ast.sql(d) for d in DIALECTS}
    assert "@p1" in spelled["bigquery"] and ":p1" in spelled["snowflake"]
    assert ":p1" in spelled[SPARK_DIALECT]
    assert not any("fintech" in sql for sql in spelled.values())


def test_the_semi_additive_quarter_keeps_its_last_month_everywhere() -> None:
    """Each dialect's MRR by quarter still takes the quarter's last month only."""
    for dialect in DIALECTS:
        sql = rendered("mrr_by_quarter", dialect)
        assert "last_period" in sql and "QUARTER" in sql.upper(), dialect
