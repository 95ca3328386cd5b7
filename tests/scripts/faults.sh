#!/usr/bin/env bash
# Fault scenarios with a real client: every fixtures/scenarios/*.json that has a workload is
# loaded by `mockbroker --scenario FILE --admin-port 0`, confluent-kafka-python runs the workload
# (tests/interop/faults_produce.py) and the log, read back through the control API, must meet the
# workload's "expect" (e.g. lost_ack_idempotent: every message exactly once; lost_ack_duplicate:
# the retried batch twice). Then the control API with curl, and bad scenario files refused.
# Each broker stops when its standard input closes, under a timeout, so none outlives the script;
# only PIDs started here are killed. Prints "faults: N passed, M failed"; exits 1 on a failure.
# FAULTS_KEEP=1 keeps the broker logs; FAULTS_ONLY=name runs one scenario.
set -uo pipefail

BIN=${BIN:-bin}
cd "$(dirname "$0")/../.." || exit 1
mb="$BIN/mockbroker"
py=${FAULTS_PYTHON:-/usr/bin/python3}
runner=tests/interop/faults_produce.py
budget=${FAULTS_BUDGET:-240}               # seconds for the whole script
[ -x "$mb" ] || { echo "faults.sh: $mb is not built" >&2; exit 1; }

keep=${FAULTS_KEEP:-0}
me=faults.sh
pass_show='^seed='                          # each scenario's figures, also when it passes
# shellcheck source=tests/interop/broker.sh
. tests/interop/broker.sh

# --- scenarios with a real producer ------------------------------------------------------------

workload() {
    start_broker --admin-port 0 --scenario "$1" || return 1
    bounded 60 "$py" "$runner" "$1" --bootstrap "$BS" --admin "$ADMIN"
}

for f in fixtures/scenarios/*.json; do
    name=$(basename "$f" .json)
    [ -n "${FAULTS_ONLY:-}" ] && [ "$name" != "$FAULTS_ONLY" ] && continue
    grep -q '"workload"' "$f" || continue
    check "scenario $name with confluent-kafka-python" workload "$f"
done

# --- the control API with curl -----------------------------------------------------------------

# expect_http CODE METHOD PATH [BODY] [PATTERN]: the status must be CODE and the body match the
# grep -E PATTERN.
expect_http() {
    local code=$1 method=$2 path=$3 body=${4:-} pat=${5:-} got
    got=$(bounded 15 curl -s -o "$tmp/body" -w '%{http_code}' -X "$method" \
        ${body:+--data-binary "$body"} "$ADMIN$path") ||
        { echo "curl $method $path failed"; return 1; }
    if [ "$got" != "$code" ] || { [ -n "$pat" ] && ! grep -Eq "$pat" "$tmp/body"; }; then
        echo "$method $path: HTTP $got, expected $code${pat:+ and /$pat/}:" \
            "$(head -c 400 "$tmp/body")"
        return 1
    fi
}

control_api() {
    start_broker --admin-port 0 --scenario fixtures/scenarios/broker_bounce.json || return 1
    expect_http 200 GET /state '' '"name":"bounce".*"leader":1' &&
        expect_http 200 GET /rules '' '"name":"down".*"name":"up"' &&
        expect_http 400 POST /rules '{"action": {"type": "lose"}}' \
            "action.type: unknown action 'lose'" &&
        expect_http 400 POST /rules '{"action": ' 'bad JSON at line 1' &&
        expect_http 200 POST /rules \
            '{"name": "hold-produce", "match": {"api_key": "Produce"},
              "action": {"type": "hold"}}' \
            '"added":\["hold-produce"\]' &&
        expect_http 404 DELETE /rules/nope '' "no rule named 'nope'" &&
        expect_http 200 DELETE /rules/hold-produce &&
        expect_http 404 GET /nowhere &&
        expect_http 405 GET /brokers/2/down &&
        expect_http 200 POST /brokers/2/down '' '"state":"down"' &&
        expect_http 200 POST /wait '{"condition": {"broker": {"id": 2, "state": "down"}}}' \
            '"waited_ms"' &&
        expect_http 200 POST /brokers/2/up '' '"state":"up"' &&
        expect_http 200 POST /partitions/bounce/0/leader '{"broker": 3}' '"leader":3' &&
        expect_http 404 GET /partitions/bounce/7/records &&
        expect_http 408 POST /wait \
            '{"condition": {"partition": {"topic": "bounce", "partition": 0,
              "log_end_offset": 5}}, "timeout_ms": 100}' \
            '"error":"timed out".*"state"' &&
        expect_http 200 GET '/journal?since=0' '"kind":"leader"'
}
[ -z "${FAULTS_ONLY:-}" ] && check "control API: endpoints, 400s, 404s, 405, 408" control_api

# --- hostile scenario files ---------------------------------------------------------------------

refused() {
    local body=$1 want=$2 out st
    printf '%s' "$body" >"$tmp/bad.json"
    out=$(bounded 10 "$mb" --port 0 --scenario "$tmp/bad.json" </dev/null 2>&1 >/dev/null)
    st=$?
    [ "$st" = 2 ] || { echo "exit status $st, expected 2: $out"; return 1; }
    grep -qF -- "$want" <<<"$out" || { echo "expected '$want' in: $out"; return 1; }
}
if [ -z "${FAULTS_ONLY:-}" ]; then
    check "a scenario with an unknown action is refused naming its path" refused \
        '{"rules": [{"action": {"type": "none"}}, {"action": {"type": "lose"}}]}' \
        "rules[1].action.type: unknown action 'lose'"
    check "a scenario with an unknown error name is refused" refused \
        '{"rules": [{"action": {"type": "error", "error_code": "NOT_A_CODE"}}]}' \
        "rules[0].action.error_code: unknown error name 'NOT_A_CODE'"
    check "a scenario that is not JSON is refused" refused '{"topics": [' "bad JSON at line 1"
fi

# --- the fixtures against the published schema (when a Python with jsonschema is at hand) -------

schema_check() {
    "$1" - <<'PY'
import glob, json, sys
import jsonschema
schema = json.load(open("docs/scenario.schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
for f in sorted(glob.glob("fixtures/scenarios/*.json")):
    for e in v.iter_errors(json.load(open(f))):
        print("%s: %s: %s" % (f, "/".join(map(str, e.path)), e.message))
        bad += 1
sys.exit(1 if bad else 0)
PY
}
if [ -z "${FAULTS_ONLY:-}" ]; then
    schema_py=""
    for p in python3 "$py"; do
        command -v "$p" >/dev/null && "$p" -c 'import jsonschema' 2>/dev/null &&
            { schema_py=$p; break; }
    done
    if [ -n "$schema_py" ]; then
        check "every fixture validates against docs/scenario.schema.json" schema_check "$schema_py"
    else
        echo "skip - fixtures against docs/scenario.schema.json: no Python with jsonschema"
    fi
fi

echo "faults: $passed passed, $failed failed"
((failed == 0))
