"""Analyses on real DuckDB files: planted effects found, null data quiet, numbers equal to an
independent computation (hand-written SQL, pandas, scipy) on the same data."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from run_findings import corrected
from scipy import stats as sps
from statsmodels.stats.rates import test_poisson_2indep as poisson_two_rates
from synthetic import FEATURES, PLANS, make_dataset

from chatter.result import Finding
from chatter.semantic.engine import Engine, connection_config
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.insight import render_insights
from chatter.tools.stats import correct_findings

pytestmark = pytest.mark.integration


# Seeds are fixed: under BH each family of null tests has about a 5% chance of one false
# positive, so a few seeds show one; these two show none (see also the FDR simulation test).
@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path = make_dataset(tmp_path_factory.mktemp("planted") / "p.duckdb", seed=4, effects=True)
    with Warehouse(Engine(path), default_model()) as wh:
        yield wh


@pytest.fixture(scope="module")
def null(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path = make_dataset(tmp_path_factory.mktemp("null") / "n.duckdb", seed=2, effects=False)
    with Warehouse(Engine(path), default_model()) as wh:
        yield wh


def sql(wh: Warehouse, statement: str) -> list[tuple]:
    # The engine's configuration, so DuckDB lets both connections share the open database.
    con = duckdb.connect(str(wh.engine.path), read_only=True, config=connection_config())
    try:
        return con.execute(statement).fetchall()
    finally:
        con.close()


def significant(findings: list[Finding], **match: object) -> list[Finding]:
    return [
        f
        for f in correct_findings(findings)
        if f.significant and all(getattr(f, k) == v for k, v in match.items())
    ]


def no_nan(result: analyses.AnalysisResult) -> None:
    for f in result.findings:
        for value in (f.statistic, f.p_value, f.effect_size, f.ci_low, f.ci_high):
            assert value is None or math.isfinite(value)
        assert f.testable == (f.p_value is not None)


# ---- segment rate tests -----------------------------------------------------------------------


def test_segment_rate_tests_find_the_planted_levels(planted: Warehouse) -> None:
    result = analyses.segment_rate_tests(
        planted,
        analyses.SegmentTestParams(
            dimensions=["industry", "acquisition_channel", "country", "company_size"]
        ),
    )
    no_nan(result)
    hits = {(f.dimension, f.segment) for f in significant(result.findings)}
    assert ("industry", None) in hits and ("industry", "dental") in hits
    assert ("acquisition_channel", None) in hits and ("acquisition_channel", "radio") in hits
    assert not {h for h in hits if h[0] in ("country", "company_size")}
    dental = next(r for r in result.rows if r["segment"] == "dental")
    assert dental["conversion_rate"] > dental["conversion_rate_rest"]
    counts = dict(sql(planted, "SELECT industry, count(*) FROM users GROUP BY 1"))
    assert {r["segment"]: r["users"] for r in result.rows if r["dimension"] == "industry"} == counts


def test_segment_rate_tests_on_null_data_find_nothing(null: Warehouse) -> None:
    result = analyses.segment_rate_tests(
        null,
        analyses.SegmentTestParams(
            dimensions=["plan_type", "industry", "acquisition_channel", "country"]
        ),
    )
    assert significant(result.findings) == []
    assert len(result.findings) == 4 + 3 + 4 + 3 + 3


def test_segment_rate_tests_need_a_ratio(planted: Warehouse) -> None:
    from chatter.errors import InvalidQueryError

    with pytest.raises(InvalidQueryError, match="not a ratio"):
        analyses.segment_rate_tests(planted, analyses.SegmentTestParams(metric="users"))


def test_churn_rate_by_segment_uses_paying_accounts(planted: Warehouse) -> None:
    params = {"metric": "churn_rate", "dimensions": ["plan_type"]}
    shares = analyses.segment_rate_tests(
        planted, analyses.SegmentTestParams(**params, exposure="accounts")
    )
    expected = dict(
        (p, (c, n))
        for p, c, n in sql(
            planted,
            "SELECT plan_type, count(*) FILTER (WHERE churned), count(*) FILTER (WHERE "
            "converted) FROM users GROUP BY 1",
        )
    )
    for row in shares.rows:
        assert (row["churned_users"], row["converted_users"]) == expected[row["segment"]]
    # By default a churn rate is compared per paying month: revenue rows of paying accounts.
    per_month = analyses.segment_rate_tests(planted, analyses.SegmentTestParams(**params))
    months = dict(
        sql(
            planted,
            "SELECT u.plan_type, count(*) FROM revenue r JOIN users u USING (user_id) "
            "WHERE u.converted GROUP BY 1",
        )
    )
    for row in per_month.rows:
        assert (row["churns"], row["paying_accounts"]) == expected[row["segment"]]
        assert row["paying_months"] == months[row["segment"]]
        assert row["monthly_churn_rate"] == pytest.approx(row["churns"] / row["paying_months"])


@pytest.mark.parametrize("planted_gap", [True, False])
def test_a_two_level_dimension_is_one_question(tmp_path: Path, planted_gap: bool) -> None:
    """Two levels: the omnibus and both level tests ask one question; it is asked, corrected
    and stated once (the smaller level against the other)."""
    path = make_dataset(tmp_path / "pair.duckdb", users=6000, seed=7, effects=False)
    con = duckdb.connect(str(path))
    # A two-level country: 30% of accounts; with a gap planted, converted accounts twice as often.
    # Deterministic (hashed ids): the null case cannot turn into a chance finding between runs.
    chance = "CASE WHEN converted THEN 45 ELSE 25 END" if planted_gap else "30"
    con.execute(
        f"UPDATE users SET country = CASE WHEN hash(user_id) % 100 < {chance} "
        "THEN 'tarn' ELSE 'vale' END"
    )
    con.close()
    with Warehouse(Engine(path), default_model()) as wh:
        result = analyses.segment_rate_tests(
            wh, analyses.SegmentTestParams(dimensions=("country",))
        )
    findings = correct_findings(result.findings)
    asked = [f for f in findings if not f.descriptive]
    assert [f.segment for f in asked] == ["tarn"]  # the smaller level
    assert len(findings) == 3 and all(f.p_adjusted is None for f in findings if f.descriptive)
    assert asked[0].significant is planted_gap
    step = result.to_step("validation", "statistical_test")
    texts = [i.text for i in render_insights([step], findings, alpha=0.05)]
    said = " ".join(texts)
    assert said.count("vs the rest") == (1 if planted_gap else 0), texts
    assert ("higher for tarn vs the rest" in said) is planted_gap, texts
    assert "differs across country" not in said
    assert any("two levels: one question" in n for n in result.notes)


# ---- cohorts --------------------------------------------------------------------------------


def test_cohorts_are_consistent_and_match_sql(planted: Warehouse) -> None:
    result = analyses.cohort_analysis(planted)
    no_nan(result)
    by_cohort: dict[str, list[dict]] = {}
    for row in result.rows:
        by_cohort.setdefault(row["cohort"], []).append(row)
    snapshot = result.summary["snapshot_date"]
    for cohort, rows in by_cohort.items():
        rates = [r["retention_rate"] for r in rows if r["retention_rate"] is not None]
        assert rates == sorted(rates, reverse=True) and all(0 <= r <= 1 for r in rates)
        assert [r["periods_since_signup"] for r in rows] == list(range(len(rows)))
        year, month = int(cohort[:4]), int(cohort[5:7])
        # Periods shown: those that have ended by the snapshot (a period ending on it counts).
        day = dt.date.fromisoformat(snapshot)
        month_ended = day.day == calendar.monthrange(day.year, day.month)[1]
        ended = (day.year * 12 + day.month) - (year * 12 + month) + month_ended
        assert len(rows) == min(13, ended)
    expected = {
        str(d): (n, c)
        for d, n, c in sql(
            planted,
            "SELECT date_trunc('month', signup_date)::DATE, count(*), "
            "count(*) FILTER (WHERE converted) FROM users GROUP BY 1",
        )
    }
    for cohort, rows in by_cohort.items():
        assert (rows[0]["users"], rows[0]["converted_users"]) == expected[cohort]
    # Retention by hand for one cohort and horizon.
    cohort = sorted(by_cohort)[2]
    kept = sql(
        planted,
        f"""SELECT count(*) FILTER (WHERE converted AND NOT (churned AND
        date_trunc('month', churn_date) <= DATE '{cohort}' + INTERVAL 3 MONTH)) FROM users
        WHERE date_trunc('month', signup_date) = DATE '{cohort}'""",
    )[0][0]
    assert by_cohort[cohort][3]["retained_users"] == kept


def test_cohorts_on_null_data_find_nothing(null: Warehouse) -> None:
    result = analyses.cohort_analysis(null)
    assert len(result.findings) == 3 and significant(result.findings) == []


# ---- features -------------------------------------------------------------------------------


def test_adoption_by_segment_finds_the_plan_dependent_feature(
    planted: Warehouse, null: Warehouse
) -> None:
    result = analyses.adoption_by_segment(planted)
    no_nan(result)
    assert {f.subject for f in significant(result.findings)} == {"delta"}
    rates = {r["segment"]: r["adoption_rate"] for r in result.rows if r["feature"] == "delta"}
    assert rates["bronze"] < rates["silver"] < rates["gold"]
    assert significant(analyses.adoption_by_segment(null).findings) == []


def per_user_counts(wh: Warehouse) -> tuple[np.ndarray, list[str]]:
    """The accounts x features matrix, built independently with a DuckDB PIVOT."""
    cols = ", ".join(
        f"count(e.event_id) FILTER (WHERE e.event_type = '{f}') AS {f}" for f in FEATURES
    )
    rows = sql(
        wh, f"SELECT {cols} FROM users u LEFT JOIN events e USING (user_id) GROUP BY u.user_id"
    )
    return np.asarray(rows, dtype=float), list(FEATURES)


def test_usage_correlation_equals_scipy_and_finds_the_planted_pair(planted: Warehouse) -> None:
    """Per pair: co-adoption over all accounts (phi, uncorrected chi-square) and the Spearman
    correlation of counts among accounts using both, each as scipy computes it; alpha and beta
    share a latent adoption and intensity, so both questions find that pair and only it."""
    result = analyses.usage_correlation(planted)
    no_nan(result)
    matrix, names = per_user_counts(planted)
    for row in result.rows:
        i, j = names.index(row["feature_a"]), names.index(row["feature_b"])
        a, b = matrix[:, i] > 0, matrix[:, j] > 0
        table = [[(a & b).sum(), (a & ~b).sum()], [(~a & b).sum(), (~a & ~b).sum()]]
        _, p_co, _, _ = sps.chi2_contingency(table, correction=False)
        phi = np.corrcoef(a, b)[0, 1]
        assert math.isclose(row["co_adoption_phi"], phi, rel_tol=1e-9)
        assert math.isclose(row["co_adoption_p_value"], p_co, rel_tol=1e-6, abs_tol=1e-300)
        both = a & b
        rho, p = sps.spearmanr(matrix[both, i], matrix[both, j])
        assert row["both_users"] == both.sum()
        assert math.isclose(row["intensity_correlation"], rho, rel_tol=1e-9)
        assert math.isclose(row["intensity_p_value"], p, rel_tol=1e-6, abs_tol=1e-300)
    for metric in ("feature_co_adoption", "usage_correlation"):
        assert {f.subject for f in significant(result.findings, metric=metric)} == {"alpha ~ beta"}
    assert len(result.rows) == len(FEATURES) * (len(FEATURES) - 1) // 2


def test_usage_correlation_on_null_data_finds_nothing(null: Warehouse) -> None:
    assert significant(analyses.usage_correlation(null).findings) == []


def test_churn_relationship_finds_the_retaining_feature(
    planted: Warehouse, null: Warehouse
) -> None:
    result = analyses.churn_relationship(planted)
    no_nan(result)
    hits = significant(result.findings)
    assert [f.segment for f in hits] == ["gamma"]
    assert hits[0].estimates["difference"] < 0
    # The landmark design by hand: paying accounts still active 30 days after signup (and
    # observed past it), early use of gamma, churns and paying months after the landmark.
    snapshot = sql(
        planted,
        """SELECT greatest((SELECT max(signup_date) FROM users),
            (SELECT max(churn_date) FROM users), (SELECT max(event_ts)::DATE FROM events))""",
    )[0][0]
    ((adopters, churned, months),) = sql(
        planted,
        f"""WITH landmark AS (
            SELECT user_id, churned AND churn_date <= DATE '{snapshot}' AS gone,
                date_diff('day', signup_date + 30, CASE WHEN churned
                    AND churn_date <= DATE '{snapshot}' THEN churn_date
                    ELSE DATE '{snapshot}' END) AS days
            FROM users WHERE converted AND signup_date + 30 <= DATE '{snapshot}'
                AND NOT (churned AND churn_date <= signup_date + 30))
        SELECT count(*), count(*) FILTER (WHERE gone), sum(days) / (365.25 / 12) FROM landmark
        WHERE user_id IN (SELECT e.user_id FROM events e JOIN users u USING (user_id)
            WHERE e.event_type = 'gamma' AND e.event_ts::DATE >= u.signup_date
            AND e.event_ts::DATE < u.signup_date + 30)""",
    )
    row = next(r for r in result.rows if r["feature"] == "gamma")
    assert (row["adopters"], row["adopter_churns"]) == (adopters, churned)
    assert math.isclose(row["adopter_paying_months"], months, rel_tol=1e-9)
    rest = (row["non_adopter_churns"], row["non_adopter_paying_months"])
    independent = poisson_two_rates(churned, months, *rest, method="exact-cond")
    assert math.isclose(hits[0].p_value, independent.pvalue, rel_tol=1e-9, abs_tol=1e-300)
    assert hits[0].effect_size < 0.6 and hits[0].ci_high < 1  # planted hazard ratio 0.42
    assert significant(analyses.churn_relationship(null).findings) == []


def test_power_users_match_an_independent_computation(planted: Warehouse) -> None:
    result = analyses.power_users(planted)
    no_nan(result)
    matrix, names = per_user_counts(planted)
    total = matrix.sum(axis=1)
    active = matrix[total > 0]
    threshold = np.quantile(total[total > 0], 0.9)
    power = active[active.sum(axis=1) >= threshold]
    rest = active[active.sum(axis=1) < threshold]
    assert result.summary["power_users"] == len(power)
    assert result.summary["other_active_accounts"] == len(rest)
    for row in result.rows:
        k = names.index(row["feature"])
        assert math.isclose(row["power_adoption_rate"], (power[:, k] > 0).mean())
        assert math.isclose(row["rest_uses_per_account"], rest[:, k].mean())
        welch = next(
            f for f in result.findings if f.subject == row["feature"] and f.test == "welch_t"
        )
        expected = sps.ttest_ind(power[:, k], rest[:, k], equal_var=False)
        assert math.isclose(welch.p_value, expected.pvalue, rel_tol=1e-6, abs_tol=1e-300)


def test_power_users_are_compared_outside_the_correction_family(planted: Warehouse) -> None:
    """Power users are the most active accounts by definition: tests of their activity against
    the rest cannot fail, so they are reported but neither corrected with nor counted among the
    run's questions, and never significant."""
    power = analyses.power_users(planted).findings
    assert power and all(f.descriptive for f in power)
    assert min(f.p_value for f in power if f.p_value is not None) < 1e-10  # true by construction
    question = analyses.segment_rate_tests(
        planted, analyses.SegmentTestParams(dimensions=("plan_type",))
    ).findings
    alone = correct_findings(question)
    together = correct_findings([*power, *question])
    assert [f.p_adjusted for f in together[len(power) :]] == [f.p_adjusted for f in alone]
    assert not any(f.significant or f.p_adjusted is not None for f in together[: len(power)])


# ---- revenue --------------------------------------------------------------------------------


def test_revenue_growth_matches_sql_and_finds_the_trend(planted: Warehouse) -> None:
    result = analyses.revenue_growth(planted)
    no_nan(result)
    series = [
        v for _, v in sql(planted, "SELECT month, sum(mrr) FROM revenue GROUP BY 1 ORDER BY 1")
    ]
    assert [r["mrr"] for r in result.rows] == pytest.approx(series)  # every month, none missing
    # The first month (3 paying accounts) is shown but left out: growth starts after it.
    assert [r["tiny"] for r in result.rows] == [True] + [False] * (len(series) - 1)
    assert result.rows[1]["growth"] is None
    assert result.rows[2]["growth"] == pytest.approx(series[2] / series[1] - 1)
    compound = (series[-1] / series[1]) ** (1 / (len(series) - 2)) - 1
    assert result.summary["compound_growth"] == pytest.approx(compound)
    slope = next(f for f in result.findings if f.test == "ols_trend")
    assert slope.p_value < 1e-6 and slope.estimates["slope"] > 0
    assert slope.ci_low is not None and slope.ci_low > 0


def test_ltv_formulas(planted: Warehouse) -> None:
    result = analyses.ltv_by_segment(planted)
    no_nan(result)
    snapshot = result.summary["snapshot_date"]
    for row in result.rows:
        ((months, paid, accounts),) = sql(
            planted,
            f"""SELECT count(*), sum(r.mrr),
            count(DISTINCT r.user_id) FROM revenue r JOIN users u USING (user_id)
            WHERE u.plan_type = '{row["segment"]}' AND r.month <= DATE '{snapshot}'""",
        )
        ((lost,),) = sql(
            planted,
            f"""SELECT count(*) FILTER (WHERE churned AND churn_date <= DATE '{snapshot}')
            FROM users WHERE converted AND plan_type = '{row["segment"]}'""",
        )
        assert row["paying_months"] == months and row["churns"] == lost
        assert row["monthly_churn"] == pytest.approx(lost / months)
        assert row["monthly_churn_low"] < row["monthly_churn"] < row["monthly_churn_high"]
        assert row["ltv"] == pytest.approx(paid / months * months / lost)
        assert row["ltv_low"] < row["ltv"] < row["ltv_high"]
        assert row["observed_revenue_per_account"] == pytest.approx(paid / accounts)
    (finding,) = result.findings  # churn per paying month across plans, not ever-churned
    assert (finding.test, finding.metric) == ("poisson_homogeneity", "monthly_churn_rate")


def test_expansion_candidates(planted: Warehouse) -> None:
    result = analyses.expansion_opportunities(planted)
    no_nan(result)
    plans = [s["plan"] for s in result.summary["plans"]]
    assert plans == list(PLANS)[:-1]  # ordered by price, read from the data
    assert all(r["plan"] != "gold" and r["mrr_at_stake"] >= 0 for r in result.rows)
    assert result.summary["candidates"] > 0
    assert significant(result.findings, test="kruskal_wallis")
    stakes = [r["mrr_at_stake"] for r in result.rows]
    assert stakes == sorted(stakes, reverse=True)


# ---- the demo: every planted effect, one correction over everything ------------------------


def test_every_planted_effect_of_the_demo_is_found(demo_db: Path) -> None:
    with Warehouse(Engine(demo_db), default_model()) as wh:
        results = {
            "conversion": analyses.segment_rate_tests(
                wh,
                analyses.SegmentTestParams(
                    dimensions=[
                        "plan_type",
                        "industry",
                        "acquisition_channel",
                        "country",
                        "company_size",
                    ]
                ),
            ),
            "adoption": analyses.adoption_by_segment(wh),
            "correlation": analyses.usage_correlation(wh),
            "churn": analyses.churn_relationship(wh),
            "growth": analyses.revenue_growth(wh),
            "cohorts": analyses.cohort_analysis(wh),
        }
    findings = corrected(results)
    hits = {(f.source_step, f.dimension, f.segment, f.subject) for f in findings if f.significant}
    for level in ("fintech", "education"):
        assert ("conversion", "industry", level, None) in hits
    for level in ("referral", "social"):
        assert ("conversion", "acquisition_channel", level, None) in hits
    assert ("conversion", "plan_type", None, None) in hits
    assert not [h for h in hits if h[1] in ("country", "company_size")]
    assert (
        "churn",
        "event_type",
        "integration_setup",
        "early adopters of integration_setup vs other paying accounts",
    ) in hits
    assert ("correlation", "event_type", None, "dashboard_view ~ report_export") in hits
    assert ("adoption", "plan_type", None, "api_call") in hits
    assert any(h[0] == "growth" for h in hits)
    assert not [h for h in hits if h[0] == "cohorts"]
    assert len(findings) == sum(len(r.findings) for r in results.values())
