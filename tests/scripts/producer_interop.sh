#!/usr/bin/env bash
# libkproducer against other implementations:
#  1. librdkafka's own mock cluster, read back with a librdkafka consumer (kp_interop rdmock):
#     ApiVersions fallback, Metadata v0-v2, answers to acks=0, codecs, leader moves and injected
#     errors with idempotence;
#     and the transactional producer's calls under coordinator errors;
#  2. bin/mockbroker, read back with kcat: every message once, per partition in send order; and
#     transactions read back by librdkafka consumers: read_committed sees committed messages
#     only, read_uncommitted all, the group's offsets are the committed transaction's.
# Run by `make test` with B and BIN in the environment. KP_INTEROP_DEBUG=ctx,... turns on the
# producer's debug contexts.
set -uo pipefail

B=${B:-build}
BIN=${BIN:-bin}
cd "$(dirname "$0")/../.." || exit 1
tool="$B/tests/kp_interop"
mb="$BIN/mockbroker"
for f in "$tool" "$mb"; do
    [ -x "$f" ] || { echo "producer_interop.sh: $f is not built" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kp-interop.XXXXXX")
mb_pid=""
finish() {
    [ -n "$mb_pid" ] && kill "$mb_pid" 2>/dev/null && wait "$mb_pid" 2>/dev/null
    rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT TERM

failures=0
passes=0
pass() { echo "ok   $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# 1. librdkafka's mock cluster
if timeout -k 5 240 "$tool" rdmock; then
    pass "librdkafka mock cluster"
else
    fail "librdkafka mock cluster (details above)"
fi

# 2. bin/mockbroker and kcat. The broker reads a fifo whose writer we hold: when this script
# ends, its stdin closes and it stops (--exit-on-stdin-close), even if the kill is missed.
mkfifo "$work/in" "$work/out" || exit 1
exec {keep_in}<>"$work/in" {keep_out}<>"$work/out"
timeout -k 5 300 "$mb" --port 0 --seed 7 --brokers 3 --exit-on-stdin-close --log-level error \
    --auto-create off --topic kp-a:3:3 --topic kp-b:3:3 --topic kp-c:3:3 --topic kp-txn:3:3 \
    --topic kp-interop-source:1:3 \
    <"$work/in" >"$work/out" 2>"$work/mockbroker.log" &
mb_pid=$!
line=""
read -r -t 10 -u "$keep_out" line
bootstrap=${line#bootstrap=}
if [ "$bootstrap" = "$line" ] || [ -z "$bootstrap" ]; then
    echo "producer_interop.sh: mockbroker printed no bootstrap line (got '$line')" >&2
    cat "$work/mockbroker.log" >&2
    exit 1
fi

# check TOPIC N PROPERTY=VALUE...: produce N messages with kp_interop, consume them with kcat,
# and compare: N distinct values m0..m(N-1), each once, each partition in increasing order, each
# message in the partition its key hashes to for every message with that key.
check() {
    local topic=$1 n=$2 name
    shift 2
    name="bin/mockbroker + kcat: $topic, $n messages${*:+ ($*)}"
    if ! timeout -k 5 120 "$tool" produce "$bootstrap" "$topic" "$n" "$@" >"$work/$topic.produce" \
        2>&1; then
        cat "$work/$topic.produce"
        fail "$name: producing failed"
        return
    fi
    if ! timeout -k 5 60 kcat -C -q -b "$bootstrap" -t "$topic" -e -o beginning \
        -f '%p %k %s\n' >"$work/$topic.kcat" 2>"$work/$topic.kcat.err"; then
        cat "$work/$topic.kcat.err"
        fail "$name: kcat failed"
        return
    fi
    local verdict
    verdict=$(awk -v n="$n" '
        { part = $1; key = $2; v = substr($3, 2) + 0
          if (seen[v]++) { print "duplicate m" v; bad = 1 }
          if ((part in last) && v <= last[part]) {
              print "m" v " after m" last[part] " in partition " part; bad = 1 }
          last[part] = v
          if ((key in home) && home[key] != part) {
              print "key " key " in partitions " home[key] " and " part; bad = 1 }
          home[key] = part; count++ }
        END { if (count != n) { print "read " count " of " n; bad = 1 }
              for (i = 0; i < n; i++) if (!(i in seen)) { print "missing m" i; bad = 1; break }
              if (!bad) print "ok" }' "$work/$topic.kcat")
    if [ "$verdict" = ok ]; then
        pass "$name"
    else
        echo "$verdict" | head -5
        fail "$name"
    fi
}

check kp-a 5000
check kp-b 5000 enable.idempotence=true compression.type=lz4 linger.ms=20
check kp-c 2000 acks=0 compression.type=zstd partitioner=murmur2_random

# Transactions: kp_interop prints one ok/FAIL line per check.
if timeout -k 5 120 "$tool" txn "$bootstrap" kp-txn 3 >"$work/txn.out" 2>&1; then
    pass "bin/mockbroker: transactions read back with read_committed and read_uncommitted"
else
    cat "$work/txn.out"
    fail "bin/mockbroker: transactions (details above)"
fi

exec {keep_in}>&-
echo "producer_interop: $passes passed, $failures failed"
((failures == 0))
