"""Watch a run's progress as it happens, two ways: a progress callback on run_workflow, and the
graph's own stream of custom events (what LangGraph Studio shows).

    python examples/stream_progress.py
"""

from __future__ import annotations

from typing import Any

import chatter


def on_progress(event: dict[str, Any]) -> None:
    print(
        f"[{event['percent']:5.1f}%] {event['event']:<14} {event['step']}"
        + (f" ({event['status']}, {event['duration_ms']:.0f} ms)" if "status" in event else "")
    )


result = chatter.run_workflow("feature_usage_deep_dive", progress=on_progress)
print(f"{result.status}: {len(result.insights)} insights\n")

graph = chatter.build_graph("revenue_optimization")
for mode, chunk in graph.stream({}, context=chatter.Context(), stream_mode=["custom", "updates"]):
    if mode == "custom":
        print("event:", chunk)
    else:
        print("finished node(s):", ", ".join(chunk))
