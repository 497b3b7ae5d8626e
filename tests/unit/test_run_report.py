"""The terminal report of a run names the correction that set its adjusted p-values."""

from __future__ import annotations

import pytest
from rich.console import Console

from chatter.result import WorkflowResult
from chatter.terminal import print_run_report
from chatter.tools.analyses.result import to_finding
from chatter.tools.stats import correct_findings, two_proportion_test


@pytest.mark.parametrize(("method", "name"), [("bh", "Benjamini-Hochberg"), ("holm", "Holm")])
def test_the_findings_header_names_the_correction(method: str, name: str) -> None:
    raw = [
        to_finding(two_proportion_test(hits, 1000, 200, 1000), metric="conversion_rate")
        for hits in (260, 210, 205)
    ]
    findings = correct_findings(raw, method=method)  # type: ignore[arg-type]
    assert {f.correction for f in findings} == {method}
    result = WorkflowResult(workflow="w", run_id="r", status="completed", findings=findings)
    console = Console(record=True, width=120)
    print_run_report(result, console=console)
    out = console.export_text()
    assert f"tests significant after {name})" in out, out
    other = "Holm" if method == "bh" else "Benjamini-Hochberg"
    assert other not in out
