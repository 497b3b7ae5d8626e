"""The SQL that builds the demo's tables (users, events, revenue) inside DuckDB.

Every random draw is a hash of (row key, seed, salt), so the data is a pure function of the seed,
whatever the thread count, and 1M users take seconds because nothing loops in Python.
"""

from __future__ import annotations

from itertools import pairwise
from statistics import NormalDist

from sqlglot import exp

from chatter.demo.effects import (
    BASE_MONTHLY_CHURN,
    CHANNELS,
    COMPANY_SIZES,
    CORRELATED_PAIR,
    CORRELATION_RHO,
    COUNTRIES,
    END,
    FEATURES,
    INDUSTRIES,
    MAX_EVENTS_PER_FEATURE,
    PLANS,
    RETENTION_FEATURE,
    RETENTION_HAZARD_RATIO,
    SIGNUP_DAYS,
    START,
    UPGRADE_PROBABILITY,
    Level,
    Plan,
)


def _lit(value: object) -> str:
    """A SQL literal for a constant of the demo's shape (never user text)."""
    return exp.convert(value).sql("duckdb")


def _pick(levels: tuple[Level, ...] | tuple[Plan, ...], draw: str) -> str:
    """CASE expression choosing a level by inverse CDF of a uniform draw."""
    total = sum(level.weight for level in levels)
    cum, branches = 0.0, []
    for level in levels[:-1]:
        cum += level.weight / total
        branches.append(f"WHEN {draw} < {cum!r} THEN {_lit(level.name)}")
    return f"CASE {' '.join(branches)} ELSE {_lit(levels[-1].name)} END"


def _lookup(levels: tuple[Level, ...] | tuple[Plan, ...], column: str, attr: str) -> str:
    """CASE expression mapping a level name to one of its numeric attributes."""
    branches = " ".join(
        f"WHEN {_lit(level.name)} THEN {float(getattr(level, attr))!r}" for level in levels
    )
    return f"CASE {column} {branches} END"


def _feature_counts(plan_column: str) -> list[str]:
    """Per feature, the SQL for one user's event count: 0 unless a latent normal passes the
    feature's adoption threshold, else a heavy-tailed (log-normal) count. The correlated pair
    shares part of its latent adoption and intensity draws; API use depends on the plan."""
    quantile = NormalDist().inv_cdf
    index = {f.name: i for i, f in enumerate(FEATURES)}
    dash, report = (index[name] for name in CORRELATED_PAIR)
    rho = CORRELATION_RHO
    counts = []
    for i, feature in enumerate(FEATURES):
        z_adopt = f"gauss(user_id, {100 + i})"
        z_uses = f"gauss(user_id, {200 + i})"
        threshold = f"{quantile(1 - feature.adoption)!r}" if 0 < feature.adoption < 1 else "99.0"
        mu = f"{feature.mu!r}"
        if feature.name == RETENTION_FEATURE:
            z_adopt = "z_retention"
        if i == report:
            z_adopt = f"(0.5 * gauss(user_id, {100 + dash}) + {0.75**0.5!r} * {z_adopt})"
            z_uses = (
                f"({rho!r} * gauss(user_id, {200 + dash}) + {(1 - rho * rho) ** 0.5!r} * {z_uses})"
            )
        if feature.name == "api_call":
            threshold = "CASE {} {} END".format(
                plan_column,
                " ".join(
                    f"WHEN {_lit(p.name)} THEN {quantile(1 - p.api_adoption)!r}" for p in PLANS
                ),
            )
            mu = f"({mu} + {_lookup(PLANS, plan_column, 'api_intensity')})"
        counts.append(
            f"CASE WHEN {z_adopt} > {threshold} THEN least({MAX_EVENTS_PER_FEATURE}, 1 + floor("
            f"exp({mu} + {feature.sigma!r} * {z_uses})))::INTEGER ELSE 0 END"
        )
    return counts


def table_statements(users: int, seed: int) -> list[str]:
    """The statements, in order, that leave the tables users, events and revenue behind."""
    retention = next(i for i, f in enumerate(FEATURES) if f.name == RETENTION_FEATURE)
    features = ", ".join(f"({i}, {_lit(f.name)})" for i, f in enumerate(FEATURES))
    counts = _feature_counts("plan_type")
    count_columns = ", ".join(f"{sql} AS n{i}" for i, sql in enumerate(counts))
    before = ["0"] + [" + ".join(f"n{j}" for j in range(i)) for i in range(1, len(FEATURES) + 1)]
    pick_n = " ".join(f"WHEN {i} THEN n{i}" for i in range(len(FEATURES)))
    pick_offset = " ".join(f"WHEN {i} THEN {before[i]}" for i in range(len(FEATURES)))
    return [
        # A keyed uniform draw in (0, 1): hashing the key and the (seed, salt) pair separately,
        # then hashing their XOR, keeps draws of different salts independent (one combined
        # hash(k, seed, salt) leaves them correlated, which would plant effects nobody chose).
        f"CREATE TEMP MACRO unif(k, salt) AS "
        f"((hash(xor(hash(k), hash({int(seed)} * 4096 + salt))) >> 11)::DOUBLE + 0.5)"
        f" / 9007199254740992.0",
        # Standard normal by Box-Muller from two salts.
        "CREATE TEMP MACRO gauss(k, salt) AS "
        "sqrt(-2 * ln(unif(k, 2 * salt + 1000))) * cos(2 * pi() * unif(k, 2 * salt + 1001))",
        # Signup days: growth over two years, a winter peak and summer dip, quiet weekends.
        f"""CREATE TEMP TABLE days AS
        WITH d AS (
            SELECT range AS i, DATE {_lit(START)} + range::INTEGER AS day FROM range({SIGNUP_DAYS})
        ), w AS (
            SELECT i, day, (1 + 1.2 * i / {SIGNUP_DAYS})
                * (1 + 0.18 * cos(2 * pi() * (dayofyear(day) - 20) / 365.25))
                * CASE WHEN dayofweek(day) IN (0, 6) THEN 0.55 ELSE 1.0 END AS weight FROM d
        )
        SELECT day, (sum(weight) OVER (ORDER BY i) - weight) / sum(weight) OVER () AS cum_lo FROM w""",
        f"CREATE TEMP TABLE features(idx INTEGER, name VARCHAR); INSERT INTO features VALUES {features}",
        f"""CREATE TEMP TABLE draws AS
        SELECT range + 1 AS user_id, unif(range + 1, 1) AS r_signup FROM range({int(users)})""",
        # One row per user with every latent trait the other tables derive from.
        f"""CREATE TEMP TABLE people AS
        SELECT d.user_id, days.day AS signup_date,
            {_pick(PLANS, "unif(d.user_id, 2)")} AS plan_type,
            {_pick(INDUSTRIES, "unif(d.user_id, 3)")} AS industry,
            {_pick(CHANNELS, "unif(d.user_id, 4)")} AS acquisition_channel,
            {_pick(COMPANY_SIZES, "unif(d.user_id, 5)")} AS company_size,
            {_pick(COUNTRIES, "unif(d.user_id, 6)")} AS country,
            7 + floor(unif(d.user_id, 7) * 15)::INTEGER AS trial_days,
            gauss(d.user_id, {100 + retention}) AS z_retention
        FROM draws d ASOF JOIN days ON d.r_signup >= days.cum_lo""",
        f"""CREATE TEMP TABLE accounts AS
        WITH a AS (
            SELECT *, signup_date + trial_days AS conversion_date,
                unif(user_id, 8) < least(0.95,
                    {_lookup(PLANS, "plan_type", "conversion")}
                    * {_lookup(INDUSTRIES, "industry", "conversion")}
                    * {_lookup(CHANNELS, "acquisition_channel", "conversion")}) AS converted,
                {counts[retention]} > 0 AS retained_feature,
                -ln(unif(user_id, 9)) AS lifetime_draw
            FROM people
        ), b AS (
            SELECT *, lifetime_draw / ({BASE_MONTHLY_CHURN!r} * {_lookup(PLANS, "plan_type", "churn")}
                * CASE WHEN retained_feature THEN {RETENTION_HAZARD_RATIO!r} ELSE 1.0 END)
                AS lifetime_months
            FROM a
        ), c AS (
            SELECT *, conversion_date + (lifetime_months * 30.44)::INTEGER AS churn_at FROM b
        )
        SELECT *, converted AND churn_at <= DATE {_lit(END)} AS churned,
            CASE WHEN converted AND churn_at <= DATE {_lit(END)} THEN churn_at END AS churn_date,
            CASE WHEN NOT converted THEN conversion_date
                 WHEN churn_at <= DATE {_lit(END)} THEN churn_at
                 ELSE DATE {_lit(END)} + 1 END AS active_until
        FROM c""",
        """CREATE TABLE users AS
        SELECT user_id::BIGINT AS user_id, signup_date::DATE AS signup_date,
            plan_type::VARCHAR AS plan_type, industry::VARCHAR AS industry,
            acquisition_channel::VARCHAR AS acquisition_channel,
            company_size::VARCHAR AS company_size, country::VARCHAR AS country,
            converted::BOOLEAN AS converted, churned::BOOLEAN AS churned,
            churn_date::DATE AS churn_date
        FROM accounts ORDER BY user_id""",
        # Event counts per user and feature, and each (user, feature)'s first event id: ids are
        # consecutive in (user, feature) order, computed with one running sum over users.
        f"""CREATE TEMP TABLE usage AS
        WITH wide AS (
            SELECT user_id, signup_date, active_until, {count_columns} FROM accounts
        ), based AS (
            SELECT *, sum({before[-1]}) OVER (ORDER BY user_id) - ({before[-1]}) AS base FROM wide
        )
        SELECT * FROM (
            SELECT user_id, signup_date, active_until, f.idx, f.name,
                CASE f.idx {pick_n} END AS n, base + CASE f.idx {pick_offset} END AS first_id
            FROM based CROSS JOIN features f
        ) WHERE n > 0""",
        # A user's first use of a feature falls in its first 20 days (or its whole window if
        # shorter), the others uniformly in its active window (trial, or until churn or END):
        # how early an account starts using a feature does not depend on how long it will
        # live, as in real data (uniform first uses would crowd short lives' windows).
        """CREATE TABLE events AS
        SELECT (first_id + k + 1)::BIGINT AS event_id, user_id::BIGINT AS user_id,
            name::VARCHAR AS event_type,
            (signup_date::TIMESTAMP + to_microseconds((unif((user_id * 64 + idx) * 8192 + k, 13)
                * (CASE WHEN k = 0
                        THEN least(date_diff('second', signup_date, active_until), 1728000)
                        ELSE date_diff('second', signup_date, active_until) END
                   * 1000000))::BIGINT))::TIMESTAMP AS event_ts
        FROM (SELECT *, unnest(range(n)) AS k FROM usage)""",
        # Paid months: from the conversion month up to (not including) the churn month, else
        # through the last month; some accounts upgrade one plan part-way through.
        f"""CREATE TABLE revenue AS
        WITH paying AS (
            SELECT user_id, plan_type, unif(user_id, 10) AS r_price,
                date_trunc('month', conversion_date)::DATE AS first_month,
                CASE WHEN churned THEN date_trunc('month', churn_date)::DATE - INTERVAL 1 MONTH
                     ELSE date_trunc('month', DATE {_lit(END)})::DATE END AS last_month,
                unif(user_id, 11) < {UPGRADE_PROBABILITY!r} AS upgrades,
                unif(user_id, 12) AS r_upgrade
            FROM accounts WHERE converted
        ), months AS (
            SELECT *, unnest(generate_series(first_month::TIMESTAMP, last_month::TIMESTAMP,
                INTERVAL 1 MONTH))::DATE AS month,
                date_diff('month', first_month, last_month) AS span
            FROM paying WHERE last_month >= first_month
        ), planned AS (
            SELECT user_id, month, r_price,
                CASE WHEN upgrades AND date_diff('month', first_month, month) >= 1 + floor(r_upgrade * span)
                     THEN {_upgrade_case("plan_type")} ELSE plan_type END AS plan_type
            FROM months
        )
        SELECT user_id::BIGINT AS user_id, month::DATE AS month, plan_type::VARCHAR AS plan_type,
            round({_lookup(PLANS, "plan_type", "price")}
                * CASE WHEN plan_type IN ({_lit(PLANS[-2].name)}, {_lit(PLANS[-1].name)})
                       THEN 0.85 + 0.3 * r_price ELSE 1.0 END, 2)::DOUBLE AS mrr
        FROM planned""",
    ]


def _upgrade_case(column: str) -> str:
    branches = " ".join(
        f"WHEN {_lit(lower.name)} THEN {_lit(higher.name)}" for lower, higher in pairwise(PLANS)
    )
    return f"CASE {column} {branches} ELSE {column} END"
