"""Usage correlation asks two questions per pair of features and keeps them apart: co-adoption
(over all accounts, does adopting one go with adopting the other?) and intensity (among the
accounts that use both, do their counts go together?). One Spearman over all accounts with
never-used as zero mixes them: many shared zeros read as correlated use. These tests plant that
trap, a null, and a rare feature, on DuckDB files generated here, and check every number against
scipy on counts taken from the raw events."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from run_findings import corrected
from scipy import stats as sps
from scipy.stats.contingency import expected_freq
from synthetic import write_contract_tables

from chatter.result import Finding
from chatter.semantic.engine import Engine, connection_config
from chatter.semantic.model import default_model
from chatter.semantic.warehouse import Warehouse
from chatter.tools import analyses
from chatter.tools.insight import render_insights
from chatter.tools.insight.audit import audit_insights

pytestmark = pytest.mark.integration

START = dt.date(2024, 1, 1)
MIN_BOTH = analyses.CorrelationParams().min_both_users


def write_usage(path: Path, counts: dict[str, np.ndarray], seed: int) -> Path:
    """A database in the contract's schema whose events are exactly ``counts`` (feature ->
    uses per account); accounts with no use of anything stay in ``users``."""
    rng = np.random.default_rng(seed)
    n = len(next(iter(counts.values())))
    users = pd.DataFrame(
        {
            "user_id": np.arange(1, n + 1, dtype=np.int64),
            "signup_date": [START] * n,
            "plan_type": rng.choice(["tin", "zinc"], n),
            "industry": "x",
            "acquisition_channel": "y",
            "company_size": "S",
            "country": "NZ",
            "converted": False,
            "churned": False,
            "churn_date": pd.Series([None] * n, dtype="object"),
        }
    )
    who = [np.repeat(np.arange(1, n + 1), c) for c in counts.values()]
    kinds = [np.full(len(w), name, dtype=object) for w, name in zip(who, counts, strict=True)]
    user_ids = np.concatenate(who).astype(np.int64)
    days = rng.integers(0, 300, len(user_ids))
    events = pd.DataFrame(
        {
            "event_id": np.arange(1, len(user_ids) + 1, dtype=np.int64),
            "user_id": user_ids,
            "event_type": np.concatenate(kinds),
            "event_ts": pd.Timestamp(START) + pd.to_timedelta(days, unit="D"),
        }
    )
    revenue = pd.DataFrame(
        {
            "user_id": pd.Series([], dtype=np.int64),
            "month": pd.Series([], dtype="datetime64[ns]"),
            "plan_type": pd.Series([], dtype=object),
            "mrr": pd.Series([], dtype=float),
        }
    )
    write_contract_tables(path, users, events, revenue)
    return path


def heavy_tailed(rng: np.random.Generator, z: np.ndarray) -> np.ndarray:
    """Uses per adopter: at least one, log-normal beyond, driven by the normal ``z``."""
    return 1 + np.floor(np.exp(0.8 + 0.8 * z)).astype(int)


def trap_counts(n: int = 3000, seed: int = 11) -> dict[str, np.ndarray]:
    """alpha and beta: adopted together (a shared engagement drives both adoptions), but among
    accounts that use both, heavier alpha goes with lighter beta (opposite loadings on one
    preference). gamma is independent of both; zeta is adopted by a dozen accounts."""
    rng = np.random.default_rng(seed)
    engagement, preference = rng.normal(size=n), rng.normal(size=n)
    adopt_alpha = engagement + 0.5 * rng.normal(size=n) > 0.3
    adopt_beta = engagement + 0.5 * rng.normal(size=n) > 0.3
    z_alpha = 0.9 * preference + 0.44 * rng.normal(size=n)
    z_beta = -0.9 * preference + 0.44 * rng.normal(size=n)
    zeta = np.zeros(n, dtype=int)
    zeta[rng.choice(n, 12, replace=False)] = rng.integers(1, 5, 12)
    return {
        "alpha": np.where(adopt_alpha, heavy_tailed(rng, z_alpha), 0),
        "beta": np.where(adopt_beta, heavy_tailed(rng, z_beta), 0),
        "gamma": np.where(rng.random(n) < 0.4, heavy_tailed(rng, rng.normal(size=n)), 0),
        "zeta": zeta,
    }


@pytest.fixture(scope="module")
def trap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path = write_usage(tmp_path_factory.mktemp("trap") / "t.duckdb", trap_counts(), seed=1)
    with Warehouse(Engine(path), default_model()) as wh:
        yield wh


def raw_counts(wh: Warehouse) -> tuple[np.ndarray, list[str]]:
    """Accounts x features use counts, by hand-written SQL over the raw events (every account,
    never-used as zero), independent of the analysis's pivot and weights."""
    con = duckdb.connect(str(wh.engine.path), read_only=True, config=connection_config())
    try:
        names = [
            r[0]
            for r in con.execute("SELECT DISTINCT event_type FROM events ORDER BY 1").fetchall()
        ]
        cols = ", ".join(f"count(e.event_id) FILTER (WHERE e.event_type = '{f}')" for f in names)
        rows = con.execute(
            f"SELECT {cols} FROM users u LEFT JOIN events e USING (user_id) "
            "GROUP BY u.user_id ORDER BY u.user_id"
        ).fetchall()
    finally:
        con.close()
    return np.asarray(rows, dtype=float), names


def finding(findings: list[Finding], metric: str, subject: str) -> Finding | None:
    found = [f for f in findings if f.metric == metric and f.subject == subject]
    assert len(found) <= 1
    return found[0] if found else None


def test_co_adoption_is_not_read_as_correlated_intensity(trap: Warehouse) -> None:
    """The trap: the old all-accounts Spearman is strongly positive, while among users of both
    the counts are negatively correlated. The analysis says both, and the insight names each."""
    matrix, names = raw_counts(trap)
    alpha, beta = matrix[:, names.index("alpha")], matrix[:, names.index("beta")]
    pooled, _ = sps.spearmanr(alpha, beta)
    assert pooled > 0.4  # what one correlation over all accounts reports
    both = (alpha > 0) & (beta > 0)
    among, _ = sps.spearmanr(alpha[both], beta[both])
    assert among < -0.5  # what is true of the accounts that use both

    result = analyses.usage_correlation(trap)
    findings = corrected({"usage_correlation": result})
    co = finding(findings, "feature_co_adoption", "alpha ~ beta")
    intensity = finding(findings, "usage_correlation", "alpha ~ beta")
    assert co is not None and intensity is not None
    assert co.significant and co.effect_size_name == "phi" and co.effect_size > 0.3
    assert intensity.significant and intensity.effect_size_name == "rho"
    assert intensity.effect_size < -0.5
    # gamma is independent of both: neither question finds anything about it.
    assert not [f for f in findings if f.significant and "gamma" in (f.subject or "")]

    steps = [result.to_step("usage_correlation", "analysis")]
    insights = render_insights(steps, findings)
    text = " ".join(i.text for i in insights)
    assert "accounts that adopt alpha also tend to adopt beta" in text
    assert "accounts that use both, alpha and beta are negatively correlated" in text
    assert "heavier alpha use going with lighter beta use" in text
    assert "alpha and beta are positively correlated" not in text
    assert audit_insights(insights, steps, findings) == []


def test_independent_adoption_and_counts_find_nothing(tmp_path: Path) -> None:
    """Null: adoption and counts independent for every feature; enough accounts that each
    intensity correlation rests on over a thousand users of both."""
    rng = np.random.default_rng(5)
    n = 8000
    counts = {
        name: np.where(rng.random(n) < 0.45, heavy_tailed(rng, rng.normal(size=n)), 0)
        for name in ("kappa", "lambda", "mu", "nu")
    }
    with Warehouse(
        Engine(write_usage(tmp_path / "n.duckdb", counts, seed=2)), default_model()
    ) as wh:
        result = analyses.usage_correlation(wh)
    findings = corrected({"usage_correlation": result})
    assert len(findings) == 12 and all(f.testable for f in findings)
    assert min(r["both_users"] for r in result.rows) > 1000
    assert [f.subject for f in findings if f.significant] == []


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_numbers_equal_scipy_on_the_raw_counts(trap: Warehouse, method: str) -> None:
    """Each pair's 2x2 table, phi and test (chi-square without continuity correction, Fisher
    where an expected count is below 5) and its intensity correlation among users of both, as
    scipy computes them from per-account counts of the raw events."""
    matrix, names = raw_counts(trap)
    result = analyses.usage_correlation(trap, analyses.CorrelationParams(method=method))
    assert len(result.rows) == len(names) * (len(names) - 1) // 2
    tests_used = set()
    for row in result.rows:
        x, y = matrix[:, names.index(row["feature_a"])], matrix[:, names.index(row["feature_b"])]
        subject = f"{row['feature_a']} ~ {row['feature_b']}"
        a, b = x > 0, y > 0
        table = [
            [int((a & b).sum()), int((a & ~b).sum())],
            [int((~a & b).sum()), int((~a & ~b).sum())],
        ]
        assert row["accounts"] == len(x) and row["both_users"] == table[0][0]
        co = finding(result.findings, "feature_co_adoption", subject)
        assert co is not None and co.testable and co.n == len(x)
        phi = float(np.corrcoef(a.astype(float), b.astype(float))[0, 1])
        assert math.isclose(row["co_adoption_phi"], phi, rel_tol=1e-9)
        if expected_freq(table).min() >= 5:
            chi2, p, _, _ = sps.chi2_contingency(table, correction=False)
            assert co.test == "chi_square" and math.isclose(co.statistic, chi2, rel_tol=1e-9)
            assert math.isclose(abs(phi), math.sqrt(chi2 / len(x)), rel_tol=1e-9)
        else:
            p = sps.fisher_exact(table).pvalue
            assert co.test == "fisher_exact"
        tests_used.add(co.test)
        assert math.isclose(row["co_adoption_p_value"], p, rel_tol=1e-9)
        assert math.isclose(co.estimates["rate"], table[0][0] / a.sum(), rel_tol=1e-12)

        intensity = finding(result.findings, "usage_correlation", subject)
        if table[0][0] < MIN_BOTH:
            continue
        both = a & b
        reference = (sps.spearmanr if method == "spearman" else sps.pearsonr)(x[both], y[both])
        assert intensity is not None and intensity.n == table[0][0]
        assert math.isclose(row["intensity_correlation"], reference[0], rel_tol=1e-9)
        assert math.isclose(row["intensity_p_value"], reference[1], rel_tol=1e-9)
        assert intensity.test == method
    assert tests_used == {"chi_square", "fisher_exact"}  # both branches were checked


def test_a_pair_with_few_users_of_both_gets_no_intensity_finding(trap: Warehouse) -> None:
    result = analyses.usage_correlation(trap)
    rare = [r for r in result.rows if "zeta" in (r["feature_a"], r["feature_b"])]
    assert len(rare) == 3
    few = [r for r in rare if r["both_users"] < MIN_BOTH]
    assert few, "the rare feature must leave pairs below the minimum"
    note = next(n for n in result.notes if f"fewer than {MIN_BOTH} accounts" in n)
    for row in few:
        subject = f"{row['feature_a']} ~ {row['feature_b']}"
        assert row["intensity_correlation"] is None and row["intensity_p_value"] is None
        assert finding(result.findings, "usage_correlation", subject) is None
        assert f"{subject} ({row['both_users']})" in note
        co = finding(result.findings, "feature_co_adoption", subject)
        assert co is not None and co.testable  # co-adoption is still asked, over all accounts
    assert result.summary["pairs_without_intensity"] == len(few)
    # The pairs with enough users of both do get one.
    many = [r for r in result.rows if r["both_users"] >= MIN_BOTH]
    assert many and all(r["intensity_correlation"] is not None for r in many)
