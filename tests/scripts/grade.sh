#!/usr/bin/env bash
# `mockbroker grade` with real clients, a quick subset of `make conformance`: each case runs
# twice and the verdict class must be the same both times (counts may differ); the JUnit and
# JSON outputs must parse; a bad --backoff is a usage error. The broken producers are graded in
# the CUnit suite "grade". Prints "grade: N passed, M failed"; exits 1 on a failure.
set -uo pipefail
BIN=${BIN:-bin}
cd "$(dirname "$0")/../.." || exit 1
py=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kw-grade.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# case NAME EXPECTED SCENARIOS COMMAND...: EXPECTED is the verdict of each scenario, in order.
case_() {
    local name=$1 want=$2 scen=$3 got1 got2
    shift 3
    for run in 1 2; do
        timeout -k 5 120 "$BIN/mockbroker" grade --scenarios "$scen" --timeout 30 --json \
            --junit "$tmp/junit$run.xml" --label "$name" -- "$@" >"$tmp/out$run.json" \
            2>"$tmp/err$run"
    done
    got1=$($py -c 'import json,sys; print(",".join(r["verdict"] for r in json.load(open(sys.argv[1]))["runs"]))' "$tmp/out1.json" 2>&1)
    got2=$($py -c 'import json,sys; print(",".join(r["verdict"] for r in json.load(open(sys.argv[1]))["runs"]))' "$tmp/out2.json" 2>&1)
    if [ "$got1" = "$want" ] && [ "$got2" = "$want" ] &&
        $py -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$tmp/junit1.xml"; then
        passed=$((passed + 1))
        echo "ok - $name: $got1 (twice)"
    else
        failed=$((failed + 1))
        echo "not ok - $name: got $got1 then $got2, expected $want"
        grep -h '"reason"' "$tmp/out1.json" "$tmp/out2.json" | sed 's/^/#   /'
    fi
}

case_ "kproducer idempotent" PASS,PASS fixtures/grade/clean.json,lost_ack_idempotent \
    tests/adapters/kproducer.sh -a all -X enable.idempotence=true
case_ "confluent-kafka-python idempotent" PASS fixtures/grade/clean.json \
    "$py" tests/adapters/confluent_kafka_python.py --idempotent
case_ "kafka-python acks=1" PASS fixtures/grade/clean.json \
    "$py" tests/adapters/kafka_python.py --acks 1
case_ "drops every 100th message" LOSS fixtures/grade/clean.json \
    "$py" fixtures/grade/rawproducer.py drop

"$BIN/mockbroker" grade --backoff 5 -- true >/dev/null 2>&1
st=$?
if [ $st = 2 ]; then passed=$((passed + 1)); echo "ok - a bad --backoff is a usage error"
else failed=$((failed + 1)); echo "not ok - --backoff 5: exit $st, expected 2"; fi

echo "grade: $passed passed, $failed failed"
((failed == 0))
