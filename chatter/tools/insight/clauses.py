"""Sentence frames per kind of test: each turns one finding into words, every number taken from
the finding itself and every name from its metric, dimension, segment and subject fields."""

from __future__ import annotations

import math
import re

from chatter.number_text import p_value
from chatter.result import Finding
from chatter.tools.insight.wording import (
    CORRECTIONS,
    TEST_NAMES,
    capitalise,
    effect_text,
    humanise,
    number,
    p_text,
    percent,
    points,
    signed,
)
from chatter.tools.stats.proportions import cohens_h

PROPORTION_TESTS = frozenset({"two_proportion_z", "fisher_exact"})
RATE_TESTS = frozenset({"poisson_rate_ratio"})
OMNIBUS_TESTS = frozenset({"chi_square", "anova", "kruskal_wallis", "poisson_homogeneity"})
CORRELATION_TESTS = frozenset({"spearman", "pearson"})
TREND_TESTS = frozenset({"ols_trend", "mann_kendall"})
_KEYED = re.compile(r"^(?P<stat>[A-Za-z_ ]+)\((?P<level>.*)\)$")
# Conventional small / medium / large benchmarks of each effect size (see docs/statistics.md).
_BENCHMARKS = {
    "cohens_h": (0.2, 0.5, 0.8),
    "hedges_g": (0.2, 0.5, 0.8),
    "cramers_v": (0.1, 0.3, 0.5),
    "phi": (0.1, 0.3, 0.5),
    "rho": (0.1, 0.3, 0.5),
    "r": (0.1, 0.3, 0.5),
    "rank_biserial": (0.1, 0.3, 0.5),
    "kendall_tau": (0.1, 0.2, 0.3),
    "eta_squared": (0.01, 0.06, 0.14),
    "epsilon_squared": (0.01, 0.06, 0.14),
    "r_squared": (0.01, 0.09, 0.25),
    "odds_ratio": (math.log(1.7), math.log(3.5), math.log(7.0)),
    "rate_ratio": (math.log(1.25), math.log(2.0), math.log(4.0)),
    "max_rate_ratio": (math.log(1.25), math.log(2.0), math.log(4.0)),
}


def strength(finding: Finding) -> float:
    """|effect size| placed on its kind's benchmarks, small = 1, medium = 2, large = 3 (linear
    in between and beyond), so Cohen's h, Cramér's V, rho, Hedges' g, R² or an odds ratio
    rank on one scale; 0 when the effect size is unknown.

    >>> h = Finding(metric="m", test="z", effect_size=-0.35, effect_size_name="cohens_h")
    >>> round(strength(h), 2)
    1.5
    """
    es, name = finding.effect_size, finding.effect_size_name or ""
    rate, rest = finding.estimates.get("rate"), finding.estimates.get("rate_rest")
    undefined = es is None or not math.isfinite(es)
    if undefined and name == "odds_ratio" and rate is not None and rest is not None:
        # A zero cell leaves no odds ratio; Cohen's h of the two rates is defined there.
        es, name = cohens_h(rate, rest), "cohens_h"
    if es is None or not math.isfinite(es):
        return 0.0
    x = abs(es)
    if name in ("odds_ratio", "rate_ratio", "max_rate_ratio"):
        x = abs(math.log(es)) if es > 0 else 0.0
    small, medium, large = _BENCHMARKS.get(name, (0.2, 0.5, 0.8))
    if x <= small:
        return x / small
    if x <= medium:
        return 1 + (x - small) / (medium - small)
    return 2 + (x - medium) / (large - medium)


def _stats(finding: Finding, *parts: str | None) -> str:
    """``(Cohen's h -0.30, adjusted p < 0.001)``: the effect and the adjusted p-value."""
    shown = [p for p in (*parts, effect_text(finding.effect_size_name, finding.effect_size)) if p]
    return f"({', '.join([*shown, p_text(finding.p_adjusted)])})"


def keyed_estimates(finding: Finding) -> tuple[str, dict[str, float]]:
    """Estimates named ``stat(level)``, e.g. each level's rate: (stat, {level: value})."""
    stat, out = "", {}
    for key, value in finding.estimates.items():
        match = _KEYED.match(key)
        if match:
            stat = match.group("stat")
            out[match.group("level")] = value
    return stat, out


def _show(stat: str, value: float) -> str:
    return percent(value) if stat == "rate" else number(value)


def spread(finding: Finding) -> str | None:
    """``highest for starter (28.6%), lowest for enterprise (15.9%)`` from per-level estimates."""
    stat, levels = keyed_estimates(finding)
    if len(levels) < 2:
        return None
    ordered = sorted(levels.items(), key=lambda kv: (-kv[1], kv[0]))
    (top, high), (bottom, low) = ordered[0], ordered[-1]
    word = "" if stat == "rate" else f"{humanise(stat)} "
    return (
        f"{word}highest for {top} ({_show(stat, high)}), lowest for {bottom} ({_show(stat, low)})"
    )


def omnibus_lead(finding: Finding) -> str:
    """``Conversion rate differs across industry (chi-square, Cramér's V 0.11, ...)``."""
    about = f" ({finding.subject})" if finding.subject else ""
    test = TEST_NAMES.get(finding.test, humanise(finding.test))
    verb = "differs" if finding.significant else "does not differ significantly"
    return (
        f"{capitalise(humanise(finding.metric))}{about} {verb} across "
        f"{humanise(finding.dimension or 'segments')} "
        f"{_stats(finding, test)[:-1]}, n = {number(finding.n)})"
    )


def _who(finding: Finding, first: str | None = None, second: str | None = None) -> str:
    """Who is compared: the subject when it says so (``adopters of X vs non-adopters``),
    else the level against the rest, with the subject it is about."""
    if finding.subject and " vs " in finding.subject:
        segment = finding.segment
        return finding.subject + (
            f" in {segment}" if segment and segment not in finding.subject else ""
        )
    a = first or finding.segment or "this group"
    b = second or _reference(finding)
    about = f" on {finding.subject}" if finding.subject else ""
    return f"{a} vs {b}{about}"


def _names(levels: list[str], limit: int = 4) -> str:
    """``a, b and c`` or ``a, b, c, d and 5 more``."""
    if len(levels) <= limit + 1:
        return levels[0] if len(levels) == 1 else ", ".join(levels[:-1]) + " and " + levels[-1]
    return ", ".join(levels[:limit]) + f" and {len(levels) - limit} more"


def _reference(finding: Finding) -> str:
    """What a level was compared with: ``the rest``, or the alike levels once the deviating
    ones of its dimension were set aside."""
    alike = finding.compared_with
    if not alike:
        return "the rest"
    if len(alike) == 1:
        return alike[0]
    return f"the {len(alike)} alike levels"


def alike_sentence(finding: Finding, unproven: list[Finding] | None = None) -> str:
    """``The other 9 levels of industry (a, b, c, d and 5 more) do not differ from one another
    (chi-square, p = 0.94, ...).``: the chi-square across the alike levels, as evidence.
    ``unproven``: levels the step-down set aside whose own test is not significant after the
    correction; they are said to not differ either, with their adjusted p-values."""
    levels = finding.compared_with or []
    shown = p_value(finding.p_value) if finding.p_value is not None else "not available"
    p = f"p {shown}" if shown.startswith("<") else f"p = {shown}"
    test = TEST_NAMES.get(finding.test, humanise(finding.test))
    text = (
        f"The other {len(levels)} levels of {humanise(finding.dimension or 'the dimension')} "
        f"({_names(levels)}) do not differ from one another ({test}, {p}, not adjusted: a "
        "description of the levels left once the deviating ones are set aside)."
    )
    if unproven:
        said = _names([f"{f.segment} ({p_text(f.p_adjusted)})" for f in unproven], 3)
        text += f" Set aside too, yet not significantly different from them: {said}."
    return text


def _direction(value: float | None, up: str = "higher", down: str = "lower") -> str:
    if value is None or value == 0:
        return "no different"
    return up if value > 0 else down


def proportion_clause(finding: Finding) -> str:
    e = finding.estimates
    rate, rest, diff = e.get("rate"), e.get("rate_rest"), e.get("difference")
    if rate is None or rest is None:
        return fallback_clause(finding)
    gap = points(diff) if diff is not None else None
    return (
        f"{_direction(diff if diff is not None else finding.effect_size)} for {_who(finding)} "
        f"{_stats(finding, f'{percent(rate)} vs {percent(rest)}', gap)}"
    )


def rate_clause(finding: Finding) -> str:
    """Two groups' event rates per unit of exposure: ``lower for early adopters of X vs other
    paying accounts (2.1% vs 4.0% per paying month, rate ratio 0.52, adjusted p < 0.001)``."""
    e = finding.estimates
    rate, rest = e.get("rate"), e.get("rate_rest")
    if rate is None or rest is None:
        return fallback_clause(finding)
    unit = (finding.ci_of or "").rpartition("events per ")[2] or "unit of exposure"
    shown = f"{percent(rate)} vs {percent(rest)} per {unit}"
    return f"{_direction(e.get('difference'))} for {_who(finding)} {_stats(finding, shown)}"


def means_clause(finding: Finding) -> str:
    """Two groups' means (Welch) or medians (Mann-Whitney), direction from their order."""
    groups = [(k, v) for k, v in finding.estimates.items() if _KEYED.match(k)]
    if len(groups) < 2:
        return fallback_clause(finding)
    (ka, va), (kb, vb) = groups[:2]
    ma, mb = _KEYED.match(ka), _KEYED.match(kb)
    assert ma is not None and mb is not None
    stat = humanise(ma.group("stat"))
    who = _who(finding, ma.group("level"), mb.group("level"))
    return (
        f"{_direction(va - vb)} {stat} for {who} {_stats(finding, f'{number(va)} vs {number(vb)}')}"
    )


def pair_of(finding: Finding) -> tuple[str, str] | None:
    """The two features a finding is about when its subject names a pair (``a ~ b``)."""
    pair = (finding.subject or "").split(" ~ ")
    return (pair[0], pair[1]) if len(pair) == 2 else None


def is_omnibus(finding: Finding) -> bool:
    """A test across the levels of a dimension; a chi-square of a pair's co-adoption is not."""
    return finding.test in OMNIBUS_TESTS and pair_of(finding) is None


def correlation_clause(finding: Finding) -> str:
    """``a and b are positively correlated (...)``; when the finding says it is over the
    accounts using both (``accounts_using_both``), it is their intensity that is correlated:
    ``among the 2,822 accounts that use both, a and b are negatively correlated, heavier a use
    going with lighter b use (...)``."""
    pair = pair_of(finding)
    if pair is None:
        return f"{finding.subject or finding.segment or humanise(finding.metric)} {_stats(finding)}"
    a, b = pair
    text = (
        f"{a} and {b} are {_direction(finding.effect_size, 'positively', 'negatively')} correlated"
    )
    both = finding.estimates.get("accounts_using_both")
    if both is not None:
        text = f"among the {number(round(both))} accounts that use both, {text}"
        if finding.effect_size:
            heavier = _direction(finding.effect_size, "heavier", "lighter")
            text += f", heavier {a} use going with {heavier} {b} use"
    return f"{text} {_stats(finding)}"


def co_adoption_clause(finding: Finding) -> str:
    """Adopting one feature of a pair against adopting the other (effect phi): ``accounts that
    adopt a also tend to adopt b (41.2% of them do vs 29.8% of the rest, phi 0.11, ...)``."""
    pair = pair_of(finding)
    if pair is None:
        return fallback_clause(finding)
    a, b = pair
    verb = _direction(finding.effect_size, "also tend to adopt", "tend not to adopt")
    if verb == "no different":
        verb = "are no more likely to adopt"
    rate, rest = finding.estimates.get("rate"), finding.estimates.get("rate_rest")
    shown = (
        f"{percent(rate)} of them do vs {percent(rest)} of the rest"
        if rate is not None and rest is not None
        else None
    )
    return f"accounts that adopt {a} {verb} {b} {_stats(finding, shown)}"


def per_unit(finding: Finding) -> str:
    unit = humanise(finding.dimension or "period")
    return f"per {unit}" if " " not in unit else f"per step of {unit}"


def trend_clause(finding: Finding) -> str:
    e = finding.estimates
    if finding.test == "ols_trend" and "slope" in e:
        return (
            f"{_direction(e['slope'], 'rising', 'falling')} by {number(abs(e['slope']))} "
            f"{per_unit(finding)} {_stats(finding, 'OLS slope')}"
        )
    if finding.test == "mann_kendall":
        sens = e.get("sens_slope")
        extra = f"Sen's slope {signed(sens)} {per_unit(finding)}" if sens is not None else None
        word = _direction(finding.effect_size, "upward", "downward")
        return f"a steady {word} trend {_stats(finding, 'Mann-Kendall', extra)}"
    return fallback_clause(finding)


def omnibus_clause(finding: Finding) -> str:
    """An omnibus test named by its subject (e.g. adoption of one feature across plans)."""
    about = finding.subject or humanise(finding.dimension or finding.metric)
    shown = spread(finding)
    return f"{about}: {shown} {_stats(finding)}" if shown else f"{about} {_stats(finding)}"


def fallback_clause(finding: Finding) -> str:
    test = TEST_NAMES.get(finding.test, humanise(finding.test))
    about = finding.subject or finding.segment or humanise(finding.metric)
    return f"{about} {_stats(finding, test)}"


def clause(finding: Finding) -> str:
    """One finding as a clause, by the kind of its test (co-adoption by its effect, phi)."""
    if finding.effect_size_name == "phi":
        return co_adoption_clause(finding)
    if finding.test in PROPORTION_TESTS:
        return proportion_clause(finding)
    if finding.test in RATE_TESTS:
        return rate_clause(finding)
    if finding.test in ("welch_t", "mann_whitney_u"):
        return means_clause(finding)
    if finding.test in CORRELATION_TESTS:
        return correlation_clause(finding)
    if finding.test in TREND_TESTS:
        return trend_clause(finding)
    if finding.test in OMNIBUS_TESTS:
        return omnibus_clause(finding)
    return fallback_clause(finding)


def label(finding: Finding) -> str:
    """A short name for a finding: ``conversion rate by industry: fintech``."""
    head = humanise(finding.metric)
    if finding.dimension:
        head += f" by {humanise(finding.dimension)}"
    what = finding.subject or finding.segment
    return f"{head}: {what}" if what else head


def correction_name(method: str) -> str:
    return CORRECTIONS.get(method, method)


def trend_lead(finding: Finding) -> str:
    """``MRR rises month over month`` / ``Conversion rate falls over signup date (month)``."""
    slope = finding.estimates.get("slope", finding.estimates.get("sens_slope"))
    verb = _direction(slope if slope is not None else finding.effect_size, "rises", "falls")
    unit = humanise(finding.dimension or "period")
    span = f"{unit} over {unit}" if " " not in unit else f"over {unit}"
    return f"{capitalise(humanise(finding.metric))} {verb} {span}"
