"""The snapshot date time-dependent analyses work to, and the rows they must leave out.

The observation end is the latest date the data holds on or before today (``CHATTER_TODAY`` or
the clock), unless ``CHATTER_SNAPSHOT_DATE`` or an analysis's ``snapshot_date`` parameter sets
it. Taking it from the data alone would let one row dated in the future move it, and months that
have not happened would count as retained. Rows dated after the snapshot, churn dated before its
account's signup, and events before it are counted and left out, and the count is a note of the
run (``DataQuality``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from chatter.result import CAVEAT, Finding
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import Filter
from chatter.semantic.scope import scope_statement
from chatter.semantic.warehouse import Warehouse
from chatter.settings import get_settings
from chatter.tools.analyses.model_names import dimension_on, entity_key
from chatter.tools.analyses.sql_template import build_sql
from chatter.tools.params import Dimension, Params, Table


class TimeRoles(Params):
    """Where an account's dates live, by their names in the semantic model."""

    entity_table: Table = "users"
    signup_dimension: Dimension = "signup_date"
    churn_date_dimension: Dimension = "churn_date"
    event_time_dimension: Dimension = "event_ts"
    revenue_period_dimension: Dimension = "month"
    converted_dimension: Dimension = "converted"
    churned_dimension: Dimension = "churned"


@dataclass(frozen=True)
class TimeColumns:
    """The physical tables and columns of ``TimeRoles``."""

    users: str
    users_alias: str
    key: str
    signup: str
    churn: str
    converted: str
    churned: str
    events: str
    events_alias: str
    event_key: str
    event_time: str
    revenue: str
    revenue_alias: str
    revenue_key: str
    period: str

    def names(self) -> dict[str, str]:
        """Placeholder names of the SQL templates (``T_`` tables, ``A_`` aliases, ``C_`` columns)."""
        return {
            "T_U": self.users,
            "A_U": self.users_alias,
            "C_KEY": self.key,
            "C_SIGNUP": self.signup,
            "C_CHURN": self.churn,
            "C_CONVERTED": self.converted,
            "C_CHURNED": self.churned,
            "T_EV": self.events,
            "A_EV": self.events_alias,
            "C_EKEY": self.event_key,
            "C_TS": self.event_time,
            "T_REV": self.revenue,
            "A_REV": self.revenue_alias,
            "C_RKEY": self.revenue_key,
            "C_PERIOD": self.period,
        }


def time_columns(model: SemanticModel, roles: TimeRoles) -> TimeColumns:
    users = model.tables[roles.entity_table]
    events = model.tables[model.dimension(roles.event_time_dimension).table]
    revenue = model.tables[model.dimension(roles.revenue_period_dimension).table]

    def column(name: str, table: str) -> str:
        return dimension_on(model, name, table).dimension.column

    return TimeColumns(
        users=users.table,
        users_alias=users.name,
        key=users.primary_key[0],
        signup=column(roles.signup_dimension, users.name),
        churn=column(roles.churn_date_dimension, users.name),
        converted=column(roles.converted_dimension, users.name),
        churned=column(roles.churned_dimension, users.name),
        events=events.table,
        events_alias=events.name,
        event_key=entity_key(model, events.name, users.name),
        event_time=column(roles.event_time_dimension, events.name),
        revenue=revenue.table,
        revenue_alias=revenue.name,
        revenue_key=entity_key(model, revenue.name, users.name),
        period=column(roles.revenue_period_dimension, revenue.name),
    )


_DATA_END_SQL = """
SELECT greatest(
  (SELECT max(A_U.C_SIGNUP) FROM T_U AS A_U WHERE A_U.C_SIGNUP <= $today),
  (SELECT max(A_U.C_CHURN) FROM T_U AS A_U WHERE A_U.C_CHURN <= $today),
  (SELECT max(CAST(A_EV.C_TS AS DATE)) FROM T_EV AS A_EV WHERE CAST(A_EV.C_TS AS DATE) <= $today)
) AS data_end
"""

_LEFT_OUT_SQL = """
SELECT
  (SELECT count(*) FROM T_U AS A_U WHERE A_U.C_SIGNUP > $snapshot) AS future_signups,
  (SELECT count(*) FROM T_U AS A_U WHERE A_U.C_CHURN > $snapshot AND A_U.C_SIGNUP <= $snapshot)
    AS churn_after_snapshot,
  (SELECT count(*) FROM T_U AS A_U WHERE A_U.C_CHURN < A_U.C_SIGNUP) AS churn_before_signup,
  (SELECT count(*) FROM T_EV AS A_EV WHERE CAST(A_EV.C_TS AS DATE) > $snapshot) AS future_events,
  (SELECT count(*) FROM T_EV AS A_EV JOIN T_U AS A_U ON A_EV.C_EKEY = A_U.C_KEY
     WHERE CAST(A_EV.C_TS AS DATE) < A_U.C_SIGNUP) AS events_before_signup,
  (SELECT count(*) FROM T_REV AS A_REV WHERE A_REV.C_PERIOD > $snapshot) AS future_revenue_rows
"""

_LEFT_OUT_WORDS = {
    "future_signups": "signups dated after the snapshot",
    "churn_after_snapshot": "churn dates after the snapshot (counted as still active)",
    "churn_before_signup": "churn dates before their signup (accounts left out of churn)",
    "future_events": "events dated after the snapshot",
    "events_before_signup": "events before their account's signup",
    "future_revenue_rows": "revenue rows for periods after the snapshot",
}


def listed(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: items as a sentence lists them."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


#: Dates that cannot be (left out whatever the snapshot) and rows dated after the snapshot.
_IMPOSSIBLE = frozenset({"churn_before_signup", "events_before_signup"})
_FUTURE = frozenset({"future_signups", "future_events", "future_revenue_rows"})


@dataclass(frozen=True)
class DataQuality:
    """The observation end and what was left out because of it."""

    snapshot: dt.date
    source: str  # "parameter", "CHATTER_SNAPSHOT_DATE", "data" or "today"
    data_end: dt.date | None
    left_out: dict[str, int] = field(default_factory=dict)

    def note(self) -> str:
        """One sentence for the run's notes: the snapshot, and each count left out."""
        said = {
            "parameter": "as asked",
            "CHATTER_SNAPSHOT_DATE": "from CHATTER_SNAPSHOT_DATE",
            "data": "the latest date in the data on or before today",
            "today": "today (the data runs past it)",
        }[self.source]
        text = f"Observed to {self.snapshot.isoformat()} ({said})."
        parts = [f"{n:,} {_LEFT_OUT_WORDS[k]}" for k, n in self.left_out.items() if n]
        if parts:
            text += " Left out: " + "; ".join(parts) + "."
        return text

    def caveat(self) -> str | None:
        """The rows left out that the insight must mention: impossible dates always, and rows
        dated after a snapshot the data set (after today, or after the data's own end); rows
        after a snapshot that was asked for are the point of asking, not a caveat."""
        asked = self.source in ("parameter", "CHATTER_SNAPSHOT_DATE")
        shown = [
            f"{n:,} {_LEFT_OUT_WORDS[k]}"
            for k, n in self.left_out.items()
            if n and k in _IMPOSSIBLE | (set() if asked else _FUTURE)
        ]
        if not shown:
            return None
        return f"{CAVEAT}observed to {self.snapshot.isoformat()}; left out {listed(shown)}"

    def qualify(self, findings: list[Finding]) -> None:
        """Puts the caveat on each finding, so the insight stating it says it (once)."""
        caveat = self.caveat()
        if caveat is not None:
            for finding in findings:
                finding.warnings.append(caveat)

    def summary(self) -> dict[str, Any]:
        return {
            "snapshot_date": self.snapshot.isoformat(),
            "snapshot_source": self.source,
            "left_out": {k: n for k, n in self.left_out.items() if n},
        }


def today() -> dt.date:
    return get_settings().today or dt.date.today()


def observation_end(
    warehouse: Warehouse, roles: TimeRoles, snapshot_date: dt.date | None = None
) -> DataQuality:
    """The snapshot for ``warehouse``'s data (see the module's doc) and the rows it leaves out
    (worked out once per version of the data, today and snapshot setting)."""
    settings = get_settings()
    key = {
        "roles": roles.model_dump(mode="json"),
        "snapshot_date": snapshot_date,
        "today": today(),
        "configured": settings.snapshot_date,
    }
    return warehouse.fact(
        "observation_end", key, lambda: _observation_end(warehouse, roles, snapshot_date)
    )


def _observation_end(
    warehouse: Warehouse, roles: TimeRoles, snapshot_date: dt.date | None
) -> DataQuality:
    cols = time_columns(warehouse.model, roles)
    names = cols.names()
    now = today()
    data_end = _scalar(warehouse, _DATA_END_SQL, names, {"today": now})
    configured = get_settings().snapshot_date
    if snapshot_date is not None:
        snapshot, source = snapshot_date, "parameter"
    elif configured is not None:
        snapshot, source = configured, "CHATTER_SNAPSHOT_DATE"
    elif data_end is not None:
        snapshot, source = min(data_end, now), "data"
    else:
        snapshot, source = now, "today"
    statement = build_sql(_LEFT_OUT_SQL, placeholders_in(_LEFT_OUT_SQL, names))
    result = warehouse.run_ast(statement, {"snapshot": snapshot})
    left_out = {c: int(v or 0) for c, v in zip(result.columns, result.rows[0], strict=True)}
    return DataQuality(snapshot, source, data_end, left_out)


def _scalar(
    warehouse: Warehouse, template: str, names: dict[str, str], params: dict[str, Any]
) -> Any:
    result = warehouse.run_ast(build_sql(template, placeholders_in(template, names)), params)
    value = result.rows[0][0] if result.rows else None
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def placeholders_in(template: str, names: dict[str, str]) -> dict[str, str]:
    """The names of the placeholders ``template`` uses (build_sql refuses others)."""
    return {k: v for k, v in names.items() if re.search(rf"\b{k}\b", template)}


def timed_statement(
    model: SemanticModel,
    roles: TimeRoles,
    template: str,
    params: dict[str, Any],
    filters: tuple[dict[str, Any], ...] = (),
    more: dict[str, str] | None = None,
) -> tuple[exp.Expr, dict[str, Any]]:
    """``template`` with the roles' tables and columns (and ``more`` placeholders) swapped in,
    restricted to the rows the step's semantic ``filters`` keep (a question's window, a
    segment)."""
    names = time_columns(model, roles).names() | (more or {})
    ast = build_sql(template, placeholders_in(template, names))
    return scope_statement(ast, model, tuple(Filter(**f) for f in filters), params)
