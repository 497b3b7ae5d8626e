"""Governance on real runs: every tool node goes through the guard, denied steps follow the
failure policy, grants and scopes are enforced and audited, secrets are refused and never
stored, and 50 concurrent runs lose no audit row and keep rate limits exact."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from chatter.analyst.answer import answer
from chatter.analyst.decision import RouteDecision
from chatter.analyst.graph import build_analyst
from chatter.context import Context
from chatter.errors import PermissionDeniedError, RateLimitedError, SensitiveContentError
from chatter.governance.guard import GUARDED
from chatter.result import Route
from chatter.semantic.model import default_model
from chatter.semantic.query import Filter, SemanticQuery
from chatter.services import Services
from chatter.workflow.compiler import BEGIN, FINALIZE, build_state_graph
from chatter.workflow.composite import compose
from chatter.workflow.correction import CORRECT
from chatter.workflow.runs import build_graph, run_workflow
from chatter.workflow.template import builtin_templates

pytestmark = pytest.mark.integration

ROOT = Context(user="root", role="admin")
SECRET = "ghp_" + "Zq8" * 12  # a GitHub-token-shaped fake
SECRET_FILTER = {"field": "industry", "op": "=", "value": SECRET}


def ask_query(services: Services, ctx: Context, query: dict[str, Any]) -> Any:
    decision = RouteDecision(
        Route(workflow="query", confidence=1.0, reason="test"), query=SemanticQuery.parse(query)
    )
    return answer(services, decision, ctx)


def node_function(spec: Any) -> Any:
    return getattr(spec.runnable, "func", None)


# ---- every tool node of every graph ---------------------------------------------------------


def all_graph_builders(services: Services) -> dict[str, Any]:
    model = default_model()
    builders = {
        name: build_state_graph(services, t, model) for name, t in builtin_templates().items()
    }
    composite = compose({"templates": sorted(builtin_templates()), "mode": "parallel"})
    builders[composite.name] = build_state_graph(services, composite, model)
    builders["analyst"] = build_analyst(services)
    return builders


def test_every_tool_node_of_every_graph_is_guarded(services: Services) -> None:
    # Give the run an id, correct its findings, assemble the result, wait for a reply to a
    # question back: no tool, no data.
    plumbing = {BEGIN, CORRECT, FINALIZE, "ask_back"}
    checked = 0
    for name, builder in all_graph_builders(services).items():
        for node, spec in builder.nodes.items():
            if node in plumbing:
                continue
            assert getattr(node_function(spec), GUARDED, False), f"{name}.{node} is not guarded"
            checked += 1
    assert checked >= 3 * 5 + 2


@pytest.mark.parametrize("template", sorted(builtin_templates()))
def test_a_user_with_no_tool_grant_runs_no_tool(
    template: str, demo_db: Path, services: Services
) -> None:
    """Through the plain LangGraph entry point too: each step that would run is denied and
    audited, the rest are skipped, nothing completes."""
    services.admin.grant(ROOT, "user:eve", "workflow:*", "execute")
    ctx = Context(user="eve", role="intern", database=demo_db)
    out = build_graph(services, template).invoke({}, context=ctx)
    steps = out["result"]["steps"]
    assert steps and all(s["status"] != "completed" for s in steps)
    denied = {
        r.tool: r
        for r in services.guard.audit.query(
            actor="eve", action="tool.run", decision="denied", limit=1000
        )
    }
    attempted = [s for s in steps if s["status"] == "failed"]
    assert attempted, "the root steps must have asked the guard"
    for step in attempted:
        assert "may not run tool:" in step["error"]
        assert step["tool"] in denied
    for step in steps:
        if step["status"] == "skipped":
            assert "depends on" in step["error"] or "fail_run" in step["error"]


def test_each_completed_step_has_exactly_one_allowed_audit_row(
    demo_db: Path, services: Services
) -> None:
    ctx = Context(user="ana", role="analyst", database=demo_db)
    for name in sorted(builtin_templates()):
        result = run_workflow(services, name, context=ctx)
        rows = [
            r
            for r in services.guard.audit.query(actor="ana", limit=10_000)
            if r.run_id == result.run_id
        ]
        ran = [s for s in result.steps if s.status != "skipped"]
        tool_rows = [r for r in rows if r.action == "tool.run" and r.decision == "allowed"]
        assert sorted(r.tool for r in tool_rows) == sorted(s.tool for s in ran)
        assert [r.action for r in rows].count("workflow.run") == 1


# ---- roles, grants and the failure policy ---------------------------------------------------


def test_viewer_runs_queries_but_not_workflows_and_nothing_is_created(
    demo_db: Path, services: Services
) -> None:
    viewer = Context(user="vic", role="viewer", database=demo_db)
    reply = ask_query(services, viewer, {"measures": ["users"], "dimensions": ["plan_type"]})
    assert reply.steps[0].rows
    with pytest.raises(PermissionDeniedError, match="may not run workflow:conversion_deep_dive"):
        run_workflow(services, "conversion_deep_dive", context=viewer)
    rows = services.guard.audit.query(actor="vic", action="workflow.run")
    assert [r.decision for r in rows] == ["denied"]


def test_a_denied_step_fails_and_the_run_follows_its_failure_policy(
    demo_db: Path, services: Services
) -> None:
    services.admin.grant(ROOT, "user:ana", "tool:cohort_analysis", "read")
    result = run_workflow(
        services,
        "conversion_deep_dive",
        context=Context(user="ana", role="analyst", database=demo_db),
    )
    by_id = {s.id: s for s in result.steps}
    assert by_id["cohort_analysis"].status == "failed"
    assert "has read on tool:cohort_analysis; run needs execute" in (
        by_id["cohort_analysis"].error or ""
    )
    assert by_id["baseline_conversion"].status == "completed"
    assert result.status == "partial"
    assert by_id["insight_synthesis"].status == "completed"  # insights tolerate a missing input


def test_only_admins_grant_and_every_change_is_audited(services: Services) -> None:
    analyst = Context(user="mallory", role="analyst")
    with pytest.raises(PermissionDeniedError):
        services.admin.grant(analyst, "user:mallory", "*", "admin")
    made = services.admin.grant(
        ROOT, "user:bo", "tool:power_users", "execute", expires_at="2099-01-01T00:00:00Z"
    )
    assert made.granted_by == "root"
    assert services.admin.revoke(ROOT, "user:bo", "tool:power_users") is True
    assert services.admin.revoke(ROOT, "user:bo", "tool:power_users") is False
    actions = [
        (r.actor, r.action, r.decision)
        for r in services.guard.audit.query(action="permissions.*", newest_first=False)
    ]
    assert actions == [
        ("mallory", "permissions.grant", "denied"),
        ("root", "permissions.grant", "allowed"),
        ("root", "permissions.revoke", "allowed"),
        ("root", "permissions.revoke", "allowed"),
    ]
    assert services.guard.audit.verify().ok


def test_grant_typos_are_named_with_choices(services: Services) -> None:
    from chatter.errors import UnknownToolError

    with pytest.raises(UnknownToolError, match="Did you mean 'power_users'"):
        services.admin.grant(ROOT, "user:bo", "tool:power_user", "execute")
    with pytest.raises(Exception, match="level"):
        services.admin.grant(ROOT, "user:bo", "tool:query", "superuser")
    with pytest.raises(Exception, match="subject"):
        services.admin.grant(ROOT, "bo", "tool:query", "read")


def test_rate_limits_count_only_authorized_calls(demo_db: Path, services: Services) -> None:
    bob = Context(user="bob", role="nobody", database=demo_db)
    services.admin.grant(
        ROOT, "user:bob", "tool:query", "read", rate_limit={"calls": 2, "window_s": 3600}
    )
    query = {"measures": ["users"]}
    for _ in range(3):
        with pytest.raises(PermissionDeniedError):
            ask_query(services, bob, query)
    services.admin.grant(
        ROOT, "user:bob", "tool:query", "execute", rate_limit={"calls": 2, "window_s": 3600}
    )
    ask_query(services, bob, query)
    ask_query(services, bob, query)  # the three denied calls used none of the two
    with pytest.raises(RateLimitedError, match="2 calls per 3600 s") as caught:
        ask_query(services, bob, query)
    assert 3500 < caught.value.retry_after_s <= 3600
    decisions = [
        r.decision
        for r in services.guard.audit.query(actor="bob", action="tool.run", newest_first=False)
    ]
    assert decisions == ["denied"] * 3 + ["allowed"] * 2 + ["denied"]


# ---- secrets ----------------------------------------------------------------------------------


def test_a_secret_in_a_parameter_is_refused_and_never_stored(
    demo_db: Path, chatter_home: Path, capsys: pytest.CaptureFixture[str], services: Services
) -> None:
    ctx = Context(user="ana", role="analyst", database=demo_db)
    query = {"measures": ["users"], "filters": [SECRET_FILTER]}
    with pytest.raises(SensitiveContentError, match="filters") as caught:
        ask_query(services, ctx, query)
    assert SECRET not in caught.value.message
    with pytest.raises(SensitiveContentError):
        run_workflow(
            services,
            "conversion_deep_dive",
            {"steps": {"baseline_conversion": {"parameters": {"filters": [SECRET_FILTER]}}}},
            context=ctx,
        )
    rows = services.guard.audit.query(actor="ana", decision="denied")
    assert len(rows) == 2 and all(
        "secret" in (r.reason or "").lower() or "token" in (r.reason or "").lower() for r in rows
    )
    captured = capsys.readouterr()
    assert SECRET not in captured.err + captured.out
    for path in chatter_home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_the_analyst_refuses_a_secret_and_forgets_it(demo_db: Path, services: Services) -> None:
    from langchain_core.messages import HumanMessage
    from langgraph.checkpoint.memory import InMemorySaver

    graph = build_analyst(services).compile(checkpointer=InMemorySaver())
    ctx = Context(user="ana", role="analyst", database=demo_db)
    config = {"configurable": {"thread_id": "t1"}}
    out = graph.invoke(
        {"messages": [HumanMessage(f"conversion by plan where token is {SECRET}")]},
        config,
        context=ctx,
    )
    texts = [str(m.content) for m in out["messages"]]
    assert all(SECRET not in t for t in texts)
    assert out["messages"][-1].additional_kwargs["chatter"]["error"]["code"] == "sensitive_content"


# ---- data scope -------------------------------------------------------------------------------


def independent_connection(database: Path) -> Any:
    """Hand-written SQL on a copy (DuckDB allows one configuration per open file in a process)."""
    copy = database.parent / f"copy-{threading.get_ident()}-{database.name}"
    if not copy.exists():
        shutil.copy(database, copy)
    return duckdb.connect(str(copy), read_only=True)


def by_plan(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {r["plan_type"]: r["users"] for r in rows}


def test_a_scope_applies_whatever_the_query_asks_and_never_shares_a_cache(
    demo_db: Path, services: Services
) -> None:
    services.admin.set_scope(ROOT, "user:dana", [{"field": "country", "op": "=", "value": "DE"}])
    dana = Context(user="dana", role="analyst", database=demo_db)
    other = Context(user="olaf", role="analyst", database=demo_db)
    query = {"measures": ["users"], "dimensions": ["plan_type"]}
    first = ask_query(services, other, query)  # warms the cache for the unscoped query
    assert not first.steps[0].cached
    scoped = ask_query(services, dana, query)
    assert not scoped.steps[0].cached, "a scoped query must not reuse an unscoped result"
    with independent_connection(demo_db) as db:
        expected = dict(
            db.execute(
                "SELECT plan_type, COUNT(*) FROM users WHERE country = 'DE' GROUP BY 1"
            ).fetchall()
        )
    assert by_plan(scoped.steps[0].rows) == expected
    assert by_plan(first.steps[0].rows) != expected
    assert ask_query(services, dana, query).steps[0].cached  # its own cache entry
    # Asking for another country does not widen the scope: both filters apply.
    fr = ask_query(
        services, dana, {**query, "filters": [{"field": "country", "op": "=", "value": "FR"}]}
    )
    assert fr.steps[0].rows == []


def test_a_scoped_user_understands_with_the_levels_of_their_scope_only(
    demo_db: Path, services: Services
) -> None:
    """The router's vocabulary holds the data's level names: a scoped user's comes from the
    rows they may see, even after an unscoped user warmed the router cache."""
    from chatter.analyst.understand import router_for

    services.admin.set_scope(
        ROOT, "user:dana", [{"field": "industry", "op": "=", "value": "fintech"}]
    )

    def industries(ctx: Context) -> set[str]:
        router = router_for(services, services.warehouse(ctx))
        return {
            " ".join(e.words) for e in router.vocab.of_kind("level") if e.name.endswith("industry")
        }

    assert len(industries(Context(user="ana", database=demo_db))) > 1
    assert industries(Context(user="dana", database=demo_db)) == {"fintech"}


def test_a_role_scope_reaches_analyses_that_write_their_own_sql(
    demo_db: Path, services: Services
) -> None:
    services.admin.set_scope(
        ROOT, "role:regional", [{"field": "country", "op": "=", "value": "DE"}]
    )
    services.admin.grant(ROOT, "role:regional", "tool:*", "execute")
    services.admin.grant(ROOT, "role:regional", "workflow:*", "execute")
    regional = Context(user="rita", role="regional", database=demo_db)
    result = run_workflow(services, "feature_usage_deep_dive", context=regional)
    power = next(s for s in result.steps if s.id == "power_user_analysis")
    assert power.status == "completed"
    assert "__scope_rows" in (power.sql or "") and "'DE'" in (power.sql or "")
    with independent_connection(demo_db) as db:
        active_de = db.execute(
            "SELECT COUNT(DISTINCT e.user_id) FROM events e JOIN users u USING (user_id) "
            "WHERE u.country = 'DE'"
        ).fetchone()
    assert active_de is not None
    counted = power.summary["power_users"] + power.summary["other_active_accounts"]
    assert counted == active_de[0]


def test_a_scope_on_an_unknown_field_is_refused_when_set(services: Services) -> None:
    from chatter.errors import UnknownFieldError

    with pytest.raises(UnknownFieldError, match="Did you mean 'country'"):
        services.admin.set_scope(ROOT, "user:x", [{"field": "countyr", "op": "=", "value": "DE"}])


# ---- concurrency ------------------------------------------------------------------------------


def test_fifty_concurrent_runs_lose_no_audit_row_and_keep_limits_exact(
    demo_db: Path, services: Services
) -> None:
    services.admin.grant(
        ROOT, "user:carol", "tool:query", "execute", rate_limit={"calls": 20, "window_s": 3600}
    )
    before = services.guard.audit.count()
    outcomes: list[str] = []
    results: list[Any] = []
    lock = threading.Lock()
    barrier = threading.Barrier(50)

    def worker(i: int) -> None:
        barrier.wait()
        if i % 2:
            result = run_workflow(
                services,
                "conversion_deep_dive",
                context=Context(user=f"u{i}", role="analyst", database=demo_db),
            )
            with lock:
                results.append(result)
            return
        carol = Context(user="carol", role="analyst", database=demo_db)
        for _ in range(2):
            try:
                ask_query(services, carol, {"measures": ["users"], "dimensions": ["industry"]})
                outcome = "ok"
            except RateLimitedError:
                outcome = "limited"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 25 and all(r.status == "completed" for r in results)
    assert outcomes.count("ok") == 20 and outcomes.count("limited") == 30
    steps_run = sum(len([s for s in r.steps if s.status != "skipped"]) for r in results)
    expected_rows = 25 * 1 + steps_run + 50  # workflow.run + each step + each query call
    assert services.guard.audit.count() - before == expected_rows
    report = services.guard.audit.verify()
    assert report.ok, report.problems
    counters = services.metrics.snapshot()["counters"]
    assert counters["tool_calls"]["total"] == steps_run + 20
    assert counters["calls_denied"]["by_code"].get("rate_limited") == 30


def test_the_audit_file_is_append_only(chatter_home: Path, services: Services) -> None:
    services.guard.audit.append(actor="a", role="admin", action="x", decision="info")
    with sqlite3.connect(chatter_home / "audit.sqlite") as db, pytest.raises(sqlite3.DatabaseError):
        db.execute("DELETE FROM audit")


def test_a_scope_reaches_a_table_two_joins_away_without_multiplying_rows(demo_db: Path) -> None:
    """Revenue rows scoped by a filter on events (revenue -> users -> events, one-to-many):
    the semi-join keeps each revenue row once."""
    from chatter.semantic.scope import scope_statement
    from chatter.tools.analyses.sql_template import build_sql

    model = default_model()
    scope = (Filter(field="event_type", op="=", value="api_call"),)
    ast = build_sql(
        "SELECT COUNT(*) AS n, SUM(A_R.C_M) AS total FROM T_R AS A_R",
        {"T_R": "revenue", "A_R": "revenue", "C_M": "mrr"},
    )
    scoped, params = scope_statement(ast, model, scope, {})
    assert params == {"scope1": "api_call"}
    with independent_connection(demo_db) as db:
        got = db.execute(scoped.sql("duckdb"), params).fetchone()
        expected = db.execute(
            "SELECT COUNT(*), SUM(mrr) FROM revenue r WHERE r.user_id IN "
            "(SELECT user_id FROM events WHERE event_type = 'api_call')"
        ).fetchone()
        everything = db.execute("SELECT COUNT(*) FROM revenue").fetchone()
    assert got == expected and expected is not None and everything is not None
    assert 0 < expected[0] < everything[0]


def test_runs_steps_and_graph_cache_reach_the_metrics(demo_db: Path, services: Services) -> None:
    ctx = Context(user="ana", role="analyst", database=demo_db)
    first = run_workflow(services, "revenue_optimization", context=ctx)
    second = run_workflow(services, "revenue_optimization", context=ctx)
    snap = services.metrics.snapshot()
    counters = snap["counters"]
    assert (
        counters["runs"]["by_status"].get(first.status, 0)
        + counters["runs"]["by_status"].get(second.status, 0)
        >= 2
    )
    assert counters["graph_cache"]["hits"] >= 1
    assert counters["result_cache"]["hits"] >= len([s for s in second.steps if s.cached])
    steps = snap["run_steps"][second.run_id]
    assert set(steps) == {s.id for s in second.steps if s.status != "skipped"}
    assert snap["latency"]["run_ms"]["5m"]["count"] == 2
    assert snap["health"]["status"] == "healthy"


@pytest.mark.slow
def test_the_cli_refuses_a_secret_before_routing(demo_db: Path, chatter_home: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "CHATTER_HOME": str(chatter_home)}
    for args in (
        ["ask", f"churn by plan, key {SECRET}"],
        ["query", "-m", "users", "-f", f"industry={SECRET}"],
    ):
        out = subprocess.run(
            [sys.executable, "-m", "chatter.cli", *args, "--database", str(demo_db), "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert out.returncode == 2, out.stderr
        assert json.loads(out.stdout)["error"]["code"] == "sensitive_content"
        assert SECRET not in out.stdout + out.stderr
