"""The web chat page in a real browser: Debian's headless Chromium, driven by Playwright for
Python, against a real `chatter serve` on loopback over the demo database.

Every request the page makes is recorded, and any that is not for 127.0.0.1 is stopped and
fails the test; so does any console error (a Content-Security-Policy violation is one).
Screenshots at laptop and phone sizes go under each test's tmp_path.

Without /usr/bin/chromium the browser tests skip, except under CI=true, where they fail: a
browser test that silently skips in CI could never fail (.ci/run installs chromium)."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from api_server import Server, key_of, running_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
#: Chromium's own background traffic (updates, sync, field trials) is off: the machine's
#: closed network refuses it, and none of it is the page's.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 850}
PHONE = {"width": 390, "height": 844}
LOOPBACK = "127.0.0.1"
TIMEOUT_MS = 60_000


def _browser_missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; in CI the browser tests must run (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _browser_missing(f"{CHROMIUM} not found (Debian's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_missing("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("web") / "home"
    with running_server(home, demo_db) as running:
        yield running


@dataclass
class Watch:
    """What the page did: every URL it asked for, the ones stopped, and console errors."""

    requests: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.requests, "the page made no requests at all"
        assert not self.stopped, f"requests to hosts other than {LOOPBACK}: {self.stopped}"
        hosts = {_host(url) for url in self.requests}
        assert hosts == {LOOPBACK}, f"hosts asked for: {hosts}"
        assert not self.errors, f"console errors: {self.errors}"


def _host(url: str) -> str | None:
    """The host a URL reaches (a blob: URL's is its creator's); None for data: and about:."""
    parts = urlsplit(url)
    if parts.scheme == "blob":
        return urlsplit(url[len("blob:") :]).hostname
    if parts.scheme in ("data", "about"):
        return LOOPBACK  # nothing leaves the browser
    return parts.hostname


@dataclass
class Browser:
    page: Any
    watch: Watch
    shots: Path

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def open_page(playwright: Any, tmp_path: Path) -> Iterator[Any]:
    """``open_page(viewport)``: a fresh browser (its own new user data dir) on the page."""
    contexts: list[Any] = []

    def start(server: Server, viewport: dict[str, int] = LAPTOP) -> Browser:
        profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=viewport,
            accept_downloads=True,
        )
        contexts.append(context)
        watch = Watch()

        def guard(route: Any) -> None:
            url = route.request.url
            watch.requests.append(url)
            if _host(url) == LOOPBACK:
                route.continue_()
            else:
                watch.stopped.append(url)
                route.abort()

        context.route("**/*", guard)
        context.on("request", lambda request: watch.requests.append(request.url))
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda err: watch.errors.append(f"uncaught: {err}"))
        page.goto(server.url + "/")
        return Browser(page, watch, tmp_path)

    yield start
    for context in contexts:
        context.close()


def sign_in(browser: Browser, user: str) -> None:
    page = browser.page
    page.get_by_label("API key").fill(key_of(user))
    page.get_by_label("API key").press("Enter")
    page.get_by_label("Your question").wait_for(state="visible")


def ask(browser: Browser, question: str) -> Any:
    """Type a question, press Enter, and wait for its answer: the new turn's answer section."""
    page = browser.page
    before = page.locator(".turn").count()
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    turn = page.locator(".turn").nth(before)
    turn.locator(".answer").wait_for()
    return turn


def table_of(turn: Any) -> tuple[list[str], list[list[str]]]:
    """A turn's result table: its header, and each cell's value as the server sent it."""
    table = turn.locator("table.results")
    header = table.locator("thead th").all_inner_texts()
    rows = table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.dataset.value))"
    )
    return header, rows


def chart_marks(turn: Any) -> int:
    """Marks Vega drew in the turn's chart (the SVG renderer's mark items)."""
    canvas = turn.locator(".chart-canvas[data-rendered]")
    canvas.wait_for()  # drawn, or failed and saying why
    assert canvas.get_attribute("data-rendered") == "true", canvas.inner_text()
    svg = canvas.locator("svg.marks")
    count: int = svg.evaluate(
        "svg => svg.querySelectorAll('g.mark-rect path, g.mark-symbol path, g.mark-line path').length"
    )
    return count


def api(server: Server, user: str) -> httpx.Client:
    return server.client(key_of(user))


# ---- the page and its files, over plain HTTP ----------------------------------------------


def test_the_page_and_its_files_are_served_without_a_key_under_a_strict_policy(
    server: Server,
) -> None:
    with httpx.Client(base_url=server.url) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert page.headers["cache-control"] == "no-cache"
        again = http.get("/", headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304 and again.content == b""

        vega = http.get("/web/vendor/vega-6.4.0/vega.min.js")
        assert vega.status_code == 200
        assert vega.headers["content-type"] == "text/javascript; charset=utf-8"
        assert "immutable" in vega.headers["cache-control"]
        assert vega.headers["x-content-type-options"] == "nosniff"
        style = http.get("/web/style.css")
        assert style.headers["content-type"] == "text/css; charset=utf-8"
        assert style.headers["cache-control"] == "no-cache"

        for missing in ("/web/nothing.js", "/web/__init__.py", "/web/vendor/VENDORED.md"):
            refused = http.get(missing)
            assert refused.status_code == 404, missing
            assert refused.json()["error"]["code"] == "not_found"
        # the page itself holds no data: every data route still wants the key
        assert http.get("/api/v1/chat/sessions").status_code == 401

        paths = http.get("/openapi.json").json()["paths"]
        assert "/" not in paths and not any(p.startswith("/web") for p in paths)


# ---- in the browser -----------------------------------------------------------------------


def test_a_wrong_key_is_refused_with_the_apis_message(server: Server, open_page: Any) -> None:
    browser = open_page(server)
    page = browser.page
    page.get_by_label("API key").fill("chk_" + "x" * 43)
    page.get_by_role("button", name="Sign in").click()
    error = page.locator("#sign-in-error")
    error.wait_for(state="visible")
    with httpx.Client(
        base_url=server.url, headers={"Authorization": "Bearer chk_" + "x" * 43}
    ) as http:
        expected = http.get("/api/v1/chat/sessions").json()["error"]["message"]
    assert error.inner_text() == expected
    assert page.locator("#chat-view").is_hidden()
    assert page.evaluate("sessionStorage.getItem('chatter.apiKey')") is None
    browser.shot("laptop-wrong-key")
    # a refused key is a 401 the page asked for: expected, and the only console error allowed
    browser.watch.errors = [e for e in browser.watch.errors if "401" not in e]
    browser.watch.assert_clean()


def test_a_query_shows_its_table_and_chart_exports_refines_and_takes_feedback(
    server: Server, open_page: Any, demo_sql: Any, tmp_path: Path
) -> None:
    browser = open_page(server)
    page = browser.page
    sign_in(browser, "alice")
    turn = ask(browser, "conversion rate by plan type")

    truth = dict(
        demo_sql(
            "SELECT plan_type, avg(CASE WHEN converted THEN 1.0 ELSE 0 END) FROM users GROUP BY 1"
        )
    )
    header, rows = table_of(turn)
    assert header == ["plan_type", "conversion_rate"]
    assert {r[0]: float(r[1]) for r in rows} == pytest.approx(truth)
    assert "conversion rate" in turn.locator(".interpretation").inner_text()
    assert chart_marks(turn) == len(truth)  # one bar per plan
    # its tooltip, styled by the page (vega-tooltip's own <style> would break the policy)
    turn.locator(".chart-canvas g.mark-rect path").first.hover()
    tooltip = page.locator("#vg-tooltip-element.visible")
    tooltip.wait_for()
    assert "conversion_rate" in tooltip.inner_text()

    turn.locator("details.sql summary").click()
    sql = turn.locator("details.sql code")
    assert sql.is_visible() and sql.inner_text().startswith("SELECT")
    browser.shot("laptop-query")

    # export: a real download, the same table
    with page.expect_download() as download_info:
        turn.get_by_role("button", name="CSV").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.suffix == ".csv"
    exported = list(csv.reader(io.StringIO(saved.read_text())))
    assert exported[0] == header
    assert [[r[0], float(r[1])] for r in exported[1:]] == [[r[0], float(r[1])] for r in rows]

    # feedback, with a comment, as the server stored it
    answer = turn.locator(".answer")
    message_id = answer.get_attribute("data-message-id")
    comment = "the bars read well"
    turn.get_by_label("Comment (optional)").fill(comment)
    turn.get_by_role("button", name="Helpful", exact=True).click()
    turn.get_by_text("Feedback recorded (positive)").wait_for()
    with sqlite3.connect(f"file:{server.home / 'sessions.sqlite'}?mode=ro", uri=True) as db:
        stored = db.execute(
            "SELECT user, rating, comment FROM feedback WHERE message_id = ?", (message_id,)
        ).fetchall()
    assert stored == [("alice", "positive", comment)]

    # refine: the two highest, by the refinement form (Enter in its field submits it)
    turn.locator("details.refine summary").click()
    limit = turn.get_by_label("Top rows")
    limit.fill("2")
    limit.press("Enter")
    refined = page.locator(".turn").nth(1)
    refined.locator(".answer").wait_for()
    _, top = table_of(refined)
    highest = sorted(truth.items(), key=lambda kv: -kv[1])[:2]
    assert [r[0] for r in top] == [name for name, _ in highest]

    # sort the first answer by its rate, lowest first; then keep one plan out of it
    turn.get_by_label("Sort by").select_option("conversion_rate")
    turn.get_by_label("order", exact=True).select_option("asc")
    turn.get_by_role("button", name="Sort").click()
    ordered = page.locator(".turn").nth(2)
    ordered.locator(".answer").wait_for()
    assert [r[0] for r in table_of(ordered)[1]] == sorted(truth, key=truth.__getitem__)
    left_out = highest[0][0]
    turn.get_by_label("Only where").select_option("plan_type")
    turn.get_by_label("is", exact=True).select_option("!=")
    turn.get_by_label("value", exact=True).fill(left_out)
    turn.get_by_role("button", name="Add filter").click()
    filtered = page.locator(".turn").nth(3)
    filtered.locator(".answer").wait_for()
    assert sorted(r[0] for r in table_of(filtered)[1]) == sorted(set(truth) - {left_out})
    browser.watch.assert_clean()


def test_a_workflow_shows_progress_then_findings_and_a_suggestion_is_followed(
    server: Server, open_page: Any
) -> None:
    browser = open_page(server)
    page = browser.page
    # When each part first appears, as the page builds it (observed in the page, so a stream
    # delivered at once still shows its order).
    page.add_init_script(
        """
        window.__seen = {};
        new MutationObserver(() => {
          const now = performance.now();
          for (const [name, selector] of [['progress', '.progress li'], ['findings', '.findings-section']]) {
            if (!(name in window.__seen) && document.querySelector(selector)) window.__seen[name] = now;
          }
        }).observe(document, {subtree: true, childList: true});
        """
    )
    page.reload()
    sign_in(browser, "alice")
    turn = ask(browser, "why are fintech trials converting worse?")
    turn.locator(".findings-section").wait_for()
    seen = page.evaluate("window.__seen")
    assert seen["progress"] < seen["findings"]

    with api(server, "alice") as http:
        sessions = http.get("/api/v1/chat/sessions").json()["sessions"]
        stored = http.get(f"/api/v1/chat/sessions/{sessions[0]['session_id']}").json()
    result = stored["messages"][-1]["answer"]
    assert result["workflow"] == "conversion_deep_dive"
    progress = turn.locator(".progress li").all_text_contents()
    for step in result["steps"]:  # every step reported starting and finishing
        assert any("step started" in p and step["id"] in p for p in progress), step["id"]
        assert any("step finished" in p and step["id"] in p for p in progress), step["id"]
    assert turn.locator(".findings tbody tr").count() == len(result["findings"])
    significant = sum(f["significant"] for f in result["findings"])
    assert turn.locator(".findings tbody tr.significant").count() == significant
    insights = turn.locator(".insights > ol > li")
    assert insights.count() == len(result["insights"]) > 0
    first = insights.first
    first.locator("summary").click()
    evidence = first.locator(".evidence li").all_inner_texts()
    assert len(evidence) == len(result["insights"][0]["evidence"])
    assert any(e.startswith("Finding #") for e in evidence)
    browser.shot("laptop-workflow")

    # a suggested follow-up is a button; pressing it asks it in the same session
    suggestion = turn.locator(".suggestions button").first
    asked = suggestion.inner_text()
    suggestion.focus()
    page.keyboard.press("Enter")
    follow = page.locator(".turn").nth(1)
    follow.locator(".answer").wait_for()
    assert follow.locator(".asked").inner_text() == f"You: {asked}"
    _, rows = table_of(follow)
    assert rows and follow.locator(".answer").get_attribute("data-kind") == "answer"
    with api(server, "alice") as http:
        again = http.get(f"/api/v1/chat/sessions/{sessions[0]['session_id']}").json()
    assert [m["question"] for m in again["messages"]][-1] == asked
    browser.watch.assert_clean()


def test_a_question_back_offers_the_datas_levels_and_a_session_reopens(
    server: Server, open_page: Any, demo_sql: Any
) -> None:
    browser = open_page(server, PHONE)
    page = browser.page
    sign_in(browser, "bob")
    turn = ask(browser, "conversion rate for the platinum plan")
    assert turn.locator(".answer").get_attribute("data-kind") == "clarification"
    options = turn.locator(".options button").all_inner_texts()
    assert sorted(options) == sorted(r[0] for r in demo_sql("SELECT DISTINCT plan_type FROM users"))
    browser.shot("phone-question-back")
    # an option is a button; pressing it replies with it, in the same session
    turn.locator(".options button").first.click()
    replied = page.locator(".turn").nth(1)
    replied.locator(".answer").wait_for()
    assert replied.locator(".asked").inner_text() == f"You: {options[0]}"

    answered = ask(browser, "conversion rate by industry")
    header, rows = table_of(answered)
    assert header == ["industry", "conversion_rate"]
    assert len(rows) == len(demo_sql("SELECT DISTINCT industry FROM users"))
    assert chart_marks(answered) == len(rows)
    # nothing is wider than the phone's screen (wide tables and charts scroll in their box)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    answered.locator(".chart").scroll_into_view_if_needed()
    browser.shot("phone-answer")

    # the session, reopened from the list, shows its turns again
    page.get_by_role("button", name="New chat").click()
    assert page.locator(".turn").count() == 0
    page.locator("button.session").first.click()
    page.locator(".turn").nth(2).locator(".answer").wait_for()
    assert page.locator(".turn .asked").all_inner_texts() == [
        "You: conversion rate for the platinum plan",
        f"You: {options[0]}",
        "You: conversion rate by industry",
    ]
    reopened = page.locator(".turn").nth(2)
    assert table_of(reopened) == (header, rows)
    assert chart_marks(reopened) == len(rows)
    browser.watch.assert_clean()


def test_a_refusal_shows_its_message(server: Server, open_page: Any) -> None:
    question = "why are fintech trials converting worse?"
    with api(server, "vera") as http:  # a viewer may not run workflows
        expected = http.post("/api/v1/chat/query", json={"message": question}).json()
    assert expected["message_type"] == "refusal"
    browser = open_page(server)
    sign_in(browser, "vera")
    turn = ask(browser, question)
    assert turn.locator(".answer").get_attribute("data-kind") == "refusal"
    message = turn.locator(".refusal-message")
    assert message.get_attribute("role") == "alert"
    assert message.inner_text() == expected["error"]["message"]
    browser.watch.assert_clean()


def test_the_key_stays_in_the_tab_and_signing_out_forgets_it(
    server: Server, open_page: Any
) -> None:
    browser = open_page(server)
    page = browser.page
    sign_in(browser, "alice")
    assert page.evaluate("sessionStorage.getItem('chatter.apiKey')") == key_of("alice")
    assert page.evaluate("localStorage.length") == 0
    page.reload()  # the same tab keeps it: still signed in
    page.get_by_label("Your question").wait_for(state="visible")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API key").wait_for(state="visible")
    assert page.evaluate("sessionStorage.getItem('chatter.apiKey')") is None
    assert json.loads(page.evaluate("JSON.stringify(Object.keys(sessionStorage))")) == []
    browser.watch.assert_clean()
