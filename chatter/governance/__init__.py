"""Governance: who may run what (permissions, grants, data scopes), how often (rate limits),
the tamper-evident record of it (audit), how the system behaves (metrics), and the guard that
applies all of it around every tool call."""

from chatter.governance.admin import Admin
from chatter.governance.audit import AuditLog
from chatter.governance.grants import PermissionStore
from chatter.governance.guard import GUARDED, Guard, mark_guarded
from chatter.governance.metrics import Metrics
from chatter.governance.permissions import Grant, Level
from chatter.governance.ratelimit import RateLimit, SlidingWindowLimiter

__all__ = [
    "GUARDED",
    "Admin",
    "AuditLog",
    "Grant",
    "Guard",
    "Level",
    "Metrics",
    "PermissionStore",
    "RateLimit",
    "SlidingWindowLimiter",
    "mark_guarded",
]
