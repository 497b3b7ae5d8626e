"""The analyst: a message understood (routed, or read as a follow-up), answered by one query
or a workflow, asked back about or refused, in a chat graph that every surface talks to
through a session."""

from chatter.analyst.decision import RouteDecision
from chatter.analyst.graph import analyst_graph, build_analyst, durable_analyst
from chatter.analyst.route import Router
from chatter.analyst.session import ChatSession, ask_once
from chatter.analyst.understand import build_router, understand

__all__ = [
    "ChatSession",
    "RouteDecision",
    "Router",
    "analyst_graph",
    "ask_once",
    "build_analyst",
    "build_router",
    "durable_analyst",
    "understand",
]
