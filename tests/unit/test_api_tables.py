"""What the API keeps in memory does not grow with the sessions and runs it serves: a session's
turn lock lives only while a turn holds or waits for it, finished runs' futures are dropped,
and only the latest PROGRESS_KEPT runs' last progress events are kept."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from chatter.api.app import create_app
from chatter.api.conversation import Conversations
from chatter.api.deps import PROGRESS_KEPT, ApiState
from chatter.api.keys import KeyRing, Principal
from chatter.services import Services
from chatter.settings import Settings

KEY = "chk_TcoronyGHwPNq5o1cA6T1MEoUSihWY7r1mkWKsuwECs"


def test_a_turn_lock_lives_only_while_turns_hold_or_wait_for_it() -> None:
    conversations = Conversations()
    for k in range(500):
        with conversations._turn_lock(f"s{k}"):
            assert conversations.turns_going_on() == 1
    assert conversations.turns_going_on() == 0


def test_turns_of_one_session_still_take_turns() -> None:
    conversations = Conversations()
    inside, most = [0], [0]
    guard = threading.Lock()
    start = threading.Barrier(8)

    def turn() -> None:
        start.wait()
        with conversations._turn_lock("same"):
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.01)
            with guard:
                inside[0] -= 1

    threads = [threading.Thread(target=turn) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == [1]
    assert conversations.turns_going_on() == 0


def test_a_failed_turn_lets_go_of_its_lock() -> None:
    conversations = Conversations()
    with pytest.raises(RuntimeError), conversations._turn_lock("s"):
        raise RuntimeError("the turn failed")
    assert conversations.turns_going_on() == 0
    with conversations._turn_lock("s"):  # and the session can take a turn again
        pass


def test_only_the_latest_runs_progress_is_kept_and_finished_runs_are_dropped() -> None:
    with ThreadPoolExecutor(4) as pool:
        api = ApiState(keys=KeyRing({}), conversations=Conversations(), executor=pool)
        for k in range(PROGRESS_KEPT + 50):
            run_id = f"run-{k}"

            def work(run_id: str = run_id) -> None:
                with api.progress_lock:
                    api.progress[run_id] = {"percent": 100.0}

            api.submit_run(run_id, work)
    assert api.running == {}
    assert len(api.progress) == PROGRESS_KEPT
    assert f"run-{PROGRESS_KEPT + 49}" in api.progress and "run-0" not in api.progress


@pytest.mark.integration
def test_chat_turns_leave_no_lock_behind(tmp_path: Path, demo_db: Path) -> None:
    services = Services(Settings(home=tmp_path / "home", database=demo_db))
    app = create_app(keys=KeyRing({KEY: Principal("ana", "analyst")}), services=services)
    headers = {"Authorization": f"Bearer {KEY}"}
    try:
        with TestClient(app) as http:
            sessions = set()
            for text in ("conversion rate by plan", "churn rate by plan", "mrr by month"):
                answer = http.post("/api/v1/chat/query", json={"message": text}, headers=headers)
                assert answer.status_code == 200, answer.text
                sessions.add(answer.json()["session_id"])
                follow = {"message": "now by industry", "session_id": answer.json()["session_id"]}
                assert http.post("/api/v1/chat/query", json=follow, headers=headers).is_success
            assert len(sessions) == 3
            assert app.state.api.conversations.turns_going_on() == 0
    finally:
        services.close()
