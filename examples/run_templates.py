"""Run each workflow template on the demo data and print its insights.

python examples/run_templates.py [--database PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import chatter


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", type=Path, default=None, help="DuckDB file (default: demo)")
    args = parser.parse_args()
    for template in chatter.list_templates():
        result = chatter.run_workflow(template["name"], database=args.database)
        print(
            f"\n== {result.workflow}: {result.status} in {result.metrics.duration_ms:,.0f} ms, "
            f"{sum(f.significant for f in result.findings)} of {len(result.findings)} tests "
            "significant"
        )
        for insight in result.insights:
            print(f"- {insight.text}\n  evidence: {', '.join(insight.evidence)}")


if __name__ == "__main__":
    main()
