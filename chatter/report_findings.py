"""The findings of a run in the terminal report: the tests under the run's correction, then the
descriptive comparisons, one numbered row each (the number insights cite), and the findings
that could not be tested with the reason."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from chatter.number_text import p_value
from chatter.report_references import compared_values, effect_label, finding_label, test_label
from chatter.report_tables import Cell, Column, print_table
from chatter.result import Finding
from chatter.tools.insight.wording import CORRECTIONS


def print_findings(console: Console, findings: list[Finding]) -> None:
    """Findings numbered by their place in the result (``findings[i]`` is row i + 1)."""
    numbered = list(enumerate(findings, start=1))
    tested = [(n, f) for n, f in numbered if f.testable and not f.descriptive]
    if tested:
        methods = sorted(
            {CORRECTIONS.get(f.correction, f.correction) for _, f in tested if f.correction}
        )
        after = f" after {' and '.join(methods)}" if methods else ""
        console.print(
            f"\n[bold]Findings[/] ({sum(f.significant for _, f in tested)} of "
            f"{len(tested)} tests significant{after})"
        )
        ordered = sorted(tested, key=lambda nf: (not nf[1].significant, nf[1].p_adjusted or 1.0))
        _findings_table(console, ordered, adjusted=True)
    described = [(n, f) for n, f in numbered if f.testable and f.descriptive]
    if described:
        console.print(
            f"\n[bold]Descriptive comparisons[/] ({len(described)}: outside the correction, "
            "never significant)"
        )
        _findings_table(console, described, adjusted=False)
    for n, f in numbered:
        if not f.testable:
            reason = f": {f.reason}" if f.reason else ""
            console.print(Text(f"finding {n} ({finding_label(f)}) not tested{reason}", style="dim"))


def _findings_table(
    console: Console, findings: list[tuple[int, Finding]], *, adjusted: bool
) -> None:
    """One row per finding, numbered as insights cite it; the step and the test are left out
    first when the console is narrow (the effect size's name tells most tests apart)."""
    columns = [
        Column("#", [Cell(str(n), numeric=True) for n, _ in findings]),
        Column("finding", [Cell(finding_label(f)) for _, f in findings], comfortable=20),
        Column("values", [_whole(compared_values(f)) for _, f in findings]),
        Column("effect", [_whole(effect_label(f)) for _, f in findings]),
        Column(
            "p adj" if adjusted else "p",
            [
                _p_cell(f.p_adjusted, f.significant) if adjusted else _p_cell(f.p_value)
                for _, f in findings
            ],
        ),
        Column("test", [Cell(test_label(f)) for _, f in findings]),
        Column("step", [Cell(f.source_step or "") for _, f in findings]),
    ]
    dropped = print_table(console, columns, key=2, droppable=("step", "test", "values"))
    if dropped:
        console.print(f"(not shown at this width: {', '.join(dropped)}; see --json)", style="dim")


def _p_cell(value: float | None, significant: bool | None = None) -> Cell:
    """The p-value; an adjusted one starred when significant (aligned when not)."""
    if value is None:
        return Cell("-", style="dim")
    mark = "" if significant is None else " *" if significant else "  "
    return Cell(p_value(value) + mark, numeric=True)


def _whole(text: str) -> Cell:
    """A cell kept on one line (an effect size with its name, two estimates compared)."""
    return Cell(text, keep=len(text))
