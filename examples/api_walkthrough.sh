#!/usr/bin/env bash
# A walk through the chatter HTTP API with curl.
#
# Start the server first, in another terminal:
#
#   chatter serve                                # http://127.0.0.1:8000, docs at /docs
#   chatter serve --host 0.0.0.0 --port 9000     # elsewhere
#
# With no CHATTER_API_KEYS file configured, the first start makes one admin key, prints it
#   Admin API key (kept in ~/.local/share/chatter): chk_...
# and keeps it in $CHATTER_HOME/api_key.json. Point the server at your data with
# CHATTER_DATABASE=/path/to/file.duckdb (default: a generated demo database).
#
# Then run:   KEY=chk_... BASE=http://127.0.0.1:8000 examples/api_walkthrough.sh
# KEY defaults to the key the server kept under CHATTER_HOME; metrics and audit need an admin
# key (ADMIN_KEY, default KEY). JSON is pretty-printed with jq if installed, else with Python
# (JQ=none forces the Python way). Needs curl 7.76 or later (--fail-with-body).
set -euo pipefail

BASE="${BASE:-http://127.0.0.1:8000}"
PYTHON="${PYTHON:-python3}"
JQ="${JQ:-jq}"
HOME_DIR="${CHATTER_HOME:-$HOME/.local/share/chatter}"
if [[ -z "${KEY:-}" && -f "$HOME_DIR/api_key.json" ]]; then
    KEY="$("$PYTHON" -c 'import json,sys; print(next(iter(json.load(open(sys.argv[1])))))' \
        "$HOME_DIR/api_key.json")"
fi
: "${KEY:?set KEY to an API key (chatter serve prints one)}"
ADMIN_KEY="${ADMIN_KEY:-$KEY}"

have_jq() { command -v "$JQ" >/dev/null 2>&1; }

# Pretty-print the JSON on stdin.
show() {
    if have_jq; then "$JQ" .; else "$PYTHON" -m json.tool; fi
}

# Print one field of the JSON on stdin: get session_id, get result.status
get() {
    if have_jq; then
        "$JQ" -r ".$1 // empty"
    else
        "$PYTHON" -c '
import json, sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value.get(part) if isinstance(value, dict) else None
print("" if value is None else value)' "$1"
    fi
}

# api METHOD PATH [JSON BODY]: call the API with KEY; any 4xx/5xx stops the script, showing
# the error body {"error": {"code", "message"}}.
api() {
    local method="$1" path="$2"
    shift 2
    curl -sS --fail-with-body -X "$method" "$BASE$path" \
        -H "Authorization: Bearer ${AUTH_KEY:-$KEY}" \
        -H "Content-Type: application/json" \
        ${1:+--data "$1"}
}

step() { printf '\n== %s\n' "$*"; }

# 1. Liveness: the only route that needs no key.
step "health"
curl -sS --fail-with-body "$BASE/health" | show

# 2. A question. No session_id: a new session starts; keep its id for the follow-ups.
step "ask: conversion rate by plan"
reply="$(api POST /api/v1/chat/query '{"message": "conversion rate by plan"}')"
echo "$reply" | show
session="$(echo "$reply" | get session_id)"
first="$(echo "$reply" | get message_id)"
echo "session $session, message $first"

# 3. A follow-up in the same session: it edits the last query ("now by industry").
step "follow-up: now by industry"
reply="$(api POST /api/v1/chat/query "{\"message\": \"now by industry\", \"session_id\": \"$session\"}")"
echo "$reply" | get content

# 4. A question that runs a workflow, streamed as Server-Sent Events: "progress" events as its
#    steps start and finish, then "answer" (the same JSON as above); "error" if it failed.
step "streamed: why are fintech trials converting worse?"
curl -sS -N --fail-with-body "$BASE/api/v1/chat/query" \
    -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -H "Accept: text/event-stream" \
    --data "{\"message\": \"why are fintech trials converting worse?\", \"session_id\": \"$session\"}" |
    grep -v '^$' | cut -c1-140

# 5. A refinement edits the structure of the latest answer that has a query (no text parsing):
#    add_filter {field, op, value}, change_limit {limit, descending}, add_columns {dimensions},
#    change_sort {field, descending}, simplify {}.
step "refine: add_filter plan_type = enterprise, then change_limit to the top 3"
api POST /api/v1/chat/refine "{\"session_id\": \"$session\", \"type\": \"add_filter\",
    \"params\": {\"field\": \"plan_type\", \"op\": \"=\", \"value\": \"enterprise\"}}" | get content
reply="$(api POST /api/v1/chat/refine "{\"session_id\": \"$session\", \"type\": \"change_limit\",
    \"params\": {\"limit\": 3, \"descending\": true}}")"
echo "$reply" | get content
echo "$reply" | get sql_query
refined="$(echo "$reply" | get message_id)"

# 6. Feedback on an answer (counted in the metrics).
step "feedback"
api POST /api/v1/chat/feedback "{\"session_id\": \"$session\", \"message_id\": \"$first\",
    \"rating\": \"positive\", \"comment\": \"just what I needed\"}" | show

# 7. Export an answer's table: csv, json or parquet.
step "export the refined answer as CSV"
api GET "/api/v1/chat/sessions/$session/messages/$refined/export?format=csv"

# 8. Your sessions, most recent first; one session with all its messages.
step "sessions"
api GET "/api/v1/chat/sessions?limit=5" | show
if have_jq; then
    api GET "/api/v1/chat/sessions/$session" | "$JQ" -r '.messages[] | "  \(.message_id): \(.question)"'
else
    api GET "/api/v1/chat/sessions/$session" | "$PYTHON" -c '
import json, sys
for m in json.load(sys.stdin)["messages"]:
    print("  " + m["message_id"] + ": " + m["question"])'
fi

# 9. Workflow templates.
step "workflow templates"
if have_jq; then
    api GET /api/v1/workflows/templates | "$JQ" -r '.templates[] | "\(.name): \(.steps | length) steps"'
else
    api GET /api/v1/workflows/templates | show
fi

# 10. A workflow run: create it (checked and recorded; here with one step turned off), execute
#     it in the background (202), then poll until it finishes.
step "workflow run: conversion_deep_dive without its cohort step"
run="$(api POST /api/v1/workflows '{"template": "conversion_deep_dive",
    "customizations": {"steps": {"cohort_analysis": {"enabled": false}}}}' | get run_id)"
echo "run $run created"
api POST "/api/v1/workflows/$run/execute" | get status
for _ in $(seq 1 600); do
    status="$(api GET "/api/v1/workflows/$run" | get status)"
    case "$status" in
        completed | partial | failed | cancelled | interrupted) break ;;
    esac
    sleep 0.5
done
echo "run $run: $status"
if have_jq; then
    api GET "/api/v1/workflows/$run" |
        "$JQ" -r '(.result.steps[] | "  \(.id): \(.status)"), (.result.insights[:3][] | "  * \(.text)")'
else
    api GET "/api/v1/workflows/$run" | "$PYTHON" -c '
import json, sys
result = json.load(sys.stdin)["result"]
for s in result["steps"]:
    print("  " + s["id"] + ": " + s["status"])
for i in result["insights"][:3]:
    print("  * " + i["text"])'
fi
[[ "$status" == completed || "$status" == partial ]] || exit 1

# 11. Admin: metrics (counters, latencies, cache hit rates, feedback), the latest audit rows and
#     a check of the audit log's hash chain.
step "metrics (admin)"
if have_jq; then
    AUTH_KEY="$ADMIN_KEY" api GET /api/v1/metrics | "$JQ" '{health, tool_calls: .counters.tool_calls,
        result_cache: .counters.result_cache, feedback: .counters.feedback,
        run_ms_last_hour: .latency.run_ms["1h"]}'
else
    AUTH_KEY="$ADMIN_KEY" api GET /api/v1/metrics | show
fi
step "audit (admin): latest 3 rows, and the chain check"
AUTH_KEY="$ADMIN_KEY" api GET "/api/v1/audit?limit=3" | show
AUTH_KEY="$ADMIN_KEY" api GET /api/v1/audit/verify | show

step "done"
