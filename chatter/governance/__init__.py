"""Governance: who may run what, how often, and the tamper-evident record of it."""
