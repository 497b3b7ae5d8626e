"""Each way an answer used to answer a different question (issue 12's examples), asked as a user
would: through the `chatter` command and through the chat API of a real server on loopback.
The rows are checked against SQL written here by hand on the same database, the words of the
answer against what the rows say, and questions naming values the data lacks must be asked
back (naming the values there are), never answered as another question."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_server import Server, key_of, running_server
from cli_runner import run_cli

pytestmark = pytest.mark.integration

TODAY = "2025-12-15"  # inside the demo data, so "the last 6 months" holds data
Ask = Callable[[str], dict[str, Any]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("faithful") / "home"
    env = {"CHATTER_API_WORKERS": "1", "CHATTER_TODAY": TODAY}
    with running_server(home, demo_db, extra_env=env) as running:
        yield running


def _cli(demo_db: Path, home: Path) -> Ask:
    def ask(question: str) -> dict[str, Any]:
        ran = run_cli(
            "ask",
            question,
            "--json",
            home=home,
            env={"CHATTER_DATABASE": str(demo_db), "CHATTER_TODAY": TODAY},
        )
        assert ran.returncode == 0, ran.stderr
        return dict(json.loads(ran.stdout))

    return ask


def _http(server: Server) -> Ask:
    def ask(question: str) -> dict[str, Any]:
        with server.client(key_of("alice")) as http:
            response = http.post("/api/v1/chat/query", json={"message": question})
        assert response.status_code == 200, response.text
        body = response.json()
        doc = dict(body["answer"])
        # The response's own fields say the same as the answer document.
        assert body["interpretation"] == doc["interpretation"]
        assert body["database"] == doc["database"]
        if doc["steps"]:
            assert body["sql_query"] == doc["steps"][0]["sql"]
        return doc

    return ask


@pytest.fixture(params=["cli", "http"])
def ask(request: pytest.FixtureRequest, demo_db: Path, tmp_path: Path) -> Ask:
    if request.param == "cli":
        return _cli(demo_db, tmp_path / "home")
    return _http(request.getfixturevalue("server"))


@pytest.fixture(scope="module")
def sql(demo_sql: Any) -> Any:
    return demo_sql


def rows_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    assert doc["workflow"] == "query", doc["text"]
    return list(doc["steps"][0]["rows"])


def assert_answer_basics(doc: dict[str, Any], demo_db: Path) -> None:
    assert doc["database"] == str(demo_db)
    assert doc["interpretation"]["text"]
    assert doc["steps"][0]["sql"]


# ---- rankings and rates ---------------------------------------------------------------------


def test_which_channel_converts_best_names_the_best_converting_channel(
    ask: Ask, sql: Any, demo_db: Path
) -> None:
    doc = ask("which channel converts best")
    assert_answer_basics(doc, demo_db)
    gold = sql(
        "SELECT acquisition_channel, AVG(CASE WHEN converted THEN 1.0 ELSE 0 END) AS r "
        "FROM users GROUP BY 1 ORDER BY r DESC"
    )
    rows = rows_of(doc)
    assert [r["acquisition_channel"] for r in rows] == [g[0] for g in gold]
    assert [r["conversion_rate"] for r in rows] == pytest.approx([g[1] for g in gold])
    top = gold[0][0]
    assert doc["text"].startswith(f"{top} has the highest conversion rate")
    assert doc["interpretation"]["order"] == [{"field": "conversion_rate", "desc": True}]


def test_what_share_of_trials_converted_is_a_rate(ask: Ask, sql: Any, demo_db: Path) -> None:
    doc = ask("What share of trials converted?")
    assert_answer_basics(doc, demo_db)
    (gold,) = sql("SELECT AVG(CASE WHEN converted THEN 1.0 ELSE 0 END) FROM users")
    assert rows_of(doc) == [{"conversion_rate": pytest.approx(gold[0])}]


def test_churn_rate_for_users_who_signed_up_in_2024_keeps_the_signup_filter(
    ask: Ask, sql: Any, demo_db: Path
) -> None:
    doc = ask("churn rate for users who signed up in 2024")
    (gold,) = sql(
        "SELECT COUNT(*) FILTER (WHERE churned) / COUNT(*) FILTER (WHERE converted) FROM users "
        "WHERE signup_date BETWEEN DATE '2024-01-01' AND DATE '2024-12-31'"
    )
    assert rows_of(doc) == [{"churn_rate": pytest.approx(gold[0])}]
    assert "signup date from 2024-01-01 to 2024-12-31" in doc["interpretation"]["text"]


def test_what_share_of_users_churned_in_2024_is_a_rate_over_that_window(ask: Ask, sql: Any) -> None:
    doc = ask("what share of users churned in 2024")
    # A rate over a window is its population's (docs/questions.md): the paying accounts that
    # signed up in 2024, and the share of them that churned (the model's churn rate). Not an
    # all-time count.
    (gold,) = sql(
        "SELECT COUNT(*) FILTER (WHERE churned) / COUNT(*) FILTER (WHERE converted) FROM users "
        "WHERE signup_date BETWEEN DATE '2024-01-01' AND DATE '2024-12-31'"
    )
    assert rows_of(doc) == [{"churn_rate": pytest.approx(gold[0])}]
    assert doc["interpretation"]["time_window"]["start"] == "2024-01-01"


# ---- time windows ---------------------------------------------------------------------------


def test_how_many_users_signed_up_in_march_2025_keeps_the_month(ask: Ask, sql: Any) -> None:
    doc = ask("How many users signed up in March 2025?")
    (gold,) = sql(
        "SELECT COUNT(*) FROM users WHERE signup_date >= DATE '2025-03-01' "
        "AND signup_date < DATE '2025-04-01'"
    )
    assert rows_of(doc) == [{"users": gold[0]}]


def test_mrr_by_plan_in_june_2025_is_that_months_mrr_by_billed_plan(ask: Ask, sql: Any) -> None:
    doc = ask("MRR by plan in June 2025")
    gold = sql(
        "SELECT plan_type, SUM(mrr) FROM revenue WHERE month = DATE '2025-06-01' "
        "GROUP BY 1 ORDER BY 1"
    )
    got = sorted((r["plan_type"], r["mrr"]) for r in rows_of(doc))
    assert got == [(p, pytest.approx(v)) for p, v in gold]


def test_mrr_for_enterprise_in_the_last_6_months_is_the_six_months_before_today(
    ask: Ask, sql: Any
) -> None:
    doc = ask("mrr for enterprise in the last 6 months")
    # Today 2025-12-15: the last six whole months are June to November 2025.
    gold = sql(
        "SELECT CAST(month AS VARCHAR), SUM(mrr) FROM revenue WHERE plan_type = 'enterprise' "
        "AND month BETWEEN DATE '2025-06-01' AND DATE '2025-11-30' GROUP BY 1 ORDER BY 1"
    )
    assert len(gold) == 6
    got = [(r["month__month"], r["mrr"]) for r in rows_of(doc)]
    assert got == [(m, pytest.approx(v)) for m, v in gold]


def test_a_window_with_no_data_says_so_and_where_the_data_ends(
    demo_db: Path, tmp_path: Path, sql: Any
) -> None:
    ran = run_cli(
        "ask",
        "mrr for enterprise in the last 6 months",
        "--json",
        home=tmp_path,
        env={"CHATTER_DATABASE": str(demo_db), "CHATTER_TODAY": "2027-03-01"},
    )
    doc = json.loads(ran.stdout)
    (last,) = sql("SELECT MAX(month) FROM revenue WHERE plan_type = 'enterprise'")
    assert rows_of(doc) == []
    assert "There is no data for 'in the last 6 months'" in doc["text"]
    assert f"to {last[0].isoformat()}" in doc["text"]
    assert doc["steps"][0]["sql"], "a zero-row answer carries its SQL"
    assert doc["database"] == str(demo_db)


# ---- values the data lacks ------------------------------------------------------------------


def test_the_pro_plan_is_asked_about_naming_the_plans_there_are(ask: Ask, sql: Any) -> None:
    doc = ask("is the pro plan worth it?")
    assert doc["workflow"] == "clarify" and doc["steps"] == []
    assert "'pro'" in doc["text"]
    plans = [p for (p,) in sql("SELECT DISTINCT plan_type FROM users ORDER BY 1")]
    assert all(p in doc["text"] for p in plans)
    assert doc["options"] == plans


def test_a_filter_on_a_value_the_data_lacks_is_asked_back(ask: Ask) -> None:
    doc = ask("conversion rate by plan where plan_type = 'nope'")
    assert doc["workflow"] == "clarify" and doc["steps"] == []
    assert "'nope'" in doc["text"]


def test_an_unknown_word_where_a_value_goes_is_asked_back(ask: Ask) -> None:
    doc = ask("conversion rate by plan for the flurbish accounts")
    assert doc["workflow"] == "clarify" and doc["steps"] == []
    assert "'flurbish'" in doc["text"]


def test_only_an_unknown_value_in_a_session_asks_back_over_http(server: Server) -> None:
    with server.client(key_of("bob")) as http:
        first = http.post("/api/v1/chat/query", json={"message": "conversion rate by plan"})
        session = first.json()["session_id"]
        then = http.post(
            "/api/v1/chat/query", json={"message": "only zzzz", "session_id": session}
        ).json()
    assert then["message_type"] == "clarification"
    assert "'zzzz'" in then["content"]
    assert then["answer"]["steps"] == []


def test_only_an_unknown_value_in_a_session_asks_back_in_the_cli(
    demo_db: Path, tmp_path: Path
) -> None:
    ran = run_cli(
        "chat",
        home=tmp_path,
        env={"CHATTER_DATABASE": str(demo_db)},
        input="conversion rate by plan\nonly zzzz\nexit\n",
    )
    assert ran.returncode == 0, ran.stderr
    answer, asked = ran.stdout.split("Understood:")[1:3]
    assert "conversion_rate" in answer
    assert "'zzzz'" in asked and "conversion_rate" not in asked.split("Which")[0]


# ---- measures that do not add over time -------------------------------------------------------


QUARTER_END_MRR = (
    "SELECT CAST(CAST(date_trunc('quarter', month) AS DATE) AS VARCHAR) AS q, SUM(mrr) AS mrr, "
    "COUNT(DISTINCT user_id) AS subs FROM revenue "
    "WHERE month = (SELECT MAX(month) FROM revenue r2 "
    "               WHERE date_trunc('quarter', r2.month) = date_trunc('quarter', revenue.month)) "
    "GROUP BY 1 ORDER BY 1"
)


def test_quarterly_mrr_and_arpu_are_each_quarters_last_month_in_the_query_command(
    demo_db: Path, tmp_path: Path, sql: Any
) -> None:
    ran = run_cli(
        "query",
        "-m",
        "mrr",
        "-m",
        "arpu",
        "-d",
        "month",
        "--time-grain",
        "quarter",
        "--database",
        str(demo_db),
        "--json",
        home=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    step = json.loads(ran.stdout)["steps"][0]
    gold = sql(QUARTER_END_MRR)
    got = [(r["month__quarter"], r["mrr"], r["arpu"]) for r in step["rows"]]
    assert got == [(q, pytest.approx(m), pytest.approx(m / s)) for q, m, s in gold]


def test_mrr_by_quarter_asked_in_words_is_each_quarters_last_month(ask: Ask, sql: Any) -> None:
    doc = ask("MRR by quarter")
    gold = sql(QUARTER_END_MRR)
    got = [(r["month__quarter"], r["mrr"]) for r in rows_of(doc)]
    assert got == [(q, pytest.approx(m)) for q, m, _ in gold]
    total = ask("total revenue by quarter")  # revenue billed adds up over the months
    summed = sql(
        "SELECT CAST(CAST(date_trunc('quarter', month) AS DATE) AS VARCHAR), SUM(mrr) "
        "FROM revenue "
        "GROUP BY 1 ORDER BY 1"
    )
    assert [(r["month__quarter"], r["revenue"]) for r in rows_of(total)] == [
        (q, pytest.approx(v)) for q, v in summed
    ]


# ---- the interpretation, on every answer ---------------------------------------------------


def test_a_zero_row_answer_carries_its_sql_and_the_database(ask: Ask, demo_db: Path) -> None:
    doc = ask("conversion rate by plan for signups in 2019")
    assert rows_of(doc) == []
    assert_answer_basics(doc, demo_db)
    assert "There is no data for 'in 2019'" in doc["text"]


def test_words_the_analyst_could_not_use_are_listed(ask: Ask) -> None:
    doc = ask("flurbish conversion rate by plan")
    understood = doc["interpretation"]
    assert "flurbish" in understood["unused_words"]
    assert "'flurbish'" in understood["text"]
    assert doc["route"]["confidence"] < 0.8


def test_the_cli_prints_what_it_understood_first(demo_db: Path, tmp_path: Path) -> None:
    ran = run_cli(
        "ask",
        "which channel converts best",
        home=tmp_path,
        env={"CHATTER_DATABASE": str(demo_db)},
    )
    assert ran.returncode == 0, ran.stderr
    first = ran.stdout.strip().splitlines()[0]
    assert first == "Understood: conversion rate by acquisition channel, highest first"
    assert f"Database: {demo_db}" in ran.stdout.replace("\n", "")


def test_the_http_answer_and_the_cli_answer_agree(
    server: Server, demo_db: Path, tmp_path: Path
) -> None:
    question = "How many users signed up in March 2025?"
    cli, http = _cli(demo_db, tmp_path / "home")(question), _http(server)(question)
    assert cli["interpretation"] == http["interpretation"]
    assert rows_of(cli) == rows_of(http)


# ---- deep dives keep the window -----------------------------------------------------------


def test_a_deep_dive_keeps_the_questions_window_on_its_steps(
    demo_db: Path, tmp_path: Path, sql: Any
) -> None:
    ran = run_cli(
        "ask",
        "why did conversion drop in 2025?",
        "--json",
        home=tmp_path,
        env={"CHATTER_DATABASE": str(demo_db), "CHATTER_TODAY": TODAY},
    )
    doc = json.loads(ran.stdout)
    assert doc["workflow"] == "conversion_deep_dive"
    baseline = next(s for s in doc["steps"] if s["id"] == "baseline_conversion")
    gold = sql(
        "SELECT plan_type, COUNT(*) FROM users WHERE signup_date BETWEEN DATE '2025-01-01' "
        "AND DATE '2025-12-31' GROUP BY 1 ORDER BY 1"
    )
    assert sorted((r["plan_type"], r["users"]) for r in baseline["rows"]) == gold
    assert "signup_date" in baseline["sql"] and "2025-01-01" in baseline["sql"]
    assert "signup date from 2025-01-01 to 2025-12-31" in doc["interpretation"]["text"]


def test_a_deep_dive_over_a_window_with_no_data_says_so_instead_of_running(
    demo_db: Path, tmp_path: Path, sql: Any
) -> None:
    ran = run_cli(
        "ask",
        "why did conversion drop in the last 3 months?",
        "--json",
        home=tmp_path,
        env={"CHATTER_DATABASE": str(demo_db), "CHATTER_TODAY": "2027-06-01"},
    )
    doc = json.loads(ran.stdout)
    ((last,),) = sql("SELECT MAX(signup_date) FROM users")
    assert doc["workflow"] == "clarify" and doc["steps"] == []
    assert "There is no data for 'in the last 3 months'" in doc["text"]
    assert last.isoformat() in doc["text"]


def test_a_date_that_reads_two_ways_is_asked_back(ask: Ask) -> None:
    doc = ask("how many signups on 05/06/2025?")
    assert doc["workflow"] == "clarify" and doc["steps"] == []
    assert "2025-05-06" in doc["text"] and "2025-06-05" in doc["text"]


# ---- shorthand, ARPU's names, short windows (the eleventh held-out set's first run) -----------


def test_conv_percent_is_the_conversion_rate(ask: Ask, sql: Any) -> None:
    doc = ask("conv % by plan")
    assert doc["query"]["measures"] == ["conversion_rate"], doc["interpretation"]
    expected = sql(
        "SELECT plan_type, avg(CASE WHEN converted THEN 1.0 ELSE 0 END) FROM users GROUP BY 1"
    )
    got = {r["plan_type"]: r["conversion_rate"] for r in rows_of(doc)}
    assert got == pytest.approx(dict(expected))


def test_average_revenue_per_customer_is_arpu(ask: Ask, sql: Any) -> None:
    doc = ask("average revenue per customer in DE?")
    assert doc["query"]["measures"] == ["arpu"], doc["interpretation"]
    ((arpu,),) = sql(
        "SELECT sum(r.mrr) / count(DISTINCT r.user_id) FROM revenue r JOIN users u USING (user_id) "
        "WHERE u.country = 'DE' AND r.month = (SELECT max(month) FROM revenue)"
    )
    assert rows_of(doc)[0]["arpu"] == pytest.approx(arpu)


def test_a_single_number_over_a_window_with_no_data_is_no_rows(
    demo_db: Path, tmp_path: Path
) -> None:
    ran = run_cli(
        "ask",
        "mrr this month?",
        "--json",
        home=tmp_path,
        env={"CHATTER_DATABASE": str(demo_db), "CHATTER_TODAY": "2027-03-01"},
    )
    doc = json.loads(ran.stdout)
    assert rows_of(doc) == [] and "There is no data for 'this month'" in doc["text"]
    assert doc["steps"][0]["sql"], "a zero-row answer carries its SQL"


def test_a_date_split_over_a_week_is_by_day(ask: Ask, sql: Any) -> None:
    doc = ask("signups by date last week")  # TODAY is Monday 2025-12-15: the week before it
    assert doc["query"]["dimensions"] == ["signup_date__day"], doc["interpretation"]
    expected = sql(
        "SELECT signup_date, count(*) FROM users WHERE signup_date BETWEEN "
        "DATE '2025-12-08' AND DATE '2025-12-14' GROUP BY 1 ORDER BY 1"
    )
    got = [(r["signup_date__day"], r["users"]) for r in rows_of(doc)]
    assert [(str(d)[:10], n) for d, n in got] == [(d.isoformat(), n) for d, n in expected]
