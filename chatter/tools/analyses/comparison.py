"""The comparison step: one semantic query under two filter sets, side by side, tested."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chatter.result import Finding
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import SemanticQuery
from chatter.semantic.warehouse import Warehouse
from chatter.tools.analyses.result import AnalysisResult, Recorder, to_finding
from chatter.tools.params import Filters, Params
from chatter.tools.stats import two_proportion_test


def _ratio_parts(model: SemanticModel, measure: str) -> tuple[str, str] | None:
    m = model.measure(measure).measure
    if m.agg == "ratio" and m.numerator and m.denominator:
        return m.numerator.split(".")[-1], m.denominator.split(".")[-1]
    return None


def compare_rows(
    model: SemanticModel,
    a: Sequence[Mapping[str, Any]],
    b: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    measures: Sequence[str],
    labels: tuple[str, str] = ("a", "b"),
) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Rows of two results matched on ``keys``: each measure's value in both, the difference
    and the relative change. A ratio measure whose numerator and denominator counts are columns
    of both results is tested per row (two-proportion z-test)."""
    index_b = {tuple(r.get(k) for k in keys): r for r in b}
    rows, findings = [], []
    for ra in a:
        key = tuple(ra.get(k) for k in keys)
        rb = index_b.get(key)
        if rb is None:
            continue
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        for m in measures:
            va, vb = ra.get(m), rb.get(m)
            row[f"{m}_{labels[0]}"], row[f"{m}_{labels[1]}"] = va, vb
            difference = None
            if isinstance(va, int | float) and isinstance(vb, int | float):
                difference = va - vb
            row[f"{m}_difference"] = difference
            row[f"{m}_relative_change"] = difference / vb if difference is not None and vb else None
            parts = _ratio_parts(model, m)
            if parts and all(p in ra and p in rb for p in parts):
                num, den = parts
                result = two_proportion_test(
                    int(ra[num] or 0),
                    int(ra[den] or 0),
                    int(rb[num] or 0),
                    int(rb[den] or 0),
                    label=labels[0],
                )
                segment = ", ".join(str(v) for v in key) if key else None
                findings.append(
                    to_finding(
                        result,
                        metric=m,
                        dimension=", ".join(keys) or None,
                        segment=segment,
                        subject=f"{labels[0]} vs {labels[1]}",
                    )
                )
        rows.append(row)
    return rows, findings


class CompareParams(Params):
    """One query, and the two filter sets whose results it compares."""

    query: SemanticQuery
    filters_a: Filters
    filters_b: Filters
    labels: tuple[str, str] = ("a", "b")


def compare_filters(warehouse: Warehouse, params: CompareParams) -> AnalysisResult:
    """The same semantic query under two filter sets (e.g. two periods or two channels), side by
    side. Ratio measures bring their numerator and denominator along so they can be tested."""
    rec = Recorder(warehouse)
    labels = params.labels
    query = params.query.model_dump(mode="json")
    measures = list(query.get("measures", []))
    wanted = list(measures)
    for m in measures:
        parts = _ratio_parts(warehouse.model, m)
        wanted += [p for p in parts or () if p not in wanted]
    base = {**query, "measures": wanted}
    a = rec.query({**base, "filters": [*base.get("filters", []), *params.filters_a]})
    b = rec.query({**base, "filters": [*base.get("filters", []), *params.filters_b]})
    keys = [c for c in (a[0] if a else b[0] if b else {}) if c not in wanted]
    rows, findings = compare_rows(
        warehouse.model, a, b, keys=keys, measures=measures, labels=labels
    )
    notes = [
        f"{labels[0]}: filters {list(params.filters_a)}; "
        f"{labels[1]}: filters {list(params.filters_b)}."
    ]
    return rec.result("comparison", rows, findings, notes)
