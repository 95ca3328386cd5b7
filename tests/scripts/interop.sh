#!/usr/bin/env bash
# Real Kafka clients against bin/mockbroker: kcat (librdkafka), kafka-python, confluent-kafka-python
# and kafkajs each produce keyed records to a 3-partition topic and read them back; every record
# must come back once, in its partition, in send order, at the offset it was acknowledged with. Also
# the broker's own options: --topic/--topic-config, and bad options exiting 2. Each check starts its
# own broker (ephemeral ports, fixed seed) that stops when its standard input closes, so it cannot
# outlive this script. Run by `make test` with BIN in the environment. INTEROP_ONLY=REGEX runs only
# the checks whose names match. INTEROP_VERBOSE=1 also prints what each passing check saw and the
# requests (API, version) each broker received; INTEROP_KEEP=1 keeps the records, batches and broker
# logs.
set -uo pipefail

BIN=${BIN:-bin}
cd "$(dirname "$0")/../.." || exit 1
mb="$BIN/mockbroker"
py=${INTEROP_PYTHON:-/usr/bin/python3}     # Debian's: it has the kafka and confluent modules
iop=tests/interop/iop.py
budget=${INTEROP_BUDGET:-210}               # seconds for the whole script
[ -x "$mb" ] || { echo "interop.sh: $mb is not built" >&2; exit 1; }

keep=${INTEROP_KEEP:-0}
me=interop.sh
verbose=${INTEROP_VERBOSE:-0}
only=${INTEROP_ONLY:-}
# shellcheck source=tests/interop/broker.sh
. tests/interop/broker.sh


# verify SENT GOT PARTITIONER [PARTITIONS]
verify() {
    "$py" "$iop" verify --sent "$1" --got "$2" --partitioner "$3" --partitions "${4:-3}"
}

# kcat_read TOPIC OUT [ARGS...]: every partition from the beginning to its end, as JSON lines.
kcat_read() {
    local topic=$1 out=$2
    shift 2
    bounded 30 kcat -C -b "$BS" -t "$topic" -o beginning -e -J -q "$@" >"$out"
}

# ---------------------------------------------------------------------------------------------

kcat_keyed() {
    local n=$1 d="$tmp/kcat"
    start_broker --topic t:3 || return 1
    "$py" "$iop" gen "$n" kcat --jsonl "$d.sent" >"$d.in" || return 1
    bounded 30 kcat -P -b "$BS" -t t -K: -l "$d.in" || { echo "kcat -P failed"; return 1; }
    kcat_read t "$d.got" || { echo "kcat -C failed"; return 1; }
    verify "$d.sent" "$d.got" crc32
}

# kafka_python ACKS N [API_VERSION [gzip]]: a pinned old API version makes kafka-python write
# magic 0 (0.9) or magic 1 (0.10.x) message sets, which the broker stores as record batches
# and converts back for the old Fetch versions the same consumer then uses.
kafka_python() {
    local acks=$1 n=$2 ver=${3:-} d="$tmp/kp$1${3:-}${4:-}" pin=() comp=()
    [ -n "$ver" ] && pin=(--api-version "$ver")
    [ -n "${4:-}" ] && comp=(--compression "$4")
    start_broker --topic t:3 || return 1
    bounded 40 "$py" "$iop" kafka-python-produce --bootstrap "$BS" --topic t --n "$n" \
        --acks "$acks" --tag "acks$acks" "${pin[@]}" "${comp[@]}" --out "$d.sent" || return 1
    bounded 40 "$py" "$iop" kafka-python-consume --bootstrap "$BS" --topic t --partitions 3 \
        --expect "$n" "${pin[@]}" --out "$d.got" || return 1
    verify "$d.sent" "$d.got" murmur2 || return 1
    [ -n "$ver" ] || return 0
    bounded 20 "$py" "$iop" batches --bootstrap "$BS" --topic t --partitions 3 --out "$d.batches" &&
        "$py" "$iop" batch-check --batches "$d.batches" --not-idempotent
}

# Partition leaders spread over 3 brokers: the producer and the consumer each talk to every
# leader, and the records still come back in place.
three_brokers() {
    local n=$1 d="$tmp/three"
    start_broker --brokers 3 --topic t:6:3 || return 1
    bounded 40 "$py" "$iop" kafka-python-produce --bootstrap "$BS" --topic t --n "$n" \
        --acks all --tag three --out "$d.sent" || return 1
    kcat_read t "$d.got" || { echo "kcat -C failed"; return 1; }
    verify "$d.sent" "$d.got" murmur2 6 || return 1
    # Each broker served Produce (kafka-python: v7) and Fetch (kcat: v11) for what it leads.
    local b v
    for b in 1 2 3; do
        for v in 7 11; do
            grep -q "broker $b conn [0-9]*: [^ ]* v$v correlation id" "$broker_log" ||
                { echo "broker $b received no request at v$v (Produce v7, Fetch v11)"; return 1; }
        done
    done
}

confluent() {
    local codec=$1 n=$2 d="$tmp/ck$1"
    start_broker --topic t:3 || return 1
    # Small batches (40 records) put several in flight per partition.
    bounded 40 "$py" "$iop" confluent-produce --bootstrap "$BS" --topic t --n "$n" --pad 100 \
        --batch 40 --idempotent --compression "$codec" --tag "$codec" --out "$d.sent" || return 1
    bounded 40 "$py" "$iop" confluent-consume --bootstrap "$BS" --topic t --partitions 3 \
        --out "$d.got" || return 1
    verify "$d.sent" "$d.got" crc32 || return 1
    # What the broker stored: one producer id, sequences from 0 without gaps, the codec asked for.
    bounded 20 "$py" "$iop" batches --bootstrap "$BS" --topic t --partitions 3 --out "$d.batches" &&
        "$py" "$iop" batch-check --batches "$d.batches" --codec "$codec" --idempotent
}

# Batches written by librdkafka (gzip, then lz4) read by a consumer that only knows magic 1:
# the broker converts them down for Fetch v3.
down_conversion() {
    local d="$tmp/down"
    start_broker --topic t:3 || return 1
    bounded 40 "$py" "$iop" confluent-produce --bootstrap "$BS" --topic t --n 150 --pad 100 \
        --compression gzip --tag gzip --out "$d.sent1" || return 1
    bounded 40 "$py" "$iop" confluent-produce --bootstrap "$BS" --topic t --n 150 --pad 100 \
        --start 150 --compression lz4 --tag lz4 --out "$d.sent2" || return 1
    cat "$d.sent1" "$d.sent2" >"$d.sent"
    bounded 40 "$py" "$iop" kafka-python-consume --bootstrap "$BS" --topic t --partitions 3 \
        --expect 300 --api-version 0.10.1 --out "$d.got" || return 1
    verify "$d.sent" "$d.got" crc32
}

kafkajs() {
    local mode=$1 n=$2 d="$tmp/kjs$1" flag=() expect=--not-idempotent
    [ "$mode" = idempotent ] && flag=(--idempotent) expect=--idempotent
    [ "$kafkajs_installed" = yes ] || { echo "kafkajs is not installed: npm ci failed"; return 1; }
    start_broker --topic t:3 || return 1
    bounded 40 node tests/interop/kafkajs_produce.js --bootstrap "$BS" --topic t --n "$n" \
        --partitions 3 --sends 10 --tag "$mode" "${flag[@]}" --out "$d.sent" || return 1
    kcat_read t "$d.got" || { echo "kcat -C failed"; return 1; }
    verify "$d.sent" "$d.got" murmur2 || return 1
    bounded 20 "$py" "$iop" batches --bootstrap "$BS" --topic t --partitions 3 --out "$d.batches" &&
        "$py" "$iop" batch-check --batches "$d.batches" --codec none "$expect"
}

# --topic NAME:PARTS:RF and --topic-config NAME:retention.bytes=N: the topic has its partitions,
# and a partition written far past its retention keeps only its newest batches, the records in
# them intact; a topic without the setting keeps everything.
retention() {
    local d="$tmp/ret" limit=4096
    start_broker --topic r:3:1 --topic-config "r:retention.bytes=$limit" --topic keep:1 || return 1
    bounded 20 kcat -L -b "$BS" -t r -J >"$d.meta" || { echo "kcat -L failed"; return 1; }
    "$py" -c 'import json,sys; t=json.load(open(sys.argv[1]))["topics"][0]
n=len(t["partitions"]); sys.exit(0 if n == 3 else "topic r has %d partitions, not 3" % n)' \
        "$d.meta" || return 1
    "$py" "$iop" gen 300 ret --pad 50 --jsonl "$d.sent" >"$d.in" || return 1
    for topic in r keep; do
        bounded 30 kcat -P -b "$BS" -t "$topic" -p 0 -K: -l "$d.in" -X batch.num.messages=20 ||
            { echo "kcat -P $topic failed"; return 1; }
    done
    bounded 20 "$py" "$iop" batches --bootstrap "$BS" --topic r --partitions 1 --out "$d.batches" &&
        "$py" "$iop" batch-check --batches "$d.batches" --partition 0 --max-bytes "$limit" \
            --min-log-start 1 || return 1
    kcat_read r "$d.got" -p 0 || { echo "kcat -C r failed"; return 1; }
    "$py" "$iop" verify --sent <(sed 's/"p": null/"p": 0/' "$d.sent") --got "$d.got" \
        --partitions 1 --tail || return 1
    kcat_read keep "$d.keep" || { echo "kcat -C keep failed"; return 1; }
    "$py" "$iop" verify --sent <(sed 's/"p": null/"p": 0/' "$d.sent") --got "$d.keep" \
        --partitions 1
}

# Each bad command line exits 2 before serving, saying why on stderr, with nothing on stdout.
bad_options() {
    local bad=0 st args
    local cases=(
        "--bogus 1"
        "--port"
        "--port 70000"
        "--brokers 0"
        "--log-level loud"
        "--topic t"
        "--topic t:0"
        "--topic t:2:5"
        "--topic-config nosuch:retention.bytes=1"
        "--topic t:1 --topic-config t:retention.bytes=lots"
        "--topic t:1 --topic-config t:no.such.key=1"
        "--topic t:1 --topic-config t:retention.bytes"
    )
    for args in "${cases[@]}"; do
        # shellcheck disable=SC2086 # the cases are word lists
        bounded 10 "$mb" --port 0 --exit-on-stdin-close $args </dev/null >"$tmp/bad.out" \
            2>"$tmp/bad.err"
        st=$?
        if [ $st != 2 ] || [ -s "$tmp/bad.out" ] || ! grep -q '^mockbroker: ' "$tmp/bad.err"; then
            echo "mockbroker $args: exit $st (want 2), stdout '$(head -c 200 "$tmp/bad.out")'," \
                "stderr '$(head -c 300 "$tmp/bad.err")'"
            bad=1
        fi
    done
    if ! bounded 10 "$mb" --help >"$tmp/help.out" 2>&1 ||
        ! grep -q '^usage: mockbroker' "$tmp/help.out"; then
        echo "mockbroker --help: no usage, or not exit 0"
        bad=1
    fi
    return $bad
}

# kafkajs comes from npm, pinned by tests/interop/package-lock.json.
kafkajs_installed=yes
if [ ! -d tests/interop/node_modules/kafkajs ]; then
    (cd tests/interop && bounded 120 npm ci --no-audit --no-fund --loglevel=error) >&2 ||
        kafkajs_installed=no
fi

check "kcat keyed 3 partitions 1000 msgs" kcat_keyed 1000
check "kafka-python acks=1 keyed 300 msgs, assign + seek_to_beginning" kafka_python 1 300
check "kafka-python acks=0 keyed 300 msgs" kafka_python 0 300
check "kafka-python acks=all keyed 300 msgs" kafka_python all 300
check "kafka-python api_version=0.10.1 gzip: magic 1 message sets, Produce v2, Fetch v3" \
    kafka_python 1 200 0.10.1 gzip
check "kafka-python api_version=0.9: magic 0 message sets, Produce v1, Fetch v1" \
    kafka_python 1 200 0.9
check "3 brokers, 6 partitions RF 3: kafka-python acks=all, read back with kcat" three_brokers 600
for codec in none gzip snappy lz4 zstd; do
    check "confluent-kafka idempotent compression=$codec 500 msgs" confluent "$codec" 500
done
check "confluent-kafka gzip + lz4 batches read by kafka-python api_version=0.10.1 (Fetch v3)" \
    down_conversion
check "kafkajs producer 500 msgs in 10 sends, read back with kcat" kafkajs plain 500
check "kafkajs idempotent producer 500 msgs in 10 sends" kafkajs idempotent 500
check "mockbroker --topic r:3:1 --topic-config r:retention.bytes=4096" retention
check "mockbroker bad options exit 2 with a message" bad_options

echo "interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
