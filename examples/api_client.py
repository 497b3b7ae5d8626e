"""A small typed client for the chatter HTTP API (``chatter serve``), and a demo of it.

    chatter serve                      # prints the URL and, the first time, an admin API key
    CHATTER_URL=http://127.0.0.1:8000 CHATTER_API_KEY=chk_... python examples/api_client.py

Every failure raises ``ChatterAPIError`` with the HTTP status and the server's error code and
message (``{"error": {"code", "message"}}``). Copy the class into your project: it needs only
httpx.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx

RefineType = Literal["add_filter", "change_limit", "add_columns", "change_sort", "simplify"]
ExportFormat = Literal["csv", "json", "parquet"]
#: Run statuses after which nothing more happens.
FINISHED = frozenset({"completed", "partial", "failed", "cancelled", "interrupted"})


class ChatterAPIError(Exception):
    """The API said no: ``status`` is the HTTP status, ``code`` and ``message`` the server's
    reason, ``body`` the whole response (a refused question still carries its session id)."""

    def __init__(self, status: int, code: str, message: str, body: Any = None) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body


@dataclass(frozen=True)
class Event:
    """One server-sent event of a streamed question: ``progress``, ``answer`` or ``error``."""

    event: str
    data: dict[str, Any]


class ChatterClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 300.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
        )

    def __enter__(self) -> ChatterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ---- plumbing ------------------------------------------------------------------------

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        if response.is_success:
            return
        try:
            body: Any = response.json()
        except ValueError:  # not JSON: a proxy's error page, say
            body = response.text
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code, message = str(error.get("code", "http_error")), str(error.get("message", ""))
        else:
            code, message = "http_error", str(body)[:500]
        raise ChatterAPIError(response.status_code, code, message, body)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        self._raise_for(response)
        return response.json()

    # ---- chat ----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def ask(self, message: str, session_id: str | None = None) -> dict[str, Any]:
        """One question; without ``session_id`` a new session starts (its id is in the reply).
        A refused question raises (its ``body`` is the whole reply)."""
        body = {"message": message, **({"session_id": session_id} if session_id else {})}
        return self._call("POST", "/api/v1/chat/query", json=body)

    def ask_stream(self, message: str, session_id: str | None = None) -> Iterator[Event]:
        """One question, streamed: ``progress`` events as steps run, then the ``answer``. An
        ``error`` event, or an answer that is a refusal, raises ChatterAPIError."""
        body = {"message": message, **({"session_id": session_id} if session_id else {})}
        headers = {"Accept": "text/event-stream"}
        with self._http.stream("POST", "/api/v1/chat/query", json=body, headers=headers) as resp:
            if not resp.is_success:
                resp.read()
                self._raise_for(resp)
            event: str | None = None
            for line in resp.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event:
                    data = json.loads(line[5:])
                    if event == "error" or (event == "answer" and data.get("error")):
                        error = data.get("error") or {}
                        raise ChatterAPIError(
                            200, error.get("code", "error"), error.get("message", ""), data
                        )
                    yield Event(event, data)
                    event = None
                # blank lines end an event; lines starting with ':' are keep-alives

    def refine(
        self,
        session_id: str,
        type: RefineType,
        params: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """Edit an answer's query (default: the session's latest) and answer again. Params by
        type: add_filter {field, op, value}; change_limit {limit, descending?}; add_columns
        {dimensions: [...]}; change_sort {field?, descending}; simplify {}."""
        body: dict[str, Any] = {"session_id": session_id, "type": type, "params": params or {}}
        if message_id:
            body["message_id"] = message_id
        return self._call("POST", "/api/v1/chat/refine", json=body)

    def feedback(
        self,
        session_id: str,
        message_id: str,
        rating: Literal["positive", "negative"],
        comment: str | None = None,
    ) -> dict[str, Any]:
        body = {"session_id": session_id, "message_id": message_id, "rating": rating}
        if comment:
            body["comment"] = comment
        return self._call("POST", "/api/v1/chat/feedback", json=body)

    # ---- sessions ------------------------------------------------------------------------

    def sessions(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Your sessions, most recently used first."""
        params = {"limit": limit, "offset": offset}
        return self._call("GET", "/api/v1/chat/sessions", params=params)["sessions"]

    def session(self, session_id: str) -> dict[str, Any]:
        """One session with its messages (each with the question and the stored answer)."""
        return self._call("GET", f"/api/v1/chat/sessions/{session_id}")

    def delete_session(self, session_id: str) -> None:
        self._call("DELETE", f"/api/v1/chat/sessions/{session_id}")

    def export(
        self,
        session_id: str,
        message_id: str,
        format: ExportFormat = "csv",
        step: str | None = None,
    ) -> bytes:
        """An answer's table as CSV, JSON or Parquet bytes (a workflow's: ``step`` picks one)."""
        params = {"format": format, **({"step": step} if step else {})}
        response = self._http.get(
            f"/api/v1/chat/sessions/{session_id}/messages/{message_id}/export", params=params
        )
        self._raise_for(response)
        return response.content

    # ---- workflows -----------------------------------------------------------------------

    def templates(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/workflows/templates")["templates"]

    def runs(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Your runs, newest first (an admin sees everyone's)."""
        params = {"limit": limit, "offset": offset}
        return self._call("GET", "/api/v1/workflows", params=params)["runs"]

    def create_run(self, template: str, customizations: dict[str, Any] | None = None) -> str:
        """Record a run of ``template`` (checked now, started by ``execute``); its run id."""
        body: dict[str, Any] = {"template": template}
        if customizations is not None:
            body["customizations"] = customizations
        return str(self._call("POST", "/api/v1/workflows", json=body)["run_id"])

    def execute(self, run_id: str) -> dict[str, Any]:
        """Start a created run in the background (202); poll with ``run`` or ``wait``."""
        return self._call("POST", f"/api/v1/workflows/{run_id}/execute")

    def run(self, run_id: str) -> dict[str, Any]:
        """A run's status, last progress event and (once finished) result."""
        return self._call("GET", f"/api/v1/workflows/{run_id}")

    def wait(self, run_id: str, timeout: float = 600.0, poll: float = 0.5) -> dict[str, Any]:
        """Poll until the run finishes; TimeoutError if it has not after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.run(run_id)
            if status["status"] in FINISHED:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"Run {run_id} still {status['status']} after {timeout} s.")
            time.sleep(poll)

    def cancel(self, run_id: str) -> dict[str, Any]:
        return self._call("POST", f"/api/v1/workflows/{run_id}/cancel")

    # ---- admin ---------------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/metrics")

    def audit(self, limit: int = 100, offset: int = 0, **filters: str) -> list[dict[str, Any]]:
        """Audit rows newest first; filters: user, action (``tool.*``), decision, tool, since,
        until."""
        params = {"limit": limit, "offset": offset, **filters}
        return self._call("GET", "/api/v1/audit", params=params)["records"]

    def verify_audit(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/audit/verify")

    def permissions(self, subject: str | None = None) -> list[dict[str, Any]]:
        params = {"subject": subject} if subject else {}
        return self._call("GET", "/api/v1/admin/permissions", params=params)["grants"]


def main() -> int:
    url = os.environ.get("CHATTER_URL", "http://127.0.0.1:8000")
    key = os.environ.get("CHATTER_API_KEY")
    if not key:
        print("Set CHATTER_API_KEY (chatter serve prints an admin key).", file=sys.stderr)
        return 2
    with ChatterClient(url, key) as api:
        print("health:", api.health()["status"])

        first = api.ask("conversion rate by plan")
        sid, mid = first["session_id"], first["message_id"]
        print(f"\n> conversion rate by plan   [{first['route']['workflow']}]")
        print(first["content"])
        print("SQL:", first["sql_query"])

        follow = api.ask("now by industry", session_id=sid)
        print("\n> now by industry")
        print(follow["content"])

        top = api.refine(sid, "change_limit", {"limit": 3, "descending": True})
        print("\n(refined: top 3)")
        print(top["content"])

        api.feedback(sid, mid, "positive", "clear answer")
        csv = api.export(sid, top["message_id"], "csv").decode()
        print(f"\nexport csv: {len(csv.splitlines()) - 1} rows; header {csv.splitlines()[0]}")
        print(
            f"sessions: {len(api.sessions())}; messages in this one: {len(api.session(sid)['messages'])}"
        )

        print("\n> why are fintech trials converting worse?   (streamed)")
        for event in api.ask_stream("why are fintech trials converting worse?", session_id=sid):
            if event.event == "progress" and event.data.get("event") == "step_finished":
                print(
                    f"  [{event.data['percent']:3.0f}%] {event.data['step']}: {event.data['status']}"
                )
            elif event.event == "answer":
                print(event.data["content"].splitlines()[0])

        names = [t["name"] for t in api.templates()]
        print("\ntemplates:", ", ".join(names))
        run_id = api.create_run(names[0], {"steps": {"cohort_analysis": {"enabled": False}}})
        api.execute(run_id)
        done = api.wait(run_id)
        steps = (done["result"] or {}).get("steps", [])
        print(f"run {run_id[:12]}: {done['status']}, {len(steps)} steps")

        try:
            api.ask("now by industry", session_id="no-such-session")
        except ChatterAPIError as err:
            print(f"\nerrors are typed: {err}")

        try:
            snapshot = api.metrics()
            print("\nmetrics:", ", ".join(sorted(snapshot))[:200])
            print(
                f"audit: {len(api.audit(limit=5))} latest rows; chain ok: {api.verify_audit()['ok']}"
            )
        except ChatterAPIError as err:  # metrics and audit are for admins
            print(f"\nmetrics/audit: {err.code} (an admin key sees them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
