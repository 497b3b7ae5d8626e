"""Hostile and malformed requests against a real `chatter serve`: injection strings, wrong
types and missing or unknown fields in every body, query and path parameter; bad JSON, wrong
content types and bodies over the size limit; broken auth, other users' ids, the wrong role;
methods a route does not allow and routes that do not exist.

Whatever arrives, the server answers 2xx or 4xx, never 5xx; every refusal is JSON
``{"error": {"code", "message"}}`` (a streamed answer aside); and nothing is damaged: the DuckDB
file is byte-for-byte the same, sessions made before the barrage are intact, a created run is
still only created and the audit chain verifies.

The one exception to the JSON rule is a request the HTTP parser itself cannot read (a NUL byte
in a header or the request line, a URL of 100,000 characters, a Content-Length that is no
number): uvicorn refuses those with a plain-text 400 before the app ever sees them."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from api_server import Server, key_of, running_server

pytestmark = pytest.mark.integration

V1 = "/api/v1"
USERS = ("alice", "bob", "vera", "root")
#: What uvicorn (not the app) answers to a request it cannot parse.
PROTOCOL_400 = b"Invalid HTTP request received."

INJECTIONS: dict[str, str] = {
    "sql_drop": "'; DROP TABLE users; --",
    "sql_or": "1 OR 1=1",
    "sql_quote": '" OR ""="',
    "traversal": "../../etc/passwd",
    "traversal_encoded": "..%2F..%2Fetc%2Fpasswd",
    "absolute_path": "/etc/passwd",
    "template": "{{7*7}}",
    "jndi": "${jndi:ldap://x}",
    "shell_subst": "$(rm -rf /)",
    "shell_backtick": "`id`",
    "long_100k": "A" * 100_000,
    "rtl_override": "\u202eevil\u202c.exe",
    "emoji": "\U0001f4ca\U0001f525\U0001f469\u200d\U0001f4bb",
    "umlaut": "Z\u00fcrich",
    "null_byte": "a\x00b",
    "control_chars": "\x01\x07\x08\x1b[31m\r\n\t\x7f",
    "format_string": "%s%s%s%n",
    "lone_surrogate": "\ud800",
}
WRONG_TYPES: dict[str, Any] = {
    "int": 42,
    "negative": -1,
    "float": 3.14,
    "huge_int": 10**40,
    "true": True,
    "false": False,
    "null": None,
    "empty_list": [],
    "list": ["a", 1],
    "empty_object": {},
    "nested_object": {"a": {"b": [1, {"c": None}]}},
    "deep_list": json.loads("[" * 500 + "]" * 500),  # parses, unlike depth 10,000
    "overflow_float": "@@1e400@@",  # sent as the bare number 1e400, which reads as infinity
}
OVERFLOW_FLOAT = (b'"@@1e400@@"', b"1e400")
#: Refusals known to quote a hostile input in full (harmless, no 5xx: tolerated, not fixed).
KNOWN_ECHOES: set[str] = set()  # requests whose error may quote the whole input (none now)
#: Extra values for integer query parameters (sent as text, as a URL carries them).
NUMBERS: dict[str, str] = {
    "minus_one": "-1",
    "zero": "0",
    "fraction": "1.5",
    "exponent": "1e3",
    "hex": "0x10",
    "huge": "9" * 30,
    "empty": "",
    "padded": " 5 ",
}
#: Extra values for the audit log's time window.
TIMES: dict[str, str] = {
    "year_1_east": "0001-01-01T00:00:00+14:00",
    "year_9999_west": "9999-12-31T23:59:59-14:00",
    "feb_30": "2026-02-30T00:00:00Z",
    "nan": "nan",
    "empty": "",
}


# ---- sending and judging ---------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body)


def url_quote(value: str) -> str:
    """Percent-encode all of ``value`` for a path segment or query value (lone surrogates as
    the bytes a careless client would send)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    body: Any = ...,
    content: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request; ``body`` is sent as JSON (``...``: no body). URLs longer than httpx allows
    go over a raw socket."""
    headers = dict(headers or {})
    if body is not ...:
        content = json.dumps(body).encode().replace(*OVERFLOW_FLOAT)
        headers.setdefault("content-type", "application/json")
    if len(url) > 60_000:
        target = url.encode("ascii")
        auth = client.headers.get("authorization")
        lines = [f"{k}: {v}" for k, v in {"authorization": auth, **headers}.items() if v]
        assert content is None or isinstance(content, bytes)
        return raw(str(client.base_url), method, target, lines, content or b"")
    response = client.request(method, url, content=content, headers=headers)
    return Reply(response.status_code, dict(response.headers), response.content)


def raw(
    base_url: str, method: str, target: bytes, header_lines: Sequence[str | bytes], body: bytes
) -> Reply:
    """A request written byte by byte, for what no well-behaved client would send."""
    where = urlsplit(base_url)
    head = [method.encode() + b" " + target + b" HTTP/1.1", b"host: " + where.netloc.encode()]
    head += [line if isinstance(line, bytes) else line.encode("latin-1") for line in header_lines]
    if body:
        head.append(b"content-length: " + str(len(body)).encode())
    head.append(b"connection: close")
    data = b"\r\n".join(head) + b"\r\n\r\n" + body
    with socket.create_connection((where.hostname, where.port), timeout=60) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    top, _, payload = response.partition(b"\r\n\r\n")
    status_line, *header_rows = top.decode("latin-1").split("\r\n")
    headers = {}
    for row in header_rows:
        name, _, value = row.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(int(status_line.split()[1]), headers, payload)


def problem(
    reply: Reply,
    expect: Iterable[int] | None = None,
    *,
    raw_ok: bool = False,
    host: str = "",
    echo_ok: bool = False,
) -> str:
    """What is wrong with ``reply`` ('' when nothing): a 5xx, an unexpected status, a refusal
    that is not ``{"error": {"code", "message"}}``, or a refusal that echoes a hostile input
    wholesale. ``raw_ok``: uvicorn's own plain-text 400 is fine (an unparseable request)."""
    status, body = reply.status, reply.body
    if status >= 500:
        return f"got {status}: {body[:300]!r}"
    if expect is not None and status not in set(expect):
        return f"got {status}, expected one of {sorted(set(expect))}: {body[:300]!r}"
    if 200 <= status < 300 or reply.content_type.startswith("text/event-stream"):
        return ""
    if 300 <= status < 400:
        location = urlsplit(reply.headers.get("location", ""))
        off = location.netloc not in ("", host)
        return f"redirect off the server to {location.geturl()!r}" if off else ""
    if raw_ok and status == 400 and body == PROTOCOL_400:
        return ""
    if len(body) > 20_000 and not echo_ok:
        return f"{status} refusal of {len(body):,} bytes: the hostile input is echoed back"
    try:
        doc = json.loads(body)
    except ValueError:
        return f"{status} body is not JSON ({reply.content_type}): {body[:300]!r}"
    error = doc.get("error") if isinstance(doc, dict) else None
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and error["code"]
        and isinstance(error.get("message"), str)
        and error["message"]
    ):
        return f'{status} body is not {{"error": {{"code", "message"}}}}: {body[:300]!r}'
    # A chat refusal (403/422/429) is a whole answer that carries its error; nothing else
    # may add keys next to "error".
    if set(doc) != {"error"} and doc.get("message_type") != "refusal":
        return f"{status} body has keys besides 'error': {sorted(doc)}"
    return ""


def label(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---- the world the barrage runs in -------------------------------------------------------


@dataclass
class World:
    server: Server
    database: Path
    fingerprint: str
    clients: dict[str, httpx.Client]
    #: alice's session for refine and feedback (any number of new messages is fine there).
    target_session: str
    target_message: str
    #: Sessions made before the barrage, by user: the whole GET body, to compare at the end.
    canaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: alice's run, created and never executed.
    run_id: str = ""
    #: snapshot() before the barrage; the first canary's answer.
    before: dict[str, Any] = field(default_factory=dict)
    answer_before: dict[str, Any] = field(default_factory=dict)

    def client(self, user: str | None) -> httpx.Client:
        return self.clients[user or ""]

    def stderr_since(self, mark: int) -> str:
        return "".join(self.server.stderr[mark:])[-4000:]


#: Subjects whose grants and scopes no request in this module may change.
KNOWN_SUBJECTS = (*(f"user:{u}" for u in USERS), "role:viewer", "role:analyst", "role:admin")
MALLORY = "user:mallory"  # the only subject the barrage grants to (no key: harmless)
PLAN_QUESTION = "how many users by plan type"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ok(reply: httpx.Response) -> Any:
    assert reply.status_code < 300, reply.text
    return reply.json()


def ask(client: httpx.Client, message: str, session_id: str | None = None) -> dict[str, Any]:
    body = {"message": message, **({"session_id": session_id} if session_id else {})}
    found = ok(client.post(f"{V1}/chat/query", json=body))
    assert found["message_type"] == "answer", found
    return found


def exports_of(world: World, session: dict[str, Any], user: str) -> dict[str, bytes]:
    found = {}
    for message in session["messages"]:
        for fmt in ("csv", "json"):
            path = (
                f"{V1}/chat/sessions/{session['session_id']}/messages/"
                f"{message['message_id']}/export"
            )
            response = world.client(user).get(path, params={"format": fmt})
            assert response.status_code == 200, response.text
            found[f"{session['session_id']}/{message['message_id']}.{fmt}"] = response.content
    return found


def snapshot(world: World) -> dict[str, Any]:
    """What must survive the barrage unchanged."""
    root = world.client("root")
    sessions = {}
    exports: dict[str, bytes] = {}
    for session_id, before in world.canaries.items():
        user = before["user"]
        sessions[session_id] = ok(world.client(user).get(f"{V1}/chat/sessions/{session_id}"))
        exports.update(exports_of(world, sessions[session_id], user))
    listed = {
        user: [
            s["session_id"] for s in ok(world.client(user).get(f"{V1}/chat/sessions"))["sessions"]
        ]
        for user in ("alice", "bob")
    }
    grants = [
        g
        for g in ok(root.get(f"{V1}/admin/permissions"))["grants"]
        if g["subject"] in KNOWN_SUBJECTS
    ]
    scopes = {s: ok(root.get(f"{V1}/admin/scopes/{s}"))["filters"] for s in KNOWN_SUBJECTS}
    run = ok(world.client("alice").get(f"{V1}/workflows/{world.run_id}"))
    return {
        "sessions": sessions,
        "exports": exports,
        "listed": listed,
        "grants": grants,
        "scopes": scopes,
        "run": {k: run[k] for k in ("run_id", "workflow", "status", "user", "created_at")},
    }


@pytest.fixture(scope="module")
def world(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    fingerprint = sha256(demo_db)
    home = tmp_path_factory.mktemp("hostile") / "home"
    with running_server(home, demo_db) as server:
        clients = {user: server.client(key_of(user)) for user in USERS}
        clients[""] = server.client()
        try:
            alice, bob = clients["alice"], clients["bob"]
            target = ask(alice, PLAN_QUESTION)
            found = World(
                server=server,
                database=demo_db,
                fingerprint=fingerprint,
                clients=clients,
                target_session=target["session_id"],
                target_message=target["message_id"],
            )
            first = ask(alice, PLAN_QUESTION)
            ask(alice, "now by country", first["session_id"])
            theirs = ask(bob, "average mrr by plan type")
            for user, session_id in (("alice", first["session_id"]), ("bob", theirs["session_id"])):
                found.canaries[session_id] = ok(
                    clients[user].get(f"{V1}/chat/sessions/{session_id}")
                )
                assert found.canaries[session_id]["user"] == user
            run = ok(alice.post(f"{V1}/workflows", json={"template": "conversion_deep_dive"}))
            assert run["status"] == "created", run
            found.run_id = run["run_id"]
            found.answer_before = first
            found.before = snapshot(found)
            assert ok(clients["root"].get(f"{V1}/audit/verify"))["ok"]
            yield found
        finally:
            for client in clients.values():
                client.close()


@dataclass(frozen=True)
class Try:
    """One request of a barrage: its name in a failure, how to send it, the statuses it may
    get (None: any but a 5xx), and whether uvicorn's plain-text 400 is fine."""

    name: str
    go: Callable[[], Reply]
    expect: Iterable[int] | None = None
    raw_ok: bool = False


def judge(world: World, requests: list[Try]) -> None:
    """Send every request; fail once, naming each one that went wrong, with the server's log."""
    mark, host = len(world.server.stderr), urlsplit(world.server.url).netloc
    failures = []
    for one in requests:
        try:
            reply = one.go()
        except httpx.HTTPError as err:
            failures.append(f"{one.name}: no answer ({type(err).__name__}: {err})")
            continue
        echo_ok = one.name in KNOWN_ECHOES
        if found := problem(reply, one.expect, raw_ok=one.raw_ok, host=host, echo_ok=echo_ok):
            failures.append(f"{one.name}: {found}")
    assert requests, "no requests were generated"
    assert not failures, (
        f"{len(failures)} of {len(requests)} requests went wrong:\n"
        + "\n".join(failures[:60])
        + f"\n--- server log ---\n{world.stderr_since(mark)}"
    )


REFUSED = range(400, 500)


# ---- chat messages: each runs the analyst, so only the injection strings ------------------

FOLLOW_UPS = ("sql_drop", "traversal", "template", "shell_subst", "null_byte", "rtl_override")


def test_hostile_chat_messages_get_an_answer_or_a_refusal(world: World) -> None:
    alice = world.client("alice")
    follow_up = ask(alice, PLAN_QUESTION)["session_id"]
    requests: list[Try] = []
    seen: dict[str, Reply] = {}

    def turn(name: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        seen[name] = send(alice, "POST", f"{V1}/chat/query", body=body, headers=headers)
        return seen[name]

    for name, value in INJECTIONS.items():
        requests.append(
            Try(f"new session message={name}", partial(turn, name, {"message": value}), None)
        )
    for name in FOLLOW_UPS:
        body = {"message": INJECTIONS[name], "session_id": follow_up}
        requests.append(Try(f"follow-up message={name}", partial(turn, f"f-{name}", body), None))
    for text in ("   ", "\x00" * 50, "\u202e" * 100, "SELECT * FROM users; DELETE FROM users"):
        requests.append(Try(f"message={label(text)}", partial(turn, text, {"message": text}), None))
    stream = {"accept": "text/event-stream"}
    for name in ("sql_drop", "template", "null_byte", "long_100k"):
        send_stream = partial(turn, f"s-{name}", {"message": INJECTIONS[name]}, stream)
        requests.append(Try(f"streamed message={name}", send_stream, None))
    judge(world, requests)

    assert seen["long_100k"].status == 422  # over the 4,000-character cap
    for name, reply in seen.items():
        if reply.content_type.startswith("text/event-stream"):
            events = [line for line in reply.body.decode().splitlines() if line.startswith("data:")]
            assert events, f"{name}: empty stream"
            assert b'"internal"' not in reply.body, f"{name}: {reply.body[:500]!r}"
            continue
        if reply.status != 200:
            continue
        answer = reply.json()
        sql = answer.get("sql_query") or ""
        assert ";" not in sql and (not sql or sql.upper().startswith(("SELECT", "WITH"))), sql
    # The follow-up session kept every turn, in order, each question stored as sent: text,
    # never evaluated ("{{7*7}}" is not 49) nor cut at a NUL byte.
    turns = ok(alice.get(f"{V1}/chat/sessions/{follow_up}"))["messages"]
    asked = [INJECTIONS[n] for n in FOLLOW_UPS]
    assert [t["question"] for t in turns] == [PLAN_QUESTION, *asked]


# ---- every field of every body ---------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One field of one route's body: ``body(world, value)`` is a valid body but for it."""

    name: str
    method: str
    path: Callable[[World], str]
    body: Callable[[World, Any], Any]
    user: str = "alice"
    #: Injection strings here must be refused (an id, a name, an enum), not merely survived.
    refuse_strings: bool = True
    #: Wrong types must be refused, but for these (null on an optional field, say).
    types_ok: tuple[str, ...] = ()
    #: Send the injection strings (False: only wrong types, e.g. where strings run the analyst).
    strings: bool = True
    #: Send the wrong types (False: where only a string fits, as in an object's key).
    types: bool = True


def _query(w: World, v: Any) -> Any:
    return {"message": "how many users", "session_id": v}


def _refine(**fields: Any) -> Callable[[World, Any], Any]:
    def build(w: World, v: Any) -> Any:
        body: dict[str, Any] = {
            "session_id": w.target_session,
            "message_id": w.target_message,
            "type": "change_limit",
            "params": {"limit": 5},
        }
        for key, make in fields.items():
            body[key] = make(v)
        return body

    return build


def _feedback(key: str) -> Callable[[World, Any], Any]:
    def build(w: World, v: Any) -> Any:
        body = {
            "session_id": w.target_session,
            "message_id": w.target_message,
            "rating": "positive",
            "comment": "fine",
        }
        return {**body, key: v}

    return build


def _custom(make: Callable[[Any], Any]) -> Callable[[World, Any], Any]:
    return lambda w, v: {"template": "conversion_deep_dive", "customizations": make(v)}


def _steps(make: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: {"steps": {"baseline_conversion": make(v)}}


def _grant(key: str, make: Callable[[Any], Any] = lambda v: v) -> Callable[[World, Any], Any]:
    base = {"subject": MALLORY, "resource": "workflow:*", "level": "read"}
    return lambda w, v: {**base, key: make(v)}


def _scope(make: Callable[[Any], Any]) -> Callable[[World, Any], Any]:
    return lambda w, v: {"filters": make(v)}


def _filter(key: str) -> Callable[[Any], Any]:
    return lambda v: {**{"field": "plan_type", "op": "=", "value": "starter"}, key: v}


CHAT = f"{V1}/chat"
SCOPE_PATH = f"{V1}/admin/scopes/{MALLORY}"
BODY_SLOTS = [
    Slot("query.session_id", "POST", lambda w: f"{CHAT}/query", _query, types_ok=("null",)),
    Slot(
        "query.message",
        "POST",
        lambda w: f"{CHAT}/query",
        lambda w, v: {"message": v},
        strings=False,
    ),
    Slot("refine.session_id", "POST", lambda w: f"{CHAT}/refine", _refine(session_id=lambda v: v)),
    Slot(
        "refine.message_id",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(message_id=lambda v: v),
        types_ok=("null",),
    ),
    Slot("refine.type", "POST", lambda w: f"{CHAT}/refine", _refine(type=lambda v: v)),
    Slot("refine.params", "POST", lambda w: f"{CHAT}/refine", _refine(params=lambda v: v)),
    Slot(
        "refine.params.<key>",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(params=lambda v: {"limit": 5, v: 1}),
        types=False,  # a key is a string
    ),
    Slot(
        "refine.change_limit.limit",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(params=lambda v: {"limit": v}),
        types_ok=("int", "true", "null"),
    ),
    Slot(
        "refine.change_limit.descending",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(params=lambda v: {"limit": 5, "descending": v}),
        types_ok=("int", "true", "false", "null"),
    ),
    Slot(
        "refine.add_filter.field",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(type=lambda v: "add_filter", params=lambda v: {"field": v, "op": "=", "value": 1}),
    ),
    Slot(
        "refine.add_filter.op",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(
            type=lambda v: "add_filter",
            params=lambda v: {"field": "plan_type", "op": v, "value": "starter"},
        ),
    ),
    Slot(
        "refine.add_filter.value",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(
            type=lambda v: "add_filter",
            params=lambda v: {"field": "plan_type", "op": "=", "value": v},
        ),
        refuse_strings=False,
        types_ok=tuple(WRONG_TYPES),
    ),
    Slot(
        "refine.add_columns.dimensions",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(type=lambda v: "add_columns", params=lambda v: {"dimensions": v}),
        types_ok=("empty_list",),
    ),
    Slot(
        "refine.add_columns.dimensions[]",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(type=lambda v: "add_columns", params=lambda v: {"dimensions": [v]}),
    ),
    Slot(
        "refine.change_sort.field",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(type=lambda v: "change_sort", params=lambda v: {"field": v, "descending": True}),
        types_ok=("null",),
    ),
    Slot(
        "refine.change_sort.descending",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(type=lambda v: "change_sort", params=lambda v: {"field": "users", "descending": v}),
        types_ok=("int", "true", "false", "null", "negative", "float", "huge_int"),
    ),
    Slot(
        "refine.simplify.params",
        "POST",
        lambda w: f"{CHAT}/refine",
        _refine(type=lambda v: "simplify", params=lambda v: {"x": v}),
    ),
    Slot("feedback.session_id", "POST", lambda w: f"{CHAT}/feedback", _feedback("session_id")),
    Slot("feedback.message_id", "POST", lambda w: f"{CHAT}/feedback", _feedback("message_id")),
    Slot("feedback.rating", "POST", lambda w: f"{CHAT}/feedback", _feedback("rating")),
    Slot(
        "feedback.comment",
        "POST",
        lambda w: f"{CHAT}/feedback",
        _feedback("comment"),
        refuse_strings=False,
        types_ok=("null",),
    ),
    Slot(
        "workflows.template",
        "POST",
        lambda w: f"{V1}/workflows",
        lambda w, v: {"template": v},
    ),
    Slot(
        "workflows.customizations",
        "POST",
        lambda w: f"{V1}/workflows",
        _custom(lambda v: v),
        types_ok=("null", "empty_object", "empty_list", "false"),
    ),
    Slot(
        "workflows.customizations.<key>",
        "POST",
        lambda w: f"{V1}/workflows",
        _custom(lambda v: {v: 1}),
        types=False,
    ),
    Slot(
        "workflows.customizations.alpha",
        "POST",
        lambda w: f"{V1}/workflows",
        _custom(lambda v: {"alpha": v}),
        types_ok=("float", "true", "null"),
    ),
    Slot(
        "workflows.customizations.correction",
        "POST",
        lambda w: f"{V1}/workflows",
        _custom(lambda v: {"correction": v}),
    ),
    Slot(
        "workflows.customizations.steps",
        "POST",
        lambda w: f"{V1}/workflows",
        _custom(lambda v: {"steps": v}),
        types_ok=("null", "empty_object", "empty_list", "false"),
    ),
    Slot(
        "workflows.customizations.steps.<id>",
        "POST",
        lambda w: f"{V1}/workflows",
        _custom(lambda v: {"steps": {v: {"enabled": False}}}),
        types=False,
    ),
    Slot(
        "workflows.customizations.steps.x.enabled",
        "POST",
        lambda w: f"{V1}/workflows",
        _custom(_steps(lambda v: {"enabled": v})),
        types_ok=("true", "false", "int", "null"),
    ),
    Slot(
        "workflows.customizations.steps.x.parameters",
        "POST",
        lambda w: f"{V1}/workflows",
        _custom(_steps(lambda v: {"parameters": v})),
        types_ok=("null", "empty_object", "empty_list", "false"),
    ),
    Slot(
        "workflows.customizations.steps.x.parameters.filters[].field",
        "POST",
        lambda w: f"{V1}/workflows",
        _custom(_steps(lambda v: {"parameters": {"filters": [_filter("field")(v)]}})),
    ),
    Slot(
        "workflows.customizations.steps.x.parameters.filters[].value",
        "POST",
        lambda w: f"{V1}/workflows",
        _custom(_steps(lambda v: {"parameters": {"filters": [_filter("value")(v)]}})),
        refuse_strings=False,
        types_ok=tuple(WRONG_TYPES),
    ),
    Slot("grant.subject", "POST", lambda w: f"{V1}/admin/permissions", _grant("subject"), "root"),
    Slot(
        "grant.resource",
        "POST",
        lambda w: f"{V1}/admin/permissions",
        _grant("resource"),
        "root",
        refuse_strings=False,
    ),
    Slot("grant.level", "POST", lambda w: f"{V1}/admin/permissions", _grant("level"), "root"),
    Slot(
        "grant.methods",
        "POST",
        lambda w: f"{V1}/admin/permissions",
        _grant("methods"),
        "root",
        types_ok=("null", "empty_list"),
    ),
    Slot(
        "grant.methods[]",
        "POST",
        lambda w: f"{V1}/admin/permissions",
        _grant("methods", lambda v: [v]),
        "root",
    ),
    Slot(
        "grant.rate_limit",
        "POST",
        lambda w: f"{V1}/admin/permissions",
        _grant("rate_limit"),
        "root",
        types_ok=("null",),
    ),
    Slot(
        "grant.rate_limit.calls",
        "POST",
        lambda w: f"{V1}/admin/permissions",
        _grant("rate_limit", lambda v: {"calls": v, "window_s": 60}),
        "root",
        types_ok=("int", "float", "huge_int", "true"),
    ),
    Slot(
        "grant.expires_at",
        "POST",
        lambda w: f"{V1}/admin/permissions",
        _grant("expires_at"),
        "root",
        types_ok=("null",),
    ),
    Slot(
        "scope.filters",
        "PUT",
        lambda w: SCOPE_PATH,
        _scope(lambda v: v),
        "root",
        types_ok=("empty_list",),
    ),
    Slot(
        "scope.filters[]",
        "PUT",
        lambda w: SCOPE_PATH,
        _scope(lambda v: [v]),
        "root",
        types_ok=("empty_object",),
    ),
    Slot(
        "scope.filters[].field",
        "PUT",
        lambda w: SCOPE_PATH,
        _scope(lambda v: [_filter("field")(v)]),
        "root",
    ),
    Slot(
        "scope.filters[].op",
        "PUT",
        lambda w: SCOPE_PATH,
        _scope(lambda v: [_filter("op")(v)]),
        "root",
    ),
    Slot(
        "scope.filters[].value",
        "PUT",
        lambda w: SCOPE_PATH,
        _scope(lambda v: [_filter("value")(v)]),
        "root",
        refuse_strings=False,
        types_ok=tuple(WRONG_TYPES),
    ),
]


@pytest.mark.parametrize("slot", BODY_SLOTS, ids=lambda s: s.name)
def test_hostile_values_in_body_fields(world: World, slot: Slot) -> None:
    client = world.client(slot.user)
    requests: list[Try] = []
    values: dict[str, Any] = {}
    if slot.strings:
        values.update({f"str:{k}": v for k, v in INJECTIONS.items()})
    if slot.types:
        values.update({f"type:{k}": v for k, v in WRONG_TYPES.items()})
    for name, value in values.items():
        kind, _, which = name.partition(":")
        refuse = slot.refuse_strings if kind == "str" else which not in slot.types_ok
        body = slot.body(world, value)
        go = partial(send, client, slot.method, slot.path(world), body=body)
        requests.append(Try(f"{slot.method} {slot.name}={name}", go, REFUSED if refuse else None))
    judge(world, requests)


# ---- the shape of every body: missing, unknown, not an object ----------------------------


def body_routes(world: World) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(user, method, path, a valid body) of every route that takes a body."""
    return [
        ("alice", "POST", f"{CHAT}/query", {"message": "how many users"}),
        (
            "alice",
            "POST",
            f"{CHAT}/refine",
            {"session_id": world.target_session, "type": "simplify", "params": {}},
        ),
        (
            "alice",
            "POST",
            f"{CHAT}/feedback",
            {
                "session_id": world.target_session,
                "message_id": world.target_message,
                "rating": "negative",
            },
        ),
        ("alice", "POST", f"{V1}/workflows", {"template": "conversion_deep_dive"}),
        (
            "root",
            "POST",
            f"{V1}/admin/permissions",
            {"subject": MALLORY, "resource": "workflow:*", "level": "read"},
        ),
        ("root", "PUT", SCOPE_PATH, {"filters": []}),
    ]


REQUIRED = {
    f"{CHAT}/query": ("message",),
    f"{CHAT}/refine": ("session_id", "type"),
    f"{CHAT}/feedback": ("session_id", "message_id", "rating"),
    f"{V1}/workflows": ("template",),
    f"{V1}/admin/permissions": ("subject", "resource", "level"),
    SCOPE_PATH: ("filters",),
}


def test_missing_unknown_and_non_object_bodies(world: World) -> None:
    requests: list[Try] = []
    for user, method, path, valid in body_routes(world):
        client = world.client(user)
        for key in REQUIRED[path]:
            rest = {k: v for k, v in valid.items() if k != key}
            requests.append(
                Try(
                    f"{method} {path} without {key}",
                    partial(send, client, method, path, body=rest),
                    [422],
                )
            )
        for extra in ("is_admin", "user", "role", "__proto__", "", "a\x00b", "A" * 10_000):
            body = {**valid, extra: True}
            requests.append(
                Try(
                    f"{method} {path} extra field {label(extra)}",
                    partial(send, client, method, path, body=body),
                    [422],
                )
            )
        for name, value in {
            **WRONG_TYPES,
            "string": "hello",
            "injection": INJECTIONS["sql_drop"],
        }.items():
            if isinstance(value, dict) and value:
                continue  # an object is a body; its keys are unknown (tested above)
            requests.append(
                Try(
                    f"{method} {path} body={name}",
                    partial(send, client, method, path, body=value),
                    [422],
                )
            )
    judge(world, requests)


# ---- bodies that are not JSON, or not the JSON we sent ------------------------------------

DEEP_ARRAY = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
#: (name, body, content type, must be refused).
BAD_BODIES: list[tuple[str, bytes | None, str | None, bool]] = [
    ("truncated", b'{"message": "hi"', "application/json", True),
    ("trailing comma", b'{"message": "hi",}', "application/json", True),
    ("NaN value", b'{"message": NaN}', "application/json", True),
    ("Infinity value", b'{"message": "hi", "session_id": -Infinity}', "application/json", True),
    ("bare NaN", b"NaN", "application/json", True),
    ("top-level array", b'[{"message": "hi"}]', "application/json", True),
    ("top-level string", b'"hi"', "application/json", True),
    ("top-level number", b"42", "application/json", True),
    ("top-level null", b"null", "application/json", True),
    ("empty body", b"", "application/json", True),
    ("whitespace body", b"  \n ", "application/json", True),
    ("single quotes", b"{'message': 'hi'}", "application/json", True),
    ("comment", b'{"message": "hi" /* x */}', "application/json", True),
    ("invalid UTF-8", b'{"message": "\xff\xfe"}', "application/json", True),
    ("invalid UTF-8 key", b'{"\xc3\x28": "hi"}', "application/json", True),
    ("escaped lone surrogate", b'{"message": "\\ud800"}', "application/json", True),
    ("NUL byte raw", b'{"message": "a\x00b"}', "application/json", True),
    ("deep array", DEEP_ARRAY, "application/json", True),
    ("deep object", DEEP_OBJECT, "application/json", True),
    ("deep value", b'{"message": ' + DEEP_ARRAY + b"}", "application/json", True),
    ("text/plain", b'{"message": "hi"}', "text/plain", True),
    ("form-encoded", b"message=hi", "application/x-www-form-urlencoded", True),
    (
        "multipart",
        b'--b\r\nContent-Disposition: form-data; name="message"\r\n\r\nhi\r\n--b--\r\n',
        "multipart/form-data; boundary=b",
        True,
    ),
    (
        "xml with an entity",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        "application/xml",
        True,
    ),
    ("bogus content type", b'{"message": "hi"}', "application/x-evil", True),
    # Valid JSON in a form some parsers accept: anything but a 5xx.
    (
        "duplicate keys",
        b'{"message": "hi", "message": "how many users"}',
        "application/json",
        False,
    ),
    ("UTF-8 BOM", b'\xef\xbb\xbf{"message": "how many users"}', "application/json", False),
    ("UTF-16", '{"message": "how many users"}'.encode("utf-16"), "application/json", False),
    ("no content type", b'{"message": "how many users"}', None, False),
    (
        "json with charset",
        b'{"message": "how many users"}',
        "application/json; charset=latin-1",
        False,
    ),
]


def test_malformed_bodies_are_refused(world: World) -> None:
    requests: list[Try] = []
    for user, method, path, _ in body_routes(world):
        client = world.client(user)
        for name, content, content_type, refuse in BAD_BODIES:
            headers = {"content-type": content_type} if content_type else {}
            go = partial(send, client, method, path, content=content, headers=headers)
            requests.append(Try(f"{method} {path} {name}", go, REFUSED if refuse else None))
    judge(world, requests)


def test_bodies_over_the_limit_are_refused_declared_or_chunked(world: World) -> None:
    limit = 1024 * 1024

    def chunks() -> Iterator[bytes]:  # a generator: httpx sends it chunked, with no length
        yield b'{"message": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    requests: list[Try] = []
    for user, method, path, _ in body_routes(world):
        client = world.client(user)
        padded = b'{"message": "' + b"a" * limit + b'"}'
        json_type = {"content-type": "application/json"}
        requests.append(
            Try(
                f"{method} {path} {len(padded):,} bytes with Content-Length",
                partial(send, client, method, path, content=padded, headers=json_type),
                [413],
            )
        )
        requests.append(
            Try(
                f"{method} {path} over the limit, chunked",
                partial(send, client, method, path, content=chunks(), headers=json_type),
                [413],
            )
        )
    base, auth = world.server.url, f"authorization: Bearer {key_of('alice')}".encode()
    for declared in (b"99999999999999999999999", b"-1", b"abc", b"1, 2"):
        requests.append(
            Try(
                f"POST chat/query Content-Length: {declared.decode()}",
                partial(
                    raw,
                    base,
                    "POST",
                    f"{CHAT}/query".encode(),
                    [auth, b"content-type: application/json", b"content-length: " + declared],
                    b"",
                ),
                [400, 413],
                True,
            )
        )
    judge(world, requests)
    assert ok(world.client("alice").get("/health"))["status"] == "ok"


# ---- query and path parameters -------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One query parameter of one route, the others valid."""

    name: str
    method: str
    path: Callable[[World], str]
    param: str
    user: str = "alice"
    base: dict[str, str] = field(default_factory=dict)
    refuse_strings: bool = True
    extra: dict[str, str] = field(default_factory=dict)


def _export_path(w: World) -> str:
    return f"{CHAT}/sessions/{w.target_session}/messages/{w.target_message}/export"


REVOKE = {"subject": MALLORY, "resource": "tool:none-such"}
QUERY_PARAMS = [
    Param("sessions.limit", "GET", lambda w: f"{CHAT}/sessions", "limit", extra=NUMBERS),
    Param("sessions.offset", "GET", lambda w: f"{CHAT}/sessions", "offset", extra=NUMBERS),
    Param("export.format", "GET", _export_path, "format"),
    Param("export.step", "GET", _export_path, "step"),
    Param("workflows.limit", "GET", lambda w: f"{V1}/workflows", "limit", extra=NUMBERS),
    Param("workflows.offset", "GET", lambda w: f"{V1}/workflows", "offset", extra=NUMBERS),
    Param("metrics.format", "GET", lambda w: f"{V1}/metrics", "format", "root"),
    Param("audit.user", "GET", lambda w: f"{V1}/audit", "user", "root", refuse_strings=False),
    Param("audit.action", "GET", lambda w: f"{V1}/audit", "action", "root", refuse_strings=False),
    Param("audit.tool", "GET", lambda w: f"{V1}/audit", "tool", "root", refuse_strings=False),
    Param("audit.decision", "GET", lambda w: f"{V1}/audit", "decision", "root"),
    Param("audit.since", "GET", lambda w: f"{V1}/audit", "since", "root", extra=TIMES),
    Param("audit.until", "GET", lambda w: f"{V1}/audit", "until", "root", extra=TIMES),
    Param("audit.limit", "GET", lambda w: f"{V1}/audit", "limit", "root", extra=NUMBERS),
    Param("audit.offset", "GET", lambda w: f"{V1}/audit", "offset", "root", extra=NUMBERS),
    Param(
        "permissions.subject",
        "GET",
        lambda w: f"{V1}/admin/permissions",
        "subject",
        "root",
        refuse_strings=False,
    ),
    Param(
        "revoke.subject",
        "DELETE",
        lambda w: f"{V1}/admin/permissions",
        "subject",
        "root",
        base=REVOKE,
        refuse_strings=False,
    ),
    Param(
        "revoke.resource",
        "DELETE",
        lambda w: f"{V1}/admin/permissions",
        "resource",
        "root",
        base=REVOKE,
        refuse_strings=False,
    ),
]


@pytest.mark.parametrize("param", QUERY_PARAMS, ids=lambda p: p.name)
def test_hostile_query_parameters(world: World, param: Param) -> None:
    client = world.client(param.user)
    requests: list[Try] = []
    values = {**{f"str:{k}": v for k, v in INJECTIONS.items()}, **param.extra}
    for name, value in values.items():
        query = {**param.base, param.param: value}
        url = param.path(world) + "?" + "&".join(f"{k}={url_quote(v)}" for k, v in query.items())
        refuse = param.refuse_strings and name.startswith("str:")
        long = len(url) > 60_000  # over httpx's limit: a raw request, which uvicorn may refuse
        requests.append(
            Try(
                f"{param.method} {param.name}={name}",
                partial(send, client, param.method, url),
                REFUSED if refuse or long else None,
                long,
            )
        )
    # The same parameter twice, and a parameter the route does not take.
    twice = f"{param.path(world)}?{param.param}=1&{param.param}=2"
    requests.append(
        Try(f"{param.method} {param.name} twice", partial(send, client, param.method, twice), None)
    )
    junk = f"{param.path(world)}?{url_quote(INJECTIONS['sql_drop'])}=1&__proto__=x"
    requests.append(
        Try(
            f"{param.method} {param.name} unknown params",
            partial(send, client, param.method, junk),
            None,
        )
    )
    judge(world, requests)


@dataclass(frozen=True)
class PathSlot:
    name: str
    method: str
    path: Callable[[World, str], str]
    user: str = "alice"
    #: A hostile value must not be found (404) or must be refused (4xx).
    refuse: bool = True


PATH_SLOTS = [
    PathSlot("session", "GET", lambda w, v: f"{CHAT}/sessions/{v}"),
    PathSlot("delete session", "DELETE", lambda w, v: f"{CHAT}/sessions/{v}"),
    PathSlot(
        "export.session_id",
        "GET",
        lambda w, v: f"{CHAT}/sessions/{v}/messages/{w.target_message}/export",
    ),
    PathSlot(
        "export.message_id",
        "GET",
        lambda w, v: f"{CHAT}/sessions/{w.target_session}/messages/{v}/export",
    ),
    PathSlot("run", "GET", lambda w, v: f"{V1}/workflows/{v}"),
    PathSlot("execute", "POST", lambda w, v: f"{V1}/workflows/{v}/execute"),
    PathSlot("cancel", "POST", lambda w, v: f"{V1}/workflows/{v}/cancel"),
    # Reading the scope of any subject string is a lookup (an empty answer is fine).
    PathSlot("get scope", "GET", lambda w, v: f"{V1}/admin/scopes/{v}", "root", refuse=False),
    PathSlot("set scope", "PUT", lambda w, v: f"{V1}/admin/scopes/{v}", "root"),
]
PATH_VALUES = {
    **INJECTIONS,
    "cjk": "\u30bb\u30c3\u30b7\u30e7\u30f3",
    "unknown_hex_id": "0" * 32,
    "too_long_id": "a" * 65,
    "user_role_subject": "user:alice/../role:admin",
}


@pytest.mark.parametrize("slot", PATH_SLOTS, ids=lambda s: s.name)
def test_hostile_path_parameters(world: World, slot: PathSlot) -> None:
    client = world.client(slot.user)
    requests: list[Try] = []
    for name, value in PATH_VALUES.items():
        url = slot.path(world, url_quote(value))
        body: Any = {"filters": []} if slot.method == "PUT" else ...
        long = len(url) > 60_000
        requests.append(
            Try(
                f"{slot.method} {slot.name} path={name}",
                partial(send, client, slot.method, url, body=body),
                REFUSED if slot.refuse or long else None,
                long,
            )
        )
    # Unencoded: the request line carries the traversal, NUL or non-ASCII bytes as they are.
    auth = f"authorization: Bearer {key_of(slot.user)}"
    for name, target in {
        "encoded slashes": "..%2F..%2Fetc",
        "raw dot segments": "../../etc/passwd",
        "raw dot": ".",
        "raw dot dot": "..",
        "raw NUL": "a\x00b",
        "raw UTF-8": "Z\u00fcrich",
        "raw Latin-1": "Z\xfcrich",
    }.items():
        encoding = "latin-1" if name == "raw Latin-1" else "utf-8"
        line = slot.path(world, "\x01").encode("utf-8").replace(b"\x01", target.encode(encoding))
        requests.append(
            Try(
                f"{slot.method} {slot.name} {name}",
                partial(raw, world.server.url, slot.method, line, [auth], b""),
                REFUSED,
                True,
            )
        )
    judge(world, requests)


# ---- who is asking ----------------------------------------------------------------------------


def authed_routes(world: World) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every route behind a key, with a body valid for alice/root."""
    canary = next(iter(world.canaries))
    message = world.canaries[canary]["messages"][0]["message_id"]
    return [
        ("GET", f"{CHAT}/sessions", ...),
        ("GET", f"{CHAT}/sessions/{canary}", ...),
        ("DELETE", f"{CHAT}/sessions/{canary}", ...),
        ("GET", f"{CHAT}/sessions/{canary}/messages/{message}/export", ...),
        ("POST", f"{CHAT}/query", {"message": "how many users", "session_id": canary}),
        ("POST", f"{CHAT}/refine", {"session_id": canary, "type": "simplify", "params": {}}),
        (
            "POST",
            f"{CHAT}/feedback",
            {"session_id": canary, "message_id": message, "rating": "negative"},
        ),
        ("GET", f"{V1}/workflows/templates", ...),
        ("GET", f"{V1}/workflows", ...),
        ("POST", f"{V1}/workflows", {"template": "conversion_deep_dive"}),
        ("POST", f"{V1}/workflows/{world.run_id}/execute", ...),
        ("GET", f"{V1}/workflows/{world.run_id}", ...),
        ("POST", f"{V1}/workflows/{world.run_id}/cancel", ...),
        ("GET", f"{V1}/metrics", ...),
        ("GET", f"{V1}/metrics?format=prometheus", ...),
        ("GET", f"{V1}/audit", ...),
        ("GET", f"{V1}/audit/verify", ...),
        ("GET", f"{V1}/admin/permissions", ...),
        (
            "POST",
            f"{V1}/admin/permissions",
            {"subject": "user:vera", "resource": "*", "level": "admin"},
        ),
        ("DELETE", f"{V1}/admin/permissions?subject=role:admin&resource=*", ...),
        ("GET", f"{V1}/admin/scopes/user:alice", ...),
        (
            "PUT",
            f"{V1}/admin/scopes/user:alice",
            {"filters": [{"field": "country", "value": "XX"}]},
        ),
    ]


ALICE_KEY = key_of("alice")
BAD_AUTH: dict[str, str | None] = {
    "no header": None,
    "Bearer and nothing": "Bearer",
    "Basic": "Basic " + base64.b64encode(f"alice:{ALICE_KEY}".encode()).decode(),
    "Token scheme": f"Token {ALICE_KEY}",
    "no scheme": ALICE_KEY,
    "wrong key": "Bearer not-a-key-0123456789abcdef",
    "key minus a character": f"Bearer {ALICE_KEY[:-1]}",
    "key plus a character": f"Bearer {ALICE_KEY}x",
    "key in upper case": f"Bearer {ALICE_KEY.upper()}",
    "key and more": f"Bearer {ALICE_KEY} {ALICE_KEY}",
    "SQL as key": "Bearer ' OR '1'='1",
    "10 KB key": "Bearer " + "k" * 10_240,
    "10 KB after the key": f"Bearer {ALICE_KEY}" + " " * 10_240 + "x",
}


def test_requests_without_a_valid_key_are_401(world: World) -> None:
    anonymous = world.client(None)
    requests: list[Try] = []
    for method, path, body in authed_routes(world):
        for name, header in BAD_AUTH.items():
            headers = {"authorization": header} if header is not None else {}
            # An over-long header is refused by its length (422) or as an unknown key (401).
            expect = [401]
            go = partial(send, anonymous, method, path, body=body, headers=headers)
            requests.append(Try(f"{method} {path} auth={name}", go, expect))
        # What httpx will not send: a NUL byte in the key, bytes that are not ASCII.
        for name, value in {
            "NUL after the key": f"Bearer {ALICE_KEY}\x00".encode(),
            "NUL inside the key": f"Bearer {ALICE_KEY[:5]}\x00{ALICE_KEY[5:]}".encode(),
            "Latin-1 key": b"Bearer \xff\xfe\xfd",
            "UTF-8 key": "Bearer \U0001f511-0123456789abcdef".encode(),
            "Bearer and a space": b"Bearer ",  # trailing blanks: httpx will not send them
            "Bearer and spaces": b"Bearer      ",
            "Bearer, a tab and the key": f"Bearer\t{ALICE_KEY}".encode(),
        }.items():
            content = json.dumps(body).encode() if body is not ... else b""
            lines = [b"authorization: " + value, b"content-type: application/json"]
            go = partial(raw, world.server.url, method, path.encode(), lines, content)
            requests.append(Try(f"{method} {path} auth={name}", go, [400, 401], True))
    judge(world, requests)
    for method, path, _ in authed_routes(world)[:3]:
        reply = send(anonymous, method, path)
        assert reply.headers.get("www-authenticate") == "Bearer", (method, path, reply.headers)


def test_the_wrong_role_is_403(world: World) -> None:
    admin_routes = [
        (m, p, b)
        for m, p, b in authed_routes(world)
        if p.startswith((f"{V1}/metrics", f"{V1}/audit", f"{V1}/admin"))
    ]
    requests: list[Try] = []
    for user in ("vera", "alice", "bob"):
        client = world.client(user)
        for method, path, body in admin_routes:
            go = partial(send, client, method, path, body=body)
            requests.append(Try(f"{user} {method} {path}", go, [403]))
    vera = world.client("vera")
    for template in ("conversion_deep_dive", "'; DROP TABLE users; --"):
        body = {"template": template}
        go = partial(send, vera, "POST", f"{V1}/workflows", body=body)
        requests.append(Try(f"vera POST workflows template={label(template)}", go, [403, 400]))
    judge(world, requests)
    # A viewer may read the templates; that is all.
    assert send(vera, "GET", f"{V1}/workflows/templates").status == 200


def test_other_users_ids_look_unknown(world: World) -> None:
    alice_canary = next(s for s, v in world.canaries.items() if v["user"] == "alice")
    bob_canary = next(s for s, v in world.canaries.items() if v["user"] == "bob")
    message = world.canaries[alice_canary]["messages"][0]["message_id"]
    requests: list[Try] = []
    for user, session, message_id in (
        ("bob", alice_canary, message),
        ("vera", alice_canary, message),
        ("root", alice_canary, message),
        ("alice", bob_canary, world.canaries[bob_canary]["messages"][0]["message_id"]),
    ):
        client = world.client(user)
        for method, path, body in [
            ("GET", f"{CHAT}/sessions/{session}", ...),
            ("DELETE", f"{CHAT}/sessions/{session}", ...),
            ("GET", f"{CHAT}/sessions/{session}/messages/{message_id}/export", ...),
            ("GET", f"{CHAT}/sessions/{session}/messages/{message_id}/export?format=json", ...),
            ("POST", f"{CHAT}/query", {"message": "how many users", "session_id": session}),
            ("POST", f"{CHAT}/refine", {"session_id": session, "type": "simplify", "params": {}}),
            (
                "POST",
                f"{CHAT}/refine",
                {"session_id": session, "message_id": message_id, "type": "simplify", "params": {}},
            ),
            (
                "POST",
                f"{CHAT}/feedback",
                {"session_id": session, "message_id": message_id, "rating": "negative"},
            ),
        ]:
            go = partial(send, client, method, path, body=body)
            requests.append(Try(f"{user} {method} {path}", go, [404]))
    # alice's run, to bob and vera (an admin sees every run: root is not asked).
    for user in ("bob", "vera"):
        client = world.client(user)
        for method, suffix in (("GET", ""), ("POST", "/execute"), ("POST", "/cancel")):
            path = f"{V1}/workflows/{world.run_id}{suffix}"
            requests.append(
                Try(f"{user} {method} {path}", partial(send, client, method, path), [404])
            )
    # Ids that exist nowhere, well formed.
    alice = world.client("alice")
    unknown = "f" * 32
    for method, path in (
        ("GET", f"{CHAT}/sessions/{unknown}"),
        ("DELETE", f"{CHAT}/sessions/{unknown}"),
        ("GET", f"{CHAT}/sessions/{unknown}/messages/{unknown}/export"),
        ("GET", f"{CHAT}/sessions/{world.target_session}/messages/{unknown}/export"),
        ("GET", f"{V1}/workflows/{unknown}"),
        ("POST", f"{V1}/workflows/{unknown}/execute"),
        ("POST", f"{V1}/workflows/{unknown}/cancel"),
    ):
        requests.append(Try(f"alice {method} {path}", partial(send, alice, method, path), [404]))
    for path, body in (
        (f"{CHAT}/query", {"message": "hi", "session_id": unknown}),
        (f"{CHAT}/refine", {"session_id": unknown, "type": "simplify", "params": {}}),
        (
            f"{CHAT}/refine",
            {"session_id": world.target_session, "message_id": unknown, "type": "simplify"},
        ),
        (f"{CHAT}/feedback", {"session_id": unknown, "message_id": unknown, "rating": "positive"}),
        (
            f"{CHAT}/feedback",
            {"session_id": world.target_session, "message_id": unknown, "rating": "positive"},
        ),
    ):
        go = partial(send, alice, "POST", path, body=body)
        requests.append(Try(f"alice POST {path} {label(body)}", go, [404]))
    judge(world, requests)


# ---- methods and routes ----------------------------------------------------------------------


def test_wrong_methods_are_405_and_unknown_routes_404(world: World) -> None:
    alice = world.client("alice")
    sid = world.target_session
    not_allowed = [
        ("GET", f"{CHAT}/query"),
        ("PUT", f"{CHAT}/query"),
        ("PATCH", f"{CHAT}/query"),
        ("DELETE", f"{CHAT}/query"),
        ("OPTIONS", f"{CHAT}/query"),
        ("GET", f"{CHAT}/refine"),
        ("PUT", f"{CHAT}/feedback"),
        ("POST", f"{CHAT}/sessions"),
        ("DELETE", f"{CHAT}/sessions"),
        ("POST", f"{CHAT}/sessions/{sid}"),
        ("PUT", f"{CHAT}/sessions/{sid}"),
        ("PATCH", f"{CHAT}/sessions/{sid}"),
        ("POST", f"{CHAT}/sessions/{sid}/messages/{world.target_message}/export"),
        ("PUT", f"{V1}/workflows"),
        ("DELETE", f"{V1}/workflows/{world.run_id}"),
        ("PUT", f"{V1}/workflows/{world.run_id}"),
        ("GET", f"{V1}/workflows/{world.run_id}/execute"),
        ("GET", f"{V1}/workflows/{world.run_id}/cancel"),
        ("POST", f"{V1}/metrics"),
        ("DELETE", f"{V1}/audit"),
        ("POST", f"{V1}/audit/verify"),
        ("PATCH", f"{V1}/admin/permissions"),
        ("PUT", f"{V1}/admin/permissions"),
        ("POST", f"{V1}/admin/scopes/user:alice"),
        ("DELETE", f"{V1}/admin/scopes/user:alice"),
        ("POST", "/health"),
        ("DELETE", "/health"),
        ("TRACE", "/health"),
        ("POST", "/"),  # the web page is read only
        ("DELETE", "/"),
    ]
    requests: list[Try] = []
    for client_name, client in (("alice", alice), ("anonymous", world.client(None))):
        for method, path in not_allowed:
            go = partial(send, client, method, path)
            requests.append(Try(f"{client_name} {method} {path}", go, [405]))
    # (``/`` is the web chat page now: tests/integration/test_web_page.py.)
    unknown = [
        "/api",
        "/api/v1",
        "/api/v1/nope",
        "/api/v2/chat/query",
        f"{CHAT}/query/extra",
        f"{CHAT}/sessions/{sid}/messages",
        f"{CHAT}/sessions/{sid}/messages/{world.target_message}",
        f"{CHAT}/sessions/{sid}/messages/{world.target_message}/export/more",
        f"{V1}/admin",
        f"{V1}/admin/scopes",
        f"{V1}/workflows/{world.run_id}/resume",
        "/API/V1/HEALTH",
        "/.env",
        "/.git/config",
        "/wp-admin/setup-config.php",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/health%00",
        "/" + url_quote(INJECTIONS["sql_drop"]),
        "/" + url_quote(INJECTIONS["template"]),
    ]
    for client_name, client in (("alice", alice), ("anonymous", world.client(None))):
        for path in unknown:
            requests.append(
                Try(f"{client_name} GET {path}", partial(send, client, "GET", path), [404])
            )
            requests.append(
                Try(
                    f"{client_name} POST {path}",
                    partial(send, client, "POST", path, body={}),
                    [404, 405],
                )
            )
    # Straight onto the wire: dot segments no client normalized, a trailing slash.
    for target in (
        b"/api/v1/../../etc/passwd",
        b"/api/v1/chat/../admin/permissions",
        b"/health/..",
    ):
        requests.append(
            Try(
                f"raw GET {target.decode()}",
                partial(raw, world.server.url, "GET", target, [], b""),
                [404],
            )
        )
    requests.append(
        Try(
            "GET sessions/ (trailing slash)",
            partial(send, alice, "GET", f"{CHAT}/sessions/"),
            [307, 404],
        )
    )
    judge(world, requests)


# ---- and nothing was harmed ------------------------------------------------------------------


def test_zz_the_data_is_untouched(world: World) -> None:
    """Runs last (pytest keeps the file's order): everything made before the barrage is as it
    was, the database file is byte-for-byte the same and the audit chain verifies."""
    assert world.server.process.poll() is None, "the server died:\n" + world.stderr_since(0)
    after = snapshot(world)
    before = world.before
    assert after["sessions"] == before["sessions"]
    assert after["exports"] == before["exports"]
    for user, sessions in before["listed"].items():
        for session_id in sessions:
            if session_id in world.canaries:
                assert session_id in after["listed"][user], (user, session_id)
    assert after["grants"] == before["grants"]
    assert after["scopes"] == before["scopes"]
    assert after["run"] == before["run"] and after["run"]["status"] == "created"
    # The same question, asked afresh, gets the same numbers.
    again = ask(world.client("alice"), PLAN_QUESTION)
    assert again["results"] == world.answer_before["results"]
    assert again["sql_query"] == world.answer_before["sql_query"]
    verify = ok(world.client("root").get(f"{V1}/audit/verify"))
    assert verify["ok"] and not verify["problems"], verify
    assert sha256(world.database) == world.fingerprint, "the DuckDB file changed"
    log = world.stderr_since(0)
    for marker in ("api_internal_error", "chat_stream_failed", "Traceback"):
        assert marker not in log, f"{marker} in the server log:\n{log}"
