#!/usr/bin/env bash
# Regenerates fixtures/frames/*.hex: runs each real client against tests/capture/responder.py
# on 127.0.0.1 and writes the request frames we keep as golden fixtures (tohex.py annotates
# them). Every client and responder run is bounded by `timeout` or a deadline, and the responder
# is stopped by its own PID.
#
# Needs: kcat (librdkafka), python3 with kafka-python and confluent-kafka-python ($PY, default
# /usr/bin/python3), node with kafkajs installed from tests/interop (npm ci there).
# usage: tests/capture/capture.sh [OUT_DIR]      (default fixtures/frames)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/fixtures/frames}
PY=${PY:-/usr/bin/python3}
topic=golden
date=$(date -u +%Y-%m-%d)
work=$(mktemp -d)
rpid=

cleanup()
{
    if [ -n "$rpid" ]; then kill "$rpid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if [ ! -d "$root/tests/interop/node_modules/kafkajs" ]; then
    (cd "$root/tests/interop" && timeout 300 npm ci --no-audit --no-fund >/dev/null)
fi
mkdir -p "$out"

kcat_re='s/^Version \([^ ]*\) .*librdkafka \([^ ]*\) .*/kcat \1 (librdkafka \2)/p'
kcat_v=$(kcat -V 2>&1 | sed -n "$kcat_re")
kp_v="kafka-python $("$PY" -c 'import kafka; print(kafka.__version__)')"
ck_v="confluent-kafka-python $("$PY" -c 'import confluent_kafka as c
print(c.version()[0], "(librdkafka %s)" % c.libversion()[0])')"
kjs_pkg=$root/tests/interop/node_modules/kafkajs/package.json
kjs_v="kafkajs $(node -p "require('$kjs_pkg').version") (node $(node --version))"

# start RUN: a fresh responder for one client run; sets $port.
start()
{
    run=$work/$1
    mkdir -p "$run"
    "$PY" "$here/responder.py" "$run" --deadline 120 >"$run/log" 2>&1 &
    rpid=$!
    for _ in $(seq 100); do
        [ -f "$run/port" ] && break
        sleep 0.1
    done
    [ -f "$run/port" ] || { echo "capture: responder did not start" >&2; exit 1; }
    port=$(cat "$run/port")
}

stop()
{
    kill "$rpid" 2>/dev/null || true
    wait "$rpid" 2>/dev/null || true
    rpid=
}

# keep KEY VERSION PATTERN NAME CLIENT COMMAND WHAT: the first frame of (KEY, VERSION) in this
# run whose hex matches the extended regex PATTERN. Chosen by content, not by position: when
# librdkafka sends its brokers-only Metadata depends on timing.
keep()
{
    local frame= f
    for f in $(awk -F'\t' -v k="$1" -v v="$2" '$3 == k && $4 == v { print $7 }' \
               "$run/frames.tsv"); do
        if od -An -v -tx1 "$run/$f" | tr -d ' \n' | grep -Eq "$3"; then
            frame=$f
            break
        fi
    done
    if [ -z "$frame" ]; then
        echo "capture: no frame of key $1 v$2 matching $3 in run $(basename "$run")" >&2
        cat "$run/frames.tsv" >&2
        exit 1
    fi
    "$PY" "$here/tohex.py" "$run/$frame" "$out/$4" --client "$5" --command "$6" --what "$7" \
        --date "$date"
    echo "  $4"
}

b=127.0.0.1:PORT
golden_topic="00000001 0006 676f6c64656e(01)?$"        # a one-topic list: "golden", last
golden_topic=${golden_topic// /}
value=$("$PY" -c 'print((b"golden frame " * 30)[:300].decode())')

echo "kcat: $kcat_v"
start kcat-list
timeout 60 kcat -b "127.0.0.1:$port" -L >/dev/null
stop
keep 18 3 . api_versions_v3_request_librdkafka.hex "$kcat_v" "kcat -b $b -L" \
    "librdkafka's first frame on a connection (flexible ApiVersions)."
keep 3 4 '0000000000$' metadata_v4_request_librdkafka.hex "$kcat_v" "kcat -b $b -L" \
    "librdkafka's bootstrap Metadata: an empty topic list, brokers only."
keep 3 4 'ffffffff01$' metadata_v4_request_librdkafka_all.hex "$kcat_v" "kcat -b $b -L" \
    "Metadata for all topics (null topic list) that kcat -L asks for next."

start kcat-plain
printf 'key1:hello\n' | timeout 60 kcat -b "127.0.0.1:$port" -P -t $topic -K:
stop
keep 3 4 "$golden_topic" metadata_v4_request_librdkafka_topic.hex "$kcat_v" \
    "printf 'key1:hello\\n' | kcat -b $b -P -t $topic -K:" \
    "Metadata for the one topic being produced to."
keep 0 7 . produce_v7_request_librdkafka.hex "$kcat_v" \
    "printf 'key1:hello\\n' | kcat -b $b -P -t $topic -K:" \
    "Produce with one keyed record, uncompressed, not idempotent (acks -1)."

start kcat-gzip
printf 'a:%s\nb:%s\n' "$value" "$value" |
    timeout 60 kcat -b "127.0.0.1:$port" -P -t $topic -K: -z gzip
stop
keep 0 7 . produce_v7_request_librdkafka_gzip.hex "$kcat_v" \
    "printf 'a:V\\nb:V\\n' | kcat -b $b -P -t $topic -K: -z gzip  (V = 300 bytes)" \
    "Produce with a gzip-compressed batch of two 300-byte records."

start kcat-idempotent
printf 'key1:hello\nkey2:world\n' |
    timeout 60 kcat -b "127.0.0.1:$port" -P -t $topic -K: -X enable.idempotence=true
stop
keep 22 4 . init_producer_id_v4_request_librdkafka.hex "$kcat_v" \
    "printf 'key1:hello\\nkey2:world\\n' | kcat -b $b -P -t $topic -K: -X enable.idempotence=true" \
    "InitProducerId of the idempotent producer (flexible, no transactional id)."
keep 0 7 . produce_v7_request_librdkafka_idempotent.hex "$kcat_v" \
    "printf 'key1:hello\\nkey2:world\\n' | kcat -b $b -P -t $topic -K: -X enable.idempotence=true" \
    "Idempotent Produce: producer id 1000 and epoch 0 from the responder, base sequence 0."

echo "confluent-kafka-python: $ck_v"
for codec in lz4 zstd; do
    start confluent-$codec
    timeout 60 "$PY" "$here/py_clients.py" confluent-$codec "$port" $topic
    stop
    if [ $codec = lz4 ]; then
        keep 18 3 . api_versions_v3_request_confluent_kafka_python.hex "$ck_v" \
            "py_clients.py confluent-lz4: Producer(enable.idempotence=true, ...)" \
            "ApiVersions with the Python binding's own software name and version."
    fi
    keep 0 7 . produce_v7_request_confluent_kafka_python_$codec.hex "$ck_v" \
        "py_clients.py confluent-$codec: Producer(enable.idempotence=true, compression=$codec)" \
        "Idempotent Produce, three 300-byte records in one $codec-compressed batch."
done

echo "kafka-python: $kp_v"
start kafka-python
timeout 60 "$PY" "$here/py_clients.py" kafka-python "$port" $topic
stop
cmd="py_clients.py kafka-python: KafkaProducer().send('$topic', key=b'key1', value=b'hello')"
keep 18 0 . api_versions_v0_request_kafka_python.hex "$kp_v" "$cmd" \
    "The version probe: kafka-python only ever sends ApiVersions v0."
keep 3 0 '00000000$' metadata_v0_request_kafka_python.hex "$kp_v" "$cmd" \
    "Metadata v0 pipelined behind the probe; an empty list means all topics in v0."
keep 3 1 'ffffffff$' metadata_v1_request_kafka_python.hex "$kp_v" "$cmd" \
    "Metadata v1 for all topics (null list), after guessing the broker version from our ranges."
keep 3 1 "$golden_topic" metadata_v1_request_kafka_python_topic.hex "$kp_v" "$cmd" \
    "Metadata v1 for the topic, on the new connection to node 0."
keep 0 7 . produce_v7_request_kafka_python.hex "$kp_v" "$cmd" \
    "Produce v7 (broker guessed as 2.4 from Produce v8 in our ranges), acks 1, magic 2."

start kafka-python-0.10.1
timeout 60 "$PY" "$here/py_clients.py" kafka-python-0.10.1 "$port" $topic
stop
keep 0 2 . produce_v2_request_kafka_python.hex "$kp_v" \
    "KafkaProducer(api_version=(0, 10, 1), ...).send('$topic', key=b'key1', value=b'hello')" \
    "Produce v2 carrying a magic-1 message set (CRC-32, with timestamp)."

start kafka-python-0.9
timeout 60 "$PY" "$here/py_clients.py" kafka-python-0.9 "$port" $topic
stop
keep 0 1 . produce_v1_request_kafka_python.hex "$kp_v" \
    "KafkaProducer(api_version=(0, 9), ...).send('$topic', key=b'key1', value=b'hello')" \
    "Produce v1 carrying a magic-0 message set (CRC-32, no timestamp)."

echo "kafkajs: $kjs_v"
start kafkajs
timeout 60 node "$here/kafkajs_client.js" "$port" $topic
stop
cmd="kafkajs_client.js: producer.send() of key 'key1', value 'hello' to '$topic'"
keep 18 2 . api_versions_v2_request_kafkajs.hex "$kjs_v" "$cmd" \
    "kafkajs' first frame: ApiVersions v2, correlation id 0."
keep 3 6 "$golden_topic" metadata_v6_request_kafkajs.hex "$kjs_v" "$cmd" \
    "Metadata v6 for the topic, auto-creation allowed."
keep 0 7 . produce_v7_request_kafkajs.hex "$kjs_v" "$cmd" \
    "Produce, not idempotent: producer id -1 but epoch 0 and base sequence 0 (kafkajs' quirk)."

start kafkajs-idempotent
timeout 60 node "$here/kafkajs_client.js" "$port" $topic idempotent
stop
cmd="kafkajs_client.js idempotent: kafka.producer({ idempotent: true, maxInFlightRequests: 1 })"
keep 22 1 . init_producer_id_v1_request_kafkajs.hex "$kjs_v" "$cmd" \
    "InitProducerId v1: null transactional id, transaction timeout 60000."
keep 0 7 . produce_v7_request_kafkajs_idempotent.hex "$kjs_v" "$cmd" \
    "Idempotent Produce: producer id 1000, epoch 0, base sequence 0."
