"""The graphs LangGraph Studio serves (langgraph.json): the analyst (chat: ``{"messages": [...]}``)
and the three templates, compiled without a checkpointer (the LangGraph server brings its own
persistence), over the shared services of the data directory (CHATTER_HOME).

Runs take an empty input (or ``{"run_id": ...}``); the context (``database``, ``user``, ...)
is optional and defaults to CHATTER_DATABASE or the embedded demo. A template's output is
``result``, the JSON of CONTRACT.md section 3; the analyst's is ``answer``, the same document
``chatter ask --json`` prints.
"""

from chatter.analyst.graph import analyst_graph
from chatter.services import shared_services
from chatter.workflow.runs import build_graph

services = shared_services()
analyst = analyst_graph(services)

conversion_deep_dive = build_graph(services, "conversion_deep_dive")
feature_usage_deep_dive = build_graph(services, "feature_usage_deep_dive")
revenue_optimization = build_graph(services, "revenue_optimization")

__all__ = ["analyst", "conversion_deep_dive", "feature_usage_deep_dive", "revenue_optimization"]
