"""Declarative workflow templates (YAML), installed as ``chatter.graphs``."""
