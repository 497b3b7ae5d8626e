"""Use a template as a plain LangGraph graph: build it (compiled, cached), invoke it with a
runtime context, and read the result document from the final state.

    python examples/invoke_graph.py
"""

from __future__ import annotations

import json

import chatter

graph = chatter.build_graph(
    "conversion_deep_dive",
    customizations={
        "alpha": 0.01,
        "steps": {
            "statistical_validation": {
                "parameters": {"dimensions": ["industry", "acquisition_channel"]}
            },
            "cohort_analysis": {"enabled": False},
        },
    },
)
state = graph.invoke(
    {}, context=chatter.Context(user="alice")
)  # database: CHATTER_DATABASE or demo
result = state["result"]
print(json.dumps({k: result[k] for k in ("workflow", "status", "metrics")}, indent=2))
for finding in result["findings"]:
    if finding["significant"]:
        print(
            f"{finding['dimension']:>20} {finding['segment']!s:>12}  {finding['test']:>16}"
            f"  p_adj={finding['p_adjusted']:.2g}  effect={finding['effect_size']:.3f}"
        )
