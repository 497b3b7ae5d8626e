"""The permission decision: ordered levels, role defaults, grants, methods, expiry, deny by
default."""

from __future__ import annotations

import datetime as dt

import pytest

from chatter.errors import InvalidValueError, UnknownNameError
from chatter.governance.permissions import (
    Decision,
    Grant,
    Level,
    UnknownLevelError,
    UnknownMethodError,
    admin_resources,
    decide,
    tool_resources,
    workflow_resources,
)
from chatter.governance.ratelimit import RateLimit

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def decision_for(
    role: str, method: str, resources: tuple[str, ...], *grants: Grant, user: str = "ana"
) -> Decision:
    table = {(g.subject, g.resource): g for g in grants}
    return decide(user=user, role=role, method=method, resources=resources, grants=table, now=NOW)


def allowed(
    role: str, method: str, resources: tuple[str, ...], *grants: Grant, user: str = "ana"
) -> bool:
    return decision_for(role, method, resources, *grants, user=user).allowed


QUERY = tool_resources("query", "query")
ANALYSIS = tool_resources("power_users", "analysis")
WORKFLOW = workflow_resources("conversion_deep_dive")


def test_levels_really_order() -> None:
    assert Level.NONE < Level.READ < Level.EXECUTE < Level.ADMIN
    assert Level.parse("Execute") is Level.EXECUTE and Level.parse(3) is Level.ADMIN
    with pytest.raises(UnknownLevelError, match="Did you mean 'execute'"):
        Level.parse("exeucte")


@pytest.mark.parametrize(
    ("role", "method", "resources", "expected"),
    [
        ("viewer", "run", QUERY, True),
        ("viewer", "run", ANALYSIS, False),
        ("viewer", "run", WORKFLOW, False),
        ("viewer", "read", WORKFLOW, True),
        ("viewer", "read", admin_resources("audit"), False),
        ("analyst", "run", QUERY, True),
        ("analyst", "run", ANALYSIS, True),
        ("analyst", "run", WORKFLOW, True),
        ("analyst", "cancel", WORKFLOW, True),
        ("analyst", "read", admin_resources("metrics"), False),
        ("analyst", "grant", admin_resources("permissions"), False),
        ("admin", "read", admin_resources("audit"), True),
        ("admin", "grant", admin_resources("permissions"), True),
        ("admin", "run", ANALYSIS, True),
        ("Admin", "run", QUERY, False),  # roles are exact: a near miss is nobody
        ("", "run", QUERY, False),
        ("intern", "read", WORKFLOW, False),
    ],
)
def test_role_defaults_follow_the_contract(
    role: str, method: str, resources: tuple[str, ...], expected: bool
) -> None:
    assert allowed(role, method, resources) is expected


def test_deny_by_default_names_what_is_missing() -> None:
    decision = decide(user="bo", role="intern", method="run", resources=QUERY, grants={}, now=NOW)
    assert not decision.allowed
    assert "tool:query" in decision.reason and "'intern' is not one of" in decision.reason


def test_user_grant_beats_role_default_at_the_most_specific_resource() -> None:
    lift = Grant(subject="user:ana", resource="tool:power_users", level="execute")
    assert allowed("viewer", "run", ANALYSIS, lift)
    assert not allowed("viewer", "run", tool_resources("usage_correlation", "analysis"), lift)
    assert not allowed("viewer", "run", ANALYSIS, lift, user="ben")  # only ana's
    block = Grant(subject="user:ana", resource="tool:query", level="none")
    assert not allowed("analyst", "run", QUERY, block)
    assert allowed("analyst", "run", ANALYSIS, block)


def test_user_grant_beats_role_grant_beats_default() -> None:
    role_block = Grant(subject="role:analyst", resource="type:analysis", level="read")
    assert not allowed("analyst", "run", ANALYSIS, role_block)
    user_lift = Grant(subject="user:ana", resource="type:analysis", level="execute")
    assert allowed("analyst", "run", ANALYSIS, role_block, user_lift)
    # A more specific role grant wins over a less specific user grant.
    specific = Grant(subject="role:analyst", resource="tool:power_users", level="none")
    broad = Grant(subject="user:ana", resource="tool:*", level="execute")
    assert not allowed("analyst", "run", ANALYSIS, specific, broad)


def test_level_must_reach_the_method() -> None:
    read_only = Grant(subject="user:ana", resource="workflow:*", level="read")
    decision = decision_for("analyst", "run", WORKFLOW, read_only)
    assert (
        not decision.allowed
        and "has read" in decision.reason
        and "needs execute" in decision.reason
    )


def test_methods_narrow_a_level() -> None:
    run_only = Grant(subject="user:ana", resource="workflow:*", level="execute", methods=["run"])
    assert allowed("viewer", "run", WORKFLOW, run_only)
    assert not allowed("viewer", "cancel", WORKFLOW, run_only)
    with pytest.raises(UnknownMethodError):
        Grant(subject="user:ana", resource="*", level="read", methods=["delete"])


def test_expired_grants_speak_for_nothing() -> None:
    old = Grant(
        subject="user:ana",
        resource="tool:power_users",
        level="execute",
        expires_at=NOW - dt.timedelta(seconds=1),
    )
    fresh = old.model_copy(update={"expires_at": NOW + dt.timedelta(hours=1)})
    assert not allowed("viewer", "run", ANALYSIS, old)
    assert allowed("viewer", "run", ANALYSIS, fresh)
    naive = Grant(subject="user:a", resource="*", level=1, expires_at=dt.datetime(2030, 1, 1))
    assert naive.expires_at is not None and naive.expires_at.tzinfo is dt.UTC


def test_rate_limited_grants_are_collected_even_when_another_decides() -> None:
    limited = Grant(
        subject="role:analyst",
        resource="tool:*",
        level="execute",
        rate_limit=RateLimit(calls=5, window_s=60),
    )
    specific = Grant(subject="user:ana", resource="tool:query", level="execute")
    decision = decision_for("analyst", "run", QUERY, limited, specific)
    assert decision.allowed and decision.grant == specific and decision.limits == (limited,)


@pytest.mark.parametrize("resource", ["tools:query", "tool:", "tool:a b", "tool:x;drop", "", "**"])
def test_malformed_resources_are_refused(resource: str) -> None:
    with pytest.raises((InvalidValueError, ValueError)):
        Grant(subject="user:a", resource=resource, level="read")


def test_unknown_admin_area_suggests() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'audit'"):
        Grant(subject="user:a", resource="admin:audti", level="read")


@pytest.mark.parametrize("subject", ["ana", "group:x", "user:", "user:a\x00b"])
def test_malformed_subjects_are_refused(subject: str) -> None:
    with pytest.raises(ValueError):
        Grant(subject=subject, resource="*", level="read")
