"""The graphs LangGraph Studio serves (langgraph.json): the analyst (chat: ``{"messages": [...]}``)
and the three templates, compiled without a checkpointer (the LangGraph server brings its own
persistence).

Runs take an empty input (or ``{"run_id": ...}``); the context (``database``, ``user``, ...)
is optional and defaults to CHATTER_DATABASE or the embedded demo. The output is ``result``, the
JSON of CONTRACT.md section 3.
"""

from chatter.analyst.graph import analyst_graph
from chatter.workflow.runs import build_graph

analyst = analyst_graph()

conversion_deep_dive = build_graph("conversion_deep_dive")
feature_usage_deep_dive = build_graph("feature_usage_deep_dive")
revenue_optimization = build_graph("revenue_optimization")

__all__ = ["analyst", "conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization"]
