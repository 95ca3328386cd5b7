#!/usr/bin/env bash
# Consumer groups with real clients against bin/mockbroker: kcat produces keyed records to a
# 3-partition topic, then each client reads them back as a member of a group (kcat -G,
# confluent-kafka-python, kafka-python, kafkajs): every record once, in its partition, in order.
# Then more records are produced and the same group is started again: it must read exactly the
# new ones, which shows the offsets committed by the first run were fetched and used.
# Each check starts its own broker (ephemeral port, fixed seed) that stops when its standard input
# closes, so it cannot outlive this script. Run by `make test` with BIN in the environment.
# CONSUMERS_ONLY=REGEX runs only the checks whose names match. CONSUMERS_VERBOSE=1 also prints
# what each passing check saw and the requests (API, version) the broker received;
# CONSUMERS_KEEP=1 keeps the records and broker logs.
set -uo pipefail

BIN=${BIN:-bin}
cd "$(dirname "$0")/../.." || exit 1
mb="$BIN/mockbroker"
py=${CONSUMERS_PYTHON:-/usr/bin/python3}     # Debian's: it has the kafka and confluent modules
iop=tests/interop/iop.py
budget=${CONSUMERS_BUDGET:-240}               # seconds for the whole script
[ -x "$mb" ] || { echo "consumers.sh: $mb is not built" >&2; exit 1; }

keep=${CONSUMERS_KEEP:-0}
me=consumers.sh
verbose=${CONSUMERS_VERBOSE:-0}
only=${CONSUMERS_ONLY:-}
# shellcheck source=tests/interop/broker.sh
. tests/interop/broker.sh

groups=tests/interop/groups.py

# produce D TAG N: N keyed records (keys TAG00000...) to topic t with kcat; their JSON lines go
# to D.sent (partition left to the verifier: kcat's default partitioner hashes keys with CRC-32).
produce() {
    local d=$1 tag=$2 n=$3
    "$py" "$iop" gen "$n" "$tag" --jsonl "$d.json" | sed "s/^k/$tag/" >"$d.in" || return 1
    sed "s/\"k\": \"k/\"k\": \"$tag/" "$d.json" >"$d.sent"
    bounded 30 kcat -P -b "$BS" -t t -K: -l "$d.in" || { echo "kcat -P failed"; return 1; }
}

# read_group CLIENT GROUP N OUT [IDLE_MS [CLIENT_ID]]: one member of GROUP reads N records of
# topic t into OUT, giving up after IDLE_MS (default 15000) without a record; CLIENT_ID is the
# client.id the broker sees (default: the client's own).
read_group() {
    local client=$1 group=$2 n=$3 out=$4 idle=${5:-15000} cid=${6:-}
    local -a idopt=()
    case $client in
    kcat) [ -n "$cid" ] && idopt=(-X "client.id=$cid") ;;
    *) [ -n "$cid" ] && idopt=(--client-id "$cid") ;;
    esac
    case $client in
    kcat)
        # -c N: stop after N records; the close commits what was consumed (auto commit).
        bounded 60 kcat -C -b "$BS" -G "$group" t -c "$n" -J -q \
            -X auto.offset.reset=earliest -X session.timeout.ms=10000 \
            -X heartbeat.interval.ms=500 "${idopt[@]}" >"$out" ||
            { echo "kcat -G failed"; return 1; }
        ;;
    confluent | kafka-python)
        bounded 60 "$py" "$groups" "$client" --bootstrap "$BS" --topic t --group "$group" \
            --expect "$n" --out "$out" --idle-ms "$idle" "${idopt[@]}" || return 1
        ;;
    kafkajs)
        [ "$kafkajs_installed" = yes ] ||
            { echo "kafkajs is not installed: npm ci failed"; return 1; }
        bounded 60 node tests/interop/kafkajs_consume.js --bootstrap "$BS" --topic t \
            --group "$group" --expect "$n" --out "$out" --idle-ms "$idle" "${idopt[@]}" ||
            return 1
        ;;
    esac
    local got
    got=$(grep -c . "$out")
    [ "$got" = "$n" ] || { echo "$client: read $got records, expected $n"; return 1; }
}

# group_read CLIENT N M: N records read by a new group; then M more, read by the same group
# started again, which must resume at its committed offsets and read only those M.
group_read() {
    local client=$1 n=$2 m=$3 d="$tmp/$1"
    start_broker --topic t:3 || return 1
    produce "$d.a" a "$n" || return 1
    read_group "$client" "g-$client" "$n" "$d.got1" || return 1
    "$py" "$iop" verify --sent "$d.a.sent" --got "$d.got1" --partitioner crc32 --partitions 3 ||
        return 1
    produce "$d.b" b "$m" || return 1
    cat "$d.a.sent" "$d.b.sent" >"$d.sent"
    read_group "$client" "g-$client" "$m" "$d.got2" || return 1
    # --tail: each partition's records from the first offset read on, which must be where the
    # first run stopped; the count check above makes it exactly the new records.
    "$py" "$iop" verify --sent "$d.sent" --got "$d.got2" --partitioner crc32 --partitions 3 \
        --tail || return 1
    "$py" - "$d.a.sent" "$d.got2" <<'PY' || return 1
import json, sys
old = {json.loads(l)["k"] for l in open(sys.argv[1]) if l.strip()}
again = [r for r in (json.loads(l) for l in open(sys.argv[2]) if l.strip())
         if r.get("k", r.get("key")) in old]
sys.exit("second run re-read %d records of the first" % len(again) if again else 0)
PY
    # Both runs joined the group and committed to it.
    local api
    for api in JoinGroup SyncGroup OffsetCommit OffsetFetch; do
        grep -q ": $api v[0-9]* correlation id" "$broker_log" ||
            { echo "the broker received no $api request"; return 1; }
    done
}

# group_faults CLIENT: group_read's two runs against a 3-broker cluster whose group coordinator
# misbehaves (tests/interop/group_faults.json): FindCoordinator and OffsetFetch answer
# COORDINATOR_LOAD_IN_PROGRESS, a JoinGroup NOT_COORDINATOR (the coordinator moved), the next
# JoinGroup is held 1.5 s, SyncGroup and a heartbeat answer REBALANCE_IN_PROGRESS, a commit is
# refused with COORDINATOR_NOT_AVAILABLE. Between the runs the coordinator's broker goes down:
# a rule added here fires on the second run's first FindCoordinator (matched by its client id)
# and stops the broker that murmur2 of the group id picks, as the mock does. Every record must
# be read once, in order, the second run must resume at the committed offsets, now held by
# another coordinator, and each rule must have fired (the heartbeat's only if one came).
group_faults() {
    local client=$1 d="$tmp/faults-$1" group="gf-$1"
    "$py" - "$client" "$group" tests/interop/group_faults.json "$d.scenario" <<'PY' || return 1
import json, sys
from kafka.partitioner.default import murmur2
client, group, src, dst = sys.argv[1:]
s = json.load(open(src))
if client == "kcat":
    # librdkafka reports a refused OffsetFetch as a consumer error event while it retries, and
    # kcat ends on any consumer error: that is kcat's choice, not a protocol matter.
    s["rules"] = [r for r in s["rules"] if r["name"] != "fetch-offsets-loading"]
coordinator = (murmur2(group.encode()) & 0x7fffffff) % s["brokers"] + 1
s["rules"].append({"name": "coordinator-dies",
                   "match": {"api_key": "FindCoordinator", "client_id": "second-run"},
                   "action": {"type": "broker_down", "broker": coordinator}})
json.dump(s, open(dst, "w"))
PY
    start_broker --scenario "$d.scenario" || return 1
    produce "$d.a" a 300 || return 1
    # kafkajs keeps calling a coordinator that answers with errors until its retries run out,
    # then restarts the consumer after a back-off (restartOnFailure): many seconds without a
    # record.
    read_group "$client" "$group" 300 "$d.got1" 45000 || return 1
    "$py" "$iop" verify --sent "$d.a.sent" --got "$d.got1" --partitioner crc32 --partitions 3 ||
        return 1
    produce "$d.b" b 90 || return 1
    cat "$d.a.sent" "$d.b.sent" >"$d.sent"
    read_group "$client" "$group" 90 "$d.got2" 45000 second-run || return 1
    "$py" "$iop" verify --sent "$d.sent" --got "$d.got2" --partitioner crc32 --partitions 3 \
        --tail || return 1
    local rule rules="find-loading join-moved join-held sync-rebalance commit-unavailable"
    [ "$client" = kcat ] || rules="$rules fetch-offsets-loading"
    for rule in $rules coordinator-dies; do
        grep -q "rule $rule fired" "$broker_log" || { echo "rule $rule never fired"; return 1; }
    done
    grep -q "rule heartbeat-rebalance fired" "$broker_log" ||
        echo "(no heartbeat came while the heartbeat rule waited)"
}

# kafkajs comes from npm, pinned by tests/interop/package-lock.json.
kafkajs_installed=yes
if [ ! -d tests/interop/node_modules/kafkajs ]; then
    (cd tests/interop && bounded 120 npm ci --no-audit --no-fund --loglevel=error) >&2 ||
        kafkajs_installed=no
fi

check "kcat -G: a group reads 300 keyed records, then resumes at its committed offsets" \
    group_read kcat 300 90
check "confluent-kafka Consumer: a group reads 300 records, then resumes at its committed offsets" \
    group_read confluent 300 90
check "kafka-python KafkaConsumer: a group reads 300 records, then resumes at its commits" \
    group_read kafka-python 300 90
check "kafkajs consumer: a group reads 300 records, then resumes at its committed offsets" \
    group_read kafkajs 300 90

for client in kcat confluent kafka-python kafkajs; do
    check "$client: a group reads every record once through a misbehaving coordinator" \
        group_faults "$client"
done

echo "consumers: $passed passed, $failed failed"
[ "$failed" = 0 ]
