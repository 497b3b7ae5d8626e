"""An answer as the markdown a chat front end shows, built from the answer document alone: what
the question was understood to ask, the answer's words, its table (rates as percents, as the
terminal report reads them), where each insight's numbers come from, the findings numbered as
insights cite them, the SQL as run, and what to ask next; a question back is the question and
its options. It ends with the session marker (``chatter.api.openai_sessions``).

>>> markdown_table(["plan_type", "conversion_rate"], [{"plan_type": "a|b", "conversion_rate": 0.25}],
...     {"conversion_rate": "percent"})
'| plan type | conversion rate |\\n|---|---:|\\n| a\\\\|b | 25.00% |'
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from chatter.api.conversation import primary_step
from chatter.api.openai_sessions import session_marker
from chatter.api.schemas import ChatResponse, Table
from chatter.number_text import cell_text, p_value
from chatter.report_references import (
    compared_values,
    effect_label,
    evidence_text,
    finding_label,
)
from chatter.report_references import (
    test_label as name_of_test,
)
from chatter.report_tables import column_kind, column_label, key_columns, row_name
from chatter.result import Answer, Finding, StepResult
from chatter.tools.insight.wording import CORRECTIONS


def answer_markdown(response: ChatResponse, formats: Mapping[str, str], cap: int) -> str:
    """The turn's answer (or question back) as markdown. ``formats``: the semantic model's
    measure formats; ``cap``: the rows an answer carries (CHATTER_API_RESULT_ROWS)."""
    reply = Answer.model_validate(response.answer or {})
    parts: list[str] = []
    if reply.interpretation is not None:
        parts.append(f"**Understood:** {inert(reply.interpretation.text)}")
    if reply.clarification:
        parts.append(inert(reply.text))
        parts += [_bullets(reply.options)] if reply.options else []
    else:
        parts += _answer_parts(reply, response.results, formats, cap)
    if reply.database:
        parts.append(f"_Database: {inert(reply.database)}_")
    parts.append(session_marker(response.session_id))
    return "\n\n".join(p for p in parts if p)


def _answer_parts(reply: Answer, results: Table, formats: Mapping[str, str], cap: int) -> list[str]:
    primary = primary_step(reply)  # the step ``results`` holds the rows of
    if reply.workflow == "query":
        # A query's text is its lead sentence (kept in the step's notes, with the caveats)
        # and a raw table, which the formatted one below replaces.
        parts = [inert(n) for n in primary.notes] if primary else [inert(reply.text)]
    else:
        parts = [inert(reply.text), _evidence(reply)]
    if results.columns and results.rows:
        parts.append(markdown_table(results.columns, results.rows, formats))
        parts.append(_cut_note(results, cap))
    elif primary is not None:
        parts.append("No rows matched.")
    parts.append(_failed_steps(reply.steps))
    parts.append(_findings(reply.findings))
    if primary is not None and primary.sql:
        parts.append("SQL as run:\n\n" + _fenced(primary.sql, "sql"))
    if reply.suggestions:
        parts.append("**Try next:**\n\n" + _bullets(reply.suggestions))
    return parts


def markdown_table(
    columns: Sequence[str], rows: Sequence[Mapping[str, Any]], formats: Mapping[str, str]
) -> str:
    """Rows as a markdown table: headers in words, numbers right-aligned and read by their
    measure's format, missing values as a dash."""
    kinds = [column_kind(c, formats) for c in columns]
    numeric = [any(_is_number(r.get(c)) for r in rows) for c in columns]
    lines = [
        _row(column_label(c) for c in columns),
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    for row in rows:
        lines.append(
            _row(
                cell_text(_plain(row.get(c)), kind, missing="-")
                for c, kind in zip(columns, kinds, strict=True)
            )
        )
    return "\n".join(lines)


def _cut_note(results: Table, cap: int) -> str:
    shown = len(results.rows)
    if results.row_count > shown:
        return (
            f"_First {shown:,} of {results.row_count:,} rows (an answer carries at most {cap:,}: "
            "CHATTER_API_RESULT_ROWS)._"
        )
    if results.truncated:
        return f"_{shown:,} rows: the result was cut at the query's row cap._"
    return ""


def _evidence(reply: Answer) -> str:
    """Where each insight's numbers come from: findings by number, table rows by name."""
    cited = [evidence_text(i.evidence, reply, _row_name) for i in reply.insights]
    if not any(cited):
        return ""
    lines = [
        f"{n}. {inert(text) if text else 'no evidence cited'}"
        for n, text in enumerate(cited, start=1)
    ]
    return "**Evidence** (for each insight above, in order):\n\n" + "\n".join(lines)


def _findings(findings: Sequence[Finding]) -> str:
    """Every finding, numbered by its place in the result (``findings[i]`` is number i + 1, as
    the evidence cites it); adjusted p-values of significant tests starred."""
    if not findings:
        return ""
    tested = [f for f in findings if f.testable and not f.descriptive]
    methods = sorted({CORRECTIONS.get(f.correction, f.correction) for f in tested if f.correction})
    after = f" after {' and '.join(methods)}" if methods else ""
    head = (
        f"**Findings** ({sum(f.significant for f in tested)} of {len(tested)} tests "
        f"significant{after}; * marks a significant adjusted p-value):"
    )
    lines = [
        _row(("#", "finding", "values", "effect", "p adjusted", "p", "test")),
        "|---:|---|---|---|---:|---:|---|",
    ]
    for n, finding in enumerate(findings, start=1):
        lines.append(_row((str(n), *_finding_cells(finding))))
    return head + "\n\n" + "\n".join(lines)


def _finding_cells(finding: Finding) -> tuple[str, ...]:
    label = finding_label(finding)
    if not finding.testable:
        return (label, "-", "-", "-", "-", f"not tested: {finding.reason or 'no reason given'}")
    adjusted = "-"
    if finding.p_adjusted is not None and not finding.descriptive:
        adjusted = p_value(finding.p_adjusted) + (" *" if finding.significant else "")
    shown_p = p_value(finding.p_value) if finding.p_value is not None else "-"
    test = name_of_test(finding) + (" (descriptive)" if finding.descriptive else "")
    return (label, compared_values(finding) or "-", effect_label(finding), adjusted, shown_p, test)


def _failed_steps(steps: Sequence[StepResult]) -> str:
    failed = [s for s in steps if s.status != "completed"]
    return "\n".join(
        f"- Step {inert(s.id)} {s.status}: {inert(s.error or 'no reason given')}" for s in failed
    )


def _row_name(step: StepResult, index: int) -> str:
    """A table row as evidence names it: its key values, else its position."""
    names = step.columns or list(step.rows[0])
    key = key_columns(names, step.rows)
    return row_name(names, step.rows[index], key) if key else str(index + 1)


def _row(cells: Any) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    """A table cell's text, inert: a pipe would end the cell, a newline the row."""
    return inert(" ".join(str(text).split())).replace("|", "\\|")


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {inert(item)}" for item in items)


#: What opens markdown's links and images (their brackets) and inline code: what could turn
#: text into a link, an image a front end fetches, or code.
_MARKUP = re.compile(r"([\\`\[\]])")


def inert(text: str) -> str:
    """``text`` from the data or the question, as markdown that only shows it: HTML escaped
    (a front end that renders HTML runs none of it), links, images and code spans undone. A
    level named ``<img src=x onerror=...>`` or ``![x](https://...)`` is shown, never run or
    fetched."""
    escaped = html.escape(str(text), quote=False)
    return _MARKUP.sub(r"\\\1", escaped)


def _fenced(text: str, language: str) -> str:
    """A code block whose fence is longer than any run of backticks in ``text``."""
    fence = "`" * max(3, _longest_backticks(text) + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _longest_backticks(text: str) -> int:
    best = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        best = max(best, run)
    return best


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain(value: Any) -> Any:
    return json.dumps(value, default=str) if isinstance(value, list | dict) else value
