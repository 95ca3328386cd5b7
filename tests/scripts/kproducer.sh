#!/usr/bin/env bash
# bin/kproducer end to end, against its --embedded mock cluster (no server needed) and a dead
# port: option parsing and exit codes, the report's figures for known runs (checked against
# each other and against what was asked), stdin with -K, generated load with sizes, keys, rates
# and Poisson arrivals, the protocol trace, and fault scenarios. Every run is under a timeout;
# nothing is left running. Prints "kproducer: N passed, M failed"; exits 1 on a failure.
set -uo pipefail

BIN=${BIN:-bin}
cd "$(dirname "$0")/../.." || exit 1
kp="$BIN/kproducer"
py=${PYTHON:-python3}
[ -x "$kp" ] || { echo "kproducer.sh: $kp is not built" >&2; exit 1; }
command -v "$py" >/dev/null || { echo "kproducer.sh: needs $py to read JSON" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kw-kproducer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
    failed=$((failed + 1))
    echo "FAIL $1"
    [ -s "$tmp/out" ] && sed 's/^/     | /' "$tmp/out" | tail -20
    [ -s "$tmp/err" ] && sed 's/^/     ! /' "$tmp/err" | tail -10
    return 0
}

# run ARGS...: kproducer under a timeout, stdin from /dev/null unless redirected by the caller;
# stdout in $tmp/out, stderr in $tmp/err, exit code in $rc.
run() {
    timeout -k 5 60 "$kp" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# check NAME PYTHON-EXPR: evaluates EXPR with j = the JSON report (the last line of stdout).
check() {
    local name=$1 expr=$2
    if "$py" - "$tmp/out" "$expr" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.startswith("{")]
j = json.loads(lines[-1])
def near(a, b, tol):
    return abs(a - b) <= tol * abs(b)
ok = eval("(" + sys.argv[2] + "\n)", {"j": j, "near": near})
if not ok:
    print("     expression false: " + sys.argv[2])
    print("     report: " + json.dumps(j)[:1500])
sys.exit(0 if ok else 1)
EOF
    then ok "$name"; else fail "$name"; fi
}

# --- usage and configuration errors: exit 2 with a message naming the problem --------------
usage_case() {
    local want=$1
    shift
    run "$@" </dev/null
    if [ "$rc" = 2 ] && grep -q -- "$want" "$tmp/err"; then
        ok "usage: $* -> exit 2, \"$want\""
    else
        fail "usage: $* (rc $rc, expected 2 and \"$want\")"
    fi
}
usage_case "no brokers"
usage_case "no topic" -b 127.0.0.1:9092
usage_case "unknown option \"--nope\"" --embedded 1 --nope
usage_case "needs a value" --embedded 1 --count
usage_case "bound it" --embedded 1 --rate 100
usage_case "--count 0: expected" --embedded 1 --count 0
usage_case "--duration soon: expected" --embedded 1 --duration soon
usage_case "--embedded 65: expected" --embedded 65
usage_case "does not go with --embedded" --embedded 1 -b 127.0.0.1:9092
usage_case "stdin" --embedded 1 --count 5 -K :
usage_case "bad term \"x\"" --embedded 1 --count 5 --size 10,x
usage_case "give one" --embedded 1 --count 5 --arrivals poisson
usage_case "No such configuration property: \"linger\"" --embedded 1 --count 5 -X linger=5
usage_case "expected one of all, -1, 0, 1" --embedded 1 --count 5 -a 2
usage_case "must be set to \"all\"" --embedded 1 --count 5 -a 1 -X enable.idempotence=true
usage_case "No such file" --scenario "$tmp/missing.json"
run --help
if [ "$rc" = 0 ] && grep -q -- "--embedded N" "$tmp/out"; then ok "--help exits 0"; else
    fail "--help"; fi

# --- a known run: every figure of the report against what was asked and against the others ---
run --embedded 1 --count 1000 --size 100 --seed 3 --json
[ "$rc" = 0 ] && ok "1000 messages to one embedded broker exit 0" || fail "embedded 1 (rc $rc)"
check "the report counts what was asked" \
    'j["mode"] == "generated" and j["seed"] == 3 and j["sent"] == 1000 and
     j["delivered"] == 1000 and j["failed"] == 0 and j["errors"] == {} and
     j["bytes_sent"] == 100000 and j["bytes_delivered"] == 100000'
check "throughput is delivered over elapsed" \
    'j["elapsed_s"] > 0 and near(j["msgs_per_s"], 1000 / j["elapsed_s"], 1e-9) and
     near(j["mb_per_s"], 100000 / j["elapsed_s"] / 1e6, 1e-9)'
check "latency percentiles are ordered and bounded by min and max" \
    'all(k in j["latency_us"] for k in ("p50", "p90", "p99", "p99.9", "max", "min", "mean")) and
     j["latency_us"]["count"] == 1000 and j["latency_us"]["origin"] == "produce" and
     0 < j["latency_us"]["min"] <= j["latency_us"]["p50"] <= j["latency_us"]["p90"]
       <= j["latency_us"]["p99"] <= j["latency_us"]["p99.9"] <= j["latency_us"]["max"] and
     j["latency_us"]["max"] <= j["elapsed_s"] * 1e6 * 1.01 and
     j["latency_us"]["min"] <= j["latency_us"]["mean"] <= j["latency_us"]["max"]'
check "the embedded log holds every delivered message at its offset" \
    'j["log_check"] == {"brokers": 1, "partitions": 1, "checked": 1000, "found": 1000,
                        "missing": 0, "mismatched": 0, "log_records": 1000, "ok": True}'
if grep -q $'\r' "$tmp/out"; then fail "no live line when stdout is not a terminal"; else
    ok "no live line when stdout is not a terminal"; fi

# The README's demo: three brokers, idempotence, the text report.
run --embedded 3 --count 20000 -X enable.idempotence=true
if [ "$rc" = 0 ] && grep -q "sent 20000, delivered 20000, failed 0" "$tmp/out" &&
    grep -q "p99.9" "$tmp/out" && grep -q "20000 of 20000 delivered messages found" "$tmp/out" &&
    grep -q "producer id" "$tmp/out"; then
    ok "the demo (--embedded 3, idempotent) prints its summary and checks the log"
else
    fail "the demo (rc $rc)"
fi

# Keys, a size distribution, compression, three partitions.
run --embedded 3 --count 5000 --keys 10 --size 10-200 -z zstd -X enable.idempotence=true \
    --seed 11 --json
[ "$rc" = 0 ] && ok "keys, sizes and zstd exit 0" || fail "keys, sizes and zstd (rc $rc)"
check "keyed, sized, compressed messages are all found in three partitions" \
    'j["delivered"] == 5000 and j["bytes_delivered"] == j["bytes_sent"] and
     5000 * (10 + 5) <= j["bytes_sent"] <= 5000 * (200 + 5) and
     j["log_check"]["ok"] and j["log_check"]["partitions"] == 3 and
     j["log_check"]["log_records"] == 5000 and j["producer"]["producer_id"] >= 0'

# Transactions: one committed every --txn-size messages, all of them read_committed-visible.
run --embedded 3 --count 1000 --transactional-id kp-sh --txn-size 100 --seed 13 --json
check "--transactional-id commits a transaction every --txn-size messages" \
    'j["transactions"] == {"committed": 10, "aborted": 0, "size": 100,
                           "committed_records": 1000} and
     j["delivered"] == 1000 and j["log_check"]["ok"] and j["log_check"]["log_records"] == 1000'

# Same seed, same messages: keys and values of two traced runs are identical.
run --embedded 1 --count 20 --keys 4 --size 5-30 --seed 77 --trace --trace-records 0 \
    -X linger.ms=50
grep -o 'key=.*' "$tmp/out" | sed 's/ headers=.*//' >"$tmp/values1"
run --embedded 1 --count 20 --keys 4 --size 5-30 --seed 77 --trace --trace-records 0 \
    -X linger.ms=50
grep -o 'key=.*' "$tmp/out" | sed 's/ headers=.*//' >"$tmp/values2"
if [ "$(wc -l <"$tmp/values1")" -ge 20 ] && cmp -s "$tmp/values1" "$tmp/values2" &&
    grep -q 'key="key-' "$tmp/values1"; then
    ok "a seed reproduces keys and values"
else
    fail "a seed reproduces keys and values"
fi

# --- rates ------------------------------------------------------------------------------------
run --embedded 1 --count 1000 --rate 2000 --seed 5 --json
check "uniform arrivals: the schedule is exact and the run lasts it" \
    'j["rate"]["arrivals"] == "uniform" and j["rate"]["offered"] == 2000 and
     near(j["rate"]["scheduled_mean_us"], 500, 1e-9) and j["rate"]["scheduled_cv"] < 1e-9 and
     j["elapsed_s"] >= 0.499 and near(j["rate"]["achieved"], 2000, 0.25) and
     j["latency_us"]["origin"] == "schedule" and j["rate"]["behind_max_ms"] >= 0 and
     j["delivered"] == 1000'
run --embedded 1 --count 3000 --rate 3000 --arrivals poisson --seed 9 --json
check "Poisson arrivals: exponential schedule (CV 1), measured gaps reported" \
    'j["rate"]["arrivals"] == "poisson" and near(j["rate"]["scheduled_cv"], 1, 0.1) and
     near(j["rate"]["scheduled_mean_us"], 1e6 / 3000, 0.05) and
     j["rate"]["interarrival_cv"] > 0.5 and j["rate"]["interarrival_mean_us"] > 0 and
     j["delivered"] == 3000'
run --embedded 1 --duration 1 --rate 500 --json
check "--duration bounds the load" \
    'near(j["sent"], 500, 0.05) and j["delivered"] == j["sent"] and 0.95 <= j["elapsed_s"] < 5'

# --- stdin --------------------------------------------------------------------------------
printf 'a:1\nb:22\n\nccc\nd::4\n' >"$tmp/in"
timeout -k 5 60 "$kp" --embedded 1 -K : --json <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "stdin lines, split at -K, empty lines skipped" \
    'j["mode"] == "stdin" and j["sent"] == 4 and j["delivered"] == 4 and
     j["bytes_delivered"] == 2 + 3 + 3 + 3 and j["log_check"]["ok"]'
timeout -k 5 60 "$kp" --embedded 1 -K '\t' --trace <<<$'k\tv' >"$tmp/out" 2>"$tmp/err"
if grep -q 'key="k" value="v"' "$tmp/out"; then ok "-K understands \\t"; else fail "-K \\t"; fi

# --- failure: exit 1 with the count -----------------------------------------------------------
run -b 127.0.0.1:1 -t nowhere --count 3 -X message.timeout.ms=300
if [ "$rc" = 1 ] && grep -q "3 messages failed" "$tmp/out" &&
    grep -q "failed 3 (_MSG_TIMED_OUT" "$tmp/out"; then
    ok "undeliverable messages: exit 1 and the count"
else
    fail "undeliverable messages (rc $rc)"
fi

# --- the trace ----------------------------------------------------------------------------
run --embedded 1 --count 5 --trace --trace-records 2 -X enable.idempotence=true -X linger.ms=100
missing=""
for want in "Request ApiVersions v3" "Response ApiVersions v3" "Request Metadata v" \
    "Response Metadata v" "Request InitProducerId v" "ProducerId: 1000" "Request Produce v" \
    "RecordBatch offset=0 count=5" "producer_id=1000 producer_epoch=0 base_sequence=0" \
    "... 3 more records" "Response Produce v" "BaseOffset: 0" "--> bootstrap broker" \
    "<-- broker 1"; do
    grep -qF -- "$want" "$tmp/out" || missing="$missing [$want]"
done
if [ "$rc" = 0 ] && [ -z "$missing" ]; then ok "--trace shows the conversation"; else
    fail "--trace shows the conversation (rc $rc, missing$missing)"; fi

# --- scenarios: a lost response, retried ---------------------------------------------------
run --scenario fixtures/scenarios/lost_ack_idempotent.json --json
check "lost ack, idempotent: retried, every message once, expectations hold" \
    '(j["mode"] == "workload" and j["delivered"] == 20 and j["producer"]["retries"] >= 1 and
      j["scenario"]["expectations_hold"] and j["scenario"]["duplicates"] == 0 and
      j["log_check"]["ok"])'
[ "$rc" = 0 ] && ok "a scenario whose expectations hold exits 0" || fail "scenario rc $rc"
run --scenario fixtures/scenarios/lost_ack_duplicate.json --json
check "lost ack, no idempotence: the retried batch is in the log twice" \
    'j["delivered"] == 20 and j["scenario"]["duplicates"] >= 1 and
     j["scenario"]["log_records"] > 20 and j["scenario"]["expectations_hold"]'
run --scenario fixtures/scenarios/per_record_errors.json --json
check "per-record errors: one message fails, as the scenario expects (exit 0)" \
    'j["failed"] == 1 and j["delivered"] == 9 and j["scenario"]["expectations_hold"]'
[ "$rc" = 0 ] && ok "expected failures do not fail the run" || fail "per_record_errors rc $rc"
run --scenario fixtures/scenarios/lost_ack_idempotent.json --trace --trace-records 0
n=$(grep -c "producer_id=1000 producer_epoch=0 base_sequence=0" "$tmp/out")
if [ "$rc" = 0 ] && [ "$n" -ge 2 ] && grep -q "_TIMED_OUT" "$tmp/out" &&
    grep -q 'lose-first-produce' "$tmp/out"; then
    ok "the trace shows the timeout and the same batch sent again"
else
    fail "trace of a retry (rc $rc, batch sent $n times)"
fi
# Load of one's own under a scenario's faults: its topic and settings, -X on top.
run --scenario fixtures/scenarios/isr_below_min_insync.json --count 5 \
    -X message.timeout.ms=500 --json
check "own load under a scenario: its topic, failures named with their cause" \
    'j["topic"] == "min-isr" and j["failed"] == 5 and
     j["errors"] == {"_MSG_TIMED_OUT(NOT_ENOUGH_REPLICAS)": 5}'
[ "$rc" = 1 ] && ok "own load that fails exits 1" || fail "own load under a scenario rc $rc"

echo "kproducer: $passed passed, $failed failed"
[ "$failed" = 0 ]
