"""Grants and scopes, rate limits, the audit chain and metrics in PostgreSQL, shared by several
workers, behind the same methods as the single-machine classes of chatter.governance."""

from chatter.governance.postgres.audit import PostgresAuditLog
from chatter.governance.postgres.grants import PostgresPermissionStore
from chatter.governance.postgres.metrics import PostgresMetrics
from chatter.governance.postgres.ratelimit import PostgresLimiter

__all__ = ["PostgresAuditLog", "PostgresLimiter", "PostgresMetrics", "PostgresPermissionStore"]
