#!/usr/bin/env bash
# Transactions with real clients against bin/mockbroker (tests/interop/txn.py, kafkajs_txn.js):
# confluent-kafka-python's transactional producer commits, aborts and commits again, and
# read_committed / read_uncommitted consumers read exactly what they should; consumer offsets sent
# with a transaction reach the group only when it commits; a second producer with the same
# transactional.id fences the first (a fatal error for it); kafkajs commits and aborts, and its
# read_committed consumer reads only the committed records. kafka-python has no transactional
# producer, so it is not here. Each check starts its own broker (ephemeral port, fixed seed) that
# stops when its standard input closes, so it cannot outlive this script. Run by `make test` with
# BIN in the environment. TRANSACTIONS_ONLY=REGEX runs only the checks whose names match.
# TRANSACTIONS_VERBOSE=1 also prints what each passing check saw and the requests (API, version) the
# broker received; TRANSACTIONS_KEEP=1 keeps the broker logs.
set -uo pipefail

BIN=${BIN:-bin}
cd "$(dirname "$0")/../.." || exit 1
mb="$BIN/mockbroker"
py=${TRANSACTIONS_PYTHON:-/usr/bin/python3}     # Debian's: it has the confluent_kafka module
budget=${TRANSACTIONS_BUDGET:-240}              # seconds for the whole script
[ -x "$mb" ] || { echo "transactions.sh: $mb is not built" >&2; exit 1; }

keep=${TRANSACTIONS_KEEP:-0}
me=transactions.sh
verbose=${TRANSACTIONS_VERBOSE:-0}
only=${TRANSACTIONS_ONLY:-}
# shellcheck source=tests/interop/broker.sh
. tests/interop/broker.sh

txn=tests/interop/txn.py

# received API...: the broker got at least one request of each API.
received() {
    local api
    for api in "$@"; do
        grep -q ": $api v[0-9]* correlation id" "$broker_log" ||
            { echo "the broker received no $api request"; return 1; }
    done
}

# markers KIND N: the broker wrote at least N markers of KIND (commit|abort).
markers() {
    local n
    n=$(grep -c ": $1 marker of producer" "$broker_log")
    ((n >= $2)) || { echo "$n $1 markers written, expected at least $2"; return 1; }
}

confluent_commit_abort() {
    start_broker --topic t:3 || return 1
    bounded 90 "$py" "$txn" commit-abort --bootstrap "$BS" --topic t --n 200 --m 50 || return 1
    received InitProducerId AddPartitionsToTxn EndTxn || return 1
    markers commit 3 && markers abort 1
}

confluent_offsets() {
    start_broker --topic in:3 --topic out:2 || return 1
    bounded 90 "$py" "$txn" offsets --bootstrap "$BS" --topic in --out-topic out \
        --group txn-group --n 100 || return 1
    received AddOffsetsToTxn TxnOffsetCommit OffsetFetch
}

confluent_fence() {
    start_broker --topic f:2 || return 1
    bounded 90 "$py" "$txn" fence --bootstrap "$BS" --topic f || return 1
    grep -q "InitProducerId with a transaction open: aborting it" "$broker_log" ||
        { echo "the second producer's InitProducerId did not abort the first one's transaction"
          return 1; }
}

kafkajs_txn() {
    [ "$kafkajs_installed" = yes ] || { echo "kafkajs is not installed: npm ci failed"; return 1; }
    start_broker --topic k:3 || return 1
    (cd tests/interop && bounded 90 node kafkajs_txn.js --bootstrap "$BS" --topic k --n 100 \
        --m 40) || return 1
    received AddPartitionsToTxn EndTxn || return 1
    markers commit 3 && markers abort 1
}

# kafkajs comes from npm, pinned by tests/interop/package-lock.json.
kafkajs_installed=yes
if [ ! -d tests/interop/node_modules/kafkajs ]; then
    (cd tests/interop && bounded 120 npm ci --no-audit --no-fund --loglevel=error) >&2 ||
        kafkajs_installed=no
fi

check "confluent-kafka: commit 200, abort 50, commit 200; read_committed reads the 400 in order" \
    confluent_commit_abort
check "confluent-kafka: send_offsets_to_transaction commits the group's offsets with the txn" \
    confluent_offsets
check "confluent-kafka: a second producer with the same transactional.id fences the first" \
    confluent_fence
check "kafkajs: commit 100, abort 40, commit 100; its consumer reads only the 200 committed" \
    kafkajs_txn

echo "transactions: $passed passed, $failed failed"
[ "$failed" = 0 ]
