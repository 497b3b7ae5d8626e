"""Workflow templates, their results and (later) their compilation to LangGraph graphs."""
